/**
 * Read-only access to the files of a log directory for the command-line tools: they inspect directories
 * (possibly written by Kafka, possibly damaged, possibly open in another process) without opening a `Log`,
 * taking its lock or changing a byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BATCH_BYTES_MAX, OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from '../limits.js';
import { FRAME_CORRUPT, FRAME_PARTIAL, batchAt, describeCorruptFrame, frameSize } from '../record/batch-reader.js';
import type { RecordBatch } from '../record/record-batch.js';
import { UsageError } from './args.js';

/** One step of a scan: a valid batch, or the problem that stopped the scan. */
export type ScanStep =
  | { readonly kind: 'batch'; readonly position: number; readonly size: number; readonly batch: RecordBatch; readonly crcOk: boolean }
  | { readonly kind: 'problem'; readonly position: number; readonly message: string };

/** The `.log` files of a directory (or the one file given), sorted by base offset. */
export function segmentFilesOf(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (stat === undefined) throw new UsageError(`no such file or directory: ${target}`);
  if (stat.isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((name) => /^\d{20,}\.log$/.test(name))
    .sort()
    .map((name) => path.join(target, name));
}

/** The whole file, read into memory (the tools are not a hot path; a 1 GiB segment takes 1 GiB). */
export function readFile(file: string): Uint8Array {
  const buffer = fs.readFileSync(file);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Every batch of a segment file in order; stops at the first frame that cannot be read. */
export function* scanBatches(bytes: Uint8Array, file: string): Generator<ScanStep> {
  let position = 0;
  while (position < bytes.byteLength) {
    const size = frameSize(bytes, position, bytes.byteLength, BATCH_BYTES_MAX);
    if (size === FRAME_PARTIAL) {
      yield { kind: 'problem', position, message: `partial batch: ${bytes.byteLength - position} bytes at the end` };
      return;
    }
    if (size === FRAME_CORRUPT) {
      yield { kind: 'problem', position, message: describeCorruptFrame(bytes, position, BATCH_BYTES_MAX) };
      return;
    }
    const batch = batchAt(bytes, position, size, { file, position });
    yield { kind: 'batch', position, size, batch, crcOk: batch.isValid() };
    position += size;
  }
}

/** A key or value for humans: UTF-8 text when it is printable, hex otherwise. */
export function printable(bytes: Uint8Array | null): string {
  if (bytes === null) return 'null';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // eslint-disable-next-line no-control-regex
  return /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]*$/.test(text) ? text : `0x${Buffer.from(bytes).toString('hex')}`;
}

/** Entries of an `.index` (8 bytes: relative offset, position) or `.timeindex` (12 bytes: timestamp, relative offset). */
export function readIndexEntries(file: string): { kind: 'offset' | 'time'; entries: [number, number][]; trailingBytes: number; preallocatedSlots: number } {
  const bytes = fs.readFileSync(file);
  const kind = file.endsWith('.timeindex') ? 'time' : 'offset';
  const entryBytes = kind === 'time' ? TIME_INDEX_ENTRY_BYTES : OFFSET_INDEX_ENTRY_BYTES;
  const base = Number(path.basename(file).split('.')[0]);
  const entries: [number, number][] = [];
  for (let at = 0; at + entryBytes <= bytes.length; at += entryBytes) {
    // Layouts in src/index/offset-index.ts and time-index.ts.
    if (kind === 'offset') entries.push([base + bytes.readUInt32BE(at), bytes.readUInt32BE(at + 4)]);
    else entries.push([Number(bytes.readBigInt64BE(at)), base + bytes.readUInt32BE(at + 8)]);
  }
  // Zero entries at the end are preallocated space: the segment is active in a running log, or was not
  // trimmed after a crash. No real entry is all zeros (the first batch of a segment is never indexed).
  let used = entries.length;
  while (used > 0 && entries[used - 1]![0] === (kind === 'offset' ? base : 0) && entries[used - 1]![1] === (kind === 'offset' ? 0 : base)) used--;
  return { kind, entries: entries.slice(0, used), trailingBytes: bytes.length % entryBytes, preallocatedSlots: entries.length - used };
}

/** What the index checks need to know of each batch of a segment. */
export interface BatchSummary {
  readonly position: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/**
 * Checks index entries against the segment's batches (Kafka's `--index-sanity-check`): an offset entry
 * (O, P) must point at a batch start whose last offset is at most O (exactly O when seglog wrote it); a time
 * entry (T, O) must name a batch's last offset, with T the largest timestamp up to that batch. Returns one
 * message per bad entry.
 */
export function checkIndex(index: ReturnType<typeof readIndexEntries>, batches: readonly BatchSummary[], file: string): string[] {
  const problems: string[] = [];
  if (index.trailingBytes !== 0) problems.push(`${file}: ${index.trailingBytes} bytes after the last whole entry`);
  const byPosition = new Map(batches.map((b) => [b.position, b]));
  let running = -1;
  const maxUpTo = new Map<number, number>();
  for (const b of batches) {
    running = Math.max(running, b.maxTimestamp);
    maxUpTo.set(b.lastOffset, running);
  }
  index.entries.forEach(([a, b], slot) => {
    if (index.kind === 'offset') {
      const batch = byPosition.get(b);
      if (batch === undefined) problems.push(`${file}: entry ${slot} (offset ${a}, position ${b}) does not point at a batch start`);
      else if (batch.lastOffset > a) problems.push(`${file}: entry ${slot} (offset ${a}, position ${b}) points at a batch ending at ${batch.lastOffset}`);
    } else {
      const max = maxUpTo.get(b);
      if (max === undefined) problems.push(`${file}: entry ${slot} (timestamp ${a}, offset ${b}) names no batch's last offset`);
      else if (max !== a) problems.push(`${file}: entry ${slot} (timestamp ${a}, offset ${b}) but the largest timestamp up to there is ${max}`);
    }
  });
  return problems;
}
