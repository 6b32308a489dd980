// The names the stack and the handlers must agree on (lambdas/core/deployment-names.ts), checked against the
// synthesized template and against what the code actually does: if they drift, real AWS refuses every call (a
// missing variable, a key schema the adapter does not address, an encryption context the key policy does not admit)
// and nothing else would notice.
//
// What a handler reads is observed, not declared: each handler module is loaded fresh with process.env replaced by
// a recording proxy holding the template's environment for that function, and invoked once with the event its
// trigger sends. Its AWS calls go to a closed loopback port (one attempt), so the invocation fails after the
// configuration has been read; every SEALSTORE_* variable touched on the way is recorded.
import { tableDefinition } from '../../lambdas/adapters/aws/resources';
import { secretContext } from '../../lambdas/core/access-keys';
import { ENV, FUNCTION_ENV, OPTIONAL_ENV, TABLE } from '../../lambdas/core/deployment-names';
import { indexKeyContext } from '../../lambdas/core/index-auth/index-key';
import { dataKeyContext } from '../../lambdas/core/sealing-context';
import { scheduledEvent } from '../support/scheduled-event';
import { synth, type Resource, type Statement } from './synth';

const { template } = synth({ additionalTrustedKeyArns: ['arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab'] });

const HANDLERS = { api: 'ApiFunction', rotation: 'RotationFunction', housekeeping: 'HousekeepingFunction' } as const;
type Entry = keyof typeof HANDLERS;

function templateEnvironment(entry: Entry): Record<string, unknown> {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(HANDLERS[entry])) as Array<[string, Resource]>;
  if (found.length !== 1) throw new Error(`expected one ${HANDLERS[entry]} in the template, found ${found.length}`);
  return (found[0]![1].Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
}

const sealstoreNames = (vars: Record<string, unknown>) => Object.keys(vars).filter((k) => k.startsWith('SEALSTORE_')).sort();

/** A value of the right shape for a variable the template sets from a token (a Ref, a GetAtt). */
function concrete(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (name === ENV.region) return 'us-east-1';
  if (name === ENV.kmsKeyId || name === ENV.trustedKeyIds) return 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  return `resolved-${name.toLowerCase()}`;
}

const EVENTS: Record<Entry, unknown> = {
  api: {
    httpMethod: 'GET',
    path: '/',
    resource: '/',
    headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { stage: 'prod', path: '/prod/' },
  },
  rotation: scheduledEvent('rotation'),
  housekeeping: scheduledEvent('housekeeping'),
};

/** The SEALSTORE_* variables the handler module reads when loaded and invoked once, with the template's environment. */
async function readBy(entry: Entry): Promise<string[]> {
  const given = Object.fromEntries(Object.entries(templateEnvironment(entry)).map(([k, v]) => [k, concrete(k, v)]));
  const read = new Set<string>();
  const note = (k: string | symbol) => {
    if (typeof k === 'string' && k.startsWith('SEALSTORE_')) read.add(k);
  };
  const target: Record<string, string> = {
    ...given,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const env = new Proxy(target, {
    get: (t, k) => (note(k), Reflect.get(t, k)),
    has: (t, k) => (note(k), Reflect.has(t, k)),
    getOwnPropertyDescriptor: (t, k) => (note(k), Reflect.getOwnPropertyDescriptor(t, k)),
  });
  const saved = process.env;
  process.env = env;
  try {
    let mod: { handler: (event: unknown) => Promise<unknown> } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module instance per load, under the recording environment
      mod = require(`../../lambdas/handlers/${entry}`) as typeof mod;
    });
    await mod!.handler(EVENTS[entry]).catch(() => undefined);
  } finally {
    process.env = saved;
  }
  return [...read].sort();
}

describe('deployment names: the template and the code agree', () => {
  const optional: readonly string[] = Object.values(OPTIONAL_ENV);

  for (const entry of Object.keys(HANDLERS) as Entry[]) {
    it(`${entry}: every SEALSTORE_* variable the handler reads is set on its function, and every one set is read`, async () => {
      const set = sealstoreNames(templateEnvironment(entry));
      const read = await readBy(entry);
      expect(set).toEqual([...FUNCTION_ENV[entry]].sort());
      // Read but not set: only the documented optional tuning variables.
      expect(read.filter((name) => !set.includes(name) && !optional.includes(name))).toEqual([]);
      // Set but never read: nothing.
      expect(set.filter((name) => !read.includes(name))).toEqual([]);
      // The observation works: the handler did read the variables it must have.
      expect(read).toEqual(expect.arrayContaining([ENV.tableName, ENV.kmsKeyId]));
    }, 30_000);
  }

  it('every name in ENV is given to some function (none is dead)', () => {
    const given = new Set(Object.values(FUNCTION_ENV).flat());
    expect(Object.values(ENV).filter((name) => !given.has(name))).toEqual([]);
  });

  it("the table's key schema and GSI are the ones the adapter addresses (and tableDefinition builds for moto and --init)", () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table')) as Resource[];
    expect(tables).toHaveLength(1);
    const p = tables[0]!.Properties as {
      KeySchema: Array<{ AttributeName: string; KeyType: string }>;
      AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>;
      GlobalSecondaryIndexes: Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string; KeyType: string }>; Projection: { ProjectionType: string } }>;
    };
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection.ProjectionType }))).toEqual([
      {
        IndexName: TABLE.gsi1.indexName,
        KeySchema: [
          { AttributeName: TABLE.gsi1.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.gsi1.sortKey, KeyType: 'RANGE' },
        ],
        Projection: 'ALL',
      },
    ]);
    const adapter = tableDefinition('t');
    expect(adapter.KeySchema).toEqual(p.KeySchema);
    expect([...(adapter.AttributeDefinitions ?? [])].sort((a, b) => (a.AttributeName ?? '').localeCompare(b.AttributeName ?? ''))).toEqual(
      [...p.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
    );
    expect(adapter.GlobalSecondaryIndexes?.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection?.ProjectionType }))).toEqual(
      p.GlobalSecondaryIndexes.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection.ProjectionType })),
    );
  });

  it('the key policy admits exactly the encryption-context keys the code wraps with', () => {
    const [, key] = Object.entries(template.findResources('AWS::KMS::Key'))[0] as [string, Resource];
    const statements = (key.Properties['KeyPolicy'] as { Statement: Statement[] }).Statement;
    const admitted = (sid: string) => {
      const s = statements.find((x) => x.Sid === sid);
      if (!s) throw new Error(`no key-policy statement ${sid}`);
      const cond = s.Condition as { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': string[] } };
      return [...cond['ForAllValues:StringEquals']['kms:EncryptionContextKeys']].sort();
    };
    // The contexts the core builds for each kind of wrapped secret, by the functions that build them.
    expect(admitted('ApiFunctionDataKeys')).toEqual(Object.keys(dataKeyContext('bucket', 'object-id')).sort());
    expect(admitted('ApiFunctionAccessKeySecrets')).toEqual(Object.keys(secretContext('SEALKEY')).sort());
    expect(admitted('ApiFunctionIndexKey')).toEqual(Object.keys(indexKeyContext).sort());
    expect(admitted('RotationFunctionDataKeys')).toEqual(Object.keys(dataKeyContext('bucket', 'object-id')).sort());
    expect(admitted('HousekeepingFunctionIndexKey')).toEqual(Object.keys(indexKeyContext).sort());
  });
});
