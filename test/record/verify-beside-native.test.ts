/**
 * The addon's `verifyBatchesBeside` (native/verify-batches.c over native/beside.c): its results (written
 * over the layout) against the addon's own CRC and walk on random batch layouts, `during` run exactly once and beside the checks, its
 * exception propagated, bad arguments refused with typed errors.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import { encodeBatch } from '../../src/main.js';
import * as L from '../../src/record/layout.js';
import { Rng, testSeed } from '../helpers/random.js';
import { walkDefinition } from '../helpers/record-walk.js';

const addon = nativeAddon();

/** Batches of random records laid end to end, with their (position, size, count) layout. */
function batches(rng: Rng): { bytes: Uint8Array; layout: Float64Array } {
  const parts = Array.from({ length: rng.int(1, 6) }, () =>
    encodeBatch(Array.from({ length: rng.int(1, 400) }, () => ({ value: rng.bytes(rng.int(0, 300)) }))),
  );
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  const layout = new Float64Array(parts.length * 3);
  let at = 0;
  parts.forEach((part, i) => {
    bytes.set(part, at);
    layout.set([at, part.byteLength, rng.bool(0.2) ? -1 : new DataView(part.buffer, part.byteOffset).getInt32(L.RECORDS_COUNT_OFFSET)], i * 3);
    at += part.byteLength;
  });
  return { bytes, layout };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the worker has parked (after its 2 ms poll window, 20 ms after a slow wake-up); 10 s at most. */
async function untilParked(): Promise<void> {
  for (const start = Date.now(); addon!.besideStats()[3] !== 1; await sleep(2)) {
    if (Date.now() - start > 10_000) throw new Error('the worker did not park');
  }
}

describe.skipIf(addon === undefined)('verifyBatchesBeside (addon)', () => {
  // Tests that expect the worker to run a job must not meet a back-off that a slow wake-up on a loaded
  // machine started: slow wake-ups are judged only where a test asks for it.
  beforeAll(() => addon!.besideTuning(1e15, true));
  afterAll(() => addon!.besideTuning(-1, true));

  it('gives the CRC and walk of every batch, mutated or not, and runs `during` once (seeded)', () => {
    const rng = new Rng(testSeed('verify beside'));
    for (let round = 0; round < 200; round++) {
      const { bytes, layout } = batches(rng);
      for (let m = rng.int(0, 2); m > 0; m--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      let calls = 0;
      const input = Float64Array.from(layout);
      addon!.verifyBatchesBeside(bytes, layout, () => void calls++);
      expect(calls).toBe(1);
      for (let i = 0; i < layout.length / 3; i++) {
        const [position, size, count] = [input[i * 3]!, input[i * 3 + 1]!, input[i * 3 + 2]!];
        const batch = bytes.subarray(position, position + size);
        expect(layout[i * 3]).toBe(addon!.crc32c(batch, L.CRC_COVERED_START, size));
        expect(layout[i * 3 + 1]).toBe(count < 0 ? 0 : addon!.recordLengthsEnd(batch, L.RECORDS_OFFSET, size, count));
      }
    }
  });

  it('agrees with the one-pass CRC and the walk definition on large batches damaged near its 16 KiB chunk edges (seeded)', () => {
    // The job takes a batch 16 KiB at a time (the CRC, then the walk up to the chunk's end): a record whose
    // length or bytes straddle an edge, a walk that ends in the last chunk or wants records past the end.
    const rng = new Rng(testSeed('verify beside chunks'));
    const CHUNK = 16 * 1024;
    for (let round = 0; round < 150; round++) {
      const records = Array.from({ length: rng.int(200, 1500) }, () => ({ value: rng.bytes(rng.bool(0.05) ? rng.int(0, 40_000) : rng.int(0, 200)) }));
      const bytes = new Uint8Array(encodeBatch(records));
      const edges = Math.floor((bytes.length - L.CRC_COVERED_START) / CHUNK);
      for (let m = rng.int(0, 2); m > 0 && edges > 0; m--) {
        const at = L.CRC_COVERED_START + rng.int(1, edges) * CHUNK + rng.int(-3, 2);
        if (at >= L.RECORDS_OFFSET && at < bytes.length) bytes[at] = rng.int(0, 255);
      }
      const count = records.length + (rng.bool(0.3) ? rng.int(-2, 2) : 0);
      const layout = Float64Array.of(0, bytes.byteLength, count);
      addon!.verifyBatchesBeside(bytes, layout, () => {});
      expect(layout[0]).toBe(addon!.crc32c(bytes, L.CRC_COVERED_START, bytes.byteLength));
      expect(layout[1]).toBe(walkDefinition(bytes, L.RECORDS_OFFSET, bytes.byteLength, count));
    }
  });

  it('runs the checks on the worker while `during` runs, and has the results once it returns', () => {
    const bytes = new Uint8Array(encodeBatch(Array.from({ length: 20_000 }, (_, i) => ({ value: new Uint8Array(100).fill(i) }))));
    const expected = addon!.crc32c(bytes, L.CRC_COVERED_START, bytes.byteLength);
    const jobs = addon!.workerJobs();
    for (let i = 0; i < 20; i++) {
      const layout = Float64Array.of(0, bytes.byteLength, 20_000);
      const spinUntil = performance.now() + 2; // long enough for the worker to wake and pick the job up
      addon!.verifyBatchesBeside(bytes, layout, () => {
        expect([...layout]).toEqual([0, bytes.byteLength, 20_000]); // results arrive only after `during`
        while (performance.now() < spinUntil);
      });
      expect([...layout]).toEqual([expected, bytes.byteLength, 20_000]);
    }
    // The worker ran (some of) them; on one CPU there is no worker and everything runs inline.
    if (os.availableParallelism() >= 2) expect(addon!.workerJobs()).toBeGreaterThan(jobs);
  });

  it('hands jobs over with no wake-up lost, whether the worker polls or parks (seeded gaps)', async () => {
    const rng = new Rng(testSeed('verify beside handover'));
    const bytes = new Uint8Array(encodeBatch(Array.from({ length: 3000 }, (_, i) => ({ value: new Uint8Array(100).fill(i) }))));
    const expected = addon!.crc32c(bytes, L.CRC_COVERED_START, bytes.byteLength);
    for (let i = 0; i < 300; i++) {
      const layout = Float64Array.of(0, bytes.byteLength, 3000);
      const busyUntil = performance.now() + rng.int(0, 200) / 1000; // a write of 0-200 us
      addon!.verifyBatchesBeside(bytes, layout, () => {
        while (performance.now() < busyUntil);
      });
      expect(layout[0]).toBe(expected);
      // Mostly back to back (the worker still polls), sometimes past its 2 ms window (it has parked).
      if (rng.bool(0.05)) await new Promise((resolve) => setTimeout(resolve, 3));
      else if (rng.bool(0.3)) await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it('leaves a parked worker asleep after a slow wake-up, runs the job inline, and wakes it once the back-off ends', async () => {
    if (os.availableParallelism() < 2) return; // no worker to wake
    const bytes = new Uint8Array(encodeBatch(Array.from({ length: 3000 }, (_, i) => ({ value: new Uint8Array(100).fill(i) }))));
    const expected = addon!.crc32c(bytes, L.CRC_COVERED_START, bytes.byteLength);
    const call = (): void => {
      const layout = Float64Array.of(0, bytes.byteLength, 3000);
      const busyUntil = performance.now() + 1; // the job has time to be picked up
      addon!.verifyBatchesBeside(bytes, layout, () => {
        while (performance.now() < busyUntil);
      });
      expect([...layout]).toEqual([expected, bytes.byteLength, 3000]);
    };
    try {
      addon!.besideTuning(0, true); // every wake-up counts as slow
      const [wakeups, slow, refused] = addon!.besideStats();
      // A wake-up of the parked worker starts a back-off: the next 16 calls that find the worker parked
      // run inline, and the worker stays parked.
      await untilParked();
      call(); // wakes it, slowly by the threshold
      await untilParked();
      for (let i = 0; i < 3; i++) {
        const jobs = addon!.workerJobs();
        const before = addon!.besideStats()[2];
        call();
        expect(addon!.besideStats()[2]).toBe(before + 1);
        expect(addon!.workerJobs()).toBe(jobs); // nothing ran on the worker
        expect(addon!.besideStats()[3]).toBe(1);
      }
      const after = addon!.besideStats();
      expect(after[0]).toBeGreaterThan(wakeups);
      expect(after[1]).toBeGreaterThan(slow);
      expect(after[2]).toBeGreaterThan(refused);
      // The back-off ended (and wake-ups no longer judged slow): the parked worker is woken and used again.
      addon!.besideTuning(1e15, true);
      await untilParked();
      const jobs = addon!.workerJobs();
      const stats = addon!.besideStats();
      for (let i = 0; i < 20; i++) call();
      expect(addon!.besideStats()[0]).toBeGreaterThan(stats[0]);
      expect(addon!.besideStats()[2]).toBe(stats[2]);
      expect(addon!.workerJobs()).toBeGreaterThan(jobs);
    } finally {
      addon!.besideTuning(1e15, true);
    }
  });

  it('a call nested in `during` (worker claimed) runs inline and both get their results', () => {
    const bytes = new Uint8Array(encodeBatch(Array.from({ length: 5000 }, (_, i) => ({ value: new Uint8Array(100).fill(i) }))));
    const expected = addon!.crc32c(bytes, L.CRC_COVERED_START, bytes.byteLength);
    const outer = Float64Array.of(0, bytes.byteLength, 5000);
    const inner = Float64Array.of(0, bytes.byteLength, 5000);
    addon!.verifyBatchesBeside(bytes, outer, () => addon!.verifyBatchesBeside(bytes, inner, () => undefined));
    expect([...outer]).toEqual([expected, bytes.byteLength, 5000]);
    expect([...inner]).toEqual([expected, bytes.byteLength, 5000]);
  });

  it("propagates what `during` throws (after the checks are done) and stays usable", () => {
    const bytes = new Uint8Array(encodeBatch(Array.from({ length: 5000 }, () => ({ value: 'x'.repeat(100) }))));
    const layout = Float64Array.of(0, bytes.byteLength, 5000);
    const failure = new Error('write failed');
    expect(() => addon!.verifyBatchesBeside(bytes, layout, () => { throw failure; })).toThrow(failure);
    expect([...layout]).toEqual([0, bytes.byteLength, 5000]); // untouched
    addon!.verifyBatchesBeside(bytes, layout, () => undefined);
    expect(layout[1]).toBe(bytes.byteLength);
  });

  it('refuses bad arguments with typed errors, without calling `during`', () => {
    const bytes = new Uint8Array(encodeBatch([{ value: 'x' }]));
    const during = (): never => {
      throw new Error('must not run');
    };
    expect(() => addon!.verifyBatchesBeside([] as unknown as Uint8Array, Float64Array.of(0, 70, 1), during)).toThrow(TypeError);
    expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0, bytes.length + 1, 1), during)).toThrow(RangeError);
    expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0, 60, 1), during)).toThrow(RangeError);
    expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0.5, 61, 1), during)).toThrow(RangeError);
    for (const bad of [NaN, Infinity, -2, 1.5, 2 ** 53, 2 ** 31]) {
      expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0, bytes.length, bad), during)).toThrow(RangeError); // count (-1: compressed)
    }
    for (const bad of [NaN, Infinity, -1, 2 ** 53]) {
      expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(bad, 61, 1), during)).toThrow(RangeError); // position
      expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0, bad, 1), during)).toThrow(RangeError); // size
    }
    expect(() => addon!.verifyBatchesBeside(bytes, new Float64Array(0), during)).toThrow(TypeError);
    expect(() => addon!.verifyBatchesBeside(bytes, Float64Array.of(0, bytes.length, 1), 1 as unknown as () => void)).toThrow(TypeError);
  });
});
