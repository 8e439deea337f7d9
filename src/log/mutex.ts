/**
 * A promise mutex that serialises the log's maintenance operations (flush, truncation, retention, close):
 * each of them awaits fsyncs in the middle, and two of them interleaving could fsync a descriptor that the
 * other just replaced. Appends do not take it: they are synchronous up to their optional fsync, which is
 * what makes them atomic without a lock (see `io/file-system.ts`).
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = 0;

  /** True while an operation holds or waits for the mutex. */
  get isLocked(): boolean {
    return this.#held > 0;
  }

  /** Runs `operation` after every operation queued before it; releases even if it throws. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    this.#held++;
    const result = this.#tail.then(operation);
    this.#tail = result.then(
      () => {
        this.#held--;
      },
      () => {
        this.#held--;
      },
    );
    return result;
  }
}
