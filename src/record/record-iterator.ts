/**
 * Iterates the records of one v2 batch payload. A class with `next()` rather than a generator: V8 runs a
 * hand-written iterator about 1.5x faster per record than a generator's resume (measured on this
 * project's read path, where record iteration is the hottest loop), and readers iterate millions.
 *
 * After `count` records the payload must be used up exactly; anything else is Kafka's "incorrect declared
 * batch size", a `CorruptRecordError`.
 */
import { CorruptRecordError } from '../errors.js';
import { parseRecord, plainBytes, recordCursor, type LogRecord, type RecordContext, type RecordCursor } from './record.js';

export class RecordIterator implements IterableIterator<LogRecord> {
  readonly #bytes: Uint8Array;
  readonly #cursor: RecordCursor;
  readonly #ctx: RecordContext;
  readonly #lastOffset: number;
  #remaining: number;
  /**
   * The payload's end, read once: `this.#bytes.byteLength` per record (a slow getter on Node 20) cost
   * ~25 us per 1000 records; reading it once is 1.15-1.19x on an uncompressed 1000 x 100 B batch read
   * (same-process A/B against the previous build, 120 interleaved rounds of 10 batches, five runs).
   */
  readonly #end: number;

  constructor(bytes: Uint8Array, start: number, count: number, lastOffsetDelta: number, ctx: RecordContext) {
    this.#bytes = plainBytes(bytes);
    this.#cursor = recordCursor(this.#bytes, start);
    this.#remaining = count;
    this.#ctx = ctx;
    this.#lastOffset = ctx.baseOffset + lastOffsetDelta;
    this.#end = this.#bytes.byteLength;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<LogRecord> {
    if (this.#remaining <= 0) return this.#finish();
    this.#remaining--;
    const record = parseRecord(this.#bytes, this.#cursor, this.#end, this.#ctx);
    if (record.offset > this.#lastOffset) {
      throw new CorruptRecordError(`record offset ${record.offset} past the batch's last offset ${this.#lastOffset}`, {
        file: this.#ctx.file,
        offset: record.offset,
      });
    }
    return { done: false, value: record };
  }

  #finish(): IteratorResult<LogRecord> {
    const left = this.#end - this.#cursor.position;
    if (left !== 0 && this.#remaining === 0) {
      this.#remaining = -1; // report once
      throw new CorruptRecordError(`incorrect declared batch size: ${left} bytes after the last record`, {
        file: this.#ctx.file,
        offset: this.#ctx.baseOffset,
      });
    }
    return { done: true, value: undefined };
  }
}
