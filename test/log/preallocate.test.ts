/**
 * Reserved disk space ahead of the active segment (`preallocateBytes`, src/log/segment-file.ts): taken once
 * a segment holds the step, never visible in file sizes or bytes, released at roll, at close, and at the
 * open after a crash. Skipped where the file system cannot reserve.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import { Log, encodeBatch } from '../../src/main.js';
import type { FileHandle, OpenMode } from '../../src/io/file-system.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { segmentPaths } from '../../src/log/file-names.js';
import { FaultyFileSystem } from '../helpers/faulty-fs.js';
import { tempDir } from '../helpers/temp-dir.js';

const STEP = 256 * 1024;
const RELEASED_MAX = 16 * 1024;

/** Whether this file system takes fallocate(KEEP_SIZE) (ext4, xfs, tmpfs do). */
function canReserve(dir: string): boolean {
  const probe = path.join(dir, 'probe');
  const fd = fs.openSync(probe, 'w');
  try {
    return nativeAddon()?.reserve(fd, 0, 4096) === true;
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(probe);
  }
}

/**
 * Bytes allocated on disk past the file's size, rounded to whole 4 KiB blocks. ext4 may count an extent
 * tree block or two of metadata, so "released" means under {@link RELEASED_MAX}, far below one step.
 */
function allocatedPastEnd(file: string): number {
  const stat = fs.statSync(file);
  return stat.blocks * 512 - Math.ceil(stat.size / 4096) * 4096;
}

// ~330 KB: above BESIDE_VERIFY_MIN_BYTES, so reservations happen inside the worker-verified write too.
const batch = encodeBatch(Array.from({ length: 3000 }, (_, i) => ({ value: Buffer.alloc(100, i) })));

describe('preallocateBytes', () => {
  it('reserves ahead once a segment holds the step, without changing sizes or bytes; roll and close release it', async (context) => {
    const dir = tempDir();
    if (!canReserve(dir)) return context.skip();
    const log = await Log.open(dir, { preallocateBytes: 2 * STEP, segmentBytes: 8 << 20, durability: 'os', maxMessageBytes: 4 << 20 });
    const first = segmentPaths(dir, 0).log;
    await log.appendBatch(batch);
    expect(allocatedPastEnd(first)).toBeLessThan(RELEASED_MAX); // below one step: nothing reserved
    for (let i = 0; i < 3; i++) await log.appendBatch(batch);
    expect(allocatedPastEnd(first)).toBeGreaterThan(RELEASED_MAX);
    expect(fs.statSync(first).size).toBe(log.size);
    while (log.segments.length === 1) await log.appendBatch(batch); // fill to the roll
    expect(allocatedPastEnd(first)).toBeLessThan(RELEASED_MAX);
    const active = segmentPaths(dir, log.segments.at(-1)!.baseOffset).log;
    for (let i = 0; i < 4; i++) await log.appendBatch(batch);
    expect(allocatedPastEnd(active)).toBeGreaterThan(RELEASED_MAX);
    const records = log.endOffset;
    await log.close();
    expect(allocatedPastEnd(active)).toBeLessThan(RELEASED_MAX);
    const reopened = await Log.open(dir, { maxMessageBytes: 4 << 20 });
    expect(reopened.endOffset).toBe(records);
    let read = 0;
    for (let offset = 0; offset < reopened.endOffset; ) {
      for (const r of (await reopened.read(offset, { maxBytes: 1 << 20 })).records()) {
        expect(r.offset).toBe(read);
        expect(r.value![0]).toBe((read % 3000) & 0xff);
        read++;
      }
      offset = read;
    }
    expect(read).toBe(records);
    await reopened.close();
  });

  it('the open after a crash releases what the crashed process reserved; 0 turns it off', async (context) => {
    const dir = tempDir();
    if (!canReserve(dir)) return context.skip();
    const log = await Log.open(dir, { preallocateBytes: STEP, durability: 'os', maxMessageBytes: 4 << 20 });
    for (let i = 0; i < 4; i++) await log.appendBatch(batch);
    const file = segmentPaths(dir, 0).log;
    expect(allocatedPastEnd(file)).toBeGreaterThanOrEqual(STEP - 4096);
    log.abandon();
    // What a process killed mid-append leaves: space reserved past the end of the active segment.
    const fd = fs.openSync(file, 'r+');
    expect(nativeAddon()!.reserve(fd, fs.fstatSync(fd).size, STEP)).toBe(true);
    fs.closeSync(fd);
    expect(allocatedPastEnd(file)).toBeGreaterThanOrEqual(STEP - 4096);
    const reopened = await Log.open(dir, { preallocateBytes: 0, durability: 'os', maxMessageBytes: 4 << 20 });
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    for (let i = 0; i < 4; i++) await reopened.appendBatch(batch);
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    expect(reopened.endOffset).toBe(24_000);
    await reopened.close();
  });

  it('keeps modification times: an open and a roll release reserved space without touching them', async (context) => {
    const dir = tempDir();
    if (!canReserve(dir)) return context.skip();
    const options = { preallocateBytes: STEP, segmentBytes: 2 << 20, durability: 'os', maxMessageBytes: 4 << 20 } as const;
    const log = await Log.open(dir, options);
    for (let i = 0; i < 3; i++) await log.appendBatch(batch);
    log.abandon();
    const file = segmentPaths(dir, 0).log;
    const fd = fs.openSync(file, 'r+');
    nativeAddon()!.reserve(fd, fs.fstatSync(fd).size, STEP);
    fs.closeSync(fd);
    const old = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(file, old, old);
    const reopened = await Log.open(dir, options);
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    expect(Math.abs(fs.statSync(file).mtimeMs - old.getTime())).toBeLessThan(0.01); // released, time kept
    await reopened.appendBatch(batch); // reserves ahead
    expect(allocatedPastEnd(file)).toBeGreaterThan(RELEASED_MAX);
    let lastWrite = fs.statSync(file).mtimeMs;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // a later roll would show in the time
      await reopened.appendBatch(batch);
      if (reopened.segments.length > 1) break;
      lastWrite = fs.statSync(file).mtimeMs;
    }
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    expect(Math.abs(fs.statSync(file).mtimeMs - lastWrite)).toBeLessThan(0.01); // the roll's release kept the last write's time
    await reopened.close();
  });

  it('a refused append, a truncateTo and a failing reservation leave files and reads right', async (context) => {
    const dir = tempDir();
    if (!canReserve(dir)) return context.skip();
    const faulty = new FaultyFileSystem();
    const log = await Log.open(dir, { fileSystem: faulty, preallocateBytes: STEP, durability: 'os', maxMessageBytes: 4 << 20 });
    for (let i = 0; i < 3; i++) await log.appendBatch(batch);
    const file = segmentPaths(dir, 0).log;
    expect(allocatedPastEnd(file)).toBeGreaterThan(RELEASED_MAX);
    const bad = Buffer.from(batch);
    bad[bad.length - 1]! ^= 1;
    await expect(log.appendBatch(bad)).rejects.toMatchObject({ code: 'ERR_CORRUPT_RECORD' });
    expect(fs.statSync(file).size).toBe(log.size);
    await log.truncateTo(6000);
    expect(fs.statSync(file).size).toBe(log.size);
    faulty.inject({ op: 'reserve', path: /\.log$/, times: 1 });
    for (let i = 0; i < 3; i++) await log.appendBatch(batch); // the reservation fails: appends go on without
    expect(log.endOffset).toBe(15_000);
    expect(fs.statSync(file).size).toBe(log.size);
    await log.close();
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    const reopened = await Log.open(dir, { maxMessageBytes: 4 << 20 });
    const offsets: number[] = [];
    for (let offset = 0; offset < reopened.endOffset; offset = offsets.length) {
      for (const r of (await reopened.read(offset, { maxBytes: 4 << 20 })).records()) offsets.push(r.offset);
    }
    expect(offsets).toEqual(Array.from({ length: 15_000 }, (_, i) => i));
    await reopened.close();
  });

  it('a file layer that does not promise writesOnlyRead gets the batches verified before its write', async () => {
    // A hostile layer: it scribbles over the caller's bytes once written. Verified beside the write, the
    // worker could read the scribbles; verified first, the append is judged on the bytes as given.
    class Scribbling extends NodeFileSystem {
      override readonly writesOnlyRead = false;
      override open(file: string, mode: OpenMode): FileHandle {
        const handle = super.open(file, mode);
        const writev = handle.writev.bind(handle);
        handle.writev = (chunks, position) => {
          writev(chunks, position);
          for (const chunk of chunks) if (chunk.byteLength > 1000) (chunk as Uint8Array).fill(0);
        };
        return handle;
      }
    }
    const scribbling = new Scribbling();
    const log = await Log.open(tempDir(), { fileSystem: scribbling, durability: 'os', maxMessageBytes: 4 << 20 });
    const input = Buffer.from(batch);
    expect(await log.appendBatch(input)).toEqual({ baseOffset: 0, lastOffset: 2999 });
    expect(input.every((b, i) => i < 1000 || b === 0)).toBe(true); // it did scribble
    let n = 0;
    for (const r of (await log.read(0, { maxBytes: 4 << 20 })).records()) expect(r.value![0]).toBe(n++ & 0xff);
    expect(n).toBe(3000);
    await log.close();
  });

  it('refuses a negative or fractional step', async () => {
    await expect(Log.open(tempDir(), { preallocateBytes: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Log.open(tempDir(), { preallocateBytes: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
