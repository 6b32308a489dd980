// Decodes S3's aws-chunked body encoding: hex-sized chunks, optional chunk signatures, optional trailing headers.
import { IncompleteBodyError, InvalidRequestError } from '../core/errors';

export interface AwsChunk {
  readonly data: Buffer;
  /** The chunk-signature extension, when the chunk carries one. */
  readonly signature?: string;
}

export interface AwsChunkedBody {
  /** Every chunk in order, the final zero-length one included. */
  readonly chunks: readonly AwsChunk[];
  /** Trailing headers in order, names lower case, x-amz-trailer-signature excluded. */
  readonly trailers: ReadonlyArray<readonly [string, string]>;
  readonly trailerSignature?: string;
}

/** S3 bounds chunk sizes far below this; the bound keeps a hostile size line from meaning anything. */
const MAX_SIZE_DIGITS = 12;

/**
 * Parses the whole encoded body. Format per chunk: `hex-size[;chunk-signature=sig]\r\n data \r\n`; the last chunk
 * has size 0 and is followed by trailer lines `name:value\r\n` and an empty line.
 */
export function decodeAwsChunked(body: Buffer): AwsChunkedBody {
  const chunks: AwsChunk[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) throw truncated();
    const line = body.subarray(offset, lineEnd).toString('latin1');
    offset = lineEnd + 2;
    const { size, signature } = parseChunkHeader(line);
    if (offset + size > body.length) throw truncated();
    const data = body.subarray(offset, offset + size);
    offset += size;
    chunks.push(signature === undefined ? { data } : { data, signature });
    if (size === 0) break;
    if (body.subarray(offset, offset + 2).toString('latin1') !== '\r\n') throw malformed();
    offset += 2;
  }
  return { chunks, ...parseTrailers(body.subarray(offset)) };
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

/** Trailer section: `name:value` lines ending with CRLF, then an empty line. An absent section is allowed. */
function parseTrailers(rest: Buffer): { trailers: Array<readonly [string, string]>; trailerSignature?: string } {
  const trailers: Array<readonly [string, string]> = [];
  let trailerSignature: string | undefined;
  const text = rest.toString('latin1');
  if (text === '' || text === '\r\n') return { trailers };
  if (!text.endsWith('\r\n\r\n') && !text.endsWith('\n\n')) throw truncated();
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '') continue;
    const colon = raw.indexOf(':');
    if (colon <= 0) throw malformed();
    const name = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else trailers.push([name, value]);
  }
  return trailerSignature === undefined ? { trailers } : { trailers, trailerSignature };
}

function truncated(): IncompleteBodyError {
  return new IncompleteBodyError('The request body terminated unexpectedly');
}

function malformed(): InvalidRequestError {
  return new InvalidRequestError('The request body is not valid aws-chunked encoding.');
}
