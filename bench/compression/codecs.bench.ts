/**
 * Question: what does each codec cost and save on one batch-sized payload, 1000 records' worth of
 * 100-byte values (100,000 bytes), for random bytes (incompressible) and repetitive JSON-like events?
 *
 * Each figure is the median of many timed rounds after warm-up (the first call also loads the codec's
 * native module). MB/s is uncompressed megabytes (10^6 bytes) per second in both directions, so compress
 * and decompress figures compare directly. Codec 0 (none) is left out: it returns its input without
 * copying, so its "speed" would only time a function call.
 *
 * Run alone: `node --import tsx bench/compression/codecs.bench.ts` (add `--quick` for fewer rounds).
 */
import type { CompressionName } from '../../src/compression/codec.js';
import { codecByName } from '../../src/compression/registry.js';
import { elapsedMs, median, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { EVENT_BYTES, payload, type PayloadKind } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const RECORDS = 1000;
const PAYLOAD_BYTES = RECORDS * EVENT_BYTES;
const SEED = 17;
const CODECS: readonly CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const KINDS: readonly PayloadKind[] = ['repetitive', 'random'];
const CONTEXT = { magic: 2, maxBytes: 1 << 24 } as const;

/** Median milliseconds of `rounds` calls of `op`, after `warmup` untimed calls. */
function timeMs(rounds: number, warmup: number, op: () => unknown): number {
  for (let i = 0; i < warmup; i++) op();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = now();
    op();
    samples.push(elapsedMs(start));
  }
  return median(samples);
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.tiny ? 3 : options.quick ? 40 : 200;
  const warmup = options.tiny ? 1 : 10;
  const rows: BenchRow[] = [];
  for (const kind of KINDS) {
    const input = payload(kind, PAYLOAD_BYTES, SEED);
    for (const name of CODECS) {
      options.progress?.(`codec ${name} ${kind}`);
      const codec = codecByName(name);
      const compressed = codec.compress(input);
      const roundTrip = codec.decompress(compressed, CONTEXT);
      if (!Buffer.from(roundTrip).equals(input)) throw new Error(`${name} did not round-trip the ${kind} payload`);
      const compressMs = timeMs(rounds, warmup, () => codec.compress(input));
      const decompressMs = timeMs(rounds, warmup, () => codec.decompress(compressed, CONTEXT));
      const mbps = (ms: number) => input.byteLength / 1e6 / (ms / 1000);
      const ratio = input.byteLength / compressed.byteLength;
      const label = `${kind} ${RECORDS} x ${EVENT_BYTES} B`;
      rows.push({
        group: 'codec',
        name: `${name} compress, ${label}`,
        value: mbps(compressMs),
        unit: 'MB/s',
        note: `ratio ${ratio.toFixed(2)}x (${input.byteLength} -> ${compressed.byteLength} B)`,
      });
      rows.push({ group: 'codec', name: `${name} decompress, ${label}`, value: mbps(decompressMs), unit: 'MB/s' });
    }
  }
  return rows;
}

runIfMain(import.meta.url, run);
