// The S3 XML vocabulary in one import: response renderers and request-body parsers.
export * from './xml-render';
export * from './xml-parse';
export { escapeXml, S3_XMLNS } from './xml-writer';
