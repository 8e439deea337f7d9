/**
 * Questions: how long does a clean open of a log with 1000 segments take, and how long does an open after
 * a crash take?
 *
 * - Clean: a log of 1000 one-batch segments (100 records of 100-byte values each, tiny `segmentBytes`) is
 *   closed cleanly, then `Log.open` + `close` is timed, median of 5 after one untimed open. Opening should
 *   cost a `readdir` and a little per segment (indexes of old segments are mapped lazily, on first use).
 *   Peer, same run: `readdir` plus a `stat` of every file, the least any open must do.
 * - Unclean: a 64 MiB log (100-byte values, 1000-record batches) all in its active segment, never flushed,
 *   left with `log.abandon()` (no clean-shutdown marker, recovery point 0, like a `kill -9`). `Log.open`
 *   must re-validate every batch (frame, CRC-32C, offsets) and rebuild the indexes. Each round opens a fresh
 *   copy of the crashed directory (the files are in the page cache: this is CPU cost, not disk reads). Peer,
 *   same run: a clean open of the same recovered log.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileHandle, FileSystem, RecordInput } from '../../src/main.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { Log } from '../_util/seglog.js';
import { benchDir, below, elapsedMs, median, MiB, now, removeDir, withTempDir, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { payload } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const VALUE_BYTES = 100;

function recordsOf(count: number, seed: number): RecordInput[] {
  const values = payload('repetitive', count * VALUE_BYTES, seed);
  return Array.from({ length: count }, (_, i) => ({ key: null, value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES) }));
}

/** ~11 KB batches into 16 KiB segments: every append after the first rolls, one batch per segment. */
const TINY = { durability: 'os', segmentBytes: 16 * 1024, segmentIndexBytes: 4096 } as const;

/**
 * The node:fs file system with every fsync a no-op, for building the 1000-segment log only (setup, not
 * measured): each roll flushes the rolled segment, and 1000 rolls of fsyncs took ~9 s on this machine's
 * disk, which would not fit a quick run. What is measured opens the files with the real file system.
 */
function withoutFsync(inner: FileSystem): FileSystem {
  const handle = (h: FileHandle): FileHandle => ({
    get path() {
      return h.path;
    },
    get fd() {
      return h.fd;
    },
    size: () => h.size(),
    read: (into, position) => h.read(into, position),
    write: (bytes, position) => h.write(bytes, position),
    writev: (chunks, position) => h.writev(chunks, position),
    truncate: (size) => h.truncate(size),
    sync: async () => undefined,
    syncData: async () => undefined,
    close: () => h.close(),
  });
  return {
    open: (path, mode) => handle(inner.open(path, mode)),
    stat: (path) => inner.stat(path),
    readdir: (dir) => inner.readdir(dir),
    mkdir: (dir, mode) => inner.mkdir(dir, mode),
    rename: (from, to) => inner.rename(from, to),
    unlink: (path) => inner.unlink(path),
    removeDir: (dir) => inner.removeDir(dir),
    syncDir: async () => undefined,
    setMtime: (path, mtimeMs) => inner.setMtime(path, mtimeMs),
    map: (h, options) => inner.map(h, options),
    syncMap: () => undefined,
  };
}

async function manySegments(dir: string, segments: number): Promise<number> {
  const start = now();
  const log = await Log.open(dir, { ...TINY, fileSystem: withoutFsync(new NodeFileSystem()) });
  const batch = recordsOf(100, 5);
  while (log.segments.length < segments) await log.append(batch);
  await log.close();
  return elapsedMs(start);
}

async function openAndClose(dir: string): Promise<{ openMs: number; totalMs: number; segments: number; clean: boolean }> {
  const start = now();
  const log = await Log.open(dir, TINY);
  const openMs = elapsedMs(start);
  const segments = log.segments.length;
  const clean = log.recoveryReport.clean;
  await log.close();
  return { openMs, totalMs: elapsedMs(start), segments, clean };
}

/** The floor: list the directory and `stat` every file in it. */
function readdirAndStat(dir: string): number {
  const start = now();
  for (const name of fs.readdirSync(dir)) fs.statSync(path.join(dir, name));
  return elapsedMs(start);
}

async function cleanOpen(segments: number, rounds: number): Promise<BenchRow> {
  return withTempDir('open', async (dir) => {
    const buildMs = await manySegments(dir, segments);
    await openAndClose(dir); // untimed: JIT and dentry cache
    const results: { openMs: number; totalMs: number; segments: number; clean: boolean }[] = [];
    const floors: number[] = [];
    for (let i = 0; i < rounds; i++) {
      results.push(await openAndClose(dir));
      floors.push(readdirAndStat(dir));
    }
    if (results.some((r) => !r.clean || r.segments !== segments)) throw new Error('the clean-open log was not clean or lost segments');
    const totalMs = median(results.map((r) => r.totalMs));
    const floorMs = median(floors);
    return {
      group: 'open',
      name: `clean Log.open + close, ${segments}-segment log`,
      value: totalMs,
      unit: 'ms',
      ...below(totalMs, 200, '< 200 ms'),
      peer: `readdir + stat of ${fs.readdirSync(dir).length} files`,
      peerValue: floorMs,
      note: `median of ${rounds}; open alone ${median(results.map((r) => r.openMs)).toFixed(1)} ms; built (without fsync) in ${(buildMs / 1000).toFixed(1)} s`,
    };
  });
}

/** Writes `bytes` of 1000-record batches without ever flushing, then abandons the log (a crash). */
async function crashedLog(dir: string, bytes: number): Promise<number> {
  const log = await Log.open(dir, { durability: 'os' });
  const batches = [recordsOf(1000, 9), recordsOf(1000, 10)];
  for (let b = 0; log.size < bytes; b ^= 1) await log.append(batches[b]!);
  const size = log.size;
  log.abandon();
  return size;
}

async function recoveryOpen(bytes: number, rounds: number): Promise<BenchRow> {
  return withTempDir('recovery', async (crashed) => {
    const size = await crashedLog(crashed, bytes);
    const times: number[] = [];
    let recovered = 0;
    let cleanMs = 0;
    for (let i = 0; i <= rounds; i++) {
      const copy = benchDir('recovery-copy');
      try {
        fs.cpSync(crashed, copy, { recursive: true });
        const start = now();
        const log = await Log.open(copy, { durability: 'os' });
        const ms = elapsedMs(start);
        const report = log.recoveryReport;
        if (report.clean || report.recoveredSegments === 0) throw new Error('the crashed log opened without recovery');
        recovered = report.recoveredSegments;
        await log.close();
        if (i > 0) times.push(ms); // round 0 warms the JIT up
        if (i === rounds) {
          const cleans: number[] = [];
          for (let c = 0; c < 3; c++) cleans.push(await timedCleanOpen(copy));
          cleanMs = median(cleans);
        }
      } finally {
        removeDir(copy);
      }
    }
    const ms = median(times);
    return {
      group: 'open',
      name: `recovery Log.open after a crash, ${(size / MiB).toFixed(0)} MiB unflushed`,
      value: ms,
      unit: 'ms',
      peer: 'clean open of the same log',
      peerValue: cleanMs,
      ratio: cleanMs / ms,
      note: `median of ${rounds}; ${recovered} segment(s) re-validated at ${(size / MiB / (ms / 1000)).toFixed(0)} MiB/s`,
    };
  });
}

async function timedCleanOpen(dir: string): Promise<number> {
  const start = now();
  const log = await Log.open(dir, { durability: 'os' });
  const ms = elapsedMs(start);
  if (!log.recoveryReport.clean) throw new Error('expected a clean open');
  await log.close();
  return ms;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const mode = options.tiny ? 'tiny' : options.quick ? 'quick' : 'full';
  const segments = mode === 'tiny' ? 20 : 1000;
  options.progress?.(`open: ${segments} segments`);
  const rows = [await cleanOpen(segments, mode === 'tiny' ? 1 : 5)];
  options.progress?.('open: recovery');
  rows.push(await recoveryOpen({ tiny: 4, quick: 64, full: 64 }[mode] * MiB, { tiny: 1, quick: 3, full: 5 }[mode]));
  return rows;
}

runIfMain(import.meta.url, run);
