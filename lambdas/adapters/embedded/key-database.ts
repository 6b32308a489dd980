// The embedded vault's key database: CMK records, sealed key material and aliases in one authenticated JSON file.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileDurably } from './fs-sync';

export type StoredKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface GenerationRecord {
  readonly id: number;
  readonly createdAt: string;
  /** nonce(12) || ciphertext(32) || tag(16), base64, under the root-derived material key. Never plaintext. */
  readonly sealed: string;
}

export interface KeyRecord {
  readonly uuid: string;
  readonly createdAt: string;
  readonly description?: string;
  state: StoredKeyState;
  deletionDate?: string;
  rotation: { enabled: boolean; periodDays?: number; nextRotationDate?: string };
  /** Oldest first; the last one is current. Old generations stay for decrypt, as KMS keeps old material. */
  generations: GenerationRecord[];
}

export interface KeyDatabase {
  keys: Record<string, KeyRecord>;
  /** alias name ("alias/x") → key UUID */
  aliases: Record<string, string>;
}

const FILE_FORMAT = 'sealstore-keydb-1';

export const emptyKeyDatabase = (): KeyDatabase => ({ keys: {}, aliases: {} });

const materialAad = (uuid: string, generation: number) => Buffer.from(`sealstore/cmk-material/v1\0${uuid}\0${generation}`);

/** Seals one generation's material; the AAD pins it to its key and generation so records cannot be swapped. */
export function sealMaterial(materialKey: Buffer, uuid: string, generation: number, material: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', materialKey, nonce);
  cipher.setAAD(materialAad(uuid, generation));
  return Buffer.concat([nonce, cipher.update(material), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

export function unsealMaterial(materialKey: Buffer, uuid: string, generation: number, sealed: string): Buffer {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', materialKey, bytes.subarray(0, 12));
  decipher.setAAD(materialAad(uuid, generation));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(FILE_FORMAT).update('\0').update(body).digest();

/** Reads and authenticates the database; undefined when it does not exist yet. */
export async function readKeyDatabase(file: string, macKey: Buffer): Promise<KeyDatabase | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const envelope = JSON.parse(text) as { format?: unknown; body?: unknown; mac?: unknown };
  if (envelope.format !== FILE_FORMAT || typeof envelope.body !== 'string' || typeof envelope.mac !== 'string') {
    throw new Error(`${file} is not a sealstore key database`);
  }
  const expected = mac(macKey, envelope.body);
  const actual = Buffer.from(envelope.mac, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Error(`${file} failed authentication: it was modified outside the vault, or belongs to another root.key`);
  }
  return JSON.parse(envelope.body) as KeyDatabase;
}

/** Replaces the database atomically: temp file (0600), fsync, rename, fsync of the directory. */
export async function writeKeyDatabase(file: string, macKey: Buffer, db: KeyDatabase): Promise<void> {
  const body = JSON.stringify(db);
  await writeFileDurably(file, JSON.stringify({ format: FILE_FORMAT, body, mac: mac(macKey, body).toString('hex') }));
}
