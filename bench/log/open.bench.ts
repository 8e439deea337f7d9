/**
 * Questions: how long does a clean open of a log with 1000 segments take (lazy index mapping keeps it to
 * a `stat` per segment), and how long does recovery take after a crash (every unflushed segment is
 * re-validated and its indexes rebuilt)?
 */
import { Log } from '../_util/seglog.js';
import { benchDir, elapsedMs, median, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

async function manySegments(segments: number): Promise<string> {
  const dir = benchDir('open');
  const log = await Log.open(dir, { durability: 'os', segmentBytes: 4096, segmentIndexBytes: 4096 });
  const batch = records(30, 100, 5);
  while (log.segments.length < segments) await log.append(batch);
  await log.close();
  return dir;
}

async function timeOpen(dir: string): Promise<number> {
  const start = now();
  const log = await Log.open(dir, { durability: 'os', segmentBytes: 4096, segmentIndexBytes: 4096 });
  const ms = elapsedMs(start);
  await log.close();
  return ms;
}

/** Writes `bytes` of 1 KiB records, then stops without a clean shutdown (a crash, as far as the files know). */
async function crashedLog(bytes: number): Promise<string> {
  const dir = benchDir('recovery');
  const log = await Log.open(dir, { durability: 'os', segmentBytes: 16 * 1024 * 1024 });
  const batch = records(1000, 1024, 9);
  while (log.size < bytes) await log.append(batch);
  log.abandon();
  return dir;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const segments = options.tiny ? 20 : 1000;
  options.progress?.(`open: building ${segments} segments`);
  const dir = await manySegments(segments);
  const times: number[] = [];
  for (let i = 0; i < (options.tiny ? 1 : 5); i++) times.push(await timeOpen(dir));
  const openMs = median(times);
  options.progress?.('open: recovery');
  const mb = options.tiny ? 4 : options.quick ? 64 : 256;
  const crashed = await crashedLog(mb * 1024 * 1024);
  const start = now();
  const recovered = await Log.open(crashed, { durability: 'os', segmentBytes: 16 * 1024 * 1024 });
  const recoveryMs = elapsedMs(start);
  const scanned = recovered.recoveryReport.recoveredSegments;
  await recovered.close();
  return [
    { group: 'open', name: `clean open of a ${segments}-segment log`, value: openMs, unit: 'ms', target: '< 200 ms', met: openMs < 200, note: 'median of 5' },
    { group: 'open', name: `recovery open after a crash, ${mb} MiB unflushed`, value: recoveryMs, unit: 'ms', note: `${scanned} segments re-validated, ${((mb / recoveryMs) * 1000).toFixed(0)} MiB/s` },
  ];
}

runIfMain(import.meta.url, run);
