import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, decodeBatches, Log, LogIoError } from '../../src/main.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A loopback server that collects what it receives; `pauseMs` makes it a slow reader. */
async function sink(pauseMs = 0): Promise<{ port: number; received: Promise<Buffer>; close: () => void }> {
  let resolveReceived!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => (resolveReceived = r));
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (pauseMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
    });
    socket.on('end', () => resolveReceived(Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, received, close: () => server.close() };
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return socket;
}

async function filledLog(records: number): Promise<Log> {
  const log = await Log.open(tempDir(), { segmentBytes: 64 * 1024 * 1024 });
  for (let i = 0; i < records / 100; i++) {
    await log.append(Array.from({ length: 100 }, (_, j) => ({ key: `k${i}`, value: `value-${i}-${j}-`.padEnd(200, 'v') })));
  }
  return log;
}

describe('FileRecords.writeTo (zero-copy read path)', () => {
  it('sends exactly the range to a real socket, which decodes to the same records', async () => {
    const log = await filledLog(20_000);
    const range = await log.read(0, { maxBytes: 8 * 1024 * 1024 });
    expect(range.sizeInBytes).toBeGreaterThan(1024 * 1024);
    const server = await sink();
    const socket = await connect(server.port);
    const sent = await range.writeTo(socket);
    socket.end();
    const received = await server.received;
    server.close();
    expect(sent).toBe(range.sizeInBytes);
    expect(received.equals(Buffer.from(range.bytes))).toBe(true);
    const viaSocket = [...decodeBatches(received, { allowPartialTail: true })].flatMap((b) => [...b.records()]).length;
    const viaRange = [...range.records()].length;
    expect(viaSocket).toBe(viaRange);
    await log.close();
  });

  it('waits for drain with a slow reader (backpressure) and still delivers every byte', async () => {
    const log = await filledLog(20_000);
    const range = await log.read(0, { maxBytes: 4 * 1024 * 1024 });
    expect(range.sizeInBytes).toBeGreaterThan(3 * 1024 * 1024);
    const server = await sink(2);
    const socket = await connect(server.port);
    let drains = 0;
    socket.on('drain', () => drains++);
    await range.writeTo(socket);
    socket.end();
    const received = await server.received;
    server.close();
    expect(received.length).toBe(range.sizeInBytes);
    expect(drains).toBeGreaterThan(0);
    await log.close();
  });

  it('rejects with typed errors when aborted or when the destination fails', async () => {
    const log = await filledLog(10_000);
    const range = await log.read(0, { maxBytes: 4 * 1024 * 1024 });
    const controller = new AbortController();
    controller.abort();
    await expect(range.writeTo(new PassThrough(), { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    const broken = new PassThrough({ highWaterMark: 1024 });
    const pending = range.writeTo(broken);
    broken.destroy(new Error('peer reset'));
    await expect(pending).rejects.toBeInstanceOf(LogIoError);
    await log.close();
  });

  it('a range of one write (1 MiB or less): exactly its bytes to a socket, typed errors when the destination fails or closes first, its listeners removed', async () => {
    const log = await filledLog(10_000);
    const range = await log.read(0, { maxBytes: 1024 * 1024 });
    expect(range.sizeInBytes).toBeGreaterThan(512 * 1024);
    expect(range.sizeInBytes).toBeLessThanOrEqual(1024 * 1024);
    const server = await sink();
    const socket = await connect(server.port);
    const listeners = (s: NodeJS.EventEmitter): number[] => ['error', 'close', 'drain'].map((e) => s.listenerCount(e));
    const before = listeners(socket);
    expect(await range.writeTo(socket)).toBe(range.sizeInBytes);
    expect(listeners(socket)).toEqual(before);
    socket.end();
    expect((await server.received).equals(Buffer.from(range.bytes))).toBe(true);
    server.close();
    // A destination that nobody reads: the write stays pending until it is destroyed.
    const failing = new PassThrough({ highWaterMark: 1024 });
    const failed = range.writeTo(failing);
    failing.destroy(new Error('peer reset'));
    await expect(failed).rejects.toBeInstanceOf(LogIoError);
    const closing = new PassThrough({ highWaterMark: 1024 });
    const closed = range.writeTo(closing);
    closing.destroy();
    await expect(closed).rejects.toMatchObject({ code: 'ERR_IO' });
    const ended = new PassThrough();
    ended.on('error', () => {}); // the stream's own 'error' for a write after end, as for any write
    ended.end();
    await expect(range.writeTo(ended)).rejects.toBeInstanceOf(LogIoError);
    await log.close();
  });

  it('a range stays readable while its segment is truncated away and deleted', async () => {
    const log = await filledLog(5_000);
    const range = await log.read(1000, { maxBytes: 512 * 1024 });
    const before = Buffer.from(range.bytes);
    await log.truncateTo(500);
    await log.append([{ value: 'overwrites the old positions' }]);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await range.writeTo(out);
    expect(Buffer.concat(chunks).equals(before)).toBe(true);
    await log.close();
  });
});

describe('directory lock across processes', () => {
  it('a second process cannot open a directory this process holds, and can after close', async () => {
    const dir = tempDir();
    const log = await Log.open(dir);
    const script = path.join(import.meta.dirname, '../helpers/open-log.ts');
    const run = () => {
      try {
        return execFileSync(process.execPath, ['--import', 'tsx', script, dir], { encoding: 'utf8', timeout: 30_000 }).trim();
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error).trim();
      }
    };
    expect(run()).toBe('ERR_LOG_LOCKED');
    await log.close();
    expect(run()).toBe('opened');
  });

  it('a lock left by a process killed with SIGKILL does not block', async () => {
    const dir = tempDir();
    const script = path.join(import.meta.dirname, '../helpers/open-log.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const log = await Log.open(dir);
    await log.close();
  });
});
