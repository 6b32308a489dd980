// Faults moto cannot produce (throttling, KMS outages, timeouts): SDK calls are mocked with
// aws-sdk-client-mock, or pointed at a loopback server that never answers. Everything else is tested
// over the wire against moto_server in the sibling test files.
import {
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  DependencyTimeoutException,
  GenerateDataKeyCommand,
  KMSClient,
  KMSInternalException,
  KMSServiceException,
  LimitExceededException,
} from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAwsClients } from '../../lambdas/adapters/aws/config';
import { DynamoDbRecordIndex } from '../../lambdas/adapters/aws/dynamodb-index';
import { KmsKeyVault } from '../../lambdas/adapters/aws/kms-key-vault';
import { S3BlobStore } from '../../lambdas/adapters/aws/s3-blob-store';
import {
  ConditionalRequestConflictError,
  KmsAccessDeniedError,
  ServiceUnavailableError,
  SlowDownError,
} from '../../lambdas/core/errors';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const OTHER_KEY = 'arn:aws:kms:us-east-1:444455556666:key/99999999-2222-4333-8444-555555555555';
const metadata = { httpStatusCode: 400 };
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('KmsKeyVault under faults (mocked: moto cannot throttle or fail)', () => {
  // Mocking a client class patches every instance: restore it so the loopback tests below get real clients.
  let kms: AwsClientStub<KMSClient>;
  beforeAll(() => {
    kms = mockClient(KMSClient);
  });
  afterEach(() => kms.reset());
  afterAll(() => kms.restore());
  const vault = () => new KmsKeyVault({ client: new KMSClient({ region, credentials }) });

  it('reports an unmodelled ThrottlingException left after the SDK retries as SlowDownError', async () => {
    kms.on(GenerateDataKeyCommand).rejects(
      new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: metadata, message: 'Rate exceeded' }),
    );
    const error = await vault().generateDataKey(KEY, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlowDownError);
    expect((error as Error).message).toContain(KEY);
  });

  it('reports LimitExceededException as SlowDownError', async () => {
    kms.on(GenerateDataKeyCommand).rejects(new LimitExceededException({ $metadata: metadata, message: 'quota' }));
    await expect(vault().generateDataKey(KEY, {})).rejects.toBeInstanceOf(SlowDownError);
  });

  it('reports KMSInternalException and DependencyTimeoutException as ServiceUnavailableError', async () => {
    kms
      .on(DecryptCommand)
      .rejectsOnce(new KMSInternalException({ $metadata: { httpStatusCode: 500 }, message: 'boom' }))
      .rejectsOnce(new DependencyTimeoutException({ $metadata: { httpStatusCode: 503 }, message: 'slow' }));
    await expect(vault().decrypt(Buffer.from('x'), {})).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(vault().decrypt(Buffer.from('x'), {})).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('reports an AccessDeniedException (unmodelled in the SDK) as KmsAccessDeniedError', async () => {
    kms.on(DecryptCommand).rejects(
      new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: metadata, message: 'no' }),
    );
    await expect(vault().decrypt(Buffer.from('x'), {})).rejects.toBeInstanceOf(KmsAccessDeniedError);
  });

  // Also proven over the wire on moto (kms-key-vault.test.ts); here with a cross-account ARN moto cannot mint.
  it('refuses a Decrypt whose KeyId is outside trustedKeyIds and wipes the plaintext', async () => {
    const plaintext = new Uint8Array(32).fill(9);
    kms.on(DecryptCommand).resolves({ KeyId: OTHER_KEY, Plaintext: plaintext });
    const strict = new KmsKeyVault({ client: new KMSClient({ region, credentials }), trustedKeyIds: [KEY] });
    await expect(strict.decrypt(Buffer.from('x'), {})).rejects.toBeInstanceOf(KmsAccessDeniedError);
    expect(plaintext.every((byte) => byte === 0)).toBe(true);
  });
});

describe('DynamoDbRecordIndex under faults (mocked: moto cannot throttle)', () => {
  let ddb: AwsClientStub<DynamoDBClient>;
  beforeAll(() => {
    ddb = mockClient(DynamoDBClient);
  });
  afterEach(() => ddb.reset());
  afterAll(() => ddb.restore());
  const index = () => new DynamoDbRecordIndex({ client: new DynamoDBClient({ region, credentials }), tableName: 't' });

  it('reports ProvisionedThroughputExceededException as SlowDownError', async () => {
    ddb.on(GetItemCommand).rejects(new ProvisionedThroughputExceededException({ $metadata: metadata, message: 'slow' }));
    await expect(index().get('p', 's')).rejects.toBeInstanceOf(SlowDownError);
  });

  it('reports a transaction cancelled by throttling as SlowDownError and by a conflict as a 409', async () => {
    const cancelled = (code: string) =>
      new TransactionCanceledException({ $metadata: metadata, message: 'cancelled', CancellationReasons: [{ Code: 'None' }, { Code: code }] });
    ddb.on(TransactWriteItemsCommand).rejectsOnce(cancelled('ThrottlingError')).rejectsOnce(cancelled('TransactionConflict'));
    const ops = [{ op: 'delete' as const, pk: 'p', sk: 'a' }, { op: 'delete' as const, pk: 'p', sk: 'b' }];
    await expect(index().transact(ops)).rejects.toBeInstanceOf(SlowDownError);
    await expect(index().transact(ops)).rejects.toBeInstanceOf(ConditionalRequestConflictError);
  });

  it('reports InternalServerError as ServiceUnavailableError', async () => {
    ddb.on(GetItemCommand).rejects(new InternalServerError({ $metadata: { httpStatusCode: 500 }, message: 'boom' }));
    await expect(index().get('p', 's')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('S3BlobStore under faults (mocked: moto cannot throttle)', () => {
  let s3: AwsClientStub<S3Client>;
  beforeAll(() => {
    s3 = mockClient(S3Client);
  });
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());

  it('reports S3 SlowDown as SlowDownError', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'slow down' }),
    );
    const store = new S3BlobStore({ client: new S3Client({ region, credentials }), bucket: 'b' });
    await expect(store.get('blob')).rejects.toBeInstanceOf(SlowDownError);
  });
});

describe('AWS adapters against an endpoint that never answers (loopback server)', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let endpoint: string;
  beforeAll(async () => {
    server = createServer(() => undefined); // accepts requests, never responds
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  // The production client factory, with its timeouts shortened so the test takes well under a second.
  const clients = () => createAwsClients({ endpoint, region, credentials, timeouts: { connectMs: 150, requestMs: 150 } }, {});

  it('reports a KMS timeout, after the SDK retried, as ServiceUnavailableError', async () => {
    const vault = new KmsKeyVault({ client: clients().kms });
    const error = await vault.generateDataKey(KEY, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain(KEY);
  });

  it('reports a DynamoDB timeout as ServiceUnavailableError', async () => {
    const index = new DynamoDbRecordIndex({ client: clients().dynamodb, tableName: 't' });
    await expect(index.get('p', 's')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
