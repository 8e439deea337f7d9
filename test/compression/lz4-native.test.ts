/**
 * The addon's LZ4 frame compressor (native/lz4-frame.c, its blocks split between the calling thread and
 * the worker of native/beside.c): byte for byte the frame of an independent reference (node-lz4's block
 * compressor per 64 KiB block, Kafka's stored-block rule, header checksum from xxhashjs), for seeded inputs
 * of every size class; readable by node-lz4, KafkaJS's lz4 codec and seglog; the same bytes when the
 * worker is busy or a prefix was started (the record batch builder's pipeline); bad arguments refused with
 * typed errors and a small output refused before anything is written.
 */
import { describe, expect, it } from 'vitest';
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
 */
function referenceFrame(input: Uint8Array, legacy = false): Buffer {
  const blocks: { data: Uint8Array; stored: boolean }[] = [];
  const scratch = Buffer.alloc(lz4Block.compressBound(BLOCK));
  for (let from = 0; from < input.byteLength; from += BLOCK) {
    const data = input.subarray(from, Math.min(from + BLOCK, input.byteLength));
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

const SIZES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 110_000, 1 << 20];
const KINDS = ['random', 'repetitive', 'mixed'] as const;

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

  it('uses a started prefix of the same input, and redoes it for other bytes, after a cancel or a busy worker', () => {
    const rng = new Rng(testSeed('lz4 native prefix'));
    for (let round = 0; round < 30; round++) {
      const data = input(rng, rng.int(BLOCK, 4 * BLOCK), rng.bool() ? 'random' : 'mixed');
      const expected = referenceFrame(data);
      const out = Buffer.alloc(addon!.lz4FrameBound(data.byteLength));
      const frame = (): Buffer => out.subarray(0, addon!.lz4CompressFrame(data, 0, data.byteLength, out, 0));
      switch (round % 5) {
        case 0: // the builder's pipeline: claim, prefix, frame
          addon!.lz4BesideClaim();
          addon!.lz4BesidePrefix(data);
          break;
        case 1: // a prefix of other memory: dropped
          addon!.lz4BesidePrefix(Buffer.from(data));
          break;
        case 2: // a claim and no prefix: the frame splits its blocks on the claimed worker
          addon!.lz4BesideClaim();
          break;
        case 3: // a cancelled prefix, then a plain frame
          addon!.lz4BesidePrefix(data);
          addon!.lz4BesideCancel();
          break;
        default: {
          // a prefix while the worker is busy: not started, the frame does it
          const small = new Uint8Array(encodeBatch([{ value: 'x' }]));
          addon!.verifyBatchesBeside(small, Float64Array.of(0, small.byteLength, 1), () => {
            expect(addon!.lz4BesidePrefix(data)).toBe(false);
          });
        }
      }
      expect(same(frame(), expected), `round ${round} seed=${rng.seed}`).toBe(true);
    }
    addon!.lz4BesideCancel(); // nothing pending: a no-op
    expect(addon!.lz4BesideClaim()).toBe(true); // the worker is free again
    addon!.lz4BesideCancel();
  });

  it('a worker_threads env that ends with a prefix started waits for it and gives the worker back', async () => {
    const { Worker } = await import('node:worker_threads');
    const script = `
      const { workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      addon.lz4BesideClaim();
      addon.lz4BesidePrefix(Buffer.alloc(1 << 20, 3)); // the env ends before any lz4CompressFrame
    `;
    for (let i = 0; i < 5; i++) {
      const worker = new Worker(script, { eval: true, workerData: { path: require.resolve('../../build/Release/seglog_native.node') } });
      await new Promise((resolve, reject) => worker.on('exit', resolve).on('error', reject));
    }
    expect(addon!.lz4BesideClaim()).toBe(true);
    addon!.lz4BesideCancel();
    const data = Buffer.alloc(3 * BLOCK, 5);
    expect(same(nativeFrame(data), referenceFrame(data))).toBe(true);
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
    expect(() => addon!.lz4BesidePrefix(Buffer.alloc(BLOCK - 1))).toThrow(invalid(RangeError));
    expect(() => addon!.lz4BesidePrefix({} as Uint8Array)).toThrow(invalid(TypeError));
  });
});

describe('RecordBatchBuilder with lz4: the records compressed while they are written', () => {
  const records = (rng: Rng, count: number) =>
    Array.from({ length: count }, () => ({ value: rng.bool(0.5) ? rng.bytes(rng.int(0, 300)) : Buffer.alloc(rng.int(0, 300), 65) }));

  it('writes the reference frame of the records behind the header, and the batch reads back (seeded)', () => {
    const rng = new Rng(testSeed('lz4 builder pipeline'));
    const builder = new RecordBatchBuilder();
    for (let round = 0; round < 40; round++) {
      // 200-2400 records of 0-300 B: from under one block to ~5, across the claim and prefix marks.
      const input = records(rng, rng.int(200, 2400));
      const options = { compression: 'lz4' as const, timestamp: 1_700_000_000_000, ...(round % 7 === 6 ? { compressionLevel: 12 } : {}) };
      const batch = builder.buildReusable(input, options);
      const plain = encodeBatch(input, { timestamp: 1_700_000_000_000 }).subarray(L.RECORD_BATCH_OVERHEAD);
      if (options.compressionLevel === undefined) {
        expect(same(batch.subarray(L.RECORD_BATCH_OVERHEAD), referenceFrame(plain)), `round ${round} seed=${rng.seed}`).toBe(true);
      }
      const values = [...decodeBatches(batch)].flatMap((b) => [...b.records()]).map((r) => r.value);
      expect(values.length).toBe(input.length);
      values.forEach((v, i) => expect(same(v!, input[i]!.value)).toBe(true));
    }
  });

  it('gives the worker back when a record is refused after the prefix started', () => {
    const rng = new Rng(testSeed('lz4 builder abandoned'));
    const builder = new RecordBatchBuilder();
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
