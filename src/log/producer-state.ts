/**
 * Idempotent producers (Kafka `ProducerStateManager`, `ProducerAppendInfo`, reference section 9): for each
 * producer id, its epoch and the metadata of its last 5 batches, so that a retried batch is recognised
 * and answered with its original offsets instead of being written twice.
 *
 * Sequence rules for a batch (producerId >= 0) against the producer's entry:
 *
 * | situation                                                    | result                        |
 * | ------------------------------------------------------------ | ----------------------------- |
 * | epoch below the entry's                                      | `ERR_INVALID_PRODUCER_EPOCH`  |
 * | same epoch, (firstSeq, lastSeq) equal to one of the 5 cached | duplicate: original offsets   |
 * | new (higher) epoch, firstSeq != 0, an epoch was known        | `ERR_OUT_OF_ORDER_SEQUENCE`   |
 * | same epoch, firstSeq != lastSeq + 1 (2^31 - 1 wraps to 0)    | `ERR_OUT_OF_ORDER_SEQUENCE`   |
 * | unknown producer (or its data was deleted): any firstSeq     | accept                        |
 *
 * Snapshot file `<offset>.snapshot` (Kafka `ProducerSnapshot` v1): the state for offsets below `offset`.
 *
 * ```text
 *   0  2  version int16 (1)
 *   2  4  crc uint32          CRC-32C of bytes [6, end)
 *   6  4  entry count int32
 *  10  …  entries, 46 bytes each:
 *         producerId i64 · epoch i16 · lastSequence i32 · lastOffset i64 · offsetDelta i32 ·
 *         timestamp i64 · coordinatorEpoch i32 · currentTxnFirstOffset i64
 * ```
 *
 * Like Kafka's, a snapshot keeps only each producer's last batch; the batches after the snapshot are
 * replayed from the log's headers on open, which refills the cache.
 */
import { CorruptCheckpointError, InvalidProducerEpochError, OutOfOrderSequenceError } from '../errors.js';
import { readInt64, viewOf, writeInt64 } from '../int64.js';
import { INT32_MAX } from '../limits.js';
import { crc32c } from '../record/crc32c.js';

/** Batches remembered per producer (Kafka `NUM_BATCHES_TO_RETAIN`). */
export const BATCHES_RETAINED = 5;

const SNAPSHOT_VERSION = 1;
const VERSION_POS = 0;
const CRC_POS = VERSION_POS + 2;
const COUNT_POS = CRC_POS + 4;
const ENTRIES_POS = COUNT_POS + 4;
const E_PRODUCER_ID = 0;
const E_EPOCH = E_PRODUCER_ID + 8;
const E_LAST_SEQUENCE = E_EPOCH + 2;
const E_LAST_OFFSET = E_LAST_SEQUENCE + 4;
const E_OFFSET_DELTA = E_LAST_OFFSET + 8;
const E_TIMESTAMP = E_OFFSET_DELTA + 4;
const E_COORDINATOR_EPOCH = E_TIMESTAMP + 8;
const E_TXN_FIRST_OFFSET = E_COORDINATOR_EPOCH + 4;
const ENTRY_BYTES = E_TXN_FIRST_OFFSET + 8;

/** One remembered batch. */
export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lastOffset: number;
  readonly offsetDelta: number;
  readonly timestamp: number;
}

/** What the state needs from a batch. */
export interface ProducerBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastOffsetDelta: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMetadata[];
  /** Wall-clock time of the last append, for expiry (Kafka `producer.id.expiration.ms`). */
  lastAppendMs: number;
}

/** `seq + delta`, wrapping from 2^31 - 1 to 0 as Kafka's sequences do. */
export function incrementSequence(seq: number, delta: number): number {
  return seq > INT32_MAX - delta ? delta - (INT32_MAX - seq) - 1 : seq + delta;
}

/** `seq - delta`, the inverse of {@link incrementSequence}. */
function decrementSequence(seq: number, delta: number): number {
  return seq >= delta ? seq - delta : INT32_MAX + 1 + seq - delta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerState {
  #producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.#producers.size;
  }

  /**
   * Checks `batch` against its producer's state: returns the cached metadata of a duplicate, undefined
   * for a batch to append, or throws. Batches without a producer id are never checked.
   */
  check(batch: ProducerBatch): BatchMetadata | undefined {
    if (batch.producerId < 0) return undefined;
    const entry = this.#producers.get(batch.producerId);
    if (entry === undefined) return undefined;
    const firstSeq = batch.baseSequence;
    if (batch.producerEpoch < entry.epoch) {
      throw new InvalidProducerEpochError(`producer ${batch.producerId} epoch ${batch.producerEpoch} is older than ${entry.epoch}`, {
        expected: entry.epoch,
        actual: batch.producerEpoch,
      });
    }
    const lastSeq = incrementSequence(firstSeq, batch.lastOffsetDelta);
    if (batch.producerEpoch === entry.epoch) {
      const duplicate = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
      if (duplicate !== undefined) return duplicate;
      const last = entry.batches[entry.batches.length - 1];
      if (last !== undefined && !inSequence(last.lastSeq, firstSeq)) {
        throw new OutOfOrderSequenceError(`producer ${batch.producerId}: sequence ${firstSeq} does not follow ${last.lastSeq}`, {
          expected: incrementSequence(last.lastSeq, 1),
          actual: firstSeq,
        });
      }
    } else if (firstSeq !== 0) {
      throw new OutOfOrderSequenceError(`producer ${batch.producerId}: a new epoch must start at sequence 0, got ${firstSeq}`, {
        expected: 0,
        actual: firstSeq,
      });
    }
    return undefined;
  }

  /** Records an appended batch (call after the write succeeded). */
  update(batch: ProducerBatch, lastOffset: number, timestamp: number, nowMs: number): void {
    if (batch.producerId < 0) return;
    let entry = this.#producers.get(batch.producerId);
    if (entry === undefined || batch.producerEpoch > entry.epoch) {
      entry = { epoch: batch.producerEpoch, batches: [], lastAppendMs: nowMs };
      this.#producers.set(batch.producerId, entry);
    }
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: incrementSequence(batch.baseSequence, batch.lastOffsetDelta),
      lastOffset,
      offsetDelta: batch.lastOffsetDelta,
      timestamp,
    });
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
    entry.lastAppendMs = nowMs;
  }

  /** Forgets producers idle for longer than `expirationMs`. */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.#producers) {
      if (nowMs - entry.lastAppendMs > expirationMs) {
        this.#producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.#producers.clear();
  }

  /** Encodes the state as a Kafka v1 snapshot (each producer's last batch). */
  encodeSnapshot(): Uint8Array {
    const entries = [...this.#producers].filter(([, e]) => e.batches.length > 0);
    const bytes = new Uint8Array(ENTRIES_POS + entries.length * ENTRY_BYTES);
    const view = viewOf(bytes);
    view.setInt16(VERSION_POS, SNAPSHOT_VERSION);
    view.setInt32(COUNT_POS, entries.length);
    entries.forEach(([producerId, entry], i) => {
      const last = entry.batches[entry.batches.length - 1]!;
      const at = ENTRIES_POS + i * ENTRY_BYTES;
      writeInt64(view, at + E_PRODUCER_ID, producerId);
      view.setInt16(at + E_EPOCH, entry.epoch);
      view.setInt32(at + E_LAST_SEQUENCE, last.lastSeq);
      writeInt64(view, at + E_LAST_OFFSET, last.lastOffset);
      view.setInt32(at + E_OFFSET_DELTA, last.offsetDelta);
      writeInt64(view, at + E_TIMESTAMP, last.timestamp);
      view.setInt32(at + E_COORDINATOR_EPOCH, -1); // no transactions yet
      writeInt64(view, at + E_TXN_FIRST_OFFSET, -1);
    });
    view.setUint32(CRC_POS, crc32c(bytes, COUNT_POS, bytes.byteLength));
    return bytes;
  }

  /** Replaces the state with a snapshot's. Throws `CorruptCheckpointError` (file, position) if malformed. */
  loadSnapshot(bytes: Uint8Array, file: string, nowMs: number): void {
    const view = viewOf(bytes);
    const fail = (what: string, position: number): never => {
      throw new CorruptCheckpointError(`producer snapshot: ${what}`, { file, position });
    };
    if (bytes.byteLength < ENTRIES_POS) fail('shorter than its header', 0);
    if (view.getInt16(VERSION_POS) !== SNAPSHOT_VERSION) fail(`unknown version ${view.getInt16(VERSION_POS)}`, VERSION_POS);
    if (view.getUint32(CRC_POS) !== crc32c(bytes, COUNT_POS, bytes.byteLength)) fail('CRC mismatch', CRC_POS);
    const count = view.getInt32(COUNT_POS);
    if (count < 0 || ENTRIES_POS + count * ENTRY_BYTES !== bytes.byteLength) fail(`entry count ${count} does not match the size`, COUNT_POS);
    this.#producers.clear();
    for (let i = 0; i < count; i++) {
      const at = ENTRIES_POS + i * ENTRY_BYTES;
      const producerId = readInt64(view, at + E_PRODUCER_ID);
      const lastOffset = readInt64(view, at + E_LAST_OFFSET);
      const timestamp = readInt64(view, at + E_TIMESTAMP);
      const lastSeq = view.getInt32(at + E_LAST_SEQUENCE);
      const offsetDelta = view.getInt32(at + E_OFFSET_DELTA);
      if (producerId === undefined || lastOffset === undefined || timestamp === undefined) fail('unsafe integer', at);
      if (lastSeq < 0 || offsetDelta < 0) fail('negative sequence or delta', at);
      const batch = { firstSeq: decrementSequence(lastSeq, offsetDelta), lastSeq, lastOffset: lastOffset!, offsetDelta, timestamp: timestamp! };
      this.#producers.set(producerId!, { epoch: view.getInt16(at + E_EPOCH), batches: [batch], lastAppendMs: nowMs });
    }
  }
}
