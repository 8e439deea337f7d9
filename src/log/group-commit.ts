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
 * A failed fsync rejects every request it covered. After a failed fsync the kernel may have dropped the
 * dirty pages (Linux "fsyncgate"), so retrying cannot prove durability: the log marks itself failed.
 */
export class GroupCommit {
  readonly #sync: () => Promise<void>;
  #running = false;
  #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** fsyncs started, and requests they covered (for metrics). */
  syncs = 0;
  requests = 0;

  /** `sync` makes everything written so far durable. */
  constructor(sync: () => Promise<void>) {
    this.#sync = sync;
  }

  /** Resolves once an fsync that began after this call has completed. */
  request(): Promise<void> {
    this.requests++;
    const promise = new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    if (!this.#running) void this.#run();
    return promise;
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const covered = this.#waiting;
      this.#waiting = [];
      this.syncs++;
      try {
        await this.#sync();
        for (const waiter of covered) waiter.resolve();
      } catch (error) {
        for (const waiter of covered) waiter.reject(error);
      }
      // Let the appenders just released run first: they append again at once, and the next fsync then
      // covers them too instead of leaving them for the one after (with N appenders: ~N per fsync
      // instead of ~N/2, measured 32 -> 64 for 64 appenders). Costs one event-loop turn of latency.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#running = false;
  }
}
