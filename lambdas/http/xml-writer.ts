// A minimal XML writer: S3's declaration, escaping of text (control characters included) and nested elements.

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A child is an element or a sequence of them; undefined and false children are skipped (optional fields). */
export type XmlNode = string | undefined | false | readonly XmlNode[];

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for element content. Keys may hold any character; control characters become numeric references
 * (as S3 does since 2023 for CR/LF) so a parser cannot normalise them away.
 */
export function escapeXml(text: string): string {
  // Lone surrogates cannot be written as UTF-8; round-tripping through a Buffer turns them into U+FFFD.
  const wellFormed = Buffer.from(text, 'utf8').toString('utf8');
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  return wellFormed.replace(/[&<>"'\u0000-\u001f]/g, (ch) => ENTITIES[ch] ?? `&#${ch.charCodeAt(0)};`);
}

/** <name>escaped text</name>; undefined value → nothing. */
export function text(name: string, value: string | number | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** <name>children…</name>. */
export function element(name: string, ...children: XmlNode[]): string {
  return `<${name}>${flatten(children)}</${name}>`;
}

/** The root element with S3's namespace (when given) and the XML declaration. */
export function document(root: string, xmlns: string | undefined, ...children: XmlNode[]): string {
  const attr = xmlns === undefined ? '' : ` xmlns="${xmlns}"`;
  return `${DECLARATION}<${root}${attr}>${flatten(children)}</${root}>`;
}

function flatten(children: readonly XmlNode[]): string {
  let out = '';
  for (const child of children) {
    if (child === undefined || child === false) continue;
    out += typeof child === 'string' ? child : flatten(child);
  }
  return out;
}
