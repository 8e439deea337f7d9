/**
 * The command line as users run it: a child process, its stdout/stderr and exit code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Log } from '../../src/main.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'src/cli/bin.ts');

function seglog(...args: string[]): { code: number; out: string; err: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
}

async function smallLog(): Promise<string> {
  const dir = tempDir();
  const log = await Log.open(dir, { durability: 'os', segmentBytes: 2000, indexIntervalBytes: 100 });
  for (let i = 0; i < 40; i++) await log.append([{ key: `k${i}`, value: `hello ${i}`, headers: [{ key: 'h', value: 'v' }] }, { value: Buffer.from([0, 1, 2, 255]) }], { compression: i % 2 === 0 ? 'none' : 'lz4' });
  await log.close();
  return dir;
}

describe('seglog command line', () => {
  it('dump prints batches, records (text or hex) and checked index entries', async () => {
    const dir = await smallLog();
    const { code, out } = seglog('dump', dir, '--records', '--index');
    expect(code).toBe(0);
    expect(out).toContain('baseOffset: 0 lastOffset: 1 count: 2 position: 0');
    expect(out).toContain('compresscodec: lz4');
    expect(out).toContain('key: k0 payload: hello 0');
    expect(out).toContain('payload: 0x000102ff');
    expect(out).toContain('headers: [h=v]');
    expect(out).toMatch(/offset: \d+ position: \d+/);
    expect(out).not.toContain('Index problem');
    const one = seglog('dump', path.join(dir, '00000000000000000000.log'), '--max-batches', '1');
    expect(one.out.match(/baseOffset:/g)).toHaveLength(1);
  });

  it('verify passes a healthy log and reports a corrupted one with file and position, exit 1', async () => {
    const dir = await smallLog();
    expect(seglog('verify', dir, '--deep')).toMatchObject({ code: 0, out: expect.stringContaining('OK: no damage found') });
    const file = path.join(dir, '00000000000000000000.log');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x01; // inside the last batch's records, which the CRC covers
    fs.writeFileSync(file, bytes);
    const damaged = seglog('verify', dir);
    expect(damaged.code).toBe(1);
    expect(damaged.out).toMatch(/DAMAGED: .*00000000000000000000\.log at position \d+: CRC mismatch/);
    expect(seglog('dump', dir).code).toBe(1);
  });

  it('verify catches index entries that do not match the log', async () => {
    const dir = await smallLog();
    const index = path.join(dir, '00000000000000000000.index');
    const bytes = fs.readFileSync(index);
    bytes.writeUInt32BE(bytes.readUInt32BE(4) + 1, 4); // first entry's position, off by one
    fs.writeFileSync(index, bytes);
    const result = seglog('verify', dir);
    expect(result.code).toBe(1);
    expect(result.out).toContain('does not point at a batch start');
    expect(seglog('dump', dir, '--verify-index-only').out).toContain('Index problem');
  });

  it('dumps a directory of KafkaJS-encoded batches laid out by a broker (no indexes)', () => {
    const require = createRequire(import.meta.url);
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (a: object) => Promise<{ buffer: Buffer }> };
    const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (a: object) => unknown;
    return (async () => {
      const dir = tempDir();
      const batch = Buffer.from((await RecordBatch({ records: [KafkaRecord({ offsetDelta: 0, key: Buffer.from('kk'), value: Buffer.from('from kafkajs') })] })).buffer);
      fs.writeFileSync(path.join(dir, '00000000000000000000.log'), batch);
      const { code, out } = seglog('dump', dir, '--records');
      expect(code).toBe(0);
      expect(out).toContain('key: kk payload: from kafkajs');
      expect(seglog('verify', dir).code).toBe(0);
    })();
  });

  it('perf-produce and perf-consume report throughput', () => {
    const dir = tempDir();
    const produced = seglog('perf-produce', '--dir', dir, '--records', '5000', '--batch-size', '500', '--codec', 'lz4');
    expect(produced.code).toBe(0);
    expect(produced.out).toMatch(/^5000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency/);
    const consumed = seglog('perf-consume', '--dir', dir);
    expect(consumed.code).toBe(0);
    expect(consumed.out).toMatch(/data\.consumed\.in\.nMsg[\s\S]*, 5000, /);
  });

  it('bad arguments and missing paths give a usage message and a non-zero exit, never a stack trace', () => {
    for (const args of [[], ['nope'], ['dump'], ['dump', '/no/such/path'], ['verify', '/no/such/dir'], ['perf-produce'], ['perf-produce', '--dir', '/tmp/x', '--records', '-5'], ['dump', '--bogus', '.']]) {
      const { code, err } = seglog(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(/Usage: seglog/);
      expect(err).not.toMatch(/\n\s+at /);
    }
    for (const command of ['dump', 'verify', 'perf-produce', 'perf-consume', 'bench']) {
      const { code, out } = seglog(command, '--help');
      expect(code, command).toBe(0);
      expect(out).toMatch(/Usage: seglog/);
    }
  });

  it('npm run bench -- --json runs at a tiny size and prints rows', () => {
    const out = execFileSync('npm', ['run', '--silent', 'bench', '--', '--tiny', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const { machine, rows } = JSON.parse(out) as { machine: string; rows: { group: string; value: number }[] };
    expect(machine).toMatch(/cores/);
    expect(new Set(rows.map((r) => r.group))).toEqual(new Set(['record', 'crc', 'append', 'read', 'durability', 'tail', 'open', 'index', 'codec']));
    expect(rows.every((r) => Number.isFinite(r.value))).toBe(true);
  });
});
