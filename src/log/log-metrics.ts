/**
 * Counters and latency samples behind `log.metrics()`: what Kafka's operators watch on a log (sizes,
 * rates, flush and recovery times). Cheap enough for the append path: plain number increments, and one
 * array write per flush or group commit.
 */

/** Latency percentiles over the last samples, in milliseconds. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** A ring of the last 1024 samples: enough for stable percentiles, bounded memory. */
export class LatencySamples {
  static readonly SIZE = 1024;
  readonly #samples = new Float64Array(LatencySamples.SIZE);
  #count = 0;

  add(ms: number): void {
    this.#samples[this.#count % LatencySamples.SIZE] = ms;
    this.#count++;
  }

  percentiles(): Percentiles {
    const n = Math.min(this.#count, LatencySamples.SIZE);
    if (n === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    const sorted = Array.from(this.#samples.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))]!;
    return { count: this.#count, p50: at(0.5), p99: at(0.99), max: sorted[n - 1]! };
  }
}

/** Mutable counters, owned by the log. */
export class LogCounters {
  bytesAppended = 0;
  recordsAppended = 0;
  batchesAppended = 0;
  duplicateBatches = 0;
  bytesRead = 0;
  reads = 0;
  rolls = 0;
  retentionDeletedSegments = 0;
  retentionDeletedBytes = 0;
  readonly flushLatency = new LatencySamples();
  readonly groupCommitLatency = new LatencySamples();
}

/** A snapshot of a log's state and activity, from `log.metrics()`. */
export interface LogMetrics {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly recoveryPoint: number;
  readonly sizeInBytes: number;
  readonly segments: number;
  readonly appended: { readonly bytes: number; readonly records: number; readonly batches: number; readonly duplicateBatches: number };
  readonly read: { readonly bytes: number; readonly reads: number };
  readonly rolls: number;
  readonly flushes: Percentiles;
  /** fsyncs made for durable appends, how many appends they covered, and their latency. */
  readonly groupCommit: { readonly syncs: number; readonly appends: number; readonly appendsPerSync: number; readonly latency: Percentiles };
  readonly retention: { readonly deletedSegments: number; readonly deletedBytes: number };
  readonly waitingReaders: number;
  readonly recovery: { readonly clean: boolean; readonly recoveredSegments: number; readonly truncatedBytes: number; readonly durationMs: number };
}
