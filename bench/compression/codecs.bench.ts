/**
 * Question: what does each codec cost and save on a batch-sized payload (1000 records of 100 bytes,
 * ~110 KB), for random bytes (incompressible) and repetitive JSON-like events?
 */
import { codecByName } from '../../src/compression/registry.js';
import { elapsedMs, median, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { payload, type PayloadKind } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.tiny ? 3 : 30;
  const rows: BenchRow[] = [];
  for (const kind of ['repetitive', 'random'] as PayloadKind[]) {
    const input = payload(kind, 110_000, 17);
    for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      options.progress?.(`codec ${name} ${kind}`);
      const codec = codecByName(name);
      const compressed = codec.compress(input);
      const compressMs = median(Array.from({ length: rounds }, () => {
        const start = now();
        codec.compress(input);
        return elapsedMs(start);
      }));
      const decompressMs = median(Array.from({ length: rounds }, () => {
        const start = now();
        codec.decompress(compressed, { magic: 2, maxBytes: 1 << 24 });
        return elapsedMs(start);
      }));
      const mbps = (ms: number) => input.length / 1e6 / (ms / 1000);
      rows.push({ group: 'codec', name: `${name} compress, ${kind} 110 KB`, value: mbps(compressMs), unit: 'MB/s', note: `ratio ${(input.length / compressed.byteLength).toFixed(2)}` });
      rows.push({ group: 'codec', name: `${name} decompress, ${kind} 110 KB`, value: mbps(decompressMs), unit: 'MB/s' });
    }
  }
  return rows;
}

runIfMain(import.meta.url, run);
