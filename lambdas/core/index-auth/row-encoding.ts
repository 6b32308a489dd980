// The canonical bytes of an index row, as its MAC covers them: the keys that place it and every attribute but
// the MAC itself, in one unambiguous encoding whatever the adapter's own representation.
import type { AttrValue, IndexItem } from '../ports';

/** The attribute that carries a row's MAC. */
export const ROW_MAC_ATTR = 'rowMac';

const TAG = { null: 0, false: 1, true: 2, number: 3, string: 4, bytes: 5, list: 6, map: 7, absent: 8 } as const;

/*
 * Every value is a type tag, then a length-prefixed body; maps are sorted by their names. So no two different
 * rows encode alike: not a string and a Buffer with the same bytes, not ['a', 'bc'] and ['ab', 'c'], not {a: 1}
 * read back from a codec that reorders names. Strings are encoded as their UTF-16 code units, which is one-to-one
 * for every JavaScript string (UTF-8 would map lone surrogates to U+FFFD, so two strings could share bytes).
 */
const text = (s: string): Buffer => Buffer.from(s, 'utf16le');
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function push(out: Buffer[], tag: number, body?: Buffer): void {
  out.push(Buffer.of(tag));
  if (body !== undefined) out.push(u32(body.length), body);
}

function encodeValue(out: Buffer[], value: AttrValue): void {
  if (value === null) return push(out, TAG.null);
  if (value === true) return push(out, TAG.true);
  if (value === false) return push(out, TAG.false);
  if (typeof value === 'number') {
    const b = Buffer.alloc(8);
    // -0 is stored as 0 by both backends: encode it as 0, or a row holding it would never verify.
    b.writeDoubleBE(Object.is(value, -0) ? 0 : value);
    return push(out, TAG.number, b);
  }
  if (typeof value === 'string') return push(out, TAG.string, text(value));
  if (Buffer.isBuffer(value)) return push(out, TAG.bytes, value);
  if (Array.isArray(value)) {
    push(out, TAG.list, u32(value.length));
    for (const v of value) encodeValue(out, v);
    return;
  }
  encodeMap(out, value);
}

function encodeMap(out: Buffer[], map: Readonly<Record<string, AttrValue>>, skip?: string): void {
  // An attribute set to undefined is no attribute: neither backend stores it, so it cannot count here.
  const names = Object.keys(map)
    .filter((n) => n !== skip && map[n] !== undefined)
    .map((n) => [text(n), n] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  push(out, TAG.map, u32(names.length));
  for (const [bytes, name] of names) {
    out.push(u32(bytes.length), bytes);
    encodeValue(out, map[name] as AttrValue);
  }
}

function key(out: Buffer[], value: string | undefined): void {
  if (value === undefined) push(out, TAG.absent);
  else push(out, TAG.string, text(value));
}

/** pk, sk, gsi1pk, gsi1sk and the attributes (without the MAC), canonically. */
export function canonicalRow(item: IndexItem): Buffer {
  const out: Buffer[] = [];
  key(out, item.pk);
  key(out, item.sk);
  key(out, item.gsi1pk);
  key(out, item.gsi1sk);
  encodeMap(out, item.attrs, ROW_MAC_ATTR);
  return Buffer.concat(out);
}
