// UploadPartCopy's size check: a copied part is one part, at most 5 GiB, refused before a byte is read as S3 refuses
// it. A source that large cannot be made in a test run, so the check is tested here, where the API applies it.
import { InvalidRequestError } from '../../lambdas/core/errors';
import { MAX_PART_SIZE } from '../../lambdas/core/format';
import { checkCopyPartSize, parseCopySourceRange } from '../../lambdas/api/operations/multipart';

describe('UploadPartCopy part size', () => {
  const huge = MAX_PART_SIZE * 3;
  it('takes a range or a whole source of at most 5 GiB', () => {
    expect(checkCopyPartSize(parseCopySourceRange(`bytes=0-${MAX_PART_SIZE - 1}`, huge), huge)).toEqual({ start: 0, end: MAX_PART_SIZE - 1 });
    expect(checkCopyPartSize(undefined, MAX_PART_SIZE)).toBeUndefined();
  });
  it("refuses a larger range, or a larger source without one, with S3's InvalidRequest naming the limit", () => {
    for (const [range, size] of [[parseCopySourceRange(`bytes=1-${MAX_PART_SIZE + 1}`, huge), huge], [undefined, MAX_PART_SIZE + 1]] as const) {
      let thrown: unknown;
      try {
        checkCopyPartSize(range, size);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InvalidRequestError);
      expect((thrown as Error).message).toBe(`The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`);
    }
  });
});
