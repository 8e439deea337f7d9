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
import { segmentPaths } from '../../src/log/file-names.js';
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

const batch = encodeBatch(Array.from({ length: 1000 }, (_, i) => ({ value: Buffer.alloc(100, i) }))); // ~110 KB

describe('preallocateBytes', () => {
  it('reserves ahead once a segment holds the step, without changing sizes or bytes; roll and close release it', async (context) => {
    const dir = tempDir();
    if (!canReserve(dir)) return context.skip();
    const log = await Log.open(dir, { preallocateBytes: STEP, segmentBytes: 4 << 20, durability: 'os' });
    const first = segmentPaths(dir, 0).log;
    await log.appendBatch(batch);
    expect(allocatedPastEnd(first)).toBeLessThan(RELEASED_MAX); // below one step: nothing reserved
    for (let i = 0; i < 3; i++) await log.appendBatch(batch);
    expect(allocatedPastEnd(first)).toBeGreaterThanOrEqual(STEP - 4096);
    expect(fs.statSync(first).size).toBe(log.size);
    while (log.segments.length === 1) await log.appendBatch(batch); // fill to the roll
    expect(allocatedPastEnd(first)).toBeLessThan(RELEASED_MAX);
    const active = segmentPaths(dir, log.segments.at(-1)!.baseOffset).log;
    for (let i = 0; i < 4; i++) await log.appendBatch(batch);
    expect(allocatedPastEnd(active)).toBeGreaterThan(RELEASED_MAX);
    const records = log.endOffset;
    await log.close();
    expect(allocatedPastEnd(active)).toBeLessThan(RELEASED_MAX);
    const reopened = await Log.open(dir);
    expect(reopened.endOffset).toBe(records);
    let read = 0;
    for (let offset = 0; offset < reopened.endOffset; ) {
      for (const r of (await reopened.read(offset, { maxBytes: 1 << 20 })).records()) {
        expect(r.offset).toBe(read);
        expect(r.value![0]).toBe((read % 1000) & 0xff);
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
    const log = await Log.open(dir, { preallocateBytes: STEP, durability: 'os' });
    for (let i = 0; i < 4; i++) await log.appendBatch(batch);
    const file = segmentPaths(dir, 0).log;
    expect(allocatedPastEnd(file)).toBeGreaterThanOrEqual(STEP - 4096);
    log.abandon();
    // What a process killed mid-append leaves: space reserved past the end of the active segment.
    const fd = fs.openSync(file, 'r+');
    expect(nativeAddon()!.reserve(fd, fs.fstatSync(fd).size, STEP)).toBe(true);
    fs.closeSync(fd);
    expect(allocatedPastEnd(file)).toBeGreaterThanOrEqual(STEP - 4096);
    const reopened = await Log.open(dir, { preallocateBytes: 0, durability: 'os' });
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    for (let i = 0; i < 4; i++) await reopened.appendBatch(batch);
    expect(allocatedPastEnd(file)).toBeLessThan(RELEASED_MAX);
    expect(reopened.endOffset).toBe(8000);
    await reopened.close();
  });

  it('refuses a negative or fractional step', async () => {
    await expect(Log.open(tempDir(), { preallocateBytes: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Log.open(tempDir(), { preallocateBytes: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
