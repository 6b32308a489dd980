// What the embedded adapters say when the disk under the data directory refuses a write.
import { InsufficientStorageError, InternalError, StoreError } from '../../core/errors';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);

/** Whether an error code (or, from a thread that passed only text, its message) says the disk is full. */
export function isDiskFull(code: string | undefined, message = ''): boolean {
  return (code !== undefined && FULL.has(code)) || /ENOSPC|EDQUOT|disk is full/i.test(message);
}

export function diskFull(what: string): InsufficientStorageError {
  return new InsufficientStorageError(
    `The store's disk is full (writing ${what}): nothing was written, and every object stored before is intact. Free space under the data directory and retry.`,
  );
}

/** A file-system error met while writing, as the error the client gets; anything not from the file system passes through. */
export function writeFailure(err: unknown, what: string): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (isDiskFull(code)) return diskFull(what);
  if (code === 'EIO' || code === 'EROFS') return Object.assign(new InternalError(`${code} writing ${what}`), { cause: err });
  return err;
}
