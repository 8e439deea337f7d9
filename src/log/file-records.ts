/**
 * The result of a read (Kafka `FileRecords` slice): a byte range of one segment file, held as a view of
 * that file's memory mapping. Nothing is copied into the JS heap: `batches()` decodes from the view, and
 * `writeTo` hands the view to the destination stream.
 *
 * ## Copies that remain on `writeTo` (Node has no public `sendfile`)
 *
 * Kafka hands a file range to the socket with `sendfile`, which never maps the data into the process. Here
 * the range is mapped (page cache pages appear in the process's address space without a copy; first
 * touches take minor page faults) and the view is passed to `socket.write`. The kernel then copies once,
 * from the page cache pages into socket buffers, inside the `write`/`writev` system call. That is the same
 * single copy `sendfile` makes on a loopback or non-offloading NIC. No copy is made in JS, and none in
 * libuv (it writes from the view's memory). With TLS there is no zero copy at all (as in Kafka): the bytes
 * pass through OpenSSL's buffers to be encrypted. A generic `Writable` may copy as it likes.
 *
 * A `FileRecords` stays valid after the log truncates or deletes its segment (see `segment-file.ts`).
 */
import type { Writable } from 'node:stream';
import { AbortedError, CorruptRecordError, LogIoError } from '../errors.js';
import { decodeBatches, frameSize, lastOffsetAt, offsetOrderBreak } from '../record/batch-reader.js';
import type { RecordBatch } from '../record/record-batch.js';
import type { LogRecord } from '../record/record.js';

/** Largest piece written to the stream at once; bounds how much a slow reader pins between drains. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

/** Options of {@link FileRecords.writeTo}. */
export interface WriteToOptions {
  /** Aborts the transfer; the promise rejects with `ERR_ABORTED`. */
  readonly signal?: AbortSignal;
}

export class FileRecords {
  /** The segment file the range belongs to. */
  readonly file: string;
  /** Byte position of the range in `file`. */
  readonly position: number;
  /** The offset that was asked for; the first batch may start before it. */
  readonly requestedOffset: number;
  /** True when the first batch is larger than the range (only possible when `minOneMessage` is false). */
  readonly firstEntryIncomplete: boolean;
  readonly #view: Uint8Array;
  readonly #maxBatchBytes: number;
  readonly #offsetLimit: number;

  /** @internal Built by `Log.read`. */
  constructor(params: {
    file: string;
    position: number;
    view: Uint8Array;
    requestedOffset: number;
    firstEntryIncomplete: boolean;
    maxBatchBytes: number;
    /** Every batch in the range ends below this (the next segment's base offset, or the log's end). */
    offsetLimit: number;
  }) {
    this.file = params.file;
    this.position = params.position;
    this.#view = params.view;
    this.requestedOffset = params.requestedOffset;
    this.firstEntryIncomplete = params.firstEntryIncomplete;
    this.#maxBatchBytes = params.maxBatchBytes;
    this.#offsetLimit = params.offsetLimit;
  }

  /** Bytes in the range (a trailing partial batch included). */
  get sizeInBytes(): number {
    return this.#view.byteLength;
  }
  get isEmpty(): boolean {
    return this.#view.byteLength === 0;
  }

  /**
   * The whole batches in the range, CRC-checked as they are reached; a partial last batch is not yielded
   * (Kafka's read contract). The first batch may start before `requestedOffset`. Batch headers are checked
   * for increasing offsets before the first batch is yielded.
   *
   * @throws `ERR_CORRUPT_RECORD` for a damaged batch, naming the file and position.
   */
  batches(): IterableIterator<RecordBatch> {
    const broken = offsetOrderBreak(this.#view, this.#maxBatchBytes, this.#offsetLimit);
    if (broken >= 0) {
      throw new CorruptRecordError('batch offsets do not increase: a damaged base offset (outside the CRC)', {
        file: this.file,
        position: this.position + broken,
      });
    }
    return decodeBatches(this.#view, {
      allowPartialTail: true,
      maxBatchBytes: this.#maxBatchBytes,
      source: { file: this.file, position: this.position },
    });
  }

  /**
   * Records at or after `requestedOffset`, as a Kafka consumer sees them (`CompletedFetch`): records of the
   * first batch below the requested offset are skipped, and control batches are skipped entirely.
   */
  records(): IterableIterator<LogRecord> {
    return new ConsumerRecords(this.batches(), this.requestedOffset);
  }

  /**
   * The offset after the last whole batch in the range (where the next read should start), or
   * `requestedOffset` if the range holds no whole batch. Reads batch headers only: no CRC check, no
   * decoding, so a relay that forwards ranges with `writeTo` can advance cheaply.
   */
  get nextOffset(): number {
    let next = this.requestedOffset;
    const view = this.#view;
    for (let position = 0, size = 0; (size = frameSize(view, position, view.byteLength, this.#maxBatchBytes)) > 0; position += size) {
      const last = lastOffsetAt(view, position);
      if (last !== undefined && last >= next) next = last + 1;
    }
    return next;
  }

  /** The raw bytes of the range: a view of the mapping, not a copy. Copy what you keep for long. */
  get bytes(): Uint8Array {
    return this.#view;
  }

  /**
   * Writes the range to `destination` (a socket or any `Writable`), honouring backpressure: it waits for
   * `'drain'` whenever `write` returns false. Resolves with the number of bytes once the last write has
   * been handed to the OS (its callback ran).
   *
   * @throws `ERR_IO` if the stream errors or closes first; `ERR_ABORTED` if `signal` fires.
   */
  writeTo(destination: Writable, options: WriteToOptions = {}): Promise<number> {
    const view = this.#view;
    return new Promise<number>((resolve, reject) => {
      let position = 0;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        destination.off('drain', pump);
        destination.off('error', onError);
        destination.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(view.byteLength);
      };
      const onError = (error: Error): void => finish(new LogIoError(`writeTo failed on ${this.file}`, { file: this.file, cause: error }));
      const onClose = (): void => finish(new LogIoError('destination closed before writeTo finished', { file: this.file }));
      const onAbort = (): void => finish(new AbortedError('writeTo aborted', { file: this.file }));
      const pump = (): void => {
        while (!settled && position < view.byteLength) {
          const chunk = view.subarray(position, Math.min(position + WRITE_CHUNK_BYTES, view.byteLength));
          position += chunk.byteLength;
          const last = position >= view.byteLength;
          const more = destination.write(chunk, last ? (error) => (error ? onError(error) : finish()) : undefined);
          if (!more && !last) return; // resumed by 'drain'
        }
      };
      if (options.signal?.aborted) return onAbort();
      if (view.byteLength === 0) return finish();
      destination.on('drain', pump);
      destination.once('error', onError);
      destination.once('close', onClose);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      pump();
    });
  }
}

/** `FileRecords.records()`: a hand-written iterator, as `RecordIterator` (a generator here cost 7% of reads). */
class ConsumerRecords implements IterableIterator<LogRecord> {
  readonly #batches: Iterator<RecordBatch>;
  readonly #from: number;
  #records: Iterator<LogRecord> | undefined;

  constructor(batches: Iterator<RecordBatch>, from: number) {
    this.#batches = batches;
    this.#from = from;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<LogRecord> {
    for (;;) {
      if (this.#records !== undefined) {
        const step = this.#records.next();
        if (!step.done) {
          if (step.value.offset >= this.#from) return step;
          continue;
        }
        this.#records = undefined;
      }
      const batch = this.#batches.next();
      if (batch.done) return { done: true, value: undefined };
      if (!batch.value.isControl && batch.value.lastOffset >= this.#from) this.#records = batch.value.records();
    }
  }
}
