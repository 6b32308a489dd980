import { extractUserMetadata, httpDate, parseHttpDate, quoteETag, unquoteETag, userMetadataHeaders } from '../../lambdas/http/headers';
import { MetadataTooLargeError } from '../../lambdas/http/errors';

describe('extractUserMetadata', () => {
  it('keeps x-amz-meta-* headers without their prefix and round-trips them', () => {
    const meta = extractUserMetadata({ 'x-amz-meta-colour': 'blue', 'X-Amz-Meta-Size': 'L', 'content-type': 'text/plain', 'x-amz-date': 'x' });
    expect(meta).toEqual({ colour: 'blue', size: 'L' });
    expect(userMetadataHeaders(meta)).toEqual({ 'x-amz-meta-colour': 'blue', 'x-amz-meta-size': 'L' });
  });

  it('accepts exactly 2 KiB and rejects one byte more with MetadataTooLarge (400)', () => {
    expect(() => extractUserMetadata({ 'x-amz-meta-k': 'v'.repeat(2047) })).not.toThrow();
    try {
      extractUserMetadata({ 'x-amz-meta-k': 'v'.repeat(2046), 'x-amz-meta-ü': '' });
      throw new Error('expected MetadataTooLarge');
    } catch (e) {
      expect(e).toBeInstanceOf(MetadataTooLargeError);
      expect((e as MetadataTooLargeError).code).toBe('MetadataTooLarge');
      expect((e as MetadataTooLargeError).statusCode).toBe(400);
    }
  });
});

describe('HTTP dates and ETags', () => {
  it('formats and parses IMF-fixdate, and refuses junk', () => {
    const d = new Date('2026-01-10T10:00:00Z');
    expect(httpDate(d)).toBe('Sat, 10 Jan 2026 10:00:00 GMT');
    expect(parseHttpDate('Sat, 10 Jan 2026 10:00:00 GMT')).toEqual(d);
    expect(parseHttpDate('junk')).toBeUndefined();
    expect(parseHttpDate(undefined)).toBeUndefined();
  });

  it('quotes once and unquotes weak and strong ETags', () => {
    expect(quoteETag('abc')).toBe('"abc"');
    expect(quoteETag('"abc"')).toBe('"abc"');
    expect(unquoteETag('W/"abc"')).toBe('abc');
  });
});
