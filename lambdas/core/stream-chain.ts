// Chaining streams on the hot path: what stream.pipeline does (an error anywhere destroys every stream with it),
// without the AbortController and DOMException that pipeline builds on every call.
import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * Pipes `source` through `stages` and returns the last stage. The first error of any stream destroys all of them
 * with that error, so whoever reads the last stage sees it; a consumer that destroys the last stage (it went
 * away) tears the chain down as well. `options.end` false leaves the last stage open when the source ends.
 */
export function chain<T extends Writable>(source: Readable, stages: readonly [...Duplex[], T], options: { end?: boolean } = {}): T {
  const all: Array<Readable | Writable> = [source, ...stages];
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    for (const stream of all) if (!stream.destroyed) stream.destroy(error);
  };
  for (const stream of all) stream.on('error', fail);
  const last = stages[stages.length - 1] as T;
  // A consumer that stops reading early destroys the last stage: stop the producers too.
  last.once('close', () => {
    const ended = 'readableEnded' in last && (last as unknown as Readable).readableEnded;
    if (!failed && !ended && !last.writableFinished) {
      for (const stream of all) if (stream !== last && !stream.destroyed) stream.destroy();
    }
  });
  // A stream may have failed before it was chained (a body rejected while the consumer was still getting ready):
  // its error event is past, so pass on the error it holds.
  const dead = all.find((stream) => stream.destroyed);
  if (dead !== undefined) {
    const error = dead.errored ?? new Error('a stream in the chain was closed before it was chained');
    process.nextTick(() => fail(error));
    return last;
  }
  let previous: Readable = source;
  for (const [i, stage] of stages.entries()) {
    const isLast = i === stages.length - 1;
    previous.pipe(stage, isLast && options.end === false ? { end: false } : {});
    if (!isLast) previous = stage as Duplex;
  }
  return last;
}
