import { randomUUID } from 'node:crypto';
import { type BackendAcquire, Lock, type LockOwner } from '../../core/lock.js';
import type { LockTable } from './lock-table.js';

export class MemoryLock extends Lock {
  /** Each handle holds on its own: two handles on one name exclude each other. */
  private readonly token = randomUUID();

  constructor(
    name: string,
    owner: LockOwner,
    private readonly table: LockTable,
    private readonly expiryMs: number,
  ) {
    super(name, owner);
  }

  protected backendAcquire(request: BackendAcquire): Promise<bigint | null> {
    return this.table.acquire(this.name, { ...request, token: this.token, expiryMs: this.expiryMs });
  }

  protected async backendRelease(): Promise<boolean> {
    return this.table.release(this.name, this.token);
  }

  protected async backendHeartbeat(): Promise<boolean> {
    return this.table.refresh(this.name, this.token, this.expiryMs);
  }

  protected async backendIsStillOwner(): Promise<boolean> {
    return this.table.isHeldBy(this.name, this.token);
  }

  protected async backendBreak(): Promise<boolean> {
    return this.table.break(this.name);
  }
}
