/**
 * Legacy magic v0 and v1 messages (Kafka `LegacyRecord`, `AbstractLegacyRecordBatch`), read-only: this is
 * how data directories written by Kafka before 0.11 are read. Layout in `layout.ts`.
 *
 * A log entry is one message. An uncompressed message is a batch of one record. A compressed message is a
 * wrapper: its value is a compressed message set of inner (uncompressed) messages, one nesting level only.
 *
 * Offsets of inner messages (reference section 2.2):
 * - v0: stored absolute;
 * - v1: stored relative, 0..n-1; absolute = wrapperOffset - lastInnerRelative + innerRelative. The wrapper's
 *   offset is the LAST inner offset. A wrapper offset of 0 means base 0 (some librdkafka producers).
 *
 * Decision table for deep iteration, each row a `CorruptRecordError` unless "yield":
 *
 * | condition                                              | result |
 * | ------------------------------------------------------ | ------ |
 * | wrapper CRC-32 wrong / size below overhead             | error  |
 * | wrapper codec id above 4                               | error  |
 * | inner entry size < v0 overhead or past the set's end   | error  |
 * | inner CRC-32 wrong                                     | error  |
 * | inner message compressed (a second nesting level)      | error  |
 * | empty inner set                                        | error  |
 * | v1 wrapper offset below the last inner relative offset | error  |
 * | otherwise                                              | yield  |
 *
 * zstd is not defined for magic < 2 (Kafka never writes it) but some clients do (sarama); it is read.
 * An inner message whose magic differs from the wrapper's is read, as Kafka's read path does (only its
 * append validator rejects it): offsets follow the wrapper's magic, timestamps the inner message's own.
 */
import { codecById } from '../compression/registry.js';
import type { CompressionId, CompressionName } from '../compression/codec.js';
import { CorruptRecordError, UnsafeIntegerError } from '../errors.js';
import { readInt64, viewOf } from '../int64.js';
import { DECOMPRESSED_BYTES_MAX } from '../limits.js';
import { crc32 } from './crc32c.js';
import * as L from './layout.js';
import type { LogRecord, RecordHeader } from './record.js';
import type { BatchSource, RecordBatch } from './record-batch.js';

const kCompressionNames: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** One parsed legacy message: the fields a record needs, plus what deep iteration checks. */
interface LegacyMessage {
  readonly offset: number;
  readonly magic: number;
  readonly attributes: number;
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/** A v0/v1 log entry (`offset`, `size`, message) over exactly its bytes. */
export class LegacyRecordBatch implements RecordBatch {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly #source: BatchSource;
  #innerCache: LegacyMessage[] | undefined;

  constructor(bytes: Uint8Array, source: BatchSource = {}) {
    this.bytes = bytes;
    this.#view = viewOf(bytes);
    this.#source = source;
  }

  get magic(): number {
    return this.bytes[L.MAGIC_OFFSET]!;
  }
  get sizeInBytes(): number {
    return this.bytes.byteLength;
  }
  /** The entry's offset: the record's own, or for a wrapper the last inner offset. */
  get lastOffset(): number {
    const value = readInt64(this.#view, L.BASE_OFFSET_OFFSET);
    if (value === undefined) throw new UnsafeIntegerError('legacy entry offset is not a safe integer', this.#where());
    return value;
  }
  get baseOffset(): number {
    if (this.compression === 0) return this.lastOffset;
    return this.#inner()[0]!.offset;
  }
  get recordCount(): number {
    return this.compression === 0 ? 1 : this.#inner().length;
  }
  get nextOffset(): number {
    return this.lastOffset + 1;
  }
  get attributes(): number {
    return this.bytes[L.LOG_OVERHEAD + L.LEGACY_ATTRIBUTES_OFFSET]!;
  }
  get compression(): CompressionId {
    return (this.attributes & L.LEGACY_CODEC_MASK) as CompressionId;
  }
  get compressionName(): CompressionName {
    return kCompressionNames[this.compression] ?? 'none';
  }
  get timestampType(): L.TimestampType {
    return this.magic > 0 && this.attributes & L.LEGACY_TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime';
  }
  /** v1: the message's timestamp (for a wrapper, the max inner one); v0 has none: -1. */
  get maxTimestamp(): number {
    if (this.magic === L.MAGIC_V0) return L.NO_TIMESTAMP;
    const value = readInt64(this.#view, L.LOG_OVERHEAD + L.LEGACY_TIMESTAMP_OFFSET);
    if (value === undefined) throw new UnsafeIntegerError('legacy timestamp is not a safe integer', this.#where());
    return value;
  }
  get isControl(): boolean {
    return false;
  }
  get isTransactional(): boolean {
    return false;
  }
  get producerId(): number {
    return L.NO_PRODUCER_ID;
  }
  get producerEpoch(): number {
    return L.NO_PRODUCER_EPOCH;
  }
  get baseSequence(): number {
    return L.NO_SEQUENCE;
  }
  get partitionLeaderEpoch(): number {
    return L.NO_PARTITION_LEADER_EPOCH;
  }
  /** The stored CRC-32 of the message. */
  get checksum(): number {
    return this.#view.getUint32(L.LOG_OVERHEAD + L.LEGACY_CRC_OFFSET);
  }

  isValid(): boolean {
    return checkMessage(this.bytes, L.LOG_OVERHEAD, this.bytes.byteLength) === undefined;
  }

  ensureValid(): void {
    const reason = checkMessage(this.bytes, L.LOG_OVERHEAD, this.bytes.byteLength);
    if (reason !== undefined) throw new CorruptRecordError(`invalid legacy message: ${reason}`, this.#where());
  }

  *records(): IterableIterator<LogRecord> {
    if (this.compression === 0) {
      const message = parseMessage(this.bytes, L.LOG_OVERHEAD, this.bytes.byteLength, this.lastOffset, this.#where());
      yield toRecord(message, message.offset, this.maxTimestamp);
      return;
    }
    const inner = this.#inner();
    const logAppendTime = this.timestampType === 'LogAppendTime' ? this.maxTimestamp : -1;
    for (const message of inner) {
      yield toRecord(message, message.offset, logAppendTime >= 0 ? logAppendTime : message.timestamp);
    }
  }

  /** Decompresses and checks the inner set once; absolute offsets are filled in. */
  #inner(): LegacyMessage[] {
    if (this.#innerCache !== undefined) return this.#innerCache;
    this.ensureValid();
    const where = this.#where();
    const wrapper = parseMessage(this.bytes, L.LOG_OVERHEAD, this.bytes.byteLength, this.lastOffset, where);
    if (wrapper.value === null) throw new CorruptRecordError('compressed wrapper has a null value', where);
    const set = codecById(this.compression).decompress(wrapper.value, { magic: this.magic, maxBytes: DECOMPRESSED_BYTES_MAX });
    const messages = parseInnerSet(set, where);
    this.#innerCache = this.magic === L.MAGIC_V0 ? messages : absoluteV1(messages, wrapper.offset, where);
    return this.#innerCache;
  }

  #where(): { file: string | undefined; position: number | undefined } {
    return { file: this.#source.file, position: this.#source.position };
  }
}

/** Returns why the message in `bytes[start, end)` is invalid, or undefined. */
function checkMessage(bytes: Uint8Array, start: number, end: number): string | undefined {
  const size = end - start;
  if (size < L.LEGACY_RECORD_OVERHEAD_V0) return `message size ${size} below the minimum`;
  const magic = bytes[start + L.LEGACY_MAGIC_OFFSET]!;
  if (magic > L.MAGIC_V1) return `magic ${magic} is not 0 or 1`;
  if (magic === L.MAGIC_V1 && size < L.LEGACY_RECORD_OVERHEAD_V1) return `v1 message size ${size} below the minimum`;
  const stored = viewOf(bytes).getUint32(start + L.LEGACY_CRC_OFFSET);
  const computed = crc32(bytes, start + L.LEGACY_MAGIC_OFFSET, end);
  return stored === computed ? undefined : `CRC-32 mismatch: stored ${stored}, computed ${computed}`;
}

/** Parses key and value of the message in `bytes[start, end)`, whose lengths must fill it exactly. */
function parseMessage(bytes: Uint8Array, start: number, end: number, offset: number, where: BatchSource): LegacyMessage {
  const view = viewOf(bytes);
  const magic = bytes[start + L.LEGACY_MAGIC_OFFSET]!;
  const attributes = bytes[start + L.LEGACY_ATTRIBUTES_OFFSET]!;
  let timestamp: number = L.NO_TIMESTAMP;
  if (magic === L.MAGIC_V1) {
    const value = readInt64(view, start + L.LEGACY_TIMESTAMP_OFFSET);
    if (value === undefined) throw new UnsafeIntegerError('legacy timestamp is not a safe integer', where);
    timestamp = value;
  }
  let position = start + (magic === L.MAGIC_V0 ? L.LEGACY_KEY_LENGTH_OFFSET_V0 : L.LEGACY_KEY_LENGTH_OFFSET_V1);
  const fields: (Uint8Array | null)[] = [];
  for (const name of ['key', 'value']) {
    if (position + L.LEGACY_LENGTH_FIELD > end) throw new CorruptRecordError(`legacy ${name} length runs past the message`, where);
    const length = view.getInt32(position);
    position += L.LEGACY_LENGTH_FIELD;
    if (length < -1 || position + length > end) throw new CorruptRecordError(`legacy ${name} length ${length} out of bounds`, where);
    fields.push(length < 0 ? null : new Uint8Array(bytes.buffer, bytes.byteOffset + position, length));
    position += Math.max(length, 0);
  }
  if (position !== end) throw new CorruptRecordError('legacy message has bytes after its value', where);
  return { offset, magic, attributes, timestamp, key: fields[0]!, value: fields[1]! };
}

/** Reads every entry of a decompressed inner message set, checking each one. */
function parseInnerSet(set: Uint8Array, where: BatchSource): LegacyMessage[] {
  const view = viewOf(set);
  const messages: LegacyMessage[] = [];
  let position = 0;
  while (position < set.byteLength) {
    if (position + L.LOG_OVERHEAD > set.byteLength) throw new CorruptRecordError('truncated inner message entry', where);
    const offset = readInt64(view, position + L.BASE_OFFSET_OFFSET);
    const size = view.getInt32(position + L.LENGTH_OFFSET);
    const start = position + L.LOG_OVERHEAD;
    if (offset === undefined) throw new UnsafeIntegerError('inner offset is not a safe integer', where);
    if (size < L.LEGACY_RECORD_OVERHEAD_V0 || start + size > set.byteLength) {
      throw new CorruptRecordError(`inner message size ${size} out of bounds`, where);
    }
    const reason = checkMessage(set, start, start + size);
    if (reason !== undefined) throw new CorruptRecordError(`invalid inner message: ${reason}`, where);
    const message = parseMessage(set, start, start + size, offset, where);
    if (message.attributes & L.LEGACY_CODEC_MASK) throw new CorruptRecordError('inner messages must not be compressed', where);
    messages.push(message);
    position = start + size;
  }
  if (messages.length === 0) throw new CorruptRecordError('compressed wrapper holds no messages', where);
  return messages;
}

/** Turns v1 relative inner offsets into absolute ones. */
function absoluteV1(messages: LegacyMessage[], wrapperOffset: number, where: BatchSource): LegacyMessage[] {
  const lastRelative = messages[messages.length - 1]!.offset;
  if (wrapperOffset !== 0 && wrapperOffset < lastRelative) {
    throw new CorruptRecordError(`wrapper offset ${wrapperOffset} below the last inner relative offset ${lastRelative}`, where);
  }
  const base = wrapperOffset === 0 ? 0 : wrapperOffset - lastRelative;
  return messages.map((m) => ({ ...m, offset: base + m.offset }));
}

function toRecord(message: LegacyMessage, offset: number, timestamp: number): LogRecord {
  return { offset, timestamp, key: message.key, value: message.value, headers: NO_HEADERS };
}
