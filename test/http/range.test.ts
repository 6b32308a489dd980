import { contentRange, parseRange } from '../../lambdas/http/range';
import { InvalidRangeError } from '../../lambdas/core/errors';

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=10-', 100, { start: 10, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-1000', 100, { start: 0, end: 99 }],
    ['bytes=50-5000', 100, { start: 50, end: 99 }],
    ['bytes=99-99', 100, { start: 99, end: 99 }],
    ['bytes=0-0', 1, { start: 0, end: 0 }],
  ])('serves %s of %i bytes as %j', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([undefined, '', 'bytes=', 'bytes=-', 'bytes=5-2', 'items=0-1', 'bytes=0-1,3-4', 'bytes=a-b', 'bytes 0-1'])(
    'ignores %j and serves the whole object',
    (header) => {
      expect(parseRange(header, 100)).toBeUndefined();
    },
  );

  it.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
    ['bytes=99999999999999999999-', 10],
  ])('answers %s of %i bytes with 416 InvalidRange', (header, size) => {
    expect(() => parseRange(header, size)).toThrow(InvalidRangeError);
    try {
      parseRange(header, size);
    } catch (e) {
      expect((e as InvalidRangeError).statusCode).toBe(416);
      expect((e as InvalidRangeError).extra).toEqual({ RangeRequested: header, ActualObjectSize: String(size) });
    }
  });

  it('renders Content-Range', () => {
    expect(contentRange({ start: 90, end: 99 }, 100)).toBe('bytes 90-99/100');
  });
});
