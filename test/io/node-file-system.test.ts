/**
 * NodeFileHandle.writev: one writev for the usual few chunks, IOV_MAX chunks a call past that, empty
 * chunks skipped, short writes continued where they stopped, a write that makes no progress an error,
 * every byte where it belongs. The file is read back and compared with the concatenation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { Rng, testSeed } from '../helpers/random.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function chunksOf(rng: Rng, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => (rng.bool(0.1) ? new Uint8Array(0) : rng.bytes(rng.int(1, 300))));
}

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-writev-'));
  dirs.push(dir);
  return path.join(dir, 'f');
}

describe('NodeFileHandle.writev', () => {
  it.each([1, 2, 7, 1024, 1025, 3000])('writes %i chunks back to back at a position (seeded)', (count) => {
    const rng = new Rng(testSeed(`writev ${count}`));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-writev-'));
    dirs.push(dir);
    const handle = new NodeFileSystem().open(path.join(dir, 'f'), 'create');
    try {
      const lead = rng.bytes(rng.int(0, 5000));
      handle.write(lead, 0);
      const chunks = chunksOf(rng, count);
      handle.writev(chunks, lead.byteLength);
      const expected = Buffer.concat([lead, ...chunks]);
      expect(handle.size()).toBe(expected.byteLength);
      expect(Buffer.compare(fs.readFileSync(path.join(dir, 'f')), expected)).toBe(0);
    } finally {
      handle.close();
    }
  });

  it.each([1, 5, 1023, 1024, 1025, 2100])('continues %i chunks after short writes, never passing IOV_MAX buffers (seeded)', (count) => {
    const rng = new Rng(testSeed(`writev short ${count}`));
    const real = fs.writevSync.bind(fs);
    // A kernel that takes a random prefix of what it is given (what a full disk or a signal can do).
    const spy = vi.spyOn(fs, 'writevSync').mockImplementation(((fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number | null) => {
      expect(buffers.length).toBeLessThanOrEqual(1024);
      const all = Buffer.concat(buffers as Uint8Array[]);
      if (all.byteLength === 0) return real(fd, buffers, position ?? undefined);
      return fs.writeSync(fd, all, 0, all.byteLength === 1 ? 1 : rng.int(1, all.byteLength - 1), position ?? null);
    }) as typeof fs.writevSync);
    const file = tempFile();
    const handle = new NodeFileSystem().open(file, 'create');
    try {
      const lead = rng.bytes(rng.int(0, 100));
      handle.write(lead, 0);
      const chunks = chunksOf(rng, count);
      const before = [...chunks];
      handle.writev(chunks, lead.byteLength);
      expect(chunks).toEqual(before); // the caller's array is not changed
      expect(Buffer.compare(fs.readFileSync(file), Buffer.concat([lead, ...chunks]))).toBe(0);
      const total = chunks.reduce((sum, c) => sum + c.byteLength, 0);
      if (total > 1) expect(spy.mock.calls.length).toBeGreaterThan(1); // it did write short
    } finally {
      spy.mockRestore();
      handle.close();
    }
  });

  it('throws EIO for a write that makes no progress instead of looping', () => {
    const spy = vi.spyOn(fs, 'writevSync').mockReturnValue(0);
    const handle = new NodeFileSystem().open(tempFile(), 'create');
    try {
      expect(() => handle.writev([new Uint8Array(5), new Uint8Array(3)], 0)).toThrow(expect.objectContaining({ code: 'EIO' }));
      expect(() => handle.writev([], 0)).not.toThrow();
    } finally {
      spy.mockRestore();
      handle.close();
    }
  });
});
