/**
 * The README's quick start, type-checked by `npm run typecheck` and run here, so the user's manual cannot
 * drift from the API. Keep the two in step.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Log, LogManager, type LogRecord } from '../../src/main.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('README quick start', () => {
  it('runs as written', async () => {
    const seen: string[] = [];
    const handle = async (record: LogRecord) => void seen.push(Buffer.from(record.value!).toString());
    const dir = path.join(tempDir(), 'data', 'orders');
    {
      await using log = await Log.open(dir); // creates the directory, recovers after a crash

      const { baseOffset } = await log.append([
        { key: 'order-1', value: JSON.stringify({ total: 42 }), headers: [{ key: 'type', value: 'created' }] },
        { key: 'order-2', value: 'another event' },
      ]); // one v2 batch, fsynced before this resolves

      const range = await log.read(baseOffset); // a slice of the segment file, not a copy
      for (const record of range.records()) {
        expect(typeof record.offset).toBe('number');
      }

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await expect(
        (async () => {
          for await (const record of log.tail(0, { signal: controller.signal })) {
            await handle(record); // catches up from disk, then follows appends
            await log.commitOffset('billing', record.offset + 1); // resume point for the 'billing' consumer
          }
        })(),
      ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      expect(log.committedOffset('billing')).toBe(2);
    }
    expect(seen).toEqual(['{"total":42}', 'another event']);
  });

  it('LogManager example runs as written', async () => {
    await using logs = await LogManager.open(tempDir(), { retentionMs: 7 * 86_400_000 });
    const orders = await logs.create('orders');
    await orders.append([{ value: 'x' }]);
    expect(logs.list()).toEqual(['orders']);
  });
});
