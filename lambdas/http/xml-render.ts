// Renders S3's XML response bodies, element for element as S3 names and nests them.
import { quoteETag } from './etag';
import { document, element, escapeXml, S3_XMLNS, text, type XmlNode } from './xml-writer';

export interface Owner {
  readonly id: string;
  readonly displayName?: string;
}

export interface BucketSummary {
  readonly name: string;
  readonly creationDate: Date;
  readonly region?: string;
}

export interface ListBucketsResult {
  readonly owner: Owner;
  readonly buckets: readonly BucketSummary[];
  /** The token for the next page, when there is one. */
  readonly continuationToken?: string;
  /** Echoed when the request sent one. */
  readonly prefix?: string;
}

export interface ObjectSummary {
  readonly key: string;
  readonly lastModified: Date;
  /** Bare or quoted; rendered quoted. */
  readonly etag: string;
  readonly size: number;
  /** @default 'STANDARD' */
  readonly storageClass?: string;
  readonly owner?: Owner;
}

/** 'url' asks S3 to URL-encode keys, prefixes, delimiters and markers in list responses. */
export type EncodingType = 'url';

/** A delimited, paginated listing (objects or uploads). */
interface Listing {
  readonly bucket: string;
  readonly delimiter?: string;
  readonly isTruncated: boolean;
  readonly commonPrefixes: readonly string[];
  readonly encodingType?: EncodingType;
}

/** What both ListObjects versions answer with. */
interface ListBucketResult extends Listing {
  readonly prefix: string;
  readonly maxKeys: number;
  readonly contents: readonly ObjectSummary[];
}

export interface ListObjectsV2Result extends ListBucketResult {
  readonly continuationToken?: string;
  readonly nextContinuationToken?: string;
  readonly startAfter?: string;
}

export interface ListObjectsV1Result extends ListBucketResult {
  readonly marker: string;
  /** S3 returns it only with a delimiter; without one, clients use the last key. */
  readonly nextMarker?: string;
}

export interface PartSummary {
  readonly partNumber: number;
  readonly lastModified: Date;
  readonly etag: string;
  readonly size: number;
}

export interface ListPartsResult {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumberMarker: number;
  readonly nextPartNumberMarker?: number;
  readonly maxParts: number;
  readonly isTruncated: boolean;
  readonly parts: readonly PartSummary[];
  readonly owner?: Owner;
  /** @default 'STANDARD' */
  readonly storageClass?: string;
}

export interface UploadSummary {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
  readonly owner?: Owner;
  /** @default 'STANDARD' */
  readonly storageClass?: string;
}

export interface ListMultipartUploadsResult extends Listing {
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly nextKeyMarker?: string;
  readonly nextUploadIdMarker?: string;
  readonly prefix?: string;
  readonly maxUploads: number;
  readonly uploads: readonly UploadSummary[];
}

export interface DeletedEntry {
  readonly key: string;
  /** The version the request named (<VersionId>), echoed. */
  readonly versionId?: string;
  /** The entry removed or wrote a delete marker. */
  readonly deleteMarker?: boolean;
  /** The delete marker's version id: the marker written, or the one removed. */
  readonly deleteMarkerVersionId?: string;
}

export interface DeleteErrorEntry {
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

export interface DeleteResult {
  readonly deleted: readonly DeletedEntry[];
  readonly errors: readonly DeleteErrorEntry[];
  /** Quiet mode reports only the failures. */
  readonly quiet: boolean;
}

/** S3 timestamps in XML: ISO 8601 with milliseconds. */
export function isoDate(date: Date): string {
  return date.toISOString();
}

/**
 * S3's EncodingType=url: UTF-8 percent-encoding that keeps unreserved characters and '/', with space as '+'
 * (what botocore's unquote_plus and S3 itself expect).
 */
export function s3UrlEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~/]/.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const encoder = (encodingType: EncodingType | undefined) => (value: string | undefined) =>
  value === undefined || encodingType !== 'url' ? value : s3UrlEncode(value);

/** The <Bucket> and <Key> every multipart answer names its upload by. */
function bucketAndKey(r: { bucket: string; key: string }): XmlNode {
  return [text('Bucket', r.bucket), text('Key', r.key)];
}

/** An <Owner> (or, for uploads, an <Initiator>): the principal's id and display name. */
function ownerXml(owner: Owner | undefined, name: 'Owner' | 'Initiator' = 'Owner'): XmlNode {
  if (owner === undefined) return undefined;
  return element(name, text('ID', owner.id), text('DisplayName', owner.displayName));
}

function initiatorXml(owner: Owner | undefined): XmlNode {
  return ownerXml(owner, 'Initiator');
}

function contentsXml(objects: readonly ObjectSummary[], encode: (v: string) => string | undefined): XmlNode[] {
  return objects.map((o) =>
    element(
      'Contents',
      text('Key', encode(o.key)),
      text('LastModified', isoDate(o.lastModified)),
      text('ETag', quoteETag(o.etag)),
      text('Size', o.size),
      ownerXml(o.owner),
      text('StorageClass', o.storageClass ?? 'STANDARD'),
    ),
  );
}

function commonPrefixesXml(prefixes: readonly string[], encode: (v: string) => string | undefined): XmlNode[] {
  return prefixes.map((p) => element('CommonPrefixes', text('Prefix', encode(p))));
}

export function renderListBuckets(r: ListBucketsResult): string {
  return document(
    'ListAllMyBucketsResult',
    S3_XMLNS,
    element(
      'Buckets',
      r.buckets.map((b) => element('Bucket', text('Name', b.name), text('CreationDate', isoDate(b.creationDate)), text('BucketRegion', b.region))),
    ),
    ownerXml(r.owner),
    text('ContinuationToken', r.continuationToken),
    text('Prefix', r.prefix),
  );
}

/** Both ListObjects versions answer a ListBucketResult: name and prefix first, then their own fields, then the listing. */
function listBucketResult(r: ListBucketResult, encode: (v: string | undefined) => string | undefined, fields: XmlNode[]): string {
  return document(
    'ListBucketResult',
    S3_XMLNS,
    text('Name', r.bucket),
    text('Prefix', encode(r.prefix)),
    fields,
    text('EncodingType', r.encodingType),
    contentsXml(r.contents, encode),
    commonPrefixesXml(r.commonPrefixes, encode),
  );
}

export function renderListObjectsV2(r: ListObjectsV2Result): string {
  const encode = encoder(r.encodingType);
  return listBucketResult(r, encode, [
    text('Delimiter', encode(r.delimiter)),
    text('MaxKeys', r.maxKeys),
    text('KeyCount', r.contents.length + r.commonPrefixes.length),
    text('IsTruncated', r.isTruncated),
    text('ContinuationToken', r.continuationToken),
    text('NextContinuationToken', r.nextContinuationToken),
    text('StartAfter', encode(r.startAfter)),
  ]);
}

export function renderListObjectsV1(r: ListObjectsV1Result): string {
  const encode = encoder(r.encodingType);
  return listBucketResult(r, encode, [
    text('Marker', encode(r.marker)),
    text('NextMarker', encode(r.nextMarker)),
    text('MaxKeys', r.maxKeys),
    text('Delimiter', encode(r.delimiter)),
    text('IsTruncated', r.isTruncated),
  ]);
}

/** S3 answers us-east-1 with an empty LocationConstraint, every other region by name. */
export function renderLocationConstraint(region: string): string {
  return document('LocationConstraint', S3_XMLNS, region === 'us-east-1' ? undefined : escapeXml(region));
}

/** CopyObject's and UploadPartCopy's answer: the same two fields under their own root element. */
export function renderCopyResult(root: 'CopyObjectResult' | 'CopyPartResult', r: { etag: string; lastModified: Date }): string {
  return document(root, S3_XMLNS, text('LastModified', isoDate(r.lastModified)), text('ETag', quoteETag(r.etag)));
}

export function renderInitiateMultipartUpload(r: { bucket: string; key: string; uploadId: string }): string {
  return document('InitiateMultipartUploadResult', S3_XMLNS, bucketAndKey(r), text('UploadId', r.uploadId));
}

/** A stored flexible checksum as S3's XML carries it: <ChecksumCRC32>…</ChecksumCRC32>, and its type when asked. */
export interface ChecksumXml {
  readonly algorithm: string;
  readonly value: string;
  readonly type?: string;
}

function checksumXml(c: ChecksumXml | undefined, withType: boolean): XmlNode {
  if (c === undefined) return undefined;
  return [text(`Checksum${c.algorithm}`, c.value), withType ? text('ChecksumType', c.type) : undefined];
}

export function renderCompleteMultipartUpload(r: { location: string; bucket: string; key: string; etag: string; checksum?: ChecksumXml }): string {
  return document(
    'CompleteMultipartUploadResult',
    S3_XMLNS,
    text('Location', r.location),
    bucketAndKey(r),
    text('ETag', quoteETag(r.etag)),
    checksumXml(r.checksum, true),
  );
}

export interface ObjectAttributesXml {
  readonly etag?: string;
  readonly checksum?: ChecksumXml;
  readonly objectParts?: {
    readonly totalPartsCount: number;
    readonly partNumberMarker: number;
    readonly nextPartNumberMarker: number;
    readonly maxParts: number;
    readonly isTruncated: boolean;
    readonly parts: ReadonlyArray<{ readonly partNumber: number; readonly size: number; readonly checksum?: ChecksumXml }>;
  };
  readonly storageClass?: string;
  readonly objectSize?: number;
}

/** GetObjectAttributes: only the attributes asked for, in S3's order. ETag unquoted, as S3 writes it there. */
export function renderObjectAttributes(r: ObjectAttributesXml): string {
  const p = r.objectParts;
  return document(
    'GetObjectAttributesResponse',
    S3_XMLNS,
    text('ETag', r.etag),
    r.checksum ? element('Checksum', checksumXml(r.checksum, true)) : undefined,
    p
      ? element(
          'ObjectParts',
          text('PartsCount', p.totalPartsCount),
          text('PartNumberMarker', p.partNumberMarker),
          text('NextPartNumberMarker', p.nextPartNumberMarker),
          text('MaxParts', p.maxParts),
          text('IsTruncated', p.isTruncated),
          p.parts.map((part) => element('Part', text('PartNumber', part.partNumber), text('Size', part.size), checksumXml(part.checksum, false))),
        )
      : undefined,
    text('StorageClass', r.storageClass),
    text('ObjectSize', r.objectSize),
  );
}

export function renderListParts(r: ListPartsResult): string {
  return document(
    'ListPartsResult',
    S3_XMLNS,
    bucketAndKey(r),
    text('UploadId', r.uploadId),
    initiatorXml(r.owner),
    ownerXml(r.owner),
    text('StorageClass', r.storageClass ?? 'STANDARD'),
    text('PartNumberMarker', r.partNumberMarker),
    text('NextPartNumberMarker', r.nextPartNumberMarker),
    text('MaxParts', r.maxParts),
    text('IsTruncated', r.isTruncated),
    r.parts.map((p) =>
      element(
        'Part',
        text('PartNumber', p.partNumber),
        text('LastModified', isoDate(p.lastModified)),
        text('ETag', quoteETag(p.etag)),
        text('Size', p.size),
      ),
    ),
  );
}

export function renderListMultipartUploads(r: ListMultipartUploadsResult): string {
  const encode = encoder(r.encodingType);
  return document(
    'ListMultipartUploadsResult',
    S3_XMLNS,
    text('Bucket', r.bucket),
    text('KeyMarker', encode(r.keyMarker)),
    text('UploadIdMarker', r.uploadIdMarker),
    text('NextKeyMarker', encode(r.nextKeyMarker)),
    text('NextUploadIdMarker', r.nextUploadIdMarker),
    text('Prefix', encode(r.prefix)),
    text('Delimiter', encode(r.delimiter)),
    text('MaxUploads', r.maxUploads),
    text('IsTruncated', r.isTruncated),
    text('EncodingType', r.encodingType),
    r.uploads.map((u) =>
      element(
        'Upload',
        text('Key', encode(u.key)),
        text('UploadId', u.uploadId),
        initiatorXml(u.owner),
        ownerXml(u.owner),
        text('StorageClass', u.storageClass ?? 'STANDARD'),
        text('Initiated', isoDate(u.initiated)),
      ),
    ),
    commonPrefixesXml(r.commonPrefixes, encode),
  );
}

export function renderDeleteResult(r: DeleteResult): string {
  return document(
    'DeleteResult',
    S3_XMLNS,
    !r.quiet &&
      r.deleted.map((d) =>
        element('Deleted', text('Key', d.key), text('VersionId', d.versionId), d.deleteMarker ? text('DeleteMarker', true) : undefined, text('DeleteMarkerVersionId', d.deleteMarkerVersionId)),
      ),
    r.errors.map((e) => element('Error', text('Key', e.key), text('Code', e.code), text('Message', e.message))),
  );
}

/** S3's <Error> document; `extra` adds fields such as BucketName or RangeRequested after the standard ones. */
export function renderErrorXml(e: {
  code: string;
  message: string;
  resource: string;
  requestId: string;
  extra?: Readonly<Record<string, string>>;
}): string {
  const extras = Object.entries(e.extra ?? {})
    .filter(([name]) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(name))
    .map(([name, value]) => text(name, value));
  return document(
    'Error',
    undefined,
    text('Code', e.code),
    text('Message', e.message),
    extras,
    text('Resource', e.resource),
    text('RequestId', e.requestId),
  );
}

/** GetBucketEncryption: the one rule that applies to new objects. */
export function renderServerSideEncryptionConfiguration(r: { kmsMasterKeyId: string; bucketKeyEnabled: boolean; blockedEncryptionTypes: readonly string[] }): string {
  return document(
    'ServerSideEncryptionConfiguration',
    S3_XMLNS,
    element(
      'Rule',
      element('ApplyServerSideEncryptionByDefault', text('SSEAlgorithm', 'aws:kms'), text('KMSMasterKeyID', r.kmsMasterKeyId)),
      text('BucketKeyEnabled', r.bucketKeyEnabled),
      r.blockedEncryptionTypes.length > 0 && element('BlockedEncryptionTypes', r.blockedEncryptionTypes.map((t) => text('EncryptionType', t))),
    ),
  );
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** GetBucketAcl / GetObjectAcl with ACLs disabled: the owner, with full control, and no other grant. */
export function renderOwnerFullControlAcl(owner: Owner): string {
  const grantee = `<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser">${text('ID', owner.id) ?? ''}${text('DisplayName', owner.displayName) ?? ''}</Grantee>`;
  return document(
    'AccessControlPolicy',
    S3_XMLNS,
    ownerXml(owner),
    element('AccessControlList', element('Grant', grantee, text('Permission', 'FULL_CONTROL'))),
  );
}

/** GetBucketOwnershipControls: ACLs disabled, the bucket owner owns every object. */
export function renderOwnershipControls(): string {
  return document('OwnershipControls', S3_XMLNS, element('Rule', text('ObjectOwnership', 'BucketOwnerEnforced')));
}

/** GetBucketVersioning: empty while versioning was never enabled, as S3 answers. */
export function renderVersioningConfiguration(status: 'Enabled' | 'Suspended' | undefined): string {
  return document('VersioningConfiguration', S3_XMLNS, text('Status', status));
}

/** One entry of ListObjectVersions: a <Version> or a <DeleteMarker>. */
export interface VersionEntry {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly lastModified: Date;
  readonly owner: Owner;
  /** Absent for a delete marker. */
  readonly object?: { readonly etag: string; readonly size: number };
}

export interface ListVersionsResultXml extends Listing {
  readonly prefix: string;
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: string;
  readonly maxKeys: number;
  readonly entries: readonly VersionEntry[];
}

/** ListVersionsResult: versions and delete markers in key order, each key's newest first, as S3 nests them. */
export function renderListVersions(r: ListVersionsResultXml): string {
  const encode = encoder(r.encodingType);
  return document(
    'ListVersionsResult',
    S3_XMLNS,
    text('IsTruncated', r.isTruncated),
    text('KeyMarker', encode(r.keyMarker)),
    text('VersionIdMarker', r.versionIdMarker),
    text('NextKeyMarker', encode(r.nextKeyMarker)),
    text('NextVersionIdMarker', r.nextVersionIdMarker),
    text('Name', r.bucket),
    text('Prefix', encode(r.prefix)),
    text('Delimiter', encode(r.delimiter)),
    text('MaxKeys', r.maxKeys),
    text('EncodingType', r.encodingType),
    r.entries.map((e) =>
      e.object
        ? element(
            'Version',
            text('Key', encode(e.key)),
            text('VersionId', e.versionId),
            text('IsLatest', e.isLatest),
            text('LastModified', isoDate(e.lastModified)),
            text('ETag', quoteETag(e.object.etag)),
            text('Size', e.object.size),
            text('StorageClass', 'STANDARD'),
            ownerXml(e.owner),
          )
        : element('DeleteMarker', text('Key', encode(e.key)), text('VersionId', e.versionId), text('IsLatest', e.isLatest), text('LastModified', isoDate(e.lastModified)), ownerXml(e.owner)),
    ),
    commonPrefixesXml(r.commonPrefixes, encode),
  );
}
