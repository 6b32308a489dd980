// The embedded server on a raw socket: `Expect: 100-continue` is answered only after authentication (an unsigned or
// badly signed upload is refused before any byte of its body is sent), other expectations get 417 with the
// connection closed, and requests S3 takes that the SDK never sends (a Date header instead of x-amz-date, header
// bytes above 0x7F) verify as S3 verifies them.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { formatAmzDate } from '../../lambdas/http/sigv4-auth';
import { startEmbedded, type EmbeddedTarget } from '../support/embedded-target';
import { referenceAuthorization } from '../support/reference-sigv4';
import { signedHeaders, signedRequest } from '../support/signed-fetch';

/** One connection: what the server wrote so far, whether it closed, and a wait for either. */
interface Wire {
  readonly socket: Socket;
  seen(): string;
  until(pattern: RegExp): Promise<string>;
  closed(): Promise<void>;
}

function open(url: string): Promise<Wire> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      let seen = '';
      const waiters: Array<() => void> = [];
      const ended = new Promise<void>((done) => socket.on('close', () => done()));
      socket.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        socket,
        seen: () => seen,
        until: (pattern) =>
          new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${String(pattern)} within 5 s; got:\n${seen}`)), 5000);
            const check = () => {
              if (pattern.test(seen)) {
                clearTimeout(timer);
                ok(seen);
              } else waiters.push(check);
            };
            check();
          }),
        closed: () => ended,
      });
    });
    socket.on('error', reject);
  });
}

/** The request line and headers only: the client holds its body back, as a 100-continue client does. */
function head(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
}

describe('Expect and request dating on the embedded server (raw socket)', () => {
  let target: EmbeddedTarget;
  const BODY = 10 * 1024 * 1024;

  beforeAll(async () => {
    target = await startEmbedded();
    const headers = await signedHeaders(target.url, target.creds, { method: 'PUT', path: '/exp' });
    const wire = await open(target.url);
    wire.socket.write(head('PUT', '/exp', { ...headers, 'content-length': '0' }));
    await wire.until(/^HTTP\/1\.1 200/);
    wire.socket.destroy();
  });
  afterAll(async () => {
    await target?.close();
  });

  it('refuses an unsigned upload with 403 without asking for its body, and closes the connection', async () => {
    const wire = await open(target.url);
    const host = new URL(target.url).host;
    wire.socket.write(head('PUT', '/exp/anon', { host, 'content-length': String(BODY), expect: '100-continue' }));
    const answer = await wire.until(/\r\n\r\n[\s\S]*<\/Error>/);
    await wire.closed();
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).not.toMatch(/100 Continue/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a badly signed upload with 403 SignatureDoesNotMatch without asking for its body', async () => {
    const wrong = { accessKeyId: target.creds.accessKeyId, secretAccessKey: 'not-the-secret' };
    const headers = await signedHeaders(target.url, wrong, { method: 'PUT', path: '/exp/forged', unsignedPayload: true, headers: { 'content-length': String(BODY), expect: '100-continue' } });
    const wire = await open(target.url);
    wire.socket.write(head('PUT', '/exp/forged', headers));
    const answer = await wire.until(/<\/Error>/);
    await wire.closed();
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).not.toMatch(/100 Continue/);
    expect(answer).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('asks a well-signed upload for its body with 100 Continue, then stores it', async () => {
    const headers = await signedHeaders(target.url, target.creds, { method: 'PUT', path: '/exp/ok', unsignedPayload: true, headers: { 'content-length': '5', expect: '100-continue' } });
    const wire = await open(target.url);
    wire.socket.write(head('PUT', '/exp/ok', headers));
    expect(await wire.until(/100 Continue\r\n\r\n/)).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    wire.socket.write('hello');
    expect(await wire.until(/HTTP\/1\.1 200 /)).toMatch(/100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    wire.socket.destroy();
    expect((await signedRequest(target.url, target.creds, { method: 'GET', path: '/exp/ok' })).body.toString()).toBe('hello');
  });

  it('answers an expectation other than 100-continue with 417 and closes, the body unread', async () => {
    const headers = await signedHeaders(target.url, target.creds, { method: 'PUT', path: '/exp/odd', unsignedPayload: true, headers: { 'content-length': String(BODY), expect: 'something-else' } });
    const wire = await open(target.url);
    wire.socket.write(head('PUT', '/exp/odd', headers));
    await wire.closed();
    expect(wire.seen()).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n/);
    expect(wire.seen()).toMatch(/\r\nconnection: close\r\n/i);
    expect(wire.seen()).toMatch(/\r\nx-amz-request-id: \S+\r\n/i);
  });

  it('takes a request dated by Date (no x-amz-date) and header bytes above 0x7F signed as S3 signs them', async () => {
    const now = new Date();
    const host = new URL(target.url).host;
    const sent = Buffer.from('Grüße ☕', 'utf8');
    const body = Buffer.from('dated');
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const wireHeaders = { date: Buffer.from(now.toUTCString()), host: Buffer.from(host), 'x-amz-content-sha256': Buffer.from(payloadHash), 'x-amz-meta-note': sent };
    // S3 reads each header byte as an ISO-8859-1 character and hashes the canonical request as UTF-8.
    const asSigned = { ...wireHeaders, 'x-amz-meta-note': Buffer.from(sent.toString('latin1'), 'utf8') };
    const authorization = referenceAuthorization({
      method: 'PUT',
      path: '/exp/dated',
      headers: asSigned,
      payloadHash,
      amzDate: formatAmzDate(new Date(Math.floor(now.getTime() / 1000) * 1000)),
      region: 'us-east-1',
      ...target.creds,
    });
    const wire = await open(target.url);
    const lines = Object.entries(wireHeaders).map(([n, v]) => Buffer.concat([Buffer.from(`${n}: `), v, Buffer.from('\r\n')]));
    wire.socket.write(Buffer.concat([Buffer.from('PUT /exp/dated HTTP/1.1\r\n'), ...lines, Buffer.from(`authorization: ${authorization}\r\ncontent-length: 5\r\n\r\n`), body]));
    expect(await wire.until(/^HTTP\/1\.1 \d{3} [^\r]*\r\n[\s\S]*\r\n\r\n/)).toMatch(/^HTTP\/1\.1 200 /);
    wire.socket.destroy();
    // The stored value comes back as the same bytes.
    const getHeaders = await signedHeaders(target.url, target.creds, { method: 'HEAD', path: '/exp/dated' });
    const reader = await open(target.url);
    reader.socket.write(head('HEAD', '/exp/dated', getHeaders));
    const answer = await reader.until(/\r\n\r\n/);
    reader.socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(Buffer.from(/\r\nx-amz-meta-note: ([^\r]*)\r\n/i.exec(answer)?.[1] ?? '', 'latin1')).toEqual(sent);
  });
});
