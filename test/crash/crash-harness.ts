/**
 * Kill -9 rounds: a child process appends (durably or not) and reports every acknowledged offset; the
 * parent kills it with SIGKILL at a seeded random moment, reopens the log and checks that nothing it was
 * told is there went missing, that no record is wrong, that offsets are contiguous, and that the log takes
 * appends again. Rounds chain on one directory, so each recovery starts from the previous one's result.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Log, type LogRecord } from '../../src/main.js';
import { Rng } from '../helpers/random.js';
import { expectedValue } from './values.js';

const HERE = import.meta.dirname;
const MODES = ['plain', 'roll', 'retention', 'checkpoint', 'recovery', 'batch'] as const;
export type CrashMode = (typeof MODES)[number];

interface ChildReport {
  maxAck: number;
  lastCommit: number;
  opened: boolean;
}

/** Runs `script` with `args` and SIGKILLs it `killAfterMs` after it printed its first line. */
function runAndKill(script: string, args: string[], killAfterMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const report: ChildReport = { maxAck: -1, lastCommit: -1, opened: false };
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if ((word === 'open' || word === 'opened') && !report.opened) {
          report.opened = true;
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
        if (word === 'ack') report.maxAck = Math.max(report.maxAck, Number(value));
        if (word === 'commit') report.lastCommit = Math.max(report.lastCommit, Number(value));
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(report);
      else reject(new Error(`${script} exited with ${code}: ${stderr}`));
    });
  });
}

/** What one round found. */
export interface RoundResult {
  readonly mode: CrashMode;
  readonly durability: string;
  readonly acked: number;
  readonly endOffset: number;
  readonly truncatedBytes: number;
}

/** Reopens the log after a kill and checks every promise; throws an Error describing the first broken one. */
async function verify(dir: string, report: ChildReport, context: string): Promise<{ endOffset: number; truncatedBytes: number }> {
  const log = await Log.open(dir, { segmentBytes: 2048, indexIntervalBytes: 256, segmentIndexBytes: 4096 });
  try {
    const fail = (what: string): never => {
      throw new Error(`${context}: ${what} (start ${log.startOffset}, end ${log.endOffset}, acked up to ${report.maxAck})`);
    };
    if (log.endOffset <= report.maxAck) fail('acknowledged records are missing');
    let expected = log.startOffset;
    while (expected < log.endOffset) {
      const records: LogRecord[] = [...(await log.read(expected, { maxBytes: 64 * 1024 })).records()];
      if (records.length === 0) fail(`no record readable at ${expected}`);
      for (const r of records) {
        if (r.offset !== expected) fail(`offset ${r.offset} where ${expected} was expected`);
        if (Buffer.from(r.value!).toString() !== expectedValue(r.offset)) fail(`wrong value at offset ${r.offset}`);
        expected++;
      }
    }
    const committed = log.committedOffset('consumer') ?? -1;
    if (committed < report.lastCommit) fail(`committed offset ${committed} below the acknowledged ${report.lastCommit}`);
    const truncatedBytes = log.recoveryReport.truncations.reduce((sum, t) => sum + t.bytes, 0);
    const endOffset = log.endOffset;
    await log.append([{ key: `k${endOffset}`, value: expectedValue(endOffset) }], { expectedOffset: endOffset }); // appends continue
    return { endOffset: endOffset + 1, truncatedBytes };
  } finally {
    await log.close();
  }
}

/** Runs `rounds` kill -9 rounds on `dir`, seeded; calls `onRound` after each verified round. */
export async function crashRounds(dir: string, seed: number, rounds: number, onRound: (r: RoundResult) => void = () => undefined): Promise<RoundResult[]> {
  const rng = new Rng(seed);
  const results: RoundResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const mode = rng.pick(MODES);
    const durability = rng.bool(0.7) ? 'fsync' : 'os';
    const killAfterMs = rng.int(0, 300);
    const context = `seed ${seed} round ${round} (${mode}, ${durability}, kill after ${killAfterMs} ms)`;
    const report = await runAndKill('writer.ts', [dir, String(rng.int(0, 2 ** 31)), mode, durability], killAfterMs);
    if (mode === 'recovery') await runAndKill('opener.ts', [dir], rng.int(0, 20)); // a crash during recovery itself
    const verified = await verify(dir, report, context);
    const result = { mode, durability, acked: report.maxAck + 1, endOffset: verified.endOffset, truncatedBytes: verified.truncatedBytes };
    results.push(result);
    onRound(result);
  }
  return results;
}
