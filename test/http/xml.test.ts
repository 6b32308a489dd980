import { XMLParser } from 'fast-xml-parser';
import {
  escapeXml,
  parseCompleteMultipartUpload,
  parseCreateBucketConfiguration,
  parseDelete,
  renderCompleteMultipartUpload,
  renderCopyResult,
  renderDeleteResult,
  renderErrorXml,
  renderInitiateMultipartUpload,
  renderListBuckets,
  renderListMultipartUploads,
  renderListObjectsV1,
  renderListObjectsV2,
  renderListParts,
  renderLocationConstraint,
  s3UrlEncode,
} from '../../lambdas/http/xml';
import { InvalidPartOrderError, MalformedXMLError } from '../../lambdas/core/errors';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const when = new Date('2026-02-03T04:05:06.789Z');
const reader = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, htmlEntities: true, isArray: (n) => ['Contents', 'CommonPrefixes', 'Part', 'Upload', 'Bucket', 'Deleted', 'Error'].includes(n) });
const xml = (s: string) => Buffer.from(s, 'utf8');

describe('XML renderers', () => {
  it('renders ListAllMyBucketsResult with S3 namespace, owner and ISO dates', () => {
    const out = renderListBuckets({ owner: { id: 'owner-1', displayName: 'me' }, buckets: [{ name: 'photos', creationDate: when }] });
    expect(out).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult ${NS}>` +
        '<Buckets><Bucket><Name>photos</Name><CreationDate>2026-02-03T04:05:06.789Z</CreationDate></Bucket></Buckets>' +
        '<Owner><ID>owner-1</ID><DisplayName>me</DisplayName></Owner></ListAllMyBucketsResult>',
    );
  });

  it('renders a ListBuckets page: BucketRegion, the next ContinuationToken and the Prefix echoed (escaped)', () => {
    const out = renderListBuckets({ owner: { id: 'o' }, buckets: [{ name: 'a-b', creationDate: when, region: 'us-east-1' }], continuationToken: 'YS1i', prefix: 'a<' });
    expect(out).toContain('<Bucket><Name>a-b</Name><CreationDate>2026-02-03T04:05:06.789Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>');
    expect(out).toContain('<Owner><ID>o</ID></Owner><ContinuationToken>YS1i</ContinuationToken><Prefix>a&lt;</Prefix></ListAllMyBucketsResult>');
  });

  it('renders ListBucketResult v2 with escaped keys, quoted ETags, KeyCount and continuation tokens', () => {
    const out = renderListObjectsV2({
      bucket: 'photos',
      prefix: 'a&b/',
      delimiter: '/',
      maxKeys: 2,
      isTruncated: true,
      contents: [{ key: 'a&b/<x>\r\n"q"', lastModified: when, etag: 'd41d8cd9', size: 5 }],
      commonPrefixes: ['a&b/sub/'],
      continuationToken: 'tok1',
      nextContinuationToken: 'tok2',
    });
    expect(out).toContain(`<ListBucketResult ${NS}>`);
    expect(out).toContain('<Key>a&amp;b/&lt;x&gt;&#13;&#10;&quot;q&quot;</Key>');
    expect(out).toContain('<ETag>&quot;d41d8cd9&quot;</ETag>');
    expect(out).toContain('<KeyCount>2</KeyCount>');
    const parsed = reader.parse(out).ListBucketResult;
    expect(parsed.Contents[0].Key).toBe('a&b/<x>\r\n"q"');
    expect(parsed.Contents[0].ETag).toBe('"d41d8cd9"');
    expect(parsed.Contents[0].StorageClass).toBe('STANDARD');
    expect(parsed.CommonPrefixes[0].Prefix).toBe('a&b/sub/');
    expect(parsed.NextContinuationToken).toBe('tok2');
    expect(parsed.IsTruncated).toBe('true');
  });

  it('URL-encodes keys, prefixes, delimiters and markers when EncodingType=url', () => {
    const out = renderListObjectsV1({
      bucket: 'photos',
      prefix: 'ü ',
      marker: 'm+1',
      delimiter: '/',
      maxKeys: 1000,
      isTruncated: false,
      contents: [{ key: 'dir/a b\u0001.txt', lastModified: when, etag: 'e', size: 0 }],
      commonPrefixes: ['dir/ü/'],
      encodingType: 'url',
    });
    expect(out).toContain('<Key>dir/a+b%01.txt</Key>');
    expect(out).toContain('<Prefix>%C3%BC+</Prefix>');
    expect(out).toContain('<Marker>m%2B1</Marker>');
    expect(out).toContain('<EncodingType>url</EncodingType>');
    expect(out).toContain('<CommonPrefixes><Prefix>dir/%C3%BC/</Prefix></CommonPrefixes>');
  });

  it('encodes like S3: unreserved characters and / kept, space as +', () => {
    expect(s3UrlEncode('a-b_c.d~e/f g+h%')).toBe('a-b_c.d~e/f+g%2Bh%25');
  });

  it('escapes control characters as numeric references and never emits a lone surrogate', () => {
    expect(escapeXml('\u0000\t&')).toBe('&#0;&#9;&amp;');
    expect(escapeXml('\ud800')).toBe('\ufffd');
  });

  it('renders an empty LocationConstraint for us-east-1 and the name elsewhere', () => {
    expect(renderLocationConstraint('us-east-1')).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint ${NS}></LocationConstraint>`);
    expect(renderLocationConstraint('eu-west-1')).toContain('>eu-west-1</LocationConstraint>');
  });

  it('renders the multipart documents', () => {
    expect(renderInitiateMultipartUpload({ bucket: 'b-1', key: 'k&', uploadId: 'u1' })).toContain(
      `<InitiateMultipartUploadResult ${NS}><Bucket>b-1</Bucket><Key>k&amp;</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`,
    );
    expect(renderCompleteMultipartUpload({ location: '/b-1/k', bucket: 'b-1', key: 'k', etag: 'abc-2' })).toContain(
      '<ETag>&quot;abc-2&quot;</ETag>',
    );
    const parts = reader.parse(
      renderListParts({
        bucket: 'b-1', key: 'k', uploadId: 'u1', partNumberMarker: 0, nextPartNumberMarker: 2, maxParts: 2, isTruncated: true,
        parts: [{ partNumber: 1, lastModified: when, etag: 'p1', size: 10 }, { partNumber: 2, lastModified: when, etag: 'p2', size: 3 }],
      }),
    ).ListPartsResult;
    expect(parts.Part.map((p: { PartNumber: string }) => p.PartNumber)).toEqual(['1', '2']);
    expect(parts.NextPartNumberMarker).toBe('2');
    const uploads = reader.parse(
      renderListMultipartUploads({
        bucket: 'b-1', keyMarker: '', uploadIdMarker: '', maxUploads: 1000, isTruncated: false,
        uploads: [{ key: 'k', uploadId: 'u1', initiated: when }], commonPrefixes: [],
      }),
    ).ListMultipartUploadsResult;
    expect(uploads.Upload[0]).toMatchObject({ Key: 'k', UploadId: 'u1', Initiated: '2026-02-03T04:05:06.789Z' });
    expect(renderCopyResult('CopyObjectResult', { etag: '"x"', lastModified: when })).toContain('<ETag>&quot;x&quot;</ETag>');
  });

  it('renders DeleteResult, leaving out Deleted entries in quiet mode', () => {
    const loud = renderDeleteResult({ deleted: [{ key: 'a' }], errors: [{ key: 'b', code: 'AccessDenied', message: 'Access Denied' }], quiet: false });
    expect(loud).toContain('<Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    const quiet = renderDeleteResult({ deleted: [{ key: 'a' }], errors: [], quiet: true });
    expect(quiet).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult ${NS}></DeleteResult>`);
  });

  it('renders Error without a namespace, extra fields before Resource and RequestId', () => {
    expect(renderErrorXml({ code: 'NoSuchKey', message: 'gone <x>', resource: '/b/k', requestId: 'r1', extra: { Key: 'k' } })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>gone &lt;x&gt;</Message><Key>k</Key><Resource>/b/k</Resource><RequestId>r1</RequestId></Error>',
    );
  });
});

describe('parseCompleteMultipartUpload', () => {
  it('reads parts in order with unquoted ETags and checksums', () => {
    const body = xml(
      `<CompleteMultipartUpload ${NS}><Part><PartNumber>1</PartNumber><ETag>"aa"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>` +
        '<Part><ETag>&quot;bb&quot;</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>',
    );
    expect(parseCompleteMultipartUpload(body)).toEqual({
      parts: [
        { partNumber: 1, etag: 'aa', checksums: { CRC32: 'AAAAAA==' } },
        { partNumber: 3, etag: 'bb', checksums: {} },
      ],
    });
  });

  it('rejects parts out of order with InvalidPartOrder', () => {
    const body = xml('<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>');
    expect(() => parseCompleteMultipartUpload(body)).toThrow(InvalidPartOrderError);
  });

  it.each([
    '',
    'not xml',
    '<CompleteMultipartUpload></CompleteMultipartUpload>',
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    '<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>',
    '<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>',
    '<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>',
    '<Delete><Object><Key>a</Key></Object></Delete>',
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>',
    '<!DOCTYPE x [<!ENTITY e "aa">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>',
  ])('rejects %j as MalformedXML', (text) => {
    expect(() => parseCompleteMultipartUpload(xml(text))).toThrow(MalformedXMLError);
  });
});

describe('parseDelete', () => {
  it('reads Quiet and keys verbatim: spaces, entities, numeric references, leading zeros', () => {
    const body = xml(`<?xml version="1.0" encoding="UTF-8"?><Delete ${NS}><Quiet>true</Quiet><Object><Key> 007 </Key></Object><Object><Key>a&amp;b&#13;&#x41;</Key><VersionId>null</VersionId></Object></Delete>`);
    expect(parseDelete(body)).toEqual({ quiet: true, objects: [{ key: ' 007 ' }, { key: 'a&b\rA', versionId: 'null' }] });
  });

  it('defaults to verbose', () => {
    expect(parseDelete(xml('<Delete><Object><Key>k</Key></Object></Delete>')).quiet).toBe(false);
  });

  it('accepts 1000 keys and rejects 1001', () => {
    const objects = (n: number) => `<Delete>${'<Object><Key>k</Key></Object>'.repeat(n)}</Delete>`;
    expect(parseDelete(xml(objects(1000))).objects).toHaveLength(1000);
    expect(() => parseDelete(xml(objects(1001)))).toThrow(MalformedXMLError);
  });

  it.each([
    '<Delete></Delete>',
    '<Delete/>',
    '<Delete><Object></Object></Delete>',
    '<Delete><Object><Key></Key></Object></Delete>',
    '<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>',
    '<Delete><Object><Key>a&nbsp;b</Key></Object></Delete>',
    '<Delete><Object><Key><b>x</b></Key></Object></Delete>',
  ])('rejects %j as MalformedXML', (text) => {
    expect(() => parseDelete(xml(text))).toThrow(MalformedXMLError);
  });
});

describe('parseCreateBucketConfiguration', () => {
  it('reads the location constraint, and accepts an empty body', () => {
    expect(parseCreateBucketConfiguration(xml(`<CreateBucketConfiguration ${NS}><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))).toEqual({
      locationConstraint: 'eu-west-1',
    });
    expect(parseCreateBucketConfiguration(Buffer.alloc(0))).toEqual({});
    expect(() => parseCreateBucketConfiguration(xml('<Wrong/>'))).toThrow(MalformedXMLError);
  });
});
