// Marshals IndexItems to DynamoDB items and back: key attributes as S, attrs via @aws-sdk/util-dynamodb.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE } from '../../core/deployment-names';
import { InternalError, InvalidArgumentError } from '../../core/errors';
import type { AttrValue, IndexItem } from '../../core/ports';

/** Physical key attribute names, as the stack's table declares them (deployment-names.ts). */
const PK = TABLE.partitionKey;
const SK = TABLE.sortKey;
const GPK = TABLE.gsi1.partitionKey;
const GSK = TABLE.gsi1.sortKey;

/** Physical attribute names the layout owns; an item's own attrs may not use them. */
export const KEY_ATTRIBUTES: ReadonlySet<string> = new Set([PK, SK, GPK, GSK]);

/**
 * null stays NULL, '' stays an empty S (allowed outside keys), Buffers become B. Sets are never
 * produced: arrays are lists, so order and duplicates survive.
 */
const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertEmptyValues: false } as const;

export function keyOf(pk: string, sk: string): Record<string, AttributeValue> {
  return { [PK]: { S: pk }, [SK]: { S: sk } };
}

export function toValue(value: string | number): AttributeValue {
  return typeof value === 'string' ? { S: value } : { N: String(value) };
}

export function toItem(item: IndexItem): Record<string, AttributeValue> {
  for (const name of Object.keys(item.attrs)) {
    if (KEY_ATTRIBUTES.has(name)) throw new InvalidArgumentError(`index attribute name "${name}" is reserved`);
  }
  for (const [name, value] of [
    ['pk', item.pk],
    ['sk', item.sk],
    ['gsi1pk', item.gsi1pk],
    ['gsi1sk', item.gsi1sk],
  ] as const) {
    // DynamoDB rejects empty strings in key attributes with a ValidationException; say which one.
    if (value === '') throw new InvalidArgumentError(`index key ${name} must not be empty`);
  }
  if ((item.gsi1pk === undefined) !== (item.gsi1sk === undefined)) {
    throw new InvalidArgumentError('gsi1pk and gsi1sk are set together or not at all');
  }
  return {
    ...marshall(item.attrs, MARSHALL_OPTIONS),
    [PK]: { S: item.pk },
    [SK]: { S: item.sk },
    ...(item.gsi1pk !== undefined && { [GPK]: { S: item.gsi1pk } }),
    ...(item.gsi1sk !== undefined && { [GSK]: { S: item.gsi1sk } }),
  };
}

/** unmarshall yields Uint8Array for B; the port promises Buffers, at any depth. */
function withBuffers(value: unknown): AttrValue {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(withBuffers);
  if (value !== null && typeof value === 'object') {
    if (value instanceof Set) throw new InternalError('index item holds a DynamoDB set, which the port cannot express');
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, withBuffers(inner)]));
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return value;
  }
  throw new InternalError(`index item holds an unsupported value of type ${typeof value}`);
}

export function fromItem(raw: Record<string, AttributeValue>): IndexItem {
  const { [PK]: pk, [SK]: sk, [GPK]: gsi1pk, [GSK]: gsi1sk, ...rest } = raw;
  if (pk?.S === undefined || sk?.S === undefined) throw new InternalError('index item lacks pk/sk');
  const attrs: Record<string, AttrValue> = {};
  for (const [name, value] of Object.entries(unmarshall(rest))) attrs[name] = withBuffers(value);
  return {
    pk: pk.S,
    sk: sk.S,
    ...(gsi1pk?.S !== undefined && { gsi1pk: gsi1pk.S }),
    ...(gsi1sk?.S !== undefined && { gsi1sk: gsi1sk.S }),
    attrs,
  };
}
