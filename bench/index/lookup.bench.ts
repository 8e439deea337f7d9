/**
 * Question: how long does an offset-index lookup take at 1 M entries, for readers near the end (the
 * warm section) and anywhere (cold)? Latencies come from timing batches of 100 lookups (the clock's
 * resolution is ~1 us), reported as the per-lookup p50 and p99 over those batches.
 */
import path from 'node:path';
import { OffsetIndex } from '../../src/index/offset-index.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { benchDir, elapsedMs, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { mulberry32 } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const BATCH = 100;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const entries = options.tiny ? 10_000 : 1_000_000;
  options.progress?.(`index lookups: ${entries} entries`);
  const index = new OffsetIndex({ fs: new NodeFileSystem(), path: path.join(benchDir('index'), '0.index'), baseOffset: 0, maxIndexBytes: entries * 8, writable: true });
  index.load();
  for (let i = 0; i < entries; i++) index.append(i * 10 + 5, i * 4096);
  const random = mulberry32(42);
  const rows: BenchRow[] = [];
  for (const [label, pick] of [
    ['random offsets (cold)', () => Math.floor(random() * entries * 10)],
    ['last 1000 entries (warm)', () => (entries - 1 - Math.floor(random() * 1000)) * 10],
  ] as const) {
    const perLookupUs: number[] = [];
    let sink = 0;
    for (let b = 0; b < (options.tiny ? 100 : 5000); b++) {
      const targets = Array.from({ length: BATCH }, pick);
      const start = now();
      for (const t of targets) sink += index.lookup(t).position;
      perLookupUs.push((elapsedMs(start) * 1000) / BATCH);
    }
    if (sink < 0) console.log(sink);
    perLookupUs.sort((a, b) => a - b);
    const p99 = percentile(perLookupUs, 0.99);
    rows.push({ group: 'index', name: `offset index lookup p99, ${label}, ${entries} entries`, value: p99, unit: 'us', target: '< 20 us', met: p99 < 20, note: `p50 ${percentile(perLookupUs, 0.5).toFixed(2)} us` });
  }
  index.close();
  return rows;
}

runIfMain(import.meta.url, run);
