// The RecordIndex port over one DynamoDB table (pk/sk) with one global secondary index (gsi1).
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  InternalServerError,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  TransactionConflictException,
  DynamoDBServiceException,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import {
  ConditionFailedError,
  ConditionalRequestConflictError,
  InternalError,
  InvalidArgumentError,
  ServiceUnavailableError,
  SlowDownError,
  StoreError,
} from '../../core/errors';
import { TABLE } from '../../core/deployment-names';
import { utf8Compare } from '../../core/list-keys';
import type { Condition, IndexItem, QueryOptions, QueryPage, RecordIndex, WriteOp } from '../../core/ports';
import { fromItem, keyOf, toItem, toValue } from './dynamodb-items';
import { mapSdkFault, withCause } from './sdk-faults';

/** Name of the one global secondary index (see docs/TABLE-DESIGN.md), as the stack's table declares it. */
export const GSI1 = TABLE.gsi1.indexName;
/** Physical key attributes (deployment-names.ts; none is a DynamoDB reserved word, so expressions name them as they are). */
const PK = TABLE.partitionKey;
const SK = TABLE.sortKey;
const GPK = TABLE.gsi1.partitionKey;
const GSK = TABLE.gsi1.sortKey;
/** DynamoDB's cap on TransactWriteItems. */
export const MAX_TRANSACTION_OPS = 100;

/** DynamoDB's error code for a malformed request; the SDK models no class for it. */
const UNMODELED_VALIDATION = 'ValidationException';

export interface DynamoDbRecordIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

interface ConditionParts {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/** Existence is tested on pk: every stored item has it, so "pk missing" means "no item". */
function conditionParts(condition: Condition | undefined): ConditionParts {
  if (condition === undefined) return {};
  switch (condition.kind) {
    case 'absent':
      return { ConditionExpression: `attribute_not_exists(${PK})` };
    case 'present':
      return { ConditionExpression: `attribute_exists(${PK})` };
    case 'equals':
      // Names and values always go through placeholders: attribute names may be reserved words.
      return {
        ConditionExpression: '#c = :c',
        ExpressionAttributeNames: { '#c': condition.attr },
        ExpressionAttributeValues: { ':c': toValue(condition.value) },
      };
  }
}

/** Opaque gsi1 cursor: the full key (table + index keys) of the last item returned, base64url JSON. */
function encodeCursor(item: IndexItem): string {
  const key = { pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk ?? '', gsi1sk: item.gsi1sk ?? '' };
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, gsi1pk: string): Record<string, AttributeValue> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('invalid continuation token');
  }
  const fields = { pk: PK, sk: SK, gsi1pk: GPK, gsi1sk: GSK } as const;
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidArgumentError('invalid continuation token');
  const record = parsed as Record<string, unknown>;
  const key: Record<string, AttributeValue> = {};
  for (const [field, attribute] of Object.entries(fields)) {
    const value = record[field];
    if (typeof value !== 'string' || value === '') throw new InvalidArgumentError('invalid continuation token');
    key[attribute] = { S: value };
  }
  // A cursor from another partition would silently skip items: refuse it.
  if (record.gsi1pk !== gsi1pk) throw new InvalidArgumentError('continuation token belongs to another listing');
  return key;
}

export class DynamoDbRecordIndex implements RecordIndex {
  constructor(private readonly options: DynamoDbRecordIndexOptions) {}

  private get client(): DynamoDBClient {
    return this.options.client;
  }

  private get tableName(): string {
    return this.options.tableName;
  }

  async get(pk: string, sk: string): Promise<IndexItem | undefined> {
    try {
      // Strongly consistent: a GET right after a PUT must see it, as S3 promises since 2020.
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: keyOf(pk, sk), ConsistentRead: true }),
      );
      return out.Item === undefined ? undefined : fromItem(out.Item);
    } catch (error) {
      throw this.mapError(error, 'GetItem', `${pk} / ${sk}`);
    }
  }

  async put(item: IndexItem, condition?: Condition): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: toItem(item), ...conditionParts(condition) }),
      );
    } catch (error) {
      throw this.mapError(error, 'PutItem', `${item.pk} / ${item.sk}`);
    }
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: keyOf(pk, sk), ...conditionParts(condition) }),
      );
    } catch (error) {
      throw this.mapError(error, 'DeleteItem', `${pk} / ${sk}`);
    }
  }

  async query(pk: string, options: QueryOptions): Promise<QueryPage> {
    const { prefix = '', startAfter, limit } = options;
    if (limit <= 0) return { items: [] };
    // begins_with and "sk > x" cannot share one key condition. Keys with a prefix are contiguous in
    // sort order, so: with a startAfter inside the prefix range, query "sk > startAfter" and stop at
    // the first key that leaves the prefix; before the range, begins_with alone; past it, nothing.
    let keyCondition: string;
    let values: Record<string, AttributeValue>;
    if (startAfter !== undefined && utf8Compare(startAfter, prefix) >= 0) {
      if (!startAfter.startsWith(prefix)) return { items: [] };
      keyCondition = `${PK} = :pk AND ${SK} > :after`;
      values = { ':pk': { S: pk }, ':after': { S: startAfter } };
    } else if (prefix !== '') {
      keyCondition = `${PK} = :pk AND begins_with(${SK}, :prefix)`;
      values = { ':pk': { S: pk }, ':prefix': { S: prefix } };
    } else {
      keyCondition = `${PK} = :pk`;
      values = { ':pk': { S: pk } };
    }
    const { items, more } = await this.collect('Query', pk, limit, (item) => item.sk.startsWith(prefix), {
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
    });
    const last = items[items.length - 1];
    return more && last !== undefined ? { items, lastKey: last.sk } : { items };
  }

  async queryGsi1(gsi1pk: string, options: QueryOptions): Promise<QueryPage> {
    const { prefix, startAfter, limit } = options;
    if (limit <= 0) return { items: [] };
    const values: Record<string, AttributeValue> = { ':g': { S: gsi1pk } };
    let keyCondition = `${GPK} = :g`;
    if (prefix !== undefined && prefix !== '') {
      keyCondition += ` AND begins_with(${GSK}, :prefix)`;
      values[':prefix'] = { S: prefix };
    }
    // GSI reads are eventually consistent (DynamoDB offers nothing else): fine for the rotation job,
    // which revisits the index on its next run.
    const { items, more } = await this.collect('Query gsi1', gsi1pk, limit, () => true, {
      IndexName: GSI1,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: values,
      ...(startAfter !== undefined && { ExclusiveStartKey: decodeCursor(startAfter, gsi1pk) }),
    });
    const last = items[items.length - 1];
    return more && last !== undefined ? { items, lastKey: encodeCursor(last) } : { items };
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (ops.length > MAX_TRANSACTION_OPS) {
      throw new InvalidArgumentError(`a transaction takes at most ${MAX_TRANSACTION_OPS} operations, got ${ops.length}`);
    }
    const items: TransactWriteItem[] = ops.map((op) =>
      op.op === 'put'
        ? { Put: { TableName: this.tableName, Item: toItem(op.item), ...conditionParts(op.condition) } }
        : { Delete: { TableName: this.tableName, Key: keyOf(op.pk, op.sk), ...conditionParts(op.condition) } },
    );
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      throw this.mapError(error, 'TransactWriteItems', `${ops.length} operations`);
    }
  }

  /**
   * Pages through a Query until `limit` items are collected or the partition ends. DynamoDB pages
   * may hold fewer items than asked (1 MB cap), so one call is never enough. One item beyond the
   * limit is read, so `more` is exact and the last page carries no lastKey.
   */
  private async collect(
    operation: string,
    partition: string,
    limit: number,
    keep: (item: IndexItem) => boolean,
    input: {
      IndexName?: string;
      KeyConditionExpression: string;
      ExpressionAttributeValues: Record<string, AttributeValue>;
      ConsistentRead?: boolean;
      ExclusiveStartKey?: Record<string, AttributeValue>;
    },
  ): Promise<{ items: IndexItem[]; more: boolean }> {
    const items: IndexItem[] = [];
    let exclusiveStartKey = input.ExclusiveStartKey;
    try {
      for (;;) {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            ...input,
            ...(exclusiveStartKey !== undefined && { ExclusiveStartKey: exclusiveStartKey }),
            Limit: limit + 1 - items.length,
          }),
        );
        for (const raw of out.Items ?? []) {
          const item = fromItem(raw);
          if (!keep(item)) return { items, more: false };
          if (items.length === limit) return { items, more: true };
          items.push(item);
        }
        exclusiveStartKey = out.LastEvaluatedKey;
        if (exclusiveStartKey === undefined) return { items, more: false };
      }
    } catch (error) {
      throw this.mapError(error, operation, partition);
    }
  }

  private mapError(error: unknown, operation: string, subject: string): Error {
    if (error instanceof StoreError || error instanceof ConditionFailedError) return error;
    const what = `DynamoDB ${operation} on ${this.tableName} (${subject})`;
    const wrap = (mapped: Error) => withCause(mapped, error);
    if (error instanceof ConditionalCheckFailedException) return wrap(new ConditionFailedError(`${what}: condition failed`));
    if (error instanceof TransactionCanceledException) {
      const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
      if (codes.includes('ConditionalCheckFailed')) return wrap(new ConditionFailedError(`${what}: condition failed`));
      if (codes.includes('ThrottlingError') || codes.includes('ProvisionedThroughputExceeded')) {
        return wrap(new SlowDownError(`${what}: throttled`));
      }
      if (codes.includes('TransactionConflict')) {
        return wrap(new ConditionalRequestConflictError(`${what}: conflicting concurrent write`));
      }
      return wrap(new InternalError(`${what}: cancelled (${codes.join(', ')})`));
    }
    if (error instanceof TransactionConflictException) {
      return wrap(new ConditionalRequestConflictError(`${what}: conflicting concurrent write`));
    }
    if (error instanceof InternalServerError) return wrap(new ServiceUnavailableError(`${what}: DynamoDB unavailable`));
    if (error instanceof ResourceNotFoundException) return wrap(new InternalError(`${what}: table or index not found`));
    if (error instanceof DynamoDBServiceException && error.name === UNMODELED_VALIDATION) {
      // A malformed request is our bug, or an item past 400 KB that the core should have refused.
      return wrap(new InternalError(`${what}: rejected as invalid`));
    }
    return mapSdkFault(error, what);
  }
}
