/**
 * Group commit: many durable appends share one fsync.
 *
 * An append writes its batch to the page cache synchronously, then asks for a sync. The rule that makes
 * sharing safe: **an fsync covers exactly the writes that happened before it began.** So a request made
 * while no fsync runs starts one at once; a request made while one runs cannot ride on it (its write came
 * after that fsync began) and joins the next one, which starts the moment the current one ends and covers
 * every request that queued meanwhile. With N concurrent appenders this costs about 2 fsyncs per N
 * appends instead of N; measured in `bench/log/group-commit.bench.ts`.
 *
 * Every request that joins the same pending fsync gets the same promise: they settle together anyway, so
 * one promise per fsync replaces a promise, two closures and a waiter record per append. Why it matters:
 * with 64 appenders the fsync and the 64 appends' own CPU alternate (an appender appends again only once
 * its fsync is done), so the per-append cost bounds the throughput; this and the one-record path in
 * `Log.append` took a one-record append from ~6.2 to ~3.7 us of JS (measured with durability 'os').
 *
 * A failed fsync rejects every request it covered, with the error `typed` turned it into (called once per
 * failure, which is also where the owner marks itself failed). After a failed fsync the kernel may have
 * dropped the dirty pages (Linux "fsyncgate"), so retrying cannot prove durability.
 */
import type { LatencySamples } from './log-metrics.js';

/** The fsync that the next requests join, before it starts. */
interface PendingSync {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  readonly #sync: () => Promise<void>;
  readonly #typed: (error: unknown) => unknown;
  readonly #latency: LatencySamples;
  #running = false;
  #pending: PendingSync | undefined;
  /** `performance.now()` of each request of `#pending`, for the latency samples. */
  #requestedAt: number[] = [];
  /** fsyncs started, and requests they covered (for metrics). */
  syncs = 0;
  requests = 0;

  /**
   * `sync` makes everything written so far durable; `typed` turns its failure into the error the covered
   * requests reject with; `latency` gets one sample per request (request to resolution, in ms).
   */
  constructor(params: { sync: () => Promise<void>; typed: (error: unknown) => unknown; latency: LatencySamples }) {
    this.#sync = params.sync;
    this.#typed = params.typed;
    this.#latency = params.latency;
  }

  /** Resolves once an fsync that began after this call has completed. */
  request(): Promise<void> {
    this.requests++;
    const pending = (this.#pending ??= newPendingSync());
    this.#requestedAt.push(performance.now());
    if (!this.#running) void this.#run();
    return pending.promise;
  }

  async #run(): Promise<void> {
    this.#running = true;
    let requestedAt: number[] = [];
    while (this.#pending !== undefined) {
      const covered = this.#pending;
      this.#pending = undefined;
      // Swap the timestamp arrays: the one the finished fsync used is refilled by the next.
      const spare = requestedAt;
      requestedAt = this.#requestedAt;
      this.#requestedAt = spare;
      this.syncs++;
      try {
        await this.#sync();
        this.#recordLatency(requestedAt);
        covered.resolve();
      } catch (error) {
        covered.reject(this.#typed(error));
      }
      requestedAt.length = 0;
      // Let the appenders just released run first: they append again at once, and the next fsync then
      // covers them too instead of leaving them for the one after (with N appenders: ~N per fsync
      // instead of ~N/2, measured 32 -> 64 for 64 appenders). Costs one event-loop turn of latency.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#running = false;
  }

  #recordLatency(requestedAt: readonly number[]): void {
    const now = performance.now();
    for (const started of requestedAt) this.#latency.add(now - started);
  }
}

function newPendingSync(): PendingSync {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
