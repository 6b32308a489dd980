import { etagListMatches, evaluateConditions } from '../../lambdas/http/conditional';
import { NoSuchKeyError, PreconditionFailedError } from '../../lambdas/core/errors';

const object = { etag: 'abc123', lastModified: new Date('2026-01-10T10:00:00.750Z') };
const before = 'Fri, 09 Jan 2026 10:00:00 GMT';
const same = 'Sat, 10 Jan 2026 10:00:00 GMT';
const after = 'Sun, 11 Jan 2026 10:00:00 GMT';

describe('evaluateConditions', () => {
  it('proceeds without conditions', () => {
    expect(evaluateConditions({}, object, 'read')).toBe('proceed');
  });

  it('fails If-Match on another ETag and passes on the same one, quoted or not, or *', () => {
    expect(() => evaluateConditions({ 'if-match': '"other"' }, object, 'read')).toThrow(PreconditionFailedError);
    expect(evaluateConditions({ 'if-match': '"abc123"' }, object, 'read')).toBe('proceed');
    expect(evaluateConditions({ 'if-match': 'abc123' }, object, 'read')).toBe('proceed');
    expect(evaluateConditions({ 'if-match': '"x", "abc123"' }, object, 'read')).toBe('proceed');
    expect(evaluateConditions({ 'if-match': '*' }, object, 'read')).toBe('proceed');
  });

  it('fails If-Unmodified-Since when modified after the date, at one-second resolution', () => {
    expect(() => evaluateConditions({ 'if-unmodified-since': before }, object, 'read')).toThrow(PreconditionFailedError);
    expect(evaluateConditions({ 'if-unmodified-since': same }, object, 'read')).toBe('proceed');
  });

  it('lets a true If-Match override a false If-Unmodified-Since, as S3 does', () => {
    expect(evaluateConditions({ 'if-match': '"abc123"', 'if-unmodified-since': before }, object, 'read')).toBe('proceed');
  });

  it('answers 304 to a matching If-None-Match on reads and 412 on writes', () => {
    expect(evaluateConditions({ 'if-none-match': '"abc123"' }, object, 'read')).toBe('not-modified');
    expect(evaluateConditions({ 'if-none-match': '"zzz"' }, object, 'read')).toBe('proceed');
    expect(() => evaluateConditions({ 'if-none-match': '*' }, object, 'write')).toThrow(PreconditionFailedError);
    expect(evaluateConditions({ 'if-none-match': '*' }, undefined, 'write')).toBe('proceed');
  });

  it('answers 304 when not modified since If-Modified-Since, on reads only', () => {
    expect(evaluateConditions({ 'if-modified-since': same }, object, 'read')).toBe('not-modified');
    expect(evaluateConditions({ 'if-modified-since': after }, object, 'read')).toBe('not-modified');
    expect(evaluateConditions({ 'if-modified-since': before }, object, 'read')).toBe('proceed');
    expect(evaluateConditions({ 'if-modified-since': same }, object, 'write')).toBe('proceed');
  });

  it('lets a non-matching If-None-Match override If-Modified-Since, as S3 does', () => {
    expect(evaluateConditions({ 'if-none-match': '"zzz"', 'if-modified-since': after }, object, 'read')).toBe('proceed');
  });

  it('checks If-Match before If-None-Match', () => {
    expect(() => evaluateConditions({ 'if-match': '"zzz"', 'if-none-match': '"abc123"' }, object, 'read')).toThrow(PreconditionFailedError);
  });

  it('ignores dates it cannot parse', () => {
    expect(evaluateConditions({ 'if-modified-since': 'yesterday-ish', 'if-unmodified-since': 'nope' }, object, 'read')).toBe('proceed');
  });

  it('fails If-Match on a missing object: 412 on reads, NoSuchKey on writes', () => {
    expect(() => evaluateConditions({ 'if-match': '*' }, undefined, 'read')).toThrow(PreconditionFailedError);
    expect(() => evaluateConditions({ 'if-match': '"abc123"' }, undefined, 'write')).toThrow(NoSuchKeyError);
  });
});

describe('etagListMatches', () => {
  it('ignores weak prefixes and blanks', () => {
    expect(etagListMatches('W/"abc123"', '"abc123"')).toBe(true);
    expect(etagListMatches(' , ', 'abc')).toBe(false);
  });
});
