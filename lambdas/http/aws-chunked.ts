// Decodes S3's aws-chunked body encoding as it streams: hex-sized chunks, optional chunk signatures, optional
// trailing headers. Chunk data passes through as slices of the input (no copy); nothing is buffered but the
// framing lines. Every check that fails ends the stream with an error before it ends, so a consumer that only
// commits at the end never commits a body that failed.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IncompleteBodyError, InvalidRequestError } from '../core/errors';

/** Verifies the chained signatures of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body. */
export interface ChunkSignatureVerifier {
  /** Throws unless `provided` signs the chunk whose data hashes to `dataSha256Hex`, chained from `previous`. */
  verifyChunk(previous: string, dataSha256Hex: string, provided: string | undefined): Promise<void>;
  /** Throws unless `provided` signs the trailer section `trailerText`, chained from the last chunk's signature. */
  verifyTrailer(previous: string, trailerText: string, provided: string | undefined): Promise<void>;
}

export interface AwsChunkedOptions {
  /** Present for signed payloads: the request's seed signature and how to check each link of the chain. */
  readonly signatures?: { readonly seed: string; readonly verifier: ChunkSignatureVerifier; readonly signedTrailer: boolean };
  /** Whether the payload mode allows a trailer section (the *-TRAILER modes). */
  readonly trailerMode: boolean;
  /** Trailer names x-amz-trailer announced, lower case. */
  readonly announcedTrailers: readonly string[];
}

/** S3 bounds chunk sizes far below this; the bound keeps a hostile size line from meaning anything. */
const MAX_SIZE_DIGITS = 12;
/** A chunk header line (size and signature) is under 100 bytes; anything longer is not aws-chunked. */
const MAX_LINE_BYTES = 4096;
/** The trailer section holds a checksum or two. */
const MAX_TRAILER_BYTES = 16 * 1024;

type State = 'header' | 'data' | 'data-end' | 'trailer';

export class AwsChunkedDecoder extends Transform {
  private state: State = 'header';
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private readonly trailerParts: Buffer[] = [];
  private trailerBytes = 0;
  private parsedTrailers: Readonly<Record<string, string>> = {};

  constructor(private readonly options: AwsChunkedOptions) {
    super();
    this.previousSignature = options.signatures?.seed ?? '';
  }

  /** Trailing headers (x-amz-trailer-signature excluded), once the stream has ended. */
  trailers(): Readonly<Record<string, string>> {
    return this.parsedTrailers;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.consume(chunk).then(() => callback(), (e: unknown) => callback(e as Error));
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), (e: unknown) => callback(e as Error));
  }

  private async consume(input: Buffer): Promise<void> {
    let offset = 0;
    while (offset < input.length) {
      switch (this.state) {
        case 'header': {
          const lineEnd = this.takeLine(input, offset);
          if (lineEnd === undefined) return;
          offset = lineEnd.next;
          const { size, signature } = parseChunkHeader(lineEnd.line);
          this.remaining = size;
          this.chunkSignature = signature;
          this.chunkHash = this.options.signatures ? createHash('sha256') : undefined;
          if (size === 0) {
            await this.endChunk();
            this.state = 'trailer';
          } else {
            this.state = 'data';
          }
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, input.length - offset);
          const slice = input.subarray(offset, offset + n);
          this.chunkHash?.update(slice);
          this.push(slice);
          this.remaining -= n;
          offset += n;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          if (this.pending.length === 0 && offset + 2 <= input.length) {
            // The usual case: the whole CRLF is in this input; no buffer to build.
            if (input[offset] !== 0x0d || input[offset + 1] !== 0x0a) throw malformed();
            offset += 2;
            await this.endChunk();
            this.state = 'header';
            break;
          }
          const need = 2 - this.pending.length;
          this.pending = Buffer.concat([this.pending, input.subarray(offset, offset + need)]);
          offset += Math.min(need, input.length - offset);
          if (this.pending.length < 2) return;
          if (this.pending.toString('latin1') !== '\r\n') throw malformed();
          this.pending = Buffer.alloc(0);
          await this.endChunk();
          this.state = 'header';
          break;
        }
        case 'trailer': {
          const rest = input.subarray(offset);
          this.trailerBytes += rest.length;
          if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformed();
          this.trailerParts.push(rest);
          offset = input.length;
          break;
        }
      }
    }
  }

  /** Accumulates one CRLF-terminated line across input chunks. */
  private takeLine(input: Buffer, offset: number): { line: string; next: number } | undefined {
    const end = input.indexOf('\r\n', offset, 'latin1');
    // A CR at the very end of what we held may pair with an LF at the start of this input.
    if (this.pending.length > 0 && this.pending[this.pending.length - 1] === 0x0d && input[offset] === 0x0a) {
      const line = this.pending.subarray(0, this.pending.length - 1).toString('latin1');
      this.pending = Buffer.alloc(0);
      return { line, next: offset + 1 };
    }
    if (end < 0) {
      this.pending = Buffer.concat([this.pending, input.subarray(offset)]);
      if (this.pending.length > MAX_LINE_BYTES) throw malformed();
      return undefined;
    }
    const line =
      this.pending.length === 0 ? input.toString('latin1', offset, end) : Buffer.concat([this.pending, input.subarray(offset, end)]).toString('latin1');
    if (this.pending.length > 0) this.pending = Buffer.alloc(0);
    if (line.length > MAX_LINE_BYTES) throw malformed();
    return { line, next: end + 2 };
  }

  private async endChunk(): Promise<void> {
    const signatures = this.options.signatures;
    if (!signatures) return;
    const digest = (this.chunkHash ?? createHash('sha256')).digest('hex');
    await signatures.verifier.verifyChunk(this.previousSignature, digest, this.chunkSignature);
    this.previousSignature = this.chunkSignature ?? '';
  }

  private async finish(): Promise<void> {
    if (this.state !== 'trailer') throw new IncompleteBodyError('The request body terminated unexpectedly');
    const { trailers, trailerSignature, text } = parseTrailers(Buffer.concat(this.trailerParts).toString('latin1'));
    if (!this.options.trailerMode && trailers.length > 0) throw new InvalidRequestError('Trailers are only allowed with a trailer payload mode.');
    const signatures = this.options.signatures;
    if (signatures?.signedTrailer) await signatures.verifier.verifyTrailer(this.previousSignature, text, trailerSignature);
    const result: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [name, value] of trailers) {
      if (!this.options.announcedTrailers.includes(name)) throw new InvalidRequestError(`The trailer ${name} was not announced in x-amz-trailer.`);
      result[name] = value;
    }
    for (const name of this.options.announcedTrailers) {
      if (result[name] === undefined) throw new IncompleteBodyError(`The announced trailer ${name} is missing.`);
    }
    this.parsedTrailers = result;
  }
}

function parseChunkHeader(line: string): { size: number; signature?: string } {
  const [sizeText = '', ...extensions] = line.split(';');
  if (!/^[0-9a-fA-F]+$/.test(sizeText) || sizeText.length > MAX_SIZE_DIGITS) throw malformed();
  const size = Number.parseInt(sizeText, 16);
  let signature: string | undefined;
  for (const extension of extensions) {
    const eq = extension.indexOf('=');
    const name = (eq < 0 ? extension : extension.slice(0, eq)).trim();
    if (name === 'chunk-signature') signature = extension.slice(eq + 1).trim();
  }
  return signature === undefined ? { size } : { size, signature };
}

/**
 * Trailer section: `name:value` lines ending with CRLF, then an empty line. An absent section is allowed. `text`
 * is what a trailer signature covers: each trailer as `name:value\n`.
 */
function parseTrailers(raw: string): { trailers: Array<readonly [string, string]>; trailerSignature?: string; text: string } {
  const trailers: Array<readonly [string, string]> = [];
  let trailerSignature: string | undefined;
  if (raw !== '' && raw !== '\r\n') {
    if (!raw.endsWith('\r\n\r\n') && !raw.endsWith('\n\n')) throw new IncompleteBodyError('The request body terminated unexpectedly');
    for (const line of raw.split(/\r?\n/)) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed();
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') trailerSignature = value;
      else trailers.push([name, value]);
    }
  }
  const text = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
  return trailerSignature === undefined ? { trailers, text } : { trailers, trailerSignature, text };
}

function malformed(): InvalidRequestError {
  return new InvalidRequestError('The request body is not valid aws-chunked encoding.');
}
