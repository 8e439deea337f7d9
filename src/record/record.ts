/**
 * One record inside a v2 batch (Kafka `DefaultRecord`): what readers get, what writers pass, and the
 * parser of the varint-framed record body.
 *
 * ```text
 *  length          varint   bytes of everything below
 *  attributes      int8     unused, 0
 *  timestampDelta  varlong  timestamp - batch baseTimestamp
 *  offsetDelta     varint   offset - batch baseOffset
 *  keyLength       varint   -1 = null key
 *  key             bytes
 *  valueLength     varint   -1 = null value (a tombstone)
 *  value           bytes
 *  headersCount    varint
 *  headers[]       keyLength varint (>= 0), UTF-8 key, valueLength varint (-1 = null), value
 * ```
 */
import { CorruptRecordError } from '../errors.js';
import { readVarint, readVarlong, type Cursor } from './varint.js';

/** A record header as readers see it. */
export interface RecordHeader {
  readonly key: string;
  /** A view into the batch's bytes, or `null`. */
  readonly value: Uint8Array | null;
}

/**
 * A record as readers see it. `key`, `value` and header values are views into the batch's bytes (for a
 * compressed batch, into its decompressed payload), not copies: copy what you keep past the next read.
 */
export interface LogRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

/** Bytes or text; text is encoded as UTF-8. */
export type BytesInput = Uint8Array | string;

/** A header as writers pass it. */
export interface HeaderInput {
  readonly key: string;
  readonly value: BytesInput | null;
}

/** A record as writers pass it. Missing `key`/`value` mean null; a missing `timestamp` means "now". */
export interface RecordInput {
  readonly key?: BytesInput | null;
  readonly value?: BytesInput | null;
  readonly headers?: readonly HeaderInput[];
  /** Milliseconds since the epoch (CreateTime). */
  readonly timestamp?: number;
}

/** What the record parser needs from its batch. */
export interface RecordContext {
  readonly baseOffset: number;
  readonly baseTimestamp: number;
  /** For LogAppendTime batches every record takes the batch's max timestamp; otherwise -1. */
  readonly logAppendTime: number;
  /** Where the payload starts in its file or buffer, for error positions; -1 if unknown. */
  readonly position: number;
  readonly file: string | undefined;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);
const utf8 = new TextDecoder('utf-8');

/** Throws the error every malformed-record path reports: what broke, at which byte, in which batch. */
function corrupt(ctx: RecordContext, what: string, at: number): never {
  const position = ctx.position >= 0 ? ctx.position + at : at;
  throw new CorruptRecordError(`corrupt record in batch at offset ${ctx.baseOffset}: ${what}`, {
    file: ctx.file,
    position,
    offset: ctx.baseOffset,
  });
}

/**
 * Where the record parser is in a payload, and the memory its views are made over: the payload's
 * `ArrayBuffer` and where the payload starts in it, taken once per batch ({@link recordCursor}).
 */
export interface RecordCursor extends Cursor {
  readonly buffer: ArrayBufferLike;
  readonly base: number;
}

/** A cursor at `position` of `bytes`. */
export function recordCursor(bytes: Uint8Array, position: number): RecordCursor {
  return { position, buffer: bytes.buffer, base: bytes.byteOffset };
}

/**
 * A view of `bytes[start, start + length)` that shares memory, made with `new Uint8Array(buffer, base +
 * start, length)` from the cursor's buffer and base: one view per key and value is the decoder's main
 * allocation, and this form measured 84 against 106 us per 1000 records for `bytes.subarray` (Node 20,
 * 100-byte values, medians of 30 interleaved rounds, three runs; `Buffer#subarray` is slower still).
 * It is fast only with the buffer and base read once per batch: reading `bytes.buffer` per record made it
 * slower than `subarray` (113 us).
 */
function view(cursor: RecordCursor, start: number, length: number): Uint8Array {
  return new Uint8Array(cursor.buffer, cursor.base + start, length);
}

/**
 * `bytes` as a plain `Uint8Array` over the same memory: the parser indexes every payload, and one kind of
 * array keeps those reads monomorphic.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a varint length field that may be -1 (null) and must fit before `end`. */
function readLength(bytes: Uint8Array, cursor: Cursor, end: number, ctx: RecordContext, what: string): number {
  const at = cursor.position;
  const length = readVarint(bytes, cursor, end);
  if (length === undefined) corrupt(ctx, `bad varint for ${what} length`, at);
  if (length < -1 || cursor.position + length > end) corrupt(ctx, `${what} length ${length} out of bounds`, at);
  return length;
}

/**
 * Parses the record at `cursor.position`, advancing the cursor past it. Throws `CorruptRecordError` for any
 * varint, length or bound that does not hold, and when the fields do not consume exactly `length` bytes.
 *
 * The common record (every varint of one or two bytes, no headers) is read inline first, with no call per
 * field: V8 did not inline the varint readers into this hot loop (profiled at ~15% of a batch read as
 * calls). The inline read checks only what it needs to stay correct: each field starts where the last
 * ended, so if every length is sane and the last field ends exactly at the record's declared end, no
 * read strayed outside the record. Anything else (long varints, headers, any inconsistency) is parsed
 * again from the start by the general parser, which reports the precise error.
 */
export function parseRecord(bytes: Uint8Array, cursor: RecordCursor, end: number, ctx: RecordContext): LogRecord {
  const start = cursor.position;
  let p = start;
  let raw = bytes[p++]!;
  if (raw >= 0x80) raw = (raw & 0x7f) | (bytes[p++]! < 0x80 ? bytes[p - 1]! << 7 : NOT_SHORT);
  const bodyLength = (raw >>> 1) ^ -(raw & 1);
  const bodyEnd = p + bodyLength;
  if (raw < NOT_SHORT && bodyLength >= MIN_BODY && bodyEnd <= end) {
    p++; // attributes: unused
    raw = bytes[p++]!;
    if (raw >= 0x80) raw = (raw & 0x7f) | (bytes[p++]! < 0x80 ? bytes[p - 1]! << 7 : NOT_SHORT);
    const timestampDelta = (raw >>> 1) ^ -(raw & 1);
    let wide = raw;
    raw = bytes[p++]!;
    if (raw >= 0x80) raw = (raw & 0x7f) | (bytes[p++]! < 0x80 ? bytes[p - 1]! << 7 : NOT_SHORT);
    const offsetDelta = (raw >>> 1) ^ -(raw & 1);
    wide |= raw;
    raw = bytes[p++]!;
    if (raw >= 0x80) raw = (raw & 0x7f) | (bytes[p++]! < 0x80 ? bytes[p - 1]! << 7 : NOT_SHORT);
    const keyLength = (raw >>> 1) ^ -(raw & 1);
    wide |= raw;
    const keyStart = p;
    if (keyLength > 0) p += keyLength;
    raw = bytes[p++]!;
    if (raw >= 0x80) raw = (raw & 0x7f) | (bytes[p++]! < 0x80 ? bytes[p - 1]! << 7 : NOT_SHORT);
    const valueLength = (raw >>> 1) ^ -(raw & 1);
    wide |= raw;
    const valueStart = p;
    if (valueLength > 0) p += valueLength;
    const headerCount = bytes[p++];
    const timestamp = ctx.logAppendTime >= 0 ? ctx.logAppendTime : ctx.baseTimestamp + timestampDelta;
    const sane = offsetDelta >= 0 && keyLength >= -1 && valueLength >= -1 && Number.isSafeInteger(timestamp);
    if (wide < NOT_SHORT && p === bodyEnd && headerCount === 0 && sane) {
      cursor.position = p;
      return {
        offset: ctx.baseOffset + offsetDelta,
        timestamp,
        key: keyLength < 0 ? null : view(cursor, keyStart, keyLength),
        value: valueLength < 0 ? null : view(cursor, valueStart, valueLength),
        headers: NO_HEADERS,
      };
    }
  }
  return parseRecordGeneral(bytes, cursor, end, ctx);
}

/**
 * Marks a varint of more than two bytes in the inline reader (above any two-byte value, 0x3fff): such a
 * record goes to the general parser.
 */
const NOT_SHORT = 0x10000;
/** The smallest record body: attributes, timestamp delta, offset delta, key and value lengths, header count. */
const MIN_BODY = 6;

/** The field-by-field parser: every record shape, precise errors. Exported for the differential test. */
export function parseRecordGeneral(bytes: Uint8Array, cursor: RecordCursor, end: number, ctx: RecordContext): LogRecord {
  const start = cursor.position;
  const bodyLength = readVarint(bytes, cursor, end);
  if (bodyLength === undefined || bodyLength < 1) corrupt(ctx, 'bad record length', start);
  const bodyEnd = cursor.position + bodyLength;
  if (bodyEnd > end) corrupt(ctx, `record length ${bodyLength} runs past the batch`, start);
  cursor.position++; // attributes: unused
  const timestampDelta = readVarlong(bytes, cursor, bodyEnd);
  if (timestampDelta === undefined) corrupt(ctx, 'bad timestamp delta', cursor.position);
  const offsetDelta = readVarint(bytes, cursor, bodyEnd);
  if (offsetDelta === undefined || offsetDelta < 0) corrupt(ctx, 'bad offset delta', cursor.position);
  const keyLength = readLength(bytes, cursor, bodyEnd, ctx, 'key');
  const key = keyLength < 0 ? null : view(cursor, cursor.position, keyLength);
  cursor.position += keyLength < 0 ? 0 : keyLength;
  const valueLength = readLength(bytes, cursor, bodyEnd, ctx, 'value');
  const value = valueLength < 0 ? null : view(cursor, cursor.position, valueLength);
  cursor.position += valueLength < 0 ? 0 : valueLength;
  const headers = parseHeaders(bytes, cursor, bodyEnd, ctx);
  if (cursor.position !== bodyEnd) corrupt(ctx, 'record fields do not fill its length', start);
  const timestamp = ctx.logAppendTime >= 0 ? ctx.logAppendTime : ctx.baseTimestamp + timestampDelta;
  if (!Number.isSafeInteger(timestamp)) corrupt(ctx, 'timestamp is not a safe integer', start);
  return { offset: ctx.baseOffset + offsetDelta, timestamp, key, value, headers };
}

function parseHeaders(bytes: Uint8Array, cursor: RecordCursor, end: number, ctx: RecordContext): readonly RecordHeader[] {
  const at = cursor.position;
  const count = readVarint(bytes, cursor, end);
  // Each header takes at least 2 bytes, which bounds the count before anything is allocated.
  if (count === undefined || count < 0 || count * 2 > end - cursor.position) corrupt(ctx, 'bad header count', at);
  if (count === 0) return NO_HEADERS;
  const headers: RecordHeader[] = new Array<RecordHeader>(count);
  for (let i = 0; i < count; i++) {
    const keyLength = readLength(bytes, cursor, end, ctx, 'header key');
    if (keyLength < 0) corrupt(ctx, 'null header key', cursor.position);
    const key = utf8.decode(view(cursor, cursor.position, keyLength));
    cursor.position += keyLength;
    const valueLength = readLength(bytes, cursor, end, ctx, 'header value');
    const value = valueLength < 0 ? null : view(cursor, cursor.position, valueLength);
    cursor.position += valueLength < 0 ? 0 : valueLength;
    headers[i] = { key, value };
  }
  return headers;
}
