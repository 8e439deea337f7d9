/**
 * `seglog verify <log directory>`: checks a log without opening it (read-only, no lock): every batch's
 * frame and CRC (CRC-32C for v2, CRC-32 for legacy messages, inner ones too), offsets increasing within
 * and across segments and inside each segment's range, and both indexes of every segment against the
 * batches. Prints a report; exits 1 if anything is damaged. Shows a progress bar on a terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isLogStorageError } from '../errors.js';
import { UsageError, parse, type Io } from './args.js';
import { checkIndex, readFile, readIndexEntries, scanBatches, segmentFilesOf, type BatchSummary } from './segment-files.js';

export const VERIFY_USAGE = `Usage: seglog verify <log directory> [options]

Checks every batch CRC, offset order and index entry of a log; exits 1 and reports each problem
(file, position, what) if the log is damaged.

Options:
  --deep        also decompress and parse every record
  -h, --help    this message`;

interface Tally {
  batches: number;
  records: number;
  bytes: number;
  problems: string[];
}

export function verify(argv: string[], io: Io, progress: (done: number, total: number) => void = () => undefined): number {
  const { values, positionals } = parse(argv, { deep: { type: 'boolean' } });
  if (values['help']) {
    io.out(VERIFY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('verify takes exactly one log directory');
  const dir = positionals[0]!;
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`not a directory: ${dir}`);
  const files = segmentFilesOf(dir);
  const total = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
  const tally: Tally = { batches: 0, records: 0, bytes: 0, problems: [] };
  let previousLast = -1;
  for (const file of files) {
    previousLast = verifySegment(file, previousLast, values['deep'] === true, tally);
    progress(tally.bytes, total);
  }
  io.out(`${dir}: ${files.length} segments, ${tally.batches} batches, ${tally.bytes} bytes checked`);
  if (tally.problems.length === 0) {
    io.out('OK: no damage found');
    return 0;
  }
  for (const problem of tally.problems) io.out(`DAMAGED: ${problem}`);
  io.out(`${tally.problems.length} problem(s) found`);
  return 1;
}

/** Checks one segment; returns the last offset seen (for the order check across segments). */
function verifySegment(file: string, previousLast: number, deep: boolean, tally: Tally): number {
  const base = Number(path.basename(file).split('.')[0]);
  const summaries: BatchSummary[] = [];
  let last = previousLast;
  for (const step of scanBatches(readFile(file), file)) {
    if (step.kind === 'problem') {
      tally.problems.push(`${file} at position ${step.position}: ${step.message}`);
      break;
    }
    tally.batches++;
    tally.bytes += step.size;
    const where = `${file} at position ${step.position}`;
    if (!step.crcOk) {
      tally.problems.push(`${where}: CRC mismatch`);
      continue;
    }
    const b = step.batch;
    const first = b.magic === 2 ? b.baseOffset : b.lastOffset;
    if (first <= last) tally.problems.push(`${where}: offset ${first} is not above the previous batch's last offset ${last}`);
    if (first < base) tally.problems.push(`${where}: offset ${first} is below the segment's base offset ${base}`);
    if (deep) deepCheck(b, where, tally);
    last = b.lastOffset;
    summaries.push({ position: step.position, lastOffset: b.lastOffset, maxTimestamp: b.maxTimestamp });
  }
  for (const index of [file.replace(/\.log$/, '.index'), file.replace(/\.log$/, '.timeindex')]) {
    if (fs.existsSync(index)) tally.problems.push(...checkIndex(readIndexEntries(index), summaries, index));
  }
  return last;
}

function deepCheck(batch: { records(): Iterable<unknown> }, where: string, tally: Tally): void {
  try {
    for (const _record of batch.records()) tally.records++;
  } catch (error) {
    if (!isLogStorageError(error)) throw error;
    tally.problems.push(`${where}: ${error.message}`);
  }
}
