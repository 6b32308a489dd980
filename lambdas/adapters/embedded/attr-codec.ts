// Serialises index attributes to JSON text and back, so Buffers and nested maps survive the round trip.
import type { AttrValue } from '../../core/ports';

/*
 * Tagged JSON rather than v8.serialize: the bytes on disk stay readable with the sqlite3 shell and do not
 * depend on the V8 version that wrote them. Every map is wrapped as {"$m": …} and every Buffer as
 * {"$b": base64}, so a user map that happens to contain a "$b" key can never be mistaken for a Buffer.
 */
type Encoded = string | number | boolean | null | Encoded[] | { $b: string } | { $m: { [name: string]: Encoded } };

/**
 * Defines rather than assigns "__proto__", so an attribute of that name stays data and never becomes a prototype;
 * every other name is a plain (fast) assignment.
 */
function setOwn<T>(target: { [name: string]: T }, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

function encodeValue(value: AttrValue): Encoded {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    // DynamoDB has no NaN or Infinity either; refusing here keeps both adapters interchangeable.
    if (!Number.isFinite(value)) throw new TypeError('index attributes must be finite numbers');
    return value;
  }
  if (Buffer.isBuffer(value)) return { $b: value.toString('base64') };
  if (Array.isArray(value)) return value.map(encodeValue);
  return { $m: encodeMap(value) };
}

function encodeMap(map: Readonly<Record<string, AttrValue>>): { [name: string]: Encoded } {
  const out: { [name: string]: Encoded } = {};
  for (const [name, value] of Object.entries(map)) setOwn(out, name, encodeValue(value));
  return out;
}

function decodeValue(value: unknown): AttrValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (Array.isArray(value)) return value.map(decodeValue);
  if (typeof value === 'object') {
    const tagged = value as { $b?: unknown; $m?: unknown };
    if (typeof tagged.$b === 'string') return Buffer.from(tagged.$b, 'base64');
    if (typeof tagged.$m === 'object' && tagged.$m !== null) return decodeMap(tagged.$m);
  }
  throw new TypeError('corrupt attribute encoding in the index');
}

function decodeMap(map: object): { [name: string]: AttrValue } {
  const out: { [name: string]: AttrValue } = {};
  for (const [name, value] of Object.entries(map)) setOwn(out, name, decodeValue(value));
  return out;
}

/** Text form of an item's attributes, as stored in the `attrs` column. */
export function encodeAttrs(attrs: Readonly<Record<string, AttrValue>>): string {
  return JSON.stringify(encodeMap(attrs));
}

export function decodeAttrs(text: string): Record<string, AttrValue> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('corrupt attribute encoding in the index');
  }
  return decodeMap(parsed);
}
