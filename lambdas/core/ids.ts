// Random identifiers: object ids bound into the AAD and KMS context, blob ids that reveal no object name.
import { randomBytes } from 'node:crypto';

/** 128 random bits, hex: unguessable and unrelated to the object's name. */
export function newObjectId(): string {
  return randomBytes(16).toString('hex');
}

export function newBlobId(): string {
  return randomBytes(16).toString('hex');
}

export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}
