/**
 * NodeFileHandle.writev: one writev for the usual few chunks, IOV_MAX chunks a call past that, empty
 * chunks skipped, every byte where it belongs. The file is read back and compared with the concatenation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import { Rng, testSeed } from '../helpers/random.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function chunksOf(rng: Rng, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => (rng.bool(0.1) ? new Uint8Array(0) : rng.bytes(rng.int(1, 300))));
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
});
