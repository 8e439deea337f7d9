/**
 * Question: how fast is the CRC-32C that every append, read and recovery pays, against the packages a
 * Node user would otherwise take, in the same run? seglog's `crc32c` (its own addon, `native/crc32c.c`,
 * when built) against `@node-rs/crc32` (native, a dependency kept as the fallback) and `crc-32/crc32c`
 * (pure JS), over one 1000 x 100 B batch (110 KB) and a 1 MiB `appendBatch` chunk of seeded random bytes.
 * Rounds interleave the three; figures are medians in GB/s.
 *
 * Run: `node --import tsx bench/record/crc.bench.ts [--quick]` (a few seconds).
 */
import { createRequire } from 'node:module';
import { crc32c, crc32cBackend } from '../_util/seglog.js';
import { elapsedMs, median, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { payload } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

type Crc = (bytes: Uint8Array) => number;

function peers(): { name: string; crc: Crc }[] {
  const require = createRequire(import.meta.url);
  const found: { name: string; crc: Crc }[] = [];
  try {
    const nodeRs = require('@node-rs/crc32') as { crc32c: Crc };
    found.push({ name: '@node-rs/crc32', crc: (b) => nodeRs.crc32c(b) });
  } catch {
    // not installed for this platform: nothing to compare with
  }
  const js = require('crc-32/crc32c') as { buf: Crc };
  found.push({ name: 'crc-32/crc32c (JS)', crc: (b) => js.buf(b) });
  return found;
}

/** GB/s of `crc` over `bytes`, called for at least `budgetMs`. */
function rate(bytes: Uint8Array, crc: Crc, budgetMs: number): number {
  const start = now();
  let calls = 0;
  let elapsed = 0;
  let sink = 0;
  do {
    sink ^= crc(bytes);
    calls++;
    elapsed = elapsedMs(start);
  } while (elapsed < budgetMs);
  if (sink === 0.5) console.log(sink);
  return (calls * bytes.byteLength) / (elapsed * 1e6);
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const budgetMs = options.tiny ? 1 : options.quick ? 40 : 100;
  const rounds = options.tiny ? 1 : options.quick ? 5 : 9;
  options.progress?.('crc32c');
  const others = peers();
  const ours: Crc = (b) => crc32c(b);
  const rows: BenchRow[] = [];
  for (const size of [110_933, 1 << 20]) {
    const bytes = payload('random', size, size);
    for (const peer of others) {
      if (peer.crc(bytes) >>> 0 !== ours(bytes)) throw new Error(`${peer.name} and seglog disagree on a CRC-32C`);
    }
    const samples = [ours, ...others.map((p) => p.crc)].map(() => [] as number[]);
    for (let r = 0; r < rounds + 1; r++) {
      [ours, ...others.map((p) => p.crc)].forEach((crc, i) => {
        const value = rate(bytes, crc, budgetMs);
        if (r > 0) samples[i]!.push(value); // round 0 is warm-up
      });
    }
    const value = median(samples[0]!);
    const label = size === 1 << 20 ? '1 MiB' : '110 KB (one 1000 x 100 B batch)';
    others.forEach((peer, i) => {
      const peerValue = median(samples[i + 1]!);
      rows.push({
        group: 'crc',
        name: `CRC-32C over ${label}`,
        value,
        unit: 'GB/s',
        peer: peer.name,
        peerValue,
        ratio: value / peerValue,
        note: `seglog backend: ${crc32cBackend()}; median of ${rounds}`,
      });
    });
  }
  return rows;
}

runIfMain(import.meta.url, run);
