// Parses the XML request bodies S3 accepts (CompleteMultipartUpload, Delete, CreateBucketConfiguration) into typed values.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { InvalidPartOrderError, MalformedXMLError } from '../core/errors';
import { MAX_PART_NUMBER } from './router';
import { unquoteETag } from './etag';

export interface CompletedPart {
  readonly partNumber: number;
  /** Bare (quotes removed). */
  readonly etag: string;
  /** Checksums the client sent per part, e.g. { CRC32: 'base64' }. */
  readonly checksums: Readonly<Record<string, string>>;
}

export interface CompleteMultipartUpload {
  readonly parts: readonly CompletedPart[];
}

export interface DeleteRequestObject {
  readonly key: string;
  readonly versionId?: string;
  /** <ETag>: delete only if the object has this ETag (S3 conditional deletes); bare. */
  readonly etag?: string;
  /** <LastModifiedTime> / <Size>: conditions S3 takes in directory buckets only; named so they are refused, not ignored. */
  readonly directoryBucketConditions?: readonly string[];
}

export interface DeleteRequest {
  readonly quiet: boolean;
  readonly objects: readonly DeleteRequestObject[];
}

export interface CreateBucketConfiguration {
  readonly locationConstraint?: string;
}

export const MAX_DELETE_OBJECTS = 1000;
/** Bodies are small in S3 (1000 keys of ≤1 KiB each); this bounds parser work on hostile input. */
const MAX_XML_BYTES = 2 * 1024 * 1024;

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';
const malformed = () => new MalformedXMLError(MALFORMED);

type XmlValue = string | XmlObject | XmlValue[];
interface XmlObject {
  [name: string]: XmlValue;
}

// Entities are decoded by hand (decodeEntities): the library either skips numeric references or also accepts
// HTML names such as &nbsp;, neither of which is XML. Values stay strings: keys like '007' must not become 7.
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === 'Part' || name === 'Object' || name === 'Grant' || name === 'Rule' || name === 'EncryptionType',
});

function parseDocument(body: Buffer, root: string): XmlObject {
  if (body.length > MAX_XML_BYTES) throw malformed();
  const xml = body.toString('utf8');
  // DOCTYPE brings entity expansion (billion laughs, external entities); S3 bodies never need it.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw malformed();
  let parsed: unknown;
  try {
    if (XMLValidator.validate(xml) !== true) throw malformed();
    parsed = parser.parse(xml);
  } catch {
    throw malformed();
  }
  if (!isObject(parsed)) throw malformed();
  const names = Object.keys(parsed);
  if (names.length !== 1 || names[0] !== root) throw malformed();
  const top = parsed[root];
  // An empty root (<Delete/>) parses as ''.
  if (top === '') return {};
  if (!isObject(top)) throw malformed();
  return top;
}

function isObject(value: unknown): value is XmlObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text of a leaf element; undefined when absent, MalformedXML when it is not a leaf. */
function leaf(parent: XmlObject, name: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(parent, name)) return undefined;
  const value = parent[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformed();
  return decodeEntities(value);
}

/** A child element with children of its own; undefined when absent. */
function child(parent: XmlObject, name: string): XmlObject | undefined {
  if (!Object.prototype.hasOwnProperty.call(parent, name)) return undefined;
  const value = parent[name];
  if (value === '') return {};
  if (!isObject(value)) throw malformed();
  return value;
}

function list(parent: XmlObject, name: string): XmlObject[] {
  if (!Object.prototype.hasOwnProperty.call(parent, name)) return [];
  const value = parent[name];
  if (!Array.isArray(value)) throw malformed();
  return value.map((item) => {
    if (item === '') return {};
    if (!isObject(item)) throw malformed();
    return item;
  });
}

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's five named entities and numeric character references; anything else with '&' is malformed. */
export function decodeEntities(value: string): string {
  return value.replace(ENTITY, (match, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (name !== undefined) return NAMED[name] ?? match;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : hex !== undefined ? Number.parseInt(hex, 16) : NaN;
    if (Number.isNaN(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) throw malformed();
    return String.fromCodePoint(code);
  });
}

const CHECKSUM_ELEMENTS = [
  'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256',
  'ChecksumSHA512', 'ChecksumMD5', 'ChecksumXXHASH64', 'ChecksumXXHASH3', 'ChecksumXXHASH128',
];

/** Parts must be listed in ascending part-number order (S3: InvalidPartOrder). */
export function parseCompleteMultipartUpload(body: Buffer): CompleteMultipartUpload {
  const root = parseDocument(body, 'CompleteMultipartUpload');
  const parts = list(root, 'Part').map((part): CompletedPart => {
    const numberText = leaf(part, 'PartNumber')?.trim();
    const etag = leaf(part, 'ETag');
    if (numberText === undefined || etag === undefined || !/^[0-9]{1,5}$/.test(numberText)) throw malformed();
    const partNumber = Number(numberText);
    if (partNumber < 1 || partNumber > MAX_PART_NUMBER) throw malformed();
    const checksums: Record<string, string> = {};
    for (const name of CHECKSUM_ELEMENTS) {
      const value = leaf(part, name);
      if (value !== undefined) checksums[name.slice('Checksum'.length)] = value.trim();
    }
    return { partNumber, etag: unquoteETag(etag), checksums };
  });
  if (parts.length === 0) throw malformed();
  for (let i = 1; i < parts.length; i++) {
    const previous = parts[i - 1];
    const current = parts[i];
    if (previous !== undefined && current !== undefined && current.partNumber <= previous.partNumber) {
      throw new InvalidPartOrderError('The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
  }
  return { parts };
}

export function parseDelete(body: Buffer): DeleteRequest {
  const root = parseDocument(body, 'Delete');
  const quietText = leaf(root, 'Quiet')?.trim();
  if (quietText !== undefined && quietText !== 'true' && quietText !== 'false') throw malformed();
  const objects = list(root, 'Object').map((object) => {
    const key = leaf(object, 'Key');
    if (key === undefined || key === '') throw malformed();
    const versionId = leaf(object, 'VersionId');
    const etag = leaf(object, 'ETag');
    const directoryBucketConditions = ['LastModifiedTime', 'Size'].filter((name) => leaf(object, name) !== undefined);
    return {
      key,
      ...(versionId === undefined ? {} : { versionId }),
      ...(etag === undefined ? {} : { etag: etag.trim() }),
      ...(directoryBucketConditions.length > 0 ? { directoryBucketConditions } : {}),
    };
  });
  if (objects.length === 0 || objects.length > MAX_DELETE_OBJECTS) throw malformed();
  return { quiet: quietText === 'true', objects };
}

/** PutBucketVersioning's body: Status (Enabled, Suspended) and MfaDelete (Enabled, Disabled), each optional. */
export interface VersioningConfiguration {
  readonly status?: 'Enabled' | 'Suspended';
  readonly mfaDelete?: 'Enabled' | 'Disabled';
}

export function parseVersioningConfiguration(body: Buffer): VersioningConfiguration {
  const root = parseDocument(body, 'VersioningConfiguration');
  const status = leaf(root, 'Status')?.trim();
  const mfaDelete = leaf(root, 'MfaDelete')?.trim() ?? leaf(root, 'MFADelete')?.trim();
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw malformed();
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw malformed();
  return { ...(status !== undefined ? { status } : {}), ...(mfaDelete !== undefined ? { mfaDelete } : {}) };
}

/** An empty body is a valid request with no configuration. */
export function parseCreateBucketConfiguration(body: Buffer): CreateBucketConfiguration {
  if (body.toString('utf8').trim() === '') return {};
  const root = parseDocument(body, 'CreateBucketConfiguration');
  const locationConstraint = leaf(root, 'LocationConstraint')?.trim();
  return locationConstraint === undefined || locationConstraint === '' ? {} : { locationConstraint };
}

/** A bucket's default encryption as PutBucketEncryption sends it (one Rule, as S3 allows). */
export interface ServerSideEncryptionConfiguration {
  readonly sseAlgorithm: string;
  readonly kmsMasterKeyId?: string;
  readonly bucketKeyEnabled?: boolean;
  /** BlockedEncryptionTypes/EncryptionType values (SSE-C, NONE). */
  readonly blockedEncryptionTypes: readonly string[];
}

export function parseServerSideEncryptionConfiguration(body: Buffer): ServerSideEncryptionConfiguration {
  const root = parseDocument(body, 'ServerSideEncryptionConfiguration');
  const rules = list(root, 'Rule');
  const rule = rules[0];
  if (rule === undefined || rules.length !== 1) throw malformed();
  const byDefault = child(rule, 'ApplyServerSideEncryptionByDefault');
  const sseAlgorithm = byDefault === undefined ? undefined : leaf(byDefault, 'SSEAlgorithm')?.trim();
  if (byDefault === undefined || sseAlgorithm === undefined) throw malformed();
  const kmsMasterKeyId = leaf(byDefault, 'KMSMasterKeyID')?.trim();
  const bucketKeyText = leaf(rule, 'BucketKeyEnabled')?.trim();
  if (bucketKeyText !== undefined && bucketKeyText !== 'true' && bucketKeyText !== 'false') throw malformed();
  const blocked = child(rule, 'BlockedEncryptionTypes');
  const blockedEncryptionTypes = blocked === undefined ? [] : listOfLeaves(blocked, 'EncryptionType');
  return {
    sseAlgorithm,
    ...(kmsMasterKeyId === undefined || kmsMasterKeyId === '' ? {} : { kmsMasterKeyId }),
    ...(bucketKeyText === undefined ? {} : { bucketKeyEnabled: bucketKeyText === 'true' }),
    blockedEncryptionTypes,
  };
}

function listOfLeaves(parent: XmlObject, name: string): string[] {
  if (!Object.prototype.hasOwnProperty.call(parent, name)) return [];
  const value = parent[name];
  if (!Array.isArray(value)) throw malformed();
  return value.map((v) => {
    if (typeof v !== 'string') throw malformed();
    return decodeEntities(v).trim();
  });
}

/** One grant of an AccessControlPolicy: who (by canonical id, URI or email, whichever was sent) and what. */
export interface AclGrant {
  readonly granteeId?: string;
  readonly granteeUri?: string;
  readonly granteeEmail?: string;
  readonly permission: string;
}

export interface AccessControlPolicy {
  readonly ownerId?: string;
  readonly grants: readonly AclGrant[];
}

export function parseAccessControlPolicy(body: Buffer): AccessControlPolicy {
  const root = parseDocument(body, 'AccessControlPolicy');
  const owner = child(root, 'Owner');
  const ownerId = owner === undefined ? undefined : leaf(owner, 'ID')?.trim();
  const acl = child(root, 'AccessControlList') ?? {};
  const grants = list(acl, 'Grant').map((grant): AclGrant => {
    const grantee = child(grant, 'Grantee') ?? {};
    const permission = leaf(grant, 'Permission')?.trim();
    if (permission === undefined) throw malformed();
    const id = leaf(grantee, 'ID')?.trim();
    const uri = leaf(grantee, 'URI')?.trim();
    const email = leaf(grantee, 'EmailAddress')?.trim();
    return { permission, ...(id === undefined ? {} : { granteeId: id }), ...(uri === undefined ? {} : { granteeUri: uri }), ...(email === undefined ? {} : { granteeEmail: email }) };
  });
  return { ...(ownerId === undefined ? {} : { ownerId }), grants };
}
