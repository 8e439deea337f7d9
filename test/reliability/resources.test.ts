/**
 * Resources come back: thousands of open/append/close cycles, rolls and retention passes leave file
 * descriptors and memory mappings at their baseline (counted in /proc/self/fd and /proc/self/maps), and a
 * long mixed run keeps the heap and RSS bounded. Mappings are released by the garbage collector (the mmap
 * binding has no explicit unmap), so the counts are taken after `gc()` (vitest runs with --expose-gc).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Log } from '../../src/main.js';
import { tempDir } from '../helpers/temp-dir.js';

const fds = () => fs.readdirSync('/proc/self/fd').length;
const maps = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /\.(log|index|timeindex)/.test(l)).length;

async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

describe('resources', () => {
  it('2000 open/append/read/close cycles with rolls and retention leave descriptors and mappings at baseline', async () => {
    const dir = tempDir();
    await settle();
    const baseFds = fds();
    const baseMaps = maps();
    for (let cycle = 0; cycle < 2000; cycle++) {
      const log = await Log.open(dir, { durability: 'os', segmentBytes: 600, segmentIndexBytes: 1024, retentionBytes: 2400, fileDeleteDelayMs: 0 });
      await log.append([{ value: `cycle ${cycle}`.padEnd(120, '.') }, { value: 'x' }]);
      for (const _ of (await log.read(log.startOffset)).records());
      if (cycle % 10 === 0) await log.applyRetention();
      await log.close();
    }
    await settle();
    expect(fds()).toBe(baseFds);
    expect(maps()).toBeLessThanOrEqual(baseMaps + 2);
  }, 300_000);

  it('a long mixed run (append, tail, retention, reopen) keeps heap and RSS bounded', async () => {
    const dir = tempDir();
    const heap: number[] = [];
    const rss: number[] = [];
    for (let epoch = 0; epoch < 12; epoch++) {
      const log = await Log.open(dir, { durability: 'os', segmentBytes: 64 * 1024, retentionBytes: 512 * 1024, fileDeleteDelayMs: 0 });
      const controller = new AbortController();
      let tailed = 0;
      const tail = (async () => {
        try {
          for await (const _ of log.tail(log.endOffset, { signal: controller.signal })) tailed++;
        } catch {
          // aborted
        }
      })();
      for (let i = 0; i < 400; i++) {
        await log.append(Array.from({ length: 20 }, (_, j) => ({ key: `k${j}`, value: `epoch ${epoch} batch ${i} record ${j}`.padEnd(200, '-') })));
        if (i % 100 === 99) await log.applyRetention();
      }
      while (tailed < 400 * 20) await new Promise((r) => setImmediate(r));
      controller.abort();
      await log.close();
      await tail;
      await settle();
      heap.push(process.memoryUsage().heapUsed);
      rss.push(process.memoryUsage().rss);
    }
    const mib = (n: number) => n / 2 ** 20;
    console.log(`[resources] heap MiB by epoch: ${heap.map((h) => mib(h).toFixed(1)).join(' ')}; rss MiB: ${rss.map((r) => mib(r).toFixed(0)).join(' ')}`);
    // After warm-up (epoch 2) the heap may not keep growing: the last epoch within 16 MiB of epoch 2.
    expect(mib(heap.at(-1)! - heap[2]!)).toBeLessThan(16);
    expect(mib(rss.at(-1)! - rss[2]!)).toBeLessThan(64);
  }, 300_000);
});
