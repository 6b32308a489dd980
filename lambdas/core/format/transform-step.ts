// The sealer and opener are Transforms whose work throws on bad input: a step hands the error to the stream.
import type { TransformCallback } from 'node:stream';

/** Runs one _transform/_flush step; a thrown error destroys the stream through `callback`, never escapes. */
export function transformStep(callback: TransformCallback, run: () => void): void {
  try {
    run();
  } catch (error) {
    callback(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  callback();
}
