/**
 * Question: how long does an offset-index lookup take at 1 M entries, for readers anywhere in the index
 * ("cold": random offsets, a binary search over the whole 8 MB file) and for readers near the end ("warm":
 * offsets within the last 1000 entries, which Kafka's warm-section search keeps on 2-3 pages)?
 *
 * The index is built directly (`OffsetIndex`, no log): entries every ~37 offsets (a 4 KiB index interval
 * of ~110-byte records), with seeded gaps, and positions 4 KiB apart. Lookup targets are drawn in advance
 * from a seeded PRNG, so the timed loops only look up.
 *
 * Timing: the clock's resolution and the cost of reading it (~50-100 ns here) are close to one lookup, so
 * the main figures time batches of 100 lookups and divide: p50 and p99 of those per-lookup averages. A
 * batch average hides a single slow lookup, so single lookups are timed too, one `hrtime` pair each; those
 * figures include the timer's own cost, which is reported alongside.
 *
 * "Cold" is about CPU caches and TLB, not the disk: the file was just written, so its pages are in the
 * page cache; a page-cache miss would add a disk read (~0.1-10 ms) that no in-process benchmark can
 * provoke without dropping the machine's caches. Peer, same run: the same binary search written plainly
 * over a `Uint32Array` copy of the offsets (the naive model), which shows what the mapped `DataView`, the
 * key callback and the result object cost.
 */
import path from 'node:path';
import { OffsetIndex } from '../../src/index/offset-index.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { below, median, now, percentile, withTempDir, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { mulberry32 } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const BATCH = 100;
const WARM_ENTRIES = 1000;

interface Built {
  readonly index: OffsetIndex;
  /** The entries' relative offsets, for the peer. */
  readonly offsets: Uint32Array;
  readonly lastOffset: number;
}

function build(file: string, entries: number): Built {
  const index = new OffsetIndex({ fs: new NodeFileSystem(), path: file, baseOffset: 0, maxIndexBytes: entries * 8, writable: true });
  index.load();
  const random = mulberry32(0x1de);
  const offsets = new Uint32Array(entries);
  let offset = 0;
  for (let i = 0; i < entries; i++) {
    offset += 28 + Math.floor(random() * 18); // 28..45 records per 4 KiB: mean ~37
    offsets[i] = offset;
    index.append(offset, i * 4096);
  }
  return { index, offsets, lastOffset: offset };
}

/** `count` lookup targets: uniform over the whole index (cold), or within its last 1000 entries (warm). */
function targets(built: Built, count: number, warm: boolean, seed: number): Float64Array {
  const random = mulberry32(seed);
  const from = warm ? built.offsets[built.offsets.length - WARM_ENTRIES]! : 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = from + Math.floor(random() * (built.lastOffset + 10 - from));
  return out;
}

/** Plain binary search over the offsets: the largest slot with offset <= target, or -1. */
function naiveLookup(offsets: Uint32Array, target: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  if (offsets[0]! > target) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (offsets[mid]! > target) hi = mid - 1;
    else lo = mid;
  }
  return lo;
}

/** A benchmark of a wrong answer is worthless: every target's lookup must match the naive model first. */
function checkAgainstModel(index: OffsetIndex, offsets: Uint32Array, all: Float64Array): void {
  for (const target of all) {
    const slot = naiveLookup(offsets, target);
    const expected = slot < 0 ? { offset: 0, position: 0 } : { offset: offsets[slot]!, position: slot * 4096 };
    const actual = index.lookup(target);
    if (actual.offset !== expected.offset || actual.position !== expected.position) {
      throw new Error(`lookup(${target}) = ${JSON.stringify(actual)}, the model says ${JSON.stringify(expected)}`);
    }
  }
}

type Lookup = (target: number) => number;

/** Per-lookup microseconds of each batch of {@link BATCH} lookups, ascending. */
function batchedMicros(lookup: Lookup, all: Float64Array): Float64Array {
  const batches = Math.floor(all.length / BATCH);
  const micros = new Float64Array(batches);
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const start = now();
    for (let i = b * BATCH, end = i + BATCH; i < end; i++) sink += lookup(all[i]!);
    micros[b] = Number(now() - start) / 1e3 / BATCH;
  }
  if (sink === -1) console.log(sink);
  return micros.sort();
}

/** Microseconds of each single lookup (timer cost included), ascending. */
function singleMicros(lookup: Lookup, all: Float64Array): Float64Array {
  const micros = new Float64Array(all.length);
  let sink = 0;
  for (let i = 0; i < all.length; i++) {
    const start = now();
    sink += lookup(all[i]!);
    micros[i] = Number(now() - start) / 1e3;
  }
  if (sink === -1) console.log(sink);
  return micros.sort();
}

/** Median cost of an empty `hrtime` pair, in microseconds. */
function timerMicros(samples: number): number {
  const micros = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const start = now();
    micros[i] = Number(now() - start) / 1e3;
  }
  return median(Array.from(micros));
}

function us(value: number): string {
  return `${value < 1 ? value.toFixed(3) : value.toFixed(2)} us`;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const mode = options.tiny ? 'tiny' : options.quick ? 'quick' : 'full';
  const entries = mode === 'tiny' ? 10_000 : 1_000_000;
  const lookups = { tiny: 20_000, quick: 500_000, full: 2_000_000 }[mode];
  options.progress?.(`index lookups: ${entries} entries`);
  return withTempDir('index', (dir) => {
    const built = build(path.join(dir, '00000000000000000000.index'), entries);
    const { index, offsets } = built;
    try {
      const seglog: Lookup = (t) => index.lookup(t).position;
      const naive: Lookup = (t) => naiveLookup(offsets, t);
      const cold = targets(built, lookups, false, 1);
      const warm = targets(built, lookups, true, 2);
      checkAgainstModel(index, offsets, cold);
      checkAgainstModel(index, offsets, warm);
      // Warm-up: both paths of the search and the peer reach their optimised tier.
      batchedMicros(seglog, targets(built, lookups, false, 3));
      batchedMicros(seglog, targets(built, lookups, true, 4));
      batchedMicros(naive, targets(built, lookups, false, 5));
      // Back to back after the same warm-up, so both sides run on the same tier of the same machine state.
      const coldBatched = batchedMicros(seglog, cold);
      const naiveBatched = batchedMicros(naive, cold);
      const warmBatched = batchedMicros(seglog, warm);
      const coldSingle = singleMicros(seglog, cold.subarray(0, lookups >> 1));
      const warmSingle = singleMicros(seglog, warm.subarray(0, lookups >> 1));
      const timer = timerMicros(100_000);
      const p = (sorted: Float64Array, q: number) => percentile(sorted, q);
      const label = `${entries / 1e6 >= 1 ? `${entries / 1e6} M` : `${entries / 1e3} K`} entries`;
      return [
        {
          group: 'index',
          name: `offset lookup p99, random offsets (cold), ${label}`,
          value: p(coldBatched, 0.99),
          unit: 'us',
          ...below(p(coldBatched, 0.99), 20, '< 20 us'),
          peer: 'plain Uint32Array binary search p99',
          peerValue: p(naiveBatched, 0.99),
          ratio: p(naiveBatched, 0.99) / p(coldBatched, 0.99),
          note: `per lookup, batches of ${BATCH}; p50 ${us(p(coldBatched, 0.5))} (peer ${us(p(naiveBatched, 0.5))}); ${coldBatched.length} batches`,
        },
        {
          group: 'index',
          name: `offset lookup p99, recent offsets (warm), ${label}`,
          value: p(warmBatched, 0.99),
          unit: 'us',
          ...below(p(warmBatched, 0.99), 20, '< 20 us'),
          peer: 'cold p99',
          peerValue: p(coldBatched, 0.99),
          ratio: p(coldBatched, 0.99) / p(warmBatched, 0.99),
          note: `last ${WARM_ENTRIES} entries; p50 ${us(p(warmBatched, 0.5))}, cold/warm p50 ${(p(coldBatched, 0.5) / p(warmBatched, 0.5)).toFixed(2)}x`,
        },
        {
          group: 'index',
          name: `single offset lookup p99, random offsets (cold), ${label}`,
          value: p(coldSingle, 0.99),
          unit: 'us',
          ...below(p(coldSingle, 0.99), 20, '< 20 us'),
          note: `one hrtime pair per lookup (an empty pair costs ${us(timer)}); p50 ${us(p(coldSingle, 0.5))}, p99.9 ${us(p(coldSingle, 0.999))}, max ${us(p(coldSingle, 1))}`,
        },
        {
          group: 'index',
          name: `single offset lookup p99, recent offsets (warm), ${label}`,
          value: p(warmSingle, 0.99),
          unit: 'us',
          ...below(p(warmSingle, 0.99), 20, '< 20 us'),
          note: `p50 ${us(p(warmSingle, 0.5))}, p99.9 ${us(p(warmSingle, 0.999))}, max ${us(p(warmSingle, 1))}`,
        },
      ];
    } finally {
      index.close();
    }
  });
}

runIfMain(import.meta.url, run);
