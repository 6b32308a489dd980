// A lease in the object index so only one lifecycle run works at a time; an expired lease can be taken over,
// so a run that crashed never blocks the next one for longer than the lease lasts.
import { randomBytes } from 'node:crypto';
import { ConditionFailedError } from '../errors';
import type { RecordIndex } from '../ports';

export const LEASE_PK = 'LEASE';

export class Lease {
  private token: string | undefined;

  constructor(
    private readonly index: RecordIndex,
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  /** True when this holder now owns the lease. Two callers racing: exactly one wins (conditional write). */
  async acquire(): Promise<boolean> {
    const token = randomBytes(12).toString('hex');
    const item = { pk: LEASE_PK, sk: this.name, attrs: { token, expiresAt: this.now().getTime() + this.ttlMs } };
    const existing = await this.index.get(LEASE_PK, this.name);
    try {
      if (!existing) {
        await this.index.put(item, { kind: 'absent' });
      } else {
        const expiresAt = existing.attrs['expiresAt'];
        const held = existing.attrs['token'];
        if (typeof expiresAt === 'number' && expiresAt > this.now().getTime()) return false;
        // Take over an expired lease only if nobody else took it over since we read it.
        await this.index.put(item, typeof held === 'string' ? { kind: 'equals', attr: 'token', value: held } : { kind: 'present' });
      }
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
    this.token = token;
    return true;
  }

  /** Extends the lease; false if it expired and someone else took it (the caller must stop). */
  async renew(): Promise<boolean> {
    if (!this.token) return false;
    try {
      await this.index.put(
        { pk: LEASE_PK, sk: this.name, attrs: { token: this.token, expiresAt: this.now().getTime() + this.ttlMs } },
        { kind: 'equals', attr: 'token', value: this.token },
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        this.token = undefined;
        return false;
      }
      throw e;
    }
  }

  async release(): Promise<void> {
    const token = this.token;
    this.token = undefined;
    if (!token) return;
    try {
      await this.index.delete(LEASE_PK, this.name, { kind: 'equals', attr: 'token', value: token });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  }
}
