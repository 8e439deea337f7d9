/**
 * Readers waiting for data (Kafka's delayed-fetch purgatory, in process). A waiter names how many bytes
 * the log must have appended in total before it is satisfied; every append calls `notify` with the new
 * total, which wakes exactly the satisfied waiters. Nothing polls: a waiter costs a set entry and, if it
 * has a deadline, one timer.
 */
import { AbortedError } from '../errors.js';

interface Waiter {
  readonly satisfiedAt: number;
  readonly settle: (satisfied: boolean) => void;
  readonly fail: (error: Error) => void;
}

export class Purgatory {
  #waiters = new Set<Waiter>();

  /** Waiters currently held (for metrics and tests). */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves `true` once `notify` reports at least `satisfiedAt` appended bytes, `false` when `maxWaitMs`
   * passes first. Rejects with `ERR_ABORTED` when `signal` fires, or with the error given to `failAll`.
   */
  wait(params: { satisfiedAt: number; maxWaitMs: number; signal: AbortSignal | undefined }): Promise<boolean> {
    const { satisfiedAt, maxWaitMs, signal } = params;
    if (signal?.aborted) return Promise.reject(new AbortedError('waitForData aborted'));
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        this.#waiters.delete(waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        satisfiedAt,
        settle: (satisfied) => {
          cleanup();
          resolve(satisfied);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.fail(new AbortedError('waitForData aborted'));
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(maxWaitMs)) timer = setTimeout(() => waiter.settle(false), maxWaitMs);
    });
  }

  /** Wakes every waiter satisfied by `appendedBytes` total bytes. */
  notify(appendedBytes: number): void {
    for (const waiter of this.#waiters) if (waiter.satisfiedAt <= appendedBytes) waiter.settle(true);
  }

  /** Rejects every waiter (the log closed or was truncated under them). */
  failAll(error: Error): void {
    for (const waiter of this.#waiters) waiter.fail(error);
  }
}
