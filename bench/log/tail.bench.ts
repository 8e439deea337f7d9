/**
 * Question: how long from an append to a tailing reader's delivery? A reader follows the log with
 * `tail()` (waiting in the purgatory, woken by appends, no polling) while a writer appends one record at
 * a time, spaced out so each wakes the reader. Durability 'os' so the figure is the in-process path.
 */
import { Log } from '../_util/seglog.js';
import { benchDir, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { runIfMain } from '../_util/main-guard.js';

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const count = options.tiny ? 50 : options.quick ? 2000 : 10_000;
  options.progress?.('tail latency');
  const log = await Log.open(benchDir('tail'), { durability: 'os' });
  const sentAt = new Map<number, bigint>();
  const latenciesUs: number[] = [];
  const controller = new AbortController();
  const reader = (async () => {
    for await (const record of log.tail(0, { signal: controller.signal })) {
      latenciesUs.push(Number(process.hrtime.bigint() - sentAt.get(record.offset)!) / 1000);
      if (latenciesUs.length === count) return;
    }
  })();
  for (let i = 0; i < count; i++) {
    sentAt.set(log.endOffset, process.hrtime.bigint());
    await log.append([{ value: `event ${i}` }]);
    await new Promise((r) => setImmediate(r)); // let the reader run: one wake-up per record
  }
  await reader;
  await log.close();
  latenciesUs.sort((a, b) => a - b);
  const at = (q: number) => latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(q * latenciesUs.length))]!;
  return [{ group: 'tail', name: `append -> tail() delivery latency p50 (${count} records)`, value: at(0.5), unit: 'us', note: `p99 ${at(0.99).toFixed(0)} us` }];
}

runIfMain(import.meta.url, run);
