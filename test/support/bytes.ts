// A body already in memory, in the shape the object service takes (a stream it opens when it is ready to read).
import { Readable } from 'node:stream';

export const bytes = (body: Buffer | string) => (): Readable => Readable.from([Buffer.from(body)], { objectMode: false });
