// The one way to read more than one page of the index: a walk over one partition (or one secondary-index
// partition) in sort-key order, page by page. Every multi-page read in the core goes through here.
import type { IndexItem, RecordIndex, QueryPage } from './ports';

export interface WalkOptions {
  /** Only sort keys starting with this prefix (partition walks only). */
  readonly prefix?: string;
  /** Start strictly after this sort key (or a secondary-index page's opaque `lastKey`). */
  readonly startAfter?: string;
  /** Items per query; a function is asked before each page (a caller with a budget shrinks its last page). */
  readonly pageSize?: number | (() => number);
}

type PageReader = (startAfter: string | undefined, limit: number) => Promise<QueryPage>;

const DEFAULT_PAGE_SIZE = 500;

export class IndexWalk implements AsyncIterable<IndexItem> {
  private cursor: string | undefined;
  private floor: string | undefined;
  private done = false;

  constructor(
    private readonly read: PageReader,
    options: WalkOptions,
  ) {
    this.cursor = options.startAfter;
    const size = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.pageSize = typeof size === 'number' ? () => size : size;
  }

  private readonly pageSize: () => number;

  /** Where the walk stands: the `lastKey` of the last page read, undefined once the partition is exhausted. */
  get position(): string | undefined {
    return this.done ? undefined : this.cursor;
  }

  /**
   * The next page starts after `sortKey` if that is further than where it would start anyway: a listing that
   * rolled keys up into a common prefix jumps past the rest of them instead of reading them all.
   */
  skipPast(sortKey: string): void {
    if (this.floor === undefined || sortKey > this.floor) this.floor = sortKey;
  }

  async *pages(): AsyncGenerator<QueryPage> {
    while (!this.done) {
      const page = await this.read(this.cursor, this.pageSize());
      if (page.lastKey === undefined) this.done = true;
      else this.cursor = this.floor !== undefined && this.floor > page.lastKey ? this.floor : page.lastKey;
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<IndexItem> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every remaining item, mapped; for partitions known to be small (buckets, key states, access keys). */
  async all<T>(map: (item: IndexItem) => T): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(map(item));
    return out;
  }
}

/** Items of partition `pk` in ascending sort-key order. */
export function walk(index: RecordIndex, pk: string, options: WalkOptions = {}): IndexWalk {
  const prefix = options.prefix === '' ? undefined : options.prefix;
  return new IndexWalk((startAfter, limit) => index.query(pk, { prefix, startAfter, limit }), options);
}

/** Items of one secondary-index partition in ascending gsi1sk order. */
export function walkGsi1(index: RecordIndex, gsi1pk: string, options: Omit<WalkOptions, 'prefix'> = {}): IndexWalk {
  return new IndexWalk((startAfter, limit) => index.queryGsi1(gsi1pk, { startAfter, limit }), options);
}
