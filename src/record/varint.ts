/**
 * Kafka's zigzag varints (`ByteUtils`): zigzag maps signed to unsigned (0→0, -1→1, 1→2, ...), then
 * unsigned LEB128, 7 bits a byte, least-significant group first, high bit = more bytes follow. At most
 * 5 bytes for an int32 and 10 for an int64; longer input is corrupt.
 *
 * Readers return the value and store the position after it in `cursor.position`, so the hot record parser
 * allocates nothing per field. A read that would run past `end`, or past the byte limit, returns
 * `undefined`: callers turn that into a `CorruptRecordError` with the batch's file and position.
 */
import { VARINT_BYTES_MAX, VARLONG_BYTES_MAX } from '../limits.js';

/** Mutable read position shared by the varint readers and the record parser. */
export interface Cursor {
  position: number;
}

/** Reads a zigzag varint (int32); `undefined` if truncated at `end` or longer than 5 bytes. */
export function readVarint(bytes: Uint8Array, cursor: Cursor, end: number): number | undefined {
  // Fast paths for one- and two-byte varints, the usual sizes of record fields, kept small enough for
  // the JIT to inline into the record parser (decode profile: a call per field took ~11% of a batch
  // read). The one-byte path must not need a second byte in bounds: a record's header count is its last.
  const position = cursor.position;
  if (position < end) {
    const b0 = bytes[position]!;
    if (b0 < 0x80) {
      cursor.position = position + 1;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    if (position + 1 < end) {
      const b1 = bytes[position + 1]!;
      if (b1 < 0x80) {
        const raw = (b0 & 0x7f) | (b1 << 7);
        cursor.position = position + 2;
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
  }
  return readVarintSlow(bytes, cursor, end);
}

function readVarintSlow(bytes: Uint8Array, cursor: Cursor, end: number): number | undefined {
  let position = cursor.position;
  let raw = 0;
  for (let shift = 0; shift < 7 * VARINT_BYTES_MAX; shift += 7) {
    if (position >= end) return undefined;
    const byte = bytes[position++]!;
    if (shift === 28 && byte > 0x0f) return undefined; // bits beyond 32: not an int32
    raw |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.position = position;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  return undefined;
}

/**
 * Reads a zigzag varlong (int64) as a number; `undefined` if truncated, longer than 10 bytes, or outside
 * the safe integer range. Up to 7 bytes (49 bits) float arithmetic is exact; longer values (timestamp
 * deltas of far-apart records, rare) go through BigInt.
 */
export function readVarlong(bytes: Uint8Array, cursor: Cursor, end: number): number | undefined {
  let position = cursor.position;
  // One byte: the timestamp delta of records written within 64 ms of their batch's first, the usual case.
  if (position < end && bytes[position]! < 0x80) {
    const b0 = bytes[position]!;
    cursor.position = position + 1;
    return (b0 >>> 1) ^ -(b0 & 1);
  }
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (position >= end) return undefined;
    const byte = bytes[position++]!;
    raw += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor.position = position;
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    scale *= 128;
  }
  return readVarlongSlow(bytes, cursor, end);
}

function readVarlongSlow(bytes: Uint8Array, cursor: Cursor, end: number): number | undefined {
  let position = cursor.position;
  let raw = 0n;
  for (let shift = 0n; shift < 7n * BigInt(VARLONG_BYTES_MAX); shift += 7n) {
    if (position >= end) return undefined;
    const byte = bytes[position++]!;
    raw |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      if (raw >= 1n << 64n) return undefined;
      const value = (raw >> 1n) ^ -(raw & 1n);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
      cursor.position = position;
      return Number(value);
    }
  }
  return undefined;
}

/** Bytes a zigzag varint (int32) takes. One and two bytes inline; longer ones call out. */
export function sizeOfVarint(value: number): number {
  if (value >= 0 && value < 64) return 1;
  if (value >= 0 && value < 8192) return 2;
  return sizeOfVarintSlow(value);
}

function sizeOfVarintSlow(value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    size++;
  }
  return size;
}

/** Zigzag values stay exact in a double below 2^53; larger magnitudes go through BigInt. */
const FLOAT_ZIGZAG_MAX = 2 ** 52;

/** Bytes a zigzag varlong (int64, safe integer) takes. */
export function sizeOfVarlong(value: number): number {
  if (value >= -0x4000_0000 && value < 0x4000_0000) return sizeOfVarint(value);
  if (Math.abs(value) >= FLOAT_ZIGZAG_MAX) return Math.ceil(bigZigzag(value).toString(2).length / 7);
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (raw >= 128) {
    raw = Math.floor(raw / 128);
    size++;
  }
  return size;
}

function bigZigzag(value: number): bigint {
  const v = BigInt(value);
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
}

/** Writes a zigzag varint (int32) at `position`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, position: number, value: number): number {
  // Fast paths: most varints in a record are one byte (attributes' neighbours, small deltas, lengths below
  // 64) or two (100-byte record lengths, offset deltas below 8192); the general loop cost measurably more
  // on the encode path (profiled at ~12-20% of a 1000-record batch).
  if (value >= 0 && value < 64) {
    bytes[position] = value << 1;
    return position + 1;
  }
  if (value >= 0 && value < 8192) {
    bytes[position] = ((value << 1) & 0x7f) | 0x80;
    bytes[position + 1] = value >>> 6;
    return position + 2;
  }
  return writeVarintSlow(bytes, position, value);
}

function writeVarintSlow(bytes: Uint8Array, position: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  while (raw >= 0x80) {
    bytes[position++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  bytes[position++] = raw;
  return position;
}

/** Writes a zigzag varlong (int64, safe integer) at `position`; returns the position after it. */
export function writeVarlong(bytes: Uint8Array, position: number, value: number): number {
  if (value >= -0x4000_0000 && value < 0x4000_0000) return writeVarint(bytes, position, value);
  if (Math.abs(value) >= FLOAT_ZIGZAG_MAX) return writeBigVarlong(bytes, position, bigZigzag(value));
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  while (raw >= 128) {
    const low = raw % 128;
    bytes[position++] = low | 0x80;
    raw = (raw - low) / 128;
  }
  bytes[position++] = raw;
  return position;
}

function writeBigVarlong(bytes: Uint8Array, position: number, zigzag: bigint): number {
  let raw = zigzag;
  while (raw >= 0x80n) {
    bytes[position++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  bytes[position++] = Number(raw);
  return position;
}
