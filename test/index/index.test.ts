import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptIndexError } from '../../src/errors.js';
import { OffsetIndex } from '../../src/index/offset-index.js';
import { TimeIndex } from '../../src/index/time-index.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const nodeFs = new NodeFileSystem();

function offsetIndex(dir: string, baseOffset: number, maxIndexBytes = 1 << 20, writable = true): OffsetIndex {
  const index = new OffsetIndex({ fs: nodeFs, path: path.join(dir, `${baseOffset}.index`), baseOffset, maxIndexBytes, writable });
  index.load();
  return index;
}
function timeIndex(dir: string, baseOffset: number, maxIndexBytes = 1 << 20, writable = true): TimeIndex {
  const index = new TimeIndex({ fs: nodeFs, path: path.join(dir, `${baseOffset}.timeindex`), baseOffset, maxIndexBytes, writable });
  index.load();
  return index;
}

/** The naive model: the largest entry with key <= target, by linear scan. */
function floorEntry<T>(entries: T[], key: (e: T) => number, target: number): T | undefined {
  let found: T | undefined;
  for (const e of entries) if (key(e) <= target) found = e;
  return found;
}

describe('OffsetIndex against a sorted-array model', () => {
  it('exhaustive for every size up to 40 entries and every target', () => {
    const dir = tempDir();
    for (let n = 0; n <= 40; n++) {
      const base = 1000;
      const index = offsetIndex(dir, base + n * 10_000);
      const entries = Array.from({ length: n }, (_, i) => ({ offset: base + n * 10_000 + i * 3 + 1, position: i * 100 + 7 }));
      for (const e of entries) index.append(e.offset, e.position);
      const first = base + n * 10_000;
      for (let target = first - 2; target <= first + n * 3 + 3; target++) {
        const want = floorEntry(entries, (e) => e.offset, target) ?? { offset: first, position: 0 };
        expect(index.lookup(target)).toEqual(want);
      }
      index.close();
    }
  });

  it('large indexes, random lookups through the warm and cold sections (property)', () => {
    const seed = testSeed('offset index property');
    const dir = tempDir();
    const rng = new Rng(seed);
    const index = offsetIndex(dir, 5, 8 * 200_000);
    const entries: { offset: number; position: number }[] = [];
    let offset = 5;
    let position = 0;
    for (let i = 0; i < 150_000; i++) {
      offset += rng.int(1, 50);
      position += rng.int(1, 5000);
      entries.push({ offset, position });
      index.append(offset, position);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: offset + 100 }), (target) => {
        const want = floorEntry(entries, (e) => e.offset, target) ?? { offset: 5, position: 0 };
        expect(index.lookup(target)).toEqual(want);
      }),
      { seed, numRuns: 500 },
    );
    index.close();
  });

  it('rejects non-increasing offsets, truncates, trims on close and reloads exactly', () => {
    const dir = tempDir();
    const index = offsetIndex(dir, 0, 800);
    expect(index.maxEntries).toBe(100);
    for (let i = 1; i <= 10; i++) index.append(i * 10, i * 100);
    expect(() => index.append(100, 5000)).toThrow(CorruptIndexError);
    index.truncateTo(55);
    expect(index.entries).toBe(5);
    index.truncateTo(50);
    expect(index.entries).toBe(4);
    index.close();
    const file = path.join(dir, '0.index');
    expect(fs.statSync(file).size).toBe(32);
    const reloaded = offsetIndex(dir, 0, 800, false);
    expect(reloaded.entries).toBe(4);
    expect(reloaded.lookup(45)).toEqual({ offset: 40, position: 400 });
    reloaded.close();
  });

  it('fills up, and a preallocated file is written with real zeros (not sparse)', () => {
    const dir = tempDir();
    const index = offsetIndex(dir, 0, 80);
    for (let i = 0; i < 10; i++) index.append(i + 1, i);
    expect(index.isFull).toBe(true);
    const stat = fs.statSync(path.join(dir, '0.index'));
    expect(stat.size).toBe(80);
    expect(stat.blocks * 512).toBeGreaterThanOrEqual(80);
    index.close();
  });

  it('an untrimmed (zero-padded) or damaged file fails its sanity check instead of looking full', () => {
    const dir = tempDir();
    const index = offsetIndex(dir, 0, 800);
    for (let i = 1; i <= 5; i++) index.append(i, i * 10);
    index.close();
    const file = path.join(dir, '0.index');
    fs.writeFileSync(file, Buffer.concat([fs.readFileSync(file), Buffer.alloc(80)]));
    expect(() => offsetIndex(dir, 0, 800, false)).toThrow(CorruptIndexError);
    fs.writeFileSync(file, Buffer.alloc(13));
    expect(() => offsetIndex(dir, 0, 800, false)).toThrow(CorruptIndexError);
  });
});

describe('TimeIndex against a model', () => {
  it('appends only growing timestamps, keeps a spare slot, and looks up like a linear scan', () => {
    const seed = testSeed('time index');
    const rng = new Rng(seed);
    const dir = tempDir();
    const index = timeIndex(dir, 100, 12 * 1000);
    const entries: { timestamp: number; offset: number }[] = [];
    let ts = 1_600_000_000_000;
    let offset = 100;
    while (!index.isFull) {
      ts += rng.int(-5, 20);
      offset += rng.int(1, 10);
      const last = entries[entries.length - 1];
      if (last !== undefined && ts < last.timestamp) ts = last.timestamp;
      index.maybeAppend(ts, offset);
      if (last === undefined || ts > last.timestamp) entries.push({ timestamp: ts, offset });
    }
    expect(index.entries).toBe(entries.length);
    expect(index.entries).toBe(index.maxEntries - 1);
    index.maybeAppend(ts + 1, offset + 1, true); // the roll entry uses the spare slot
    entries.push({ timestamp: ts + 1, offset: offset + 1 });
    for (let k = 0; k < 2000; k++) {
      const target = rng.int(1_600_000_000_000 - 10, ts + 10);
      const want = floorEntry(entries, (e) => e.timestamp, target) ?? { timestamp: -1, offset: 100 };
      expect(index.lookup(target)).toEqual(want);
    }
    expect(() => index.maybeAppend(ts - 100, offset + 5, true)).toThrow(CorruptIndexError);
    index.close();
  });

  it('a timestamp of -1 (v0 data) leaves the index empty', () => {
    const index = timeIndex(tempDir(), 0);
    index.maybeAppend(-1, 5);
    expect(index.entries).toBe(0);
    expect(index.lastEntry).toEqual({ timestamp: -1, offset: 0 });
    index.close();
  });
});
