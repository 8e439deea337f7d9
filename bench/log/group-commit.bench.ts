/**
 * Question: how much does group commit buy durable appends? 64 concurrent appenders of one record each
 * with durability 'fsync' against a loop that fsyncs after every append (durability 'fsync', one
 * appender), same run, same record. Both are durable: every acknowledged record was fsynced. Rounds are
 * interleaved after a warm-up so both sides see the same (noisy, shared) machine.
 */
import { Log } from '../_util/seglog.js';
import { benchDir, compared, elapsedMs, median, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { runIfMain } from '../_util/main-guard.js';

const value = Buffer.alloc(100, 1);

async function concurrent(appenders: number, perAppender: number): Promise<{ rate: number; perSync: number }> {
  const log = await Log.open(benchDir('group-commit'), { durability: 'fsync' });
  const start = now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      for (let i = 0; i < perAppender; i++) await log.append([{ value }]);
    }),
  );
  const rate = (appenders * perAppender) / (elapsedMs(start) / 1000);
  const perSync = log.metrics().groupCommit.appendsPerSync;
  await log.close();
  return { rate, perSync };
}

async function fsyncEach(count: number): Promise<number> {
  const log = await Log.open(benchDir('fsync-each'), { durability: 'fsync' });
  const start = now();
  for (let i = 0; i < count; i++) await log.append([{ value }]);
  const rate = count / (elapsedMs(start) / 1000);
  await log.close();
  return rate;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const perAppender = options.tiny ? 5 : options.quick ? 150 : 400;
  const serial = options.tiny ? 50 : options.quick ? 1500 : 4000;
  const rounds = options.tiny ? 1 : options.quick ? 3 : 5;
  options.progress?.('group commit');
  // Warm-up, discarded: the append path's JIT tiers settle only after some 10^4 appends (a first pass of
  // 64 x 300 measured ~2x slower than the third), and the measured rounds are short.
  for (let i = 0; i < (options.tiny ? 1 : 3); i++) await concurrent(64, perAppender);
  await fsyncEach(Math.min(serial, 200));
  const groups: { rate: number; perSync: number }[] = [];
  const singles: number[] = [];
  for (let r = 0; r < rounds; r++) {
    groups.push(await concurrent(64, perAppender));
    singles.push(await fsyncEach(serial));
  }
  const group = median(groups.map((g) => g.rate));
  const single = median(singles);
  const perSync = median(groups.map((g) => g.perSync));
  return [
    compared({
      group: 'durability',
      name: "64 concurrent 'fsync' appends of 1 record",
      value: group,
      unit: 'records/s',
      peer: 'fsync after every append',
      peerValue: single,
      target: '>= 20x',
      met: group / single >= 20,
      note: `${perSync.toFixed(1)} appends per fsync; median of ${rounds} interleaved rounds`,
    }),
  ];
}

runIfMain(import.meta.url, run);
