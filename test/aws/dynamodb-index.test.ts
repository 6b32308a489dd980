// DynamoDbRecordIndex over the wire against moto_server: the RecordIndex contract, then DynamoDB specifics.
import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbRecordIndex } from '../../lambdas/adapters/aws/dynamodb-index';
import { tableDefinition } from '../../lambdas/adapters/aws/resources';
import { InternalError, InvalidArgumentError } from '../../lambdas/core/errors';
import type { IndexItem } from '../../lambdas/core/ports';
import { describeRecordIndexContract } from '../contract/record-index.contract';
import { uniqueId } from '../contract/streams';
import { describeWithMoto } from '../support/moto';
import { motoClients } from './moto-clients';

async function indexOnMoto(endpoint: string): Promise<{ index: DynamoDbRecordIndex; tableName: string }> {
  const { dynamodb } = motoClients(endpoint);
  const tableName = uniqueId('index');
  await dynamodb.send(new CreateTableCommand(tableDefinition(tableName)));
  return { index: new DynamoDbRecordIndex({ client: dynamodb, tableName }), tableName };
}

describeWithMoto('DynamoDbRecordIndex (moto_server)', (moto) => {
  describeRecordIndexContract('RecordIndex contract', async () => ({
    index: (await indexOnMoto(moto().endpoint)).index,
    cleanup: async () => undefined,
  }));

  describe('DynamoDB specifics', () => {
    let index: DynamoDbRecordIndex;
    let tableName: string;
    beforeAll(async () => {
      ({ index, tableName } = await indexOnMoto(moto().endpoint));
    });

    it('collects a full page across DynamoDB responses capped at 1 MB', async () => {
      const pk = uniqueId('pk');
      const blob = Buffer.alloc(150_000, 7);
      // 12 items of ~150 kB: any single Query response stops near 1 MB, i.e. after ~6 items.
      for (let i = 0; i < 12; i++) await index.put({ pk, sk: `k${String(i).padStart(2, '0')}`, attrs: { blob } });
      const page = await index.query(pk, { limit: 10 });
      expect(page.items.map((item) => item.sk)).toEqual(Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`));
      expect(page.lastKey).toBe('k09');
      const rest = await index.query(pk, { limit: 10, startAfter: page.lastKey });
      expect(rest.items.map((item) => item.sk)).toEqual(['k10', 'k11']);
      expect(rest.lastKey).toBeUndefined();
    });

    it('stops a prefixed listing at the end of the prefix range, without a lastKey', async () => {
      const pk = uniqueId('pk');
      for (const sk of ['a/1', 'a/2', 'a/3', 'b/1']) await index.put({ pk, sk, attrs: {} });
      const page = await index.query(pk, { prefix: 'a/', startAfter: 'a/1', limit: 2 });
      expect(page.items.map((item) => item.sk)).toEqual(['a/2', 'a/3']);
      expect(page.lastKey).toBeUndefined();
    });

    it('stores attributes as top-level DynamoDB attributes beside pk/sk/gsi1pk/gsi1sk', async () => {
      const pk = uniqueId('pk');
      await index.put({ pk, sk: 's', gsi1pk: 'g', gsi1sk: 'h', attrs: { size: 5, wrapped: Buffer.from([1, 2]) } });
      const { dynamodb } = motoClients(moto().endpoint);
      const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
      const raw = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: 's' } } }));
      expect(raw.Item).toEqual({
        pk: { S: pk },
        sk: { S: 's' },
        gsi1pk: { S: 'g' },
        gsi1sk: { S: 'h' },
        size: { N: '5' },
        wrapped: { B: new Uint8Array([1, 2]) },
      });
    });

    it('refuses attribute names that collide with the key attributes', async () => {
      const item: IndexItem = { pk: uniqueId('pk'), sk: 's', attrs: { gsi1pk: 'sneaky' } };
      await expect(index.put(item)).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('refuses gsi1pk without gsi1sk', async () => {
      await expect(index.put({ pk: uniqueId('pk'), sk: 's', gsi1pk: 'g', attrs: {} })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    });

    it('refuses a transaction of more than 100 operations before calling DynamoDB', async () => {
      const pk = uniqueId('pk');
      const ops = Array.from({ length: 101 }, (_, i) => ({ op: 'put' as const, item: { pk, sk: `k${i}`, attrs: {} } }));
      await expect(index.transact(ops)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect((await index.query(pk, { limit: 10 })).items).toEqual([]);
    });

    it('refuses a malformed or foreign gsi1 continuation token', async () => {
      const gpk = uniqueId('cmk');
      for (const sk of ['a', 'b']) await index.put({ pk: uniqueId('pk'), sk, gsi1pk: gpk, gsi1sk: sk, attrs: {} });
      const page = await index.queryGsi1(gpk, { limit: 1 });
      expect(page.lastKey).toBeDefined();
      await expect(index.queryGsi1(gpk, { limit: 1, startAfter: 'not-json' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(index.queryGsi1(uniqueId('cmk'), { limit: 1, startAfter: page.lastKey })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    });

    it('reports a missing table as InternalError naming it', async () => {
      const missing = new DynamoDbRecordIndex({ client: motoClients(moto().endpoint).dynamodb, tableName: 'no-such-table' });
      await expect(missing.get('p', 's')).rejects.toBeInstanceOf(InternalError);
      await expect(missing.get('p', 's')).rejects.toThrow('no-such-table');
    });

    it('refuses to read a DynamoDB set written by another tool, which the port cannot express', async () => {
      const pk = uniqueId('pk');
      const { dynamodb } = motoClients(moto().endpoint);
      await dynamodb.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: 's' }, tags: { SS: ['a', 'b'] } } }),
      );
      await expect(index.get(pk, 's')).rejects.toBeInstanceOf(InternalError);
    });
  });
});
