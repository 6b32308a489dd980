// Configuration, resource initialisation and the assembled AWS backend, over the wire against moto_server.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { awsConfigFromEnv, createAwsClients } from '../../lambdas/adapters/aws/config';
import { initFromEnv, openAwsBackend } from '../../lambdas/adapters/aws/index';
import { initAwsResources, tableDefinition } from '../../lambdas/adapters/aws/resources';
import { readAll, uniqueId } from '../contract/streams';
import { describeWithMoto, motoRegion } from '../support/moto';
import { motoClients } from './moto-clients';

describe('awsConfigFromEnv', () => {
  const complete = {
    SEALSTORE_TABLE_NAME: 'objects',
    SEALSTORE_BLOB_BUCKET: 'blobs',
    SEALSTORE_KMS_KEY_ID: 'alias/sealstore',
  };

  it('reads table, bucket and key, and no trust list when none is set', () => {
    expect(awsConfigFromEnv(complete)).toEqual({ tableName: 'objects', bucket: 'blobs', keyId: 'alias/sealstore' });
  });

  it('splits SEALSTORE_TRUSTED_KEY_IDS on commas, ignoring blanks', () => {
    const config = awsConfigFromEnv({ ...complete, SEALSTORE_TRUSTED_KEY_IDS: ' arn:a , ,arn:b,' });
    expect(config.trustedKeyIds).toEqual(['arn:a', 'arn:b']);
  });

  it('names every missing or blank variable at once', () => {
    expect(() => awsConfigFromEnv({ SEALSTORE_BLOB_BUCKET: 'blobs', SEALSTORE_KMS_KEY_ID: '  ' })).toThrow(
      'SEALSTORE_TABLE_NAME, SEALSTORE_KMS_KEY_ID',
    );
  });
});

describe('createAwsClients', () => {
  it('uses path-style S3 addressing only under a custom endpoint', async () => {
    const custom = createAwsClients({}, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' });
    const plain = createAwsClients({ region: 'eu-west-1' }, {});
    expect(custom.s3.config.forcePathStyle).toBe(true);
    expect(plain.s3.config.forcePathStyle).toBe(false);
  });
});

describeWithMoto('AWS backend (moto_server)', (moto) => {
  const names = () => ({ tableName: uniqueId('table'), bucket: uniqueId('bucket'), keyAlias: `alias/${uniqueId('key')}` });

  it('creates table, bucket and an aliased CMK, and is idempotent', async () => {
    const clients = motoClients(moto().endpoint);
    const wanted = names();
    const first = await initAwsResources(clients, wanted);
    const second = await initAwsResources(clients, wanted);
    expect(second.keyId).toBe(first.keyId);
    expect(first.keyId).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: wanted.tableName }));
    expect(table.Table?.KeySchema).toEqual(tableDefinition(wanted.tableName).KeySchema);
    expect(table.Table?.GlobalSecondaryIndexes?.map((gsi) => gsi.IndexName)).toEqual(['gsi1']);
    expect(table.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: wanted.bucket }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    const aliases = await clients.kms.send(new ListAliasesCommand({}));
    expect(aliases.Aliases?.filter((alias) => alias.AliasName === wanted.keyAlias)).toHaveLength(1);
  });

  it('refuses to invent a key for a key id that does not exist', async () => {
    const clients = motoClients(moto().endpoint);
    const keyAlias = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000';
    await expect(initAwsResources(clients, { ...names(), keyAlias })).rejects.toThrow(/not found/);
  });

  // Proves the "no code change for moto/LocalStack" claim: only the SDK's standard variables are set.
  it('opens a working backend from the standard SDK environment alone', async () => {
    const wanted = names();
    const env = {
      SEALSTORE_TABLE_NAME: wanted.tableName,
      SEALSTORE_BLOB_BUCKET: wanted.bucket,
      SEALSTORE_KMS_KEY_ID: wanted.keyAlias,
    };
    const sdkEnv = {
      AWS_ENDPOINT_URL: moto().endpoint,
      AWS_REGION: motoRegion,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const saved = Object.fromEntries(Object.keys(sdkEnv).map((name) => [name, process.env[name]]));
    Object.assign(process.env, sdkEnv);
    try {
      const created = await initFromEnv({ ...process.env, ...env });
      const backend = await openAwsBackend({ ...process.env, ...env });
      // Opened with no KMS call: the default key stays as configured; the lifecycle records it by ARN on first use.
      expect(backend.defaultKeyId).toBe(wanted.keyAlias);
      expect(await backend.vault.resolveKeyId(backend.defaultKeyId)).toBe(created.keyId);
      const dataKey = await backend.vault.generateDataKey(backend.defaultKeyId, { object: 'o' });
      await backend.blobs.put('blob', Readable.from([dataKey.wrapped]), { 'x-kind': 'wrapped-key' });
      await backend.index.put({ pk: 'bucket', sk: 'key', attrs: { blob: 'blob' } });
      const stored = await readAll(await backend.blobs.get('blob'));
      expect((await backend.vault.decrypt(stored, { object: 'o' })).plaintext.equals(dataKey.plaintext)).toBe(true);
      expect((await backend.index.get('bucket', 'key'))?.attrs).toEqual({ blob: 'blob' });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
