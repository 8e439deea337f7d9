/**
 * Questions: how fast is a sequential read + decode of the whole log, and how close does the zero-copy
 * `writeTo` come to writing an in-memory Buffer of the same bytes to the same kind of loopback socket
 * (same run)? And does moving gigabytes through `writeTo` grow the JS heap (it should not: the bytes stay
 * in mapped page cache)? Run with --expose-gc for exact heap figures.
 */
import net from 'node:net';
import { Log } from '../_util/seglog.js';
import { benchDir, compared, elapsedMs, gc, medianOf, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const MiB = 1024 * 1024;

async function filledLog(totalRecords: number): Promise<Log> {
  const log = await Log.open(benchDir('read'), { durability: 'os' });
  const batch = records(1000, 100, 11);
  for (let n = 0; n < totalRecords; n += 1000) await log.append(batch);
  return log;
}

/** Records/s of a read loop over the whole log that decodes every record and touches its value. */
async function readDecodeRate(log: Log): Promise<number> {
  const start = now();
  let offset = log.startOffset;
  let count = 0;
  let sink = 0;
  while (offset < log.endOffset) {
    const range = await log.read(offset, { maxBytes: MiB });
    for (const batch of range.batches()) {
      for (const record of batch.records()) {
        sink += record.value!.length;
        count++;
      }
      offset = batch.nextOffset;
    }
  }
  if (sink < 0) console.log(sink);
  return count / (elapsedMs(start) / 1000);
}

/** A loopback server that discards what it receives; resolves the byte count when the client ends. */
async function discardServer(): Promise<{ port: number; done: () => Promise<number>; close: () => void }> {
  let finish!: (n: number) => void;
  let received = 0;
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('end', () => finish(received));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    done: () => new Promise<number>((r) => (finish = r)),
    close: () => server.close(),
  };
}

/** MB/s moving `total` bytes to a loopback socket with `send`, which writes and waits for drain. */
async function socketRate(send: (socket: net.Socket) => Promise<number>, expected: number): Promise<number> {
  const server = await discardServer();
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const done = server.done();
  const start = now();
  let sent = 0;
  while (sent < expected) sent += await send(socket);
  socket.end();
  const received = await done;
  const seconds = elapsedMs(start) / 1000;
  server.close();
  return received / 1e6 / seconds;
}

async function writeBuffer(socket: net.Socket, buffer: Buffer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    if (socket.write(buffer, (e) => (e ? reject(e) : undefined))) resolve();
    else socket.once('drain', resolve);
  });
  return buffer.length;
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const total = options.tiny ? 20_000 : options.quick ? 500_000 : 2_000_000;
  const rounds = options.tiny ? 1 : 3;
  options.progress?.('read: filling the log');
  const log = await filledLog(total);
  options.progress?.('read + decode');
  await readDecodeRate(log); // warm the page cache and the mappings
  const rate = await medianOf(rounds, () => readDecodeRate(log));
  const rows: BenchRow[] = [{ group: 'read', name: 'sequential read + decode, 100 B records, CRC verified', value: rate, unit: 'records/s', target: '>= 4 M/s', met: rate >= 4e6 }];

  options.progress?.('writeTo vs Buffer');
  const moved = options.tiny ? 64 * MiB : options.quick ? 512 * MiB : 4096 * MiB;
  let offset = log.startOffset;
  const viaWriteTo = async (socket: net.Socket): Promise<number> => {
    if (offset >= log.endOffset) offset = log.startOffset;
    const range = await log.read(offset, { maxBytes: 8 * MiB });
    offset = range.nextOffset;
    return range.writeTo(socket);
  };
  const inMemory = Buffer.alloc(8 * MiB, 7);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const ours = await socketRate(viaWriteTo, moved);
  gc();
  const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / MiB;
  const peer = await socketRate((s) => writeBuffer(s, inMemory), moved);
  rows.push(compared({ group: 'read', name: `writeTo a loopback socket (${moved / MiB} MiB moved)`, value: ours, unit: 'MB/s', peer: 'in-memory Buffer', peerValue: peer, target: '>= 0.8x', met: ours / peer >= 0.8 }));
  rows.push({ group: 'read', name: `JS heap growth over ${moved / MiB} MiB of writeTo`, value: heapGrowth, unit: 'MiB', target: '< 16 MiB', met: heapGrowth < 16, note: (globalThis as { gc?: unknown }).gc ? 'after gc()' : 'no --expose-gc: includes garbage' });
  await log.close();
  return rows;
}

runIfMain(import.meta.url, run);
