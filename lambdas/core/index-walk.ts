// The one way to read more than one page of the index: a walk over one partition (or one secondary-index
// partition) in sort-key order, page by page. Every multi-page read in the core goes through here.
import { utf8Compare } from './list-keys';
import type { IndexItem, QueryPage, RecordIndex } from './ports';

export interface WalkOptions {
  /** Only sort keys starting with this prefix (partition walks only). */
  readonly prefix?: string;
  /** Start strictly after this sort key (or a secondary-index page's opaque `lastKey`). */
  readonly startAfter?: string;
  /**
   * Items per query; a function is asked before each page (a caller with a budget shrinks its last page). A size
   * of 0 or less ends the walk early without claiming the partition is exhausted.
   */
  readonly pageSize?: number | (() => number);
}

type PageReader = (startAfter: string | undefined, limit: number) => Promise<QueryPage>;

const DEFAULT_PAGE_SIZE = 500;

export class IndexWalk implements AsyncIterable<IndexItem> {
  /** Where the next page starts (strictly after); undefined before the first page of a walk from the start. */
  protected next: string | undefined;
  private exhausted = false;
  private readonly pageSize: () => number;

  constructor(
    private readonly read: PageReader,
    options: WalkOptions,
  ) {
    this.next = options.startAfter;
    const size = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.pageSize = typeof size === 'number' ? () => size : size;
  }

  /** Where the page after the last one read starts; a partition walk may move it further (skipPast). */
  protected startOfNextPage(): string | undefined {
    return this.next;
  }

  /** Pages in order; the last one has no `lastKey`. A consumer may stop early: nothing is read ahead. */
  async *pages(): AsyncGenerator<QueryPage> {
    while (!this.exhausted) {
      const limit = this.pageSize();
      if (limit <= 0) return;
      const page = await this.read(this.startOfNextPage(), limit);
      if (page.lastKey === undefined) this.exhausted = true;
      else this.next = page.lastKey;
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

/** A walk over one partition's sort keys, which a listing may jump forward in. */
export class PartitionWalk extends IndexWalk {
  private floor: string | undefined;

  /**
   * The next page starts after `sortKey` if that is further than where it would start anyway: a listing that
   * rolled keys up into a common prefix jumps past the rest of them instead of reading them all. Items of the
   * page being consumed are still handed out; the caller skips those itself.
   */
  skipPast(sortKey: string): void {
    if (this.floor === undefined || utf8Compare(sortKey, this.floor) > 0) this.floor = sortKey;
  }

  protected override startOfNextPage(): string | undefined {
    const floor = this.floor;
    this.floor = undefined;
    if (floor === undefined) return this.next;
    return this.next === undefined || utf8Compare(floor, this.next) > 0 ? floor : this.next;
  }
}

/** Items of partition `pk` in ascending sort-key order. */
export function walk(index: RecordIndex, pk: string, options: WalkOptions = {}): PartitionWalk {
  const prefix = options.prefix === '' ? undefined : options.prefix;
  return new PartitionWalk((startAfter, limit) => index.query(pk, { prefix, startAfter, limit }), options);
}

/** Items of one secondary-index partition in ascending gsi1sk order; its cursors are opaque, so no skipping. */
export function walkGsi1(index: RecordIndex, gsi1pk: string, options: Omit<WalkOptions, 'prefix'> = {}): IndexWalk {
  return new IndexWalk((startAfter, limit) => index.queryGsi1(gsi1pk, { startAfter, limit }), options);
}
