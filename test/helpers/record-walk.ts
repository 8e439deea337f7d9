/**
 * The record-length rule of an uncompressed v2 batch, as plainly as it can be written: `count` zigzag
 * varint lengths (> 0), each followed by that many bytes, from `start`. The addon's walks are checked
 * against it.
 */
import { readVarint } from '../../src/record/varint.js';

/** Where the walk ends, or -1 - the position of the first bad length. */
export function walkDefinition(bytes: Uint8Array, start: number, end: number, count: number): number {
  let at = start;
  for (let i = 0; i < count; i++) {
    const record = at;
    const cursor = { position: at };
    const length = readVarint(bytes, cursor, end);
    if (length === undefined || length <= 0 || cursor.position + length > end) return -1 - record;
    at = cursor.position + length;
  }
  return at;
}
