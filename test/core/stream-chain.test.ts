// chain(): the hot-path stand-in for stream.pipeline must pass every error on, including one raised before chaining.
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { chain } from '../../lambdas/core/stream-chain';

const upper = () => new Transform({ transform: (chunk: Buffer, _e, done) => done(null, Buffer.from(chunk.toString().toUpperCase())) });
const collect = () => {
  const parts: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, done) => (parts.push(c), done()) });
  return { sink, text: () => Buffer.concat(parts).toString() };
};

describe('chain', () => {
  it('pipes a source through stages into the last', async () => {
    const { sink, text } = collect();
    await finished(chain(Readable.from([Buffer.from('ab'), Buffer.from('c')]), [upper(), sink]));
    expect(text()).toBe('ABC');
  });

  it('ends the last stage with the error of any stream, and destroys the others', async () => {
    const source = new PassThrough();
    const middle = upper();
    const { sink } = collect();
    const done = finished(chain(source, [middle, sink]));
    source.write('x');
    source.destroy(new Error('client went away'));
    await expect(done).rejects.toThrow('client went away');
    expect(middle.destroyed).toBe(true);
  });

  it('passes on the error of a stream that failed before it was chained', async () => {
    const failed = upper();
    failed.on('error', () => undefined); // the earlier consumer's listener
    failed.destroy(new Error('body did not verify'));
    const { sink } = collect();
    await expect(finished(chain(failed, [sink]))).rejects.toThrow('body did not verify');
  });

  it('stops the producers when the consumer destroys the last stage', async () => {
    const source = new PassThrough();
    const last = chain(source, [upper()]);
    last.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });

  it('leaves the last stage open with end: false, so parts can follow one another', async () => {
    const out = new PassThrough();
    const first = Readable.from([Buffer.from('one ')]);
    chain(first, [out], { end: false });
    await finished(first);
    chain(Readable.from([Buffer.from('two')]), [out]);
    const chunks: Buffer[] = [];
    for await (const c of out) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('one two');
  });
});
