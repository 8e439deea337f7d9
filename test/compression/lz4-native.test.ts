/**
 * The addon's LZ4 frame compressor (native/lz4-frame.c, its blocks split between the calling thread and
 * the worker of native/beside.c): byte for byte the frame of an independent reference (node-lz4's block
 * compressor per 64 KiB block, Kafka's stored-block rule, header checksum from xxhashjs), for seeded inputs
 * of every size class; readable by node-lz4, KafkaJS's lz4 codec and seglog; the same bytes when the
 * worker is busy or a prefix was started (the record batch builder's pipeline); bad arguments refused with
 * typed errors and a small output refused before anything is written.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import { codecByName } from '../../src/compression/registry.js';
import { decodeBatches, encodeBatch, RecordBatchBuilder } from '../../src/main.js';
import * as L from '../../src/record/layout.js';
import { Rng, testSeed } from '../helpers/random.js';
import { ctx, lz4Frame, require, same, xxh32 } from './helpers.js';

const addon = nativeAddon();
const BLOCK = 64 << 10;
const lz4Library = require('lz4') as { decode(frame: Buffer): Buffer; bindings?: unknown };
const lz4Block = (require('lz4/lib/utils.js') as { bindings: { compressBound(n: number): number; compress(i: Uint8Array, o: Uint8Array): number } }).bindings;
const kafkajsLz4 = new (require('kafkajs-lz4') as new () => { codec(): { decompress(b: Buffer): Promise<Buffer> } })().codec();

/**
 * The Kafka frame of `input` built independently: node-lz4 per block, stored when it does not shrink, or
 * when a block of 8 KiB or more shrinks its first 2 KiB by less than 64 bytes (seglog's sample test).
 * Blocks end at `ends` (then every 64 KiB to the end), by default every 64 KiB.
 */
function referenceFrame(input: Uint8Array, legacy = false, ends: readonly number[] = []): Buffer {
  const blocks: { data: Uint8Array; stored: boolean }[] = [];
  const scratch = Buffer.alloc(lz4Block.compressBound(BLOCK));
  const cuts = [...ends];
  while ((cuts[cuts.length - 1] ?? 0) < input.byteLength) cuts.push(Math.min((cuts[cuts.length - 1] ?? 0) + BLOCK, input.byteLength));
  for (let k = 0, from = 0; k < cuts.length; from = cuts[k++]!) {
    const data = input.subarray(from, cuts[k]);
    const sampleStored = data.byteLength >= 8192 && lz4Block.compress(data.subarray(0, 2048), scratch) > 2048 - 64;
    const n = sampleStored ? 0 : lz4Block.compress(data, scratch);
    blocks.push({ data, stored: !(n > 0 && n < data.byteLength) });
  }
  const hc = legacy ? (xxh32(Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40)) >>> 8) & 0xff : undefined;
  return lz4Frame({ blocks, ...(hc === undefined ? {} : { hc }) });
}

/** The addon's frame of `input` in a fresh buffer of exactly the bound. */
function nativeFrame(input: Uint8Array, legacy = false): Buffer {
  const out = Buffer.alloc(addon!.lz4FrameBound(input.byteLength));
  return out.subarray(0, addon!.lz4CompressFrame(input, 0, input.byteLength, out, 0, legacy));
}

/** Random bytes (incompressible), one repeated short unit (very compressible), or runs of both. */
function input(rng: Rng, size: number, kind: 'random' | 'repetitive' | 'mixed'): Buffer {
  const out = Buffer.alloc(size);
  if (kind === 'random') out.set(rng.bytes(size));
  else if (kind === 'repetitive') for (let i = 0; i < size; i++) out[i] = 97 + (i % 13);
  else for (let at = 0; at < size; ) {
    const run = Math.min(size - at, rng.int(1, 40_000));
    out.set(rng.bool() ? rng.bytes(run) : Buffer.alloc(run, rng.int(0, 255)), at);
    at += run;
  }
  return out;
}

/**
 * Where the pipeline's blocks end (native/lz4-frame.c) for an input of `n` bytes published up to
 * `published`: 16 KiB, 48 KiB, then every 64 KiB, at most 32 blocks; at the end whole 64 KiB blocks while
 * more than one is left, then the rest cut into near-equal blocks of at most 32 KiB.
 */
function pipelineEnds(n: number, published: number): number[] {
  const ends: number[] = [];
  const boundary = (k: number) => (k === 0 ? 16 << 10 : (48 << 10) + (k - 1) * BLOCK);
  while (ends.length < 32 && boundary(ends.length) <= published) ends.push(boundary(ends.length));
  let at = ends[ends.length - 1] ?? 0;
  while (ends.length < 32 && n - at >= BLOCK) ends.push((at += BLOCK));
  const rest = n - at;
  const parts = Math.ceil(rest / (32 << 10));
  for (let i = 1; rest < BLOCK && i <= parts && ends.length < 32; i++) ends.push(at + Math.floor((rest * i) / parts));
  return ends;
}

/**
 * Whether the worker is free (claimed and given back at once). After a frame it may not be yet: when the
 * worker has not returned from its part ~50 us after its last block, lz4CompressFrame detaches from it and
 * the worker gives itself back when it returns.
 */
function workerFree(): boolean {
  if (!addon!.lz4BesideClaim()) return false;
  addon!.lz4BesideCancel();
  return true;
}

/** Polls `done` every millisecond until it holds; fails after 10 s. */
async function until(done: () => boolean): Promise<void> {
  for (const start = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 1))) {
    if (Date.now() - start > 10_000) throw new Error('timed out waiting for the worker');
  }
}

const SIZES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 110_000, 1 << 20];
const KINDS = ['random', 'repetitive', 'mixed'] as const;

// These tests claim the worker and expect to get it: a back-off started by a slow wake-up on a loaded
// machine would refuse claims (native/beside.c), so wake-ups are not judged slow in this file.
beforeAll(() => addon?.besideTuning(1e15, true));
afterAll(() => addon?.besideTuning(-1, true));

describe.skipIf(addon === undefined)('lz4CompressFrame (addon)', () => {
  it('writes the reference frame for every size class and kind, both header checksums (seeded)', () => {
    const rng = new Rng(testSeed('lz4 native frames'));
    const sizes = [...SIZES, ...Array.from({ length: 12 }, () => rng.int(0, 5 * BLOCK))];
    for (const size of sizes) {
      for (const kind of KINDS) {
        const data = input(rng, size, kind);
        for (const legacy of [false, true]) {
          expect(same(nativeFrame(data, legacy), referenceFrame(data, legacy)), `${size} ${kind} legacy=${legacy} seed=${rng.seed}`).toBe(true);
        }
      }
    }
  });

  it('is what the lz4 codec writes at the default level, and node-lz4, KafkaJS and seglog read it back', async () => {
    const rng = new Rng(testSeed('lz4 native readers'));
    for (const size of SIZES) {
      for (const kind of KINDS) {
        const data = input(rng, size, kind);
        const frame = nativeFrame(data);
        expect(same(codecByName('lz4').compress(data), frame), `${size} ${kind}`).toBe(true);
        expect(same(lz4Library.decode(frame), data), `node-lz4 ${size} ${kind}`).toBe(true);
        expect(same(await kafkajsLz4.decompress(frame), data), `KafkaJS ${size} ${kind}`).toBe(true);
        expect(same(codecByName('lz4').decompress(frame, ctx(2, Math.max(size, 1))), data), `seglog ${size} ${kind}`).toBe(true);
      }
    }
  });

  it('compresses input[start, end) to output from outStart and writes nothing outside the frame', () => {
    const rng = new Rng(testSeed('lz4 native offsets'));
    for (let round = 0; round < 20; round++) {
      const data = input(rng, rng.int(0, 3 * BLOCK), 'mixed');
      const start = rng.int(0, data.byteLength);
      const end = rng.int(start, data.byteLength);
      const expected = referenceFrame(data.subarray(start, end));
      const outStart = rng.int(0, 100);
      const out = Buffer.alloc(outStart + addon!.lz4FrameBound(end - start) + 7, 0xee);
      const frameEnd = addon!.lz4CompressFrame(data, start, end, out, outStart);
      expect(frameEnd - outStart, `seed=${rng.seed}`).toBe(expected.byteLength);
      expect(same(out.subarray(outStart, frameEnd), expected), `seed=${rng.seed}`).toBe(true);
      expect(out.subarray(0, outStart).every((b) => b === 0xee)).toBe(true);
      // Past the frame the worker's part may have been staged before it moved down, but never past the bound.
      expect(out.subarray(outStart + addon!.lz4FrameBound(end - start)).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('gives the same bytes when the worker is busy (inside verifyBatchesBeside) and stays usable after', () => {
    const rng = new Rng(testSeed('lz4 native busy worker'));
    const batch = new Uint8Array(encodeBatch(Array.from({ length: 5000 }, (_, i) => ({ value: new Uint8Array(100).fill(i) }))));
    const layout = Float64Array.of(0, batch.byteLength, 5000);
    const data = input(rng, 1 << 20, 'mixed');
    const expected = referenceFrame(data);
    let during: Buffer | undefined;
    addon!.verifyBatchesBeside(batch, layout, () => {
      during = nativeFrame(data);
    });
    expect(same(during!, expected)).toBe(true);
    expect(same(nativeFrame(data), expected)).toBe(true);
  });

  it('uses the blocks published to the pipeline, and redoes them for other bytes, after a cancel or a busy worker', async () => {
    const rng = new Rng(testSeed('lz4 native pipeline'));
    const copies: Buffer[] = [];
    for (let round = 0; round < 36; round++) {
      const size = rng.int(0, 9) === 0 ? rng.int(2 << 20, 3 << 20) : rng.int(0, 4 * BLOCK);
      const data = input(rng, size, ['random', 'mixed', 'repetitive'][round % 3] as 'mixed');
      const bound = addon!.lz4FrameBound(data.byteLength);
      const out = Buffer.alloc(bound + 16, 0xee);
      const frame = (): Buffer => out.subarray(0, addon!.lz4CompressFrame(data, 0, data.byteLength, out, 0));
      let expected = referenceFrame(data);
      await until(workerFree);
      switch (round % 6) {
        case 0: { // the builder's pipeline: claim, publish at each mark the last one returned, frame
          expect(addon!.lz4BesideClaim()).toBe(true);
          let published = 0;
          for (let end = 0, mark = 0; end <= size && mark >= 0; end += rng.int(1, 30_000)) {
            if (end < mark) continue;
            mark = addon!.lz4BesidePublish(data, end);
            published = end;
          }
          if (published >= 16 << 10) expected = referenceFrame(data, false, pipelineEnds(size, published));
          break;
        }
        case 1: // one publish of everything
          addon!.lz4BesideClaim();
          addon!.lz4BesidePublish(data, size);
          if (size >= 16 << 10) expected = referenceFrame(data, false, pipelineEnds(size, size));
          break;
        case 2: // published from a copy (other memory): dropped, the frame is compressed anew
          addon!.lz4BesideClaim();
          copies.push(Buffer.from(data)); // referenced until the frame, as the contract asks
          addon!.lz4BesidePublish(copies[copies.length - 1]!, size);
          break;
        case 3: // a claim and no publish: the frame splits its blocks on the claimed worker
          addon!.lz4BesideClaim();
          break;
        case 4: // a cancelled pipeline, then a plain frame
          addon!.lz4BesideClaim();
          addon!.lz4BesidePublish(data, size);
          addon!.lz4BesideCancel();
          break;
        default: {
          // the worker busy: no claim, no pipeline, the frame does it all
          const small = new Uint8Array(encodeBatch([{ value: 'x' }]));
          addon!.verifyBatchesBeside(small, Float64Array.of(0, small.byteLength, 1), () => {
            expect(addon!.lz4BesideClaim()).toBe(false);
            expect(addon!.lz4BesidePublish(data, size)).toBe(-1);
          });
        }
      }
      const got = frame();
      expect(same(got, expected), `round ${round} size ${size} seed=${rng.seed}`).toBe(true);
      expect(same(lz4Library.decode(got), data), `round ${round} decodes`).toBe(true);
      expect(out.subarray(bound).every((b) => b === 0xee), `round ${round}: nothing past the bound`).toBe(true);
    }
    addon!.lz4BesideCancel(); // nothing pending: a no-op
    await until(workerFree);
    expect(addon!.lz4BesideClaim()).toBe(true); // the worker is free again
    addon!.lz4BesideCancel();
  });

  it('takes blocks from a buffer that grew between publishes, and never writes past the bound', async () => {
    const rng = new Rng(testSeed('lz4 native grown'));
    for (let round = 0; round < 10; round++) {
      const data = input(rng, rng.int(100_000, 5 * BLOCK), 'mixed');
      const first = Buffer.from(data.subarray(0, 60_000)); // the buffer before it grew: same bytes so far
      const bound = addon!.lz4FrameBound(data.byteLength);
      const out = Buffer.alloc(bound + 64, 0xee);
      await until(workerFree);
      expect(addon!.lz4BesideClaim()).toBe(true);
      expect(addon!.lz4BesidePublish(first, 60_000)).toBe(112 << 10);
      addon!.lz4BesidePublish(data, data.byteLength);
      const end = addon!.lz4CompressFrame(data, 0, data.byteLength, out, 0);
      expect(first.byteLength).toBe(60_000); // `first` referenced until the frame, as the contract asks
      expect(same(out.subarray(0, end), referenceFrame(data, false, pipelineEnds(data.byteLength, data.byteLength))), `seed=${rng.seed}`).toBe(true);
      expect(out.subarray(bound).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('fits frames of every size near a 64 KiB multiple in their bound, incompressible or not', () => {
    for (const blocks of [1, 2, 3, 31, 32, 33]) {
      for (const delta of [-1, 0, 1, (16 << 10) + 1]) {
        const size = blocks * BLOCK + delta;
        // Uniform, random (stored on its sample), and random behind 2 KiB of zeros in every 16 KiB (blocks
        // that pass the sample and come out near their input's size).
        const lying = Buffer.from(new Rng(size).bytes(size));
        for (let at = 0; at < size; at += 16 << 10) lying.fill(0, at, Math.min(size, at + 2048));
        for (const data of [Buffer.alloc(size, 9), Buffer.from(new Rng(size).bytes(size)), lying]) {
          const bound = addon!.lz4FrameBound(size);
          const out = Buffer.alloc(bound + 16, 0xee);
          addon!.lz4BesideClaim();
          addon!.lz4BesidePublish(data, size);
          const end = addon!.lz4CompressFrame(data, 0, size, out, 0);
          expect(end).toBeLessThanOrEqual(bound);
          expect(out.subarray(bound).every((b) => b === 0xee), `${size}`).toBe(true);
          expect(same(lz4Library.decode(out.subarray(0, end)), data), `${size}`).toBe(true);
          expect(same(out.subarray(0, end), referenceFrame(data, false, pipelineEnds(size, size))), `${size}`).toBe(true);
        }
      }
    }
  });

  it('a worker_threads env that ends with a pipeline running waits for it and gives the worker back', async () => {
    const { Worker } = await import('node:worker_threads');
    const script = `
      const { workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      addon.lz4BesideClaim();
      globalThis.published = Buffer.alloc(1 << 20, 3); // referenced to the end, as the contract asks
      addon.lz4BesidePublish(globalThis.published, 1 << 20); // the env ends before any lz4CompressFrame
    `;
    for (let i = 0; i < 5; i++) {
      const worker = new Worker(script, { eval: true, workerData: { path: require.resolve('../../build/Release/seglog_native.node') } });
      await new Promise((resolve, reject) => worker.on('exit', resolve).on('error', reject));
    }
    await until(workerFree);
    expect(addon!.lz4BesideClaim()).toBe(true);
    addon!.lz4BesideCancel();
    const data = Buffer.alloc(3 * BLOCK, 5);
    expect(same(nativeFrame(data), referenceFrame(data))).toBe(true);
  });

  it('takes over a block the worker is late with, detaches from the worker and pins the input until it returns', async () => {
    const rng = new Rng(testSeed('lz4 native take over'));
    const data = input(rng, 110_000, 'mixed');
    const out = Buffer.alloc(addon!.lz4FrameBound(data.byteLength));
    const held = addon!.lz4TestStallWorker!(true);
    try {
      expect(addon!.lz4BesideClaim()).toBe(true);
      addon!.lz4BesidePublish(data, data.byteLength); // blocks 16 KiB, 32 KiB, then two of ~30 KiB
      await until(() => addon!.lz4TestStallWorker!() > held); // the worker holds block 0
      const frame = out.subarray(0, addon!.lz4CompressFrame(data, 0, data.byteLength, out, 0));
      expect(same(frame, referenceFrame(data, false, pipelineEnds(data.byteLength, data.byteLength))), `seed=${rng.seed}`).toBe(true);
      expect(addon!.lz4TestPinned!()).toBe(true); // the worker still reads `data`
      expect(addon!.lz4BesideClaim()).toBe(false); // and still holds itself
      expect(same(nativeFrame(data), referenceFrame(data))).toBe(true); // frames meanwhile: all on this thread
    } finally {
      addon!.lz4TestStallWorker!(false);
    }
    await until(() => addon!.lz4BesideClaim()); // it returned and gave itself back; the claim unpins
    expect(addon!.lz4TestPinned!()).toBe(false);
    addon!.lz4BesideCancel();
    expect(same(nativeFrame(data), referenceFrame(data))).toBe(true);
  });

  it('a worker_threads env that ends after detaching from a stalled worker waits for the worker first', async () => {
    const { Worker } = await import('node:worker_threads');
    const script = `
      const { workerData, parentPort } = require('node:worker_threads');
      const addon = require(workerData.path);
      const data = Buffer.alloc(110000, 7);
      const out = Buffer.alloc(addon.lz4FrameBound(data.byteLength));
      addon.lz4BesideClaim();
      addon.lz4BesidePublish(data, data.byteLength);
      const held = workerData.held;
      while (addon.lz4TestStallWorker() <= held); // the worker holds block 0
      addon.lz4CompressFrame(data, 0, data.byteLength, out, 0); // takes it over and detaches
      parentPort.postMessage(addon.lz4TestPinned());
    `;
    const held = addon!.lz4TestStallWorker!(true);
    let exited = false;
    try {
      const worker = new Worker(script, { eval: true, workerData: { held, path: require.resolve('../../build/Release/seglog_native.node') } });
      const pinned = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      expect(pinned).toBe(true);
      const exit = new Promise((resolve) => worker.once('exit', resolve)).then(() => (exited = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(exited).toBe(false); // its env's cleanup waits for the stalled worker, which still writes a slot
      addon!.lz4TestStallWorker!(false);
      await exit;
    } finally {
      addon!.lz4TestStallWorker!(false);
    }
    await until(workerFree);
  });

  it('bounds frames as the JS codec and node-lz4 do', () => {
    for (const size of [...SIZES, 5 * BLOCK + 3, 1 << 30]) {
      const blocks = Math.ceil(size / BLOCK);
      expect(addon!.lz4FrameBound(size), String(size)).toBe(7 + blocks * (4 + lz4Block.compressBound(BLOCK)) + 4);
      expect(codecByName('lz4').compressBound!(size), String(size)).toBe(addon!.lz4FrameBound(size));
    }
  });

  it('refuses bad arguments with typed errors, and an output short by one byte before writing it', () => {
    const data = Buffer.alloc(3 * BLOCK, 7);
    const bound = addon!.lz4FrameBound(data.byteLength);
    const out = Buffer.alloc(bound);
    const invalid = (kind: ErrorConstructor) => expect.objectContaining({ name: kind.name, code: 'ERR_INVALID_ARGUMENT' });
    expect(() => addon!.lz4CompressFrame([] as unknown as Uint8Array, 0, 0, out, 0)).toThrow(invalid(TypeError));
    expect(() => addon!.lz4CompressFrame(data, 0, 1, new Float64Array(10) as unknown as Uint8Array, 0)).toThrow(invalid(TypeError));
    expect(() => addon!.lz4CompressFrame(data, 2, 1, out, 0)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, 0, data.byteLength + 1, out, 0)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, -1, 1, out, 0)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, 0.5, 1, out, 0)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, 0, 1, out, bound + 1)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, 0, 1, out, 0, 1 as unknown as boolean)).toThrow(invalid(TypeError));
    const short = Buffer.alloc(bound, 0xee);
    expect(() => addon!.lz4CompressFrame(data, 0, data.byteLength, short, 1)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4CompressFrame(data, 0, data.byteLength, short.subarray(0, bound - 1), 0)).toThrow(invalid(RangeError));
    expect(short.every((b) => b === 0xee)).toBe(true);
    const shared = Buffer.alloc(bound + data.byteLength);
    expect(() => addon!.lz4CompressFrame(shared, 0, data.byteLength, shared, 10)).toThrow(/overlap/);
    expect(() => addon!.lz4FrameBound(-1)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4FrameBound('1' as unknown as number)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4BesidePublish(Buffer.alloc(10), 11)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4BesidePublish(Buffer.alloc(10), -1)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4BesidePublish(Buffer.alloc(10), undefined as unknown as number)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4BesidePublish({} as Uint8Array, 0)).toThrow(invalid(TypeError));
    expect(addon!.lz4BesidePublish(Buffer.alloc(10), 10)).toBe(-1); // no claim: no pipeline
    addon!.lz4BesideClaim();
    addon!.lz4BesidePublish(data, 20 << 10);
    expect(() => addon!.lz4BesidePublish(data, 10 << 10)).toThrow(invalid(RangeError)); // before what is published
    addon!.lz4BesideCancel();
  });
});

describe('RecordBatchBuilder with lz4: the records compressed while they are written', () => {
  const records = (rng: Rng, count: number) =>
    Array.from({ length: count }, () => ({ value: rng.bool(0.5) ? rng.bytes(rng.int(0, 300)) : Buffer.alloc(rng.int(0, 300), 65) }));

  it('writes the reference frame of the records behind the header, and the batch reads back (seeded)', async () => {
    const rng = new Rng(testSeed('lz4 builder pipeline'));
    const builder = new RecordBatchBuilder();
    let pipelined = 0;
    for (let round = 0; round < 40; round++) {
      // 200-2400 records of 0-300 B: from under one block to ~5, across the claim and prefix marks.
      const input = records(rng, rng.int(200, 2400));
      if (addon !== undefined && round % 2 === 0) await until(workerFree); // else back to back
      const options = { compression: 'lz4' as const, timestamp: 1_700_000_000_000, ...(round % 7 === 6 ? { compressionLevel: 12 } : {}) };
      const batch = builder.buildReusable(input, options);
      const plain = encodeBatch(input, { timestamp: 1_700_000_000_000 }).subarray(L.RECORD_BATCH_OVERHEAD);
      if (options.compressionLevel === undefined) {
        // The pipeline's blocks when the worker took part (a batch expected past 96 KiB), else 64 KiB ones.
        const frame = batch.subarray(L.RECORD_BATCH_OVERHEAD);
        const viaPipeline = same(frame, referenceFrame(plain, false, pipelineEnds(plain.byteLength, plain.byteLength)));
        if (viaPipeline && plain.byteLength > BLOCK) pipelined++;
        expect(viaPipeline || same(frame, referenceFrame(plain)), `round ${round} seed=${rng.seed}`).toBe(true);
      }
      const values = [...decodeBatches(batch)].flatMap((b) => [...b.records()]).map((r) => r.value);
      expect(values.length).toBe(input.length);
      values.forEach((v, i) => expect(same(v!, input[i]!.value)).toBe(true));
    }
    if (addon !== undefined && os.availableParallelism() >= 2) expect(pipelined).toBeGreaterThan(5);
  });

  it('builds the same batch when the worker stalls on a block it took (this thread takes it over)', async () => {
    const rng = new Rng(testSeed('lz4 builder take over'));
    const builder = new RecordBatchBuilder();
    const input = Array.from({ length: 1000 }, () => ({ value: rng.bool(0.3) ? rng.bytes(100) : Buffer.alloc(100, rng.int(65, 90)) }));
    const plain = encodeBatch(input, { timestamp: 1 }).subarray(L.RECORD_BATCH_OVERHEAD);
    addon?.lz4TestStallWorker?.(true);
    let batch: Uint8Array;
    try {
      batch = builder.buildReusable(input, { compression: 'lz4', timestamp: 1 });
      const frame = batch.subarray(L.RECORD_BATCH_OVERHEAD);
      const viaPipeline = same(frame, referenceFrame(plain, false, pipelineEnds(plain.byteLength, plain.byteLength)));
      expect(viaPipeline || same(frame, referenceFrame(plain)), `seed=${rng.seed}`).toBe(true);
      const values = [...decodeBatches(batch)].flatMap((b) => [...b.records()]).map((r) => r.value);
      values.forEach((v, i) => expect(same(v!, input[i]!.value)).toBe(true));
    } finally {
      addon?.lz4TestStallWorker?.(false);
    }
    if (addon !== undefined) await until(() => addon.lz4BesideClaim());
    addon?.lz4BesideCancel();
  });

  it('gives the worker back when a record is refused after the prefix started', async () => {
    const rng = new Rng(testSeed('lz4 builder abandoned'));
    const builder = new RecordBatchBuilder();
    if (addon !== undefined) await until(workerFree); // the previous batches' worker
    const input: unknown[] = records(rng, 1500).map((r) => ({ value: Buffer.alloc(100, r.value[0] ?? 1) }));
    input[1200] = { value: 42 }; // past 64 KiB of records: the prefix is on the worker
    expect(() => builder.buildReusable(input as never, { compression: 'lz4' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    if (addon !== undefined) {
      expect(addon.lz4BesideClaim()).toBe(true);
      addon.lz4BesideCancel();
    }
    const good = records(rng, 1500);
    const values = [...decodeBatches(builder.buildReusable(good, { compression: 'lz4' }))].flatMap((b) => [...b.records()]);
    expect(values.length).toBe(1500);
  });
});
