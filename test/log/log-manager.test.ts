import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, LogClosedError, LogExistsError, LogLockedError, LogManager, LogNotFoundError } from '../../src/main.js';
import { tempDir } from '../helpers/temp-dir.js';

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('LogManager', () => {
  it('creates, gets, lists, deletes logs; reopens them all', async () => {
    const root = tempDir();
    let manager = await LogManager.open(root, { durability: 'os' });
    const orders = await manager.create('orders');
    await orders.append([{ value: 'o1' }]);
    await (await manager.create('payments.eu-1', { segmentBytes: 1024 })).append([{ value: 'p1' }]);
    expect(manager.list()).toEqual(['orders', 'payments.eu-1']);
    expect(manager.get('orders')).toBe(orders);
    await expect(manager.create('orders')).rejects.toBeInstanceOf(LogExistsError);
    expect(() => manager.get('missing')).toThrow(LogNotFoundError);
    await manager.close();
    await expect(manager.create('x')).rejects.toBeInstanceOf(LogClosedError);

    manager = await LogManager.open(root);
    expect(manager.list()).toEqual(['orders', 'payments.eu-1']);
    expect(manager.get('orders').endOffset).toBe(1);
    await manager.delete('orders');
    expect(manager.list()).toEqual(['payments.eu-1']);
    expect(fs.existsSync(path.join(root, 'orders'))).toBe(false);
    await expect(manager.delete('orders')).rejects.toBeInstanceOf(LogNotFoundError);
    await manager.close();
  });

  it('rejects names that could escape the root before touching the disk', async () => {
    const root = tempDir();
    const manager = await LogManager.open(root);
    for (const bad of ['..', '.', '../evil', 'a/b', 'a\\b', '', 'x'.repeat(250), 'sp ace', 'nul\0', '/abs']) {
      await expect(manager.create(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(fs.readdirSync(root).sort()).toEqual(['.lock']);
    expect(fs.existsSync(path.join(root, '..', 'evil'))).toBe(false);
    await manager.close();
  });

  it('creates files and directories without world access, with configurable modes', async () => {
    const root = tempDir();
    const manager = await LogManager.open(root, { dirMode: 0o700, fileMode: 0o600 });
    const log = await manager.create('secure');
    await log.append([{ value: 'x' }]);
    const dirMode = fs.statSync(log.dir).mode & 0o777;
    const fileMode = fs.statSync(log.segments[0]!.file).mode & 0o777;
    expect(dirMode & 0o007).toBe(0);
    expect(fileMode & 0o007).toBe(0);
    expect(fileMode & 0o070).toBe(0);
    await manager.close();
    const defaults = await LogManager.open(tempDir());
    const plain = await defaults.create('plain');
    expect(fs.statSync(plain.segments[0]!.file).mode & 0o002).toBe(0);
    await defaults.close();
  });

  it('keeps descriptors under its cap with more logs and segments than the cap', async () => {
    const root = tempDir();
    const baseline = openFds();
    // 9 descriptors = 3 inactive segments; 20 logs of ~6 segments each.
    const manager = await LogManager.open(root, { durability: 'os', segmentBytes: 400, maxOpenFiles: 9, schedulerIntervalMs: 10 });
    for (let i = 0; i < 20; i++) {
      const log = await manager.create(`log-${i}`);
      for (let j = 0; j < 20; j++) await log.append([{ value: `value ${j}`.padEnd(60, '.') }]);
    }
    // Reading every log touches every segment; the cache keeps releasing the coldest.
    for (const name of manager.list()) {
      const log = manager.get(name);
      let offset = 0;
      while (offset < log.endOffset) offset = (await log.read(offset, { maxBytes: 300 })).nextOffset;
    }
    // Segments pinned by their roll flush are released by the scheduler: wait for it, not a fixed time.
    for (let waited = 0; manager.openFiles.segments > 3 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const { segments, maxSegments, evictions } = manager.openFiles;
    expect(maxSegments).toBe(3);
    expect(segments).toBeLessThanOrEqual(3);
    expect(evictions).toBeGreaterThan(50);
    // Active segments (20 logs x .log + 2 indexes) plus the capped inactive ones, plus slack for the runtime.
    expect(openFds() - baseline).toBeLessThanOrEqual(20 * 3 + 9 + 10);
    await manager.close();
    expect(openFds()).toBeLessThanOrEqual(baseline + 2);
  });

  it('runs retention for every log from one scheduler', async () => {
    const root = tempDir();
    const manager = await LogManager.open(root, { durability: 'os', segmentBytes: 300, retentionBytes: 600, retentionCheckIntervalMs: 1, schedulerIntervalMs: 5 });
    const log = await manager.create('bounded');
    for (let i = 0; i < 30; i++) await log.append([{ value: 'x'.repeat(80) }]);
    const deleted = new Promise((resolve) => log.once('retention', resolve));
    await deleted;
    expect(log.startOffset).toBeGreaterThan(0);
    await manager.close();
  });

  it('locks its root and cleans up interrupted deletes', async () => {
    const root = tempDir();
    const manager = await LogManager.open(root);
    await expect(LogManager.open(root)).rejects.toBeInstanceOf(LogLockedError);
    await manager.close();
    fs.mkdirSync(path.join(root, 'gone.0123456789abcdef-delete'));
    fs.writeFileSync(path.join(root, 'gone.0123456789abcdef-delete', '00000000000000000000.log'), 'junk');
    const again = await LogManager.open(root);
    expect(again.list()).toEqual([]);
    expect(fs.readdirSync(root).sort()).toEqual(['.lock']);
    await again.close();
  });
});
