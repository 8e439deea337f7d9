/**
 * Questions about the read path, on a log of 100-byte values in 1000-record batches:
 *
 * 1. How fast is a consumer's sequential read + decode of the whole log? A loop of
 *    `read(offset, { maxBytes: 1 MiB })` (Kafka's default fetch size) that walks every record with
 *    `records()` (CRC checked, each record parsed) and touches its key and value (their `length`; see
 *    `bench/record/encode-decode.bench.ts` on `byteLength`, read here too until 2026-12-01). Records have null keys
 *    (as `kafka-producer-perf-test` sends them, and as `append.bench.ts` writes them); a second row gives
 *    every record an 8-byte key, which costs one more view per record. Peer, same run, rounds interleaved:
 *    the same decode loop over the same bytes already in memory (`decodeBatches` over the segment files
 *    read into Buffers), so the ratio is what locating, slicing and checking cost on top of decoding.
 * 2. How close does the zero-copy `FileRecords.writeTo` come to writing in-memory Buffers of the same
 *    bytes (the segment files read into memory: the same total size, so neither side is served from the
 *    CPU cache) to the same kind of socket? Both sides send 1 MiB pieces to a loopback TCP consumer that
 *    discards the data and runs on its own thread (a worker, so it does not compete with the sender's
 *    event loop or heap), and each piece is awaited until its write callback ran, which is when `writeTo`
 *    resolves. One untimed pass over the whole log first maps its pages (first touches are page faults).
 * 3. Does moving gigabytes through `read` + `writeTo` grow the JS heap? The bytes should stay in the
 *    mapped page cache; the heap is measured after a forced full GC before and after each round.
 */
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RecordInput } from '../../src/main.js';
import { decodeBatches, Log } from '../_util/seglog.js';
import { atLeast, below, elapsedMs, GiB, interleaved, mbPerSec, median, MiB, now, quartiles, range, retainedHeapBytes, warmUp, withTempDir, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { payload } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const RECORDS_PER_BATCH = 1000;
const VALUE_BYTES = 100;
const FETCH_BYTES = MiB;

/** A log of `total` records (with `keyBytes`-byte keys, or null keys), flushed, so no write-back competes. */
async function fillLog(dir: string, total: number, keyBytes: number): Promise<Log> {
  const values = payload('repetitive', RECORDS_PER_BATCH * VALUE_BYTES, 11);
  const keys = payload('random', RECORDS_PER_BATCH * Math.max(keyBytes, 1), 12);
  const batch: RecordInput[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    key: keyBytes === 0 ? null : keys.subarray(i * keyBytes, (i + 1) * keyBytes),
    value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES),
  }));
  // 256 MiB segments: a full run spans two, so reads cross a segment boundary as a real consumer's do.
  const log = await Log.open(dir, { durability: 'os', segmentBytes: 256 * MiB });
  for (let n = 0; n < total; n += RECORDS_PER_BATCH) await log.append(batch);
  await log.flush();
  return log;
}

/** One pass of the consumer loop over the whole log; returns records/s. */
async function readDecodePass(log: Log, keyBytes: number): Promise<number> {
  const start = now();
  const end = log.endOffset;
  let offset = log.startOffset;
  let count = 0;
  let touched = 0;
  while (offset < end) {
    const fetched = await log.read(offset, { maxBytes: FETCH_BYTES });
    const before = offset;
    for (const record of fetched.records()) {
      touched += (record.key?.length ?? 0) + (record.value?.length ?? 0);
      offset = record.offset + 1;
      count++;
    }
    if (offset === before) offset = fetched.nextOffset; // a range of skipped (control) batches only
  }
  const ms = elapsedMs(start);
  if (touched !== count * (keyBytes + VALUE_BYTES)) throw new Error(`read ${touched} bytes of ${count} records: not what was written`);
  return (count / ms) * 1000;
}

/** The peer: the same decode loop over the same bytes, already in memory. */
function decodeInMemoryPass(files: readonly Buffer[], keyBytes: number): number {
  const start = now();
  let count = 0;
  let touched = 0;
  for (const bytes of files) {
    for (const batch of decodeBatches(bytes)) {
      for (const record of batch.records()) {
        touched += (record.key?.length ?? 0) + (record.value?.length ?? 0);
        count++;
      }
    }
  }
  const ms = elapsedMs(start);
  if (touched !== count * (keyBytes + VALUE_BYTES)) throw new Error('in-memory decode saw unexpected records');
  return (count / ms) * 1000;
}

/** The segment files of `log`, read into memory: the peers' copy of the same bytes. */
function inMemoryCopy(log: Log): Buffer[] {
  return log.segments.map((s) => fs.readFileSync(s.file));
}

async function readDecode(log: Log, files: readonly Buffer[], keyBytes: number, rounds: number, warmUpMs: number): Promise<BenchRow> {
  // Page cache, mappings, and the JIT's steady state (the decoder keeps getting faster for ~2 s).
  await readDecodePass(log, keyBytes);
  decodeInMemoryPass(files, keyBytes);
  await warmUp(warmUpMs, async () => {
    await readDecodePass(log, keyBytes);
    decodeInMemoryPass(files, keyBytes);
  });
  const { ours, peer, oursAll, ratio } = await interleaved(rounds, () => readDecodePass(log, keyBytes), () => decodeInMemoryPass(files, keyBytes));
  const isTarget = keyBytes === 0;
  return {
    group: 'read',
    name: `sequential read + decode, ${isTarget ? 'null keys' : `${keyBytes}-byte keys`}, ${FETCH_BYTES / MiB} MiB reads, CRC checked`,
    value: ours,
    unit: 'records/s',
    peer: 'decodeBatches over in-memory Buffers',
    peerValue: peer,
    ...(isTarget ? atLeast(ours, 4e6, '>= 4 M/s') : {}),
    ratio,
    note: `${log.endOffset - log.startOffset} records (${(log.size / MiB).toFixed(0)} MiB) x ${rounds} rounds, range ${range(oursAll, 1e6)} M; key and value touched`,
  };
}

/** Code of the consumer thread: a loopback server that counts and drops what it receives. */
const SINK_SOURCE = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer((socket) => {
  let bytes = 0;
  socket.on('data', (chunk) => { bytes += chunk.length; });
  socket.on('end', () => { parentPort.postMessage({ bytes }); socket.end(); });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
`;

interface Sink {
  readonly port: number;
  /** The byte count of the next connection to end. */
  received(): Promise<number>;
  close(): Promise<number>;
}

async function startSink(): Promise<Sink> {
  const worker = new Worker(SINK_SOURCE, { eval: true });
  const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
  // Each ended connection posts its count once; each `received()` takes the next one (queued both ways).
  const counts: number[] = [];
  const waiting: ((bytes: number) => void)[] = [];
  worker.on('message', ({ bytes }: { bytes: number }) => {
    const waiter = waiting.shift();
    if (waiter === undefined) counts.push(bytes);
    else waiter(bytes);
  });
  return {
    port,
    received: () => (counts.length > 0 ? Promise.resolve(counts.shift()!) : new Promise<number>((resolve) => waiting.push(resolve))),
    close: () => worker.terminate(),
  };
}

/** Sends at least `bytes` to the sink with `send` (one piece per call); returns MB/s until all arrived. */
async function transfer(sink: Sink, bytes: number, send: (socket: net.Socket) => Promise<number>): Promise<number> {
  const socket = net.connect(sink.port, '127.0.0.1');
  await once(socket, 'connect');
  const received = sink.received();
  const start = now();
  let sent = 0;
  while (sent < bytes) sent += await send(socket);
  socket.end();
  const got = await received;
  const ms = elapsedMs(start);
  socket.destroy();
  if (got !== sent) throw new Error(`sent ${sent} bytes, the consumer received ${got}`);
  return mbPerSec(got, ms);
}

/** `send` for seglog: the next 1 MiB range of the log, by `writeTo`; wraps to the start at the end. */
function logSender(log: Log): (socket: net.Socket) => Promise<number> {
  let offset = log.startOffset;
  return async (socket) => {
    if (offset >= log.endOffset) offset = log.startOffset;
    const records = await log.read(offset, { maxBytes: FETCH_BYTES });
    offset = records.nextOffset;
    return records.writeTo(socket);
  };
}

/** `send` for the peer: the next 1 MiB piece of the in-memory copy, resolved when its write callback runs. */
function bufferSender(files: readonly Buffer[], pieceBytes: number): (socket: net.Socket) => Promise<number> {
  let file = 0;
  let at = 0;
  return (socket) => {
    if (at >= files[file]!.byteLength) {
      file = (file + 1) % files.length;
      at = 0;
    }
    const piece = files[file]!.subarray(at, at + pieceBytes);
    at += piece.byteLength;
    return new Promise<number>((resolve, reject) => {
      socket.write(piece, (error) => (error ? reject(error) : resolve(piece.byteLength)));
    });
  };
}

/**
 * Pieces per block of the interleaving: each side sends this many, then the other does, over its own
 * connection. Whole transfers of 32 MiB a side, interleaved, gave per-round ratios of 0.41-3.33x on this
 * shared VM; blocks of 8 MiB on open connections put both sides into the same moments.
 */
const BLOCK_PIECES = 8;

/** Two open connections to the sink, one per side; `close` ends both and checks what arrived. */
async function connectPair(sink: Sink): Promise<{ ours: net.Socket; peer: net.Socket; close(sent: number[]): Promise<void> }> {
  const connect = async (): Promise<net.Socket> => {
    const socket = net.connect(sink.port, '127.0.0.1');
    await once(socket, 'connect');
    return socket;
  };
  const ours = await connect();
  const peer = await connect();
  return {
    ours,
    peer,
    async close(sent) {
      const received = [sink.received(), sink.received()];
      ours.end();
      peer.end();
      const got = (await Promise.all(received)).sort((x, y) => x - y);
      ours.destroy();
      peer.destroy();
      const expected = [...sent].sort((x, y) => x - y);
      if (got[0] !== expected[0] || got[1] !== expected[1]) throw new Error(`sent ${expected.join(' + ')} bytes, the consumer received ${got.join(' + ')}`);
    },
  };
}

/** Per-block rates (MB/s) of both sides over one pair of connections, `perSide` bytes each. */
async function blockRound(sink: Sink, perSide: number, sendLog: Sender, sendBuffer: Sender): Promise<{ ours: number[]; peer: number[] }> {
  const pair = await connectPair(sink);
  const rates = { ours: [] as number[], peer: [] as number[] };
  const sent = { ours: 0, peer: 0 };
  const block = async (side: 'ours' | 'peer'): Promise<void> => {
    const send = side === 'ours' ? sendLog : sendBuffer;
    const start = now();
    let bytes = 0;
    for (let i = 0; i < BLOCK_PIECES; i++) bytes += await send(pair[side]);
    rates[side].push(mbPerSec(bytes, elapsedMs(start)));
    sent[side] += bytes;
  };
  for (let n = 0; sent.ours < perSide || sent.peer < perSide; n++) {
    const order: ('ours' | 'peer')[] = n % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
    for (const side of order) await block(side);
  }
  await pair.close([sent.ours, sent.peer]);
  return rates;
}

type Sender = (socket: net.Socket) => Promise<number>;

async function writeToSocket(log: Log, files: readonly Buffer[], moved: number, rounds: number): Promise<BenchRow[]> {
  const sink = await startSink();
  try {
    const pieceBytes = (await log.read(log.startOffset, { maxBytes: FETCH_BYTES })).sizeInBytes;
    const sendLog = logSender(log);
    const sendBuffer = bufferSender(files, pieceBytes);
    await transfer(sink, log.size, sendLog); // warm-up: maps every page of the log once
    await transfer(sink, log.size, sendBuffer);
    const ours: number[] = [];
    const peer: number[] = [];
    const roundRatios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const rates = await blockRound(sink, Math.ceil(moved / rounds), sendLog, sendBuffer);
      ours.push(...rates.ours);
      peer.push(...rates.peer);
      roundRatios.push(median(rates.ours) / median(rates.peer));
    }
    // Block n of one side ran next to block n of the other.
    const ratios = ours.slice(0, peer.length).map((o, i) => o / peer[i]!);
    const ratio = median(ratios);
    // Heap growth, measured apart (a full GC per block would swamp the blocks): `moved` bytes of
    // read + writeTo, then the same through the in-memory Buffers, each between two full GCs.
    const heapDelta = async (send: Sender): Promise<number> => {
      const before = retainedHeapBytes();
      await transfer(sink, moved, send);
      return retainedHeapBytes() - before;
    };
    const oursGrowth = await heapDelta(sendLog);
    const peerGrowth = await heapDelta(sendBuffer);
    const movedLabel = moved >= GiB ? `${moved / GiB} GiB` : `${moved / MiB} MiB`;
    return [
      {
        group: 'read',
        name: `writeTo a loopback socket, ${FETCH_BYTES / MiB} MiB reads`,
        value: median(ours),
        unit: 'MB/s',
        peer: `in-memory Buffers (${(pieceBytes / MiB).toFixed(2)} MiB writes)`,
        peerValue: median(peer),
        ratio,
        ...atLeast(ratio, 0.8, '>= 0.8x peer'),
        note:
          `${movedLabel} per side in ${rounds} rounds, interleaved in blocks of ${BLOCK_PIECES} pieces on open connections; ` +
          `ratio: median of ${ratios.length} per-block ratios (middle half ${quartiles(ratios)}x; per round ${range(roundRatios)}x); consumer on a worker thread`,
      },
      {
        group: 'read',
        name: `JS heap growth over ${movedLabel} of read + writeTo`,
        value: oursGrowth / MiB,
        unit: 'MiB',
        ...below(oursGrowth / MiB, 16, '< 16 MiB'),
        note: `retained heap after full GC, before and after; peer's: ${(peerGrowth / MiB).toFixed(2)} MiB; log re-read ${(moved / log.size).toFixed(1)}x`,
      },
    ];
  } finally {
    await sink.close();
  }
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const mode = options.tiny ? 'tiny' : options.quick ? 'quick' : 'full';
  const total = { tiny: 20_000, quick: 600_000, full: 3_000_000 }[mode];
  const rounds = { tiny: 1, quick: 3, full: 5 }[mode];
  const warmUpMs = { tiny: 0, quick: 500, full: 2000 }[mode];
  const rows: BenchRow[] = [];
  await withTempDir('read', async (dir) => {
    options.progress?.('read: filling the log');
    const log = await fillLog(dir, total, 0);
    try {
      const files = inMemoryCopy(log);
      options.progress?.('read + decode');
      rows.push(await readDecode(log, files, 0, rounds, warmUpMs));
      options.progress?.('writeTo vs Buffer');
      const moved = { tiny: 32 * MiB, quick: 256 * MiB, full: 4 * GiB }[mode];
      rows.push(...(await writeToSocket(log, files, moved, { tiny: 1, quick: 8, full: 16 }[mode])));
    } finally {
      await log.close();
    }
  });
  await withTempDir('read-keyed', async (dir) => {
    options.progress?.('read + decode, keyed records');
    const log = await fillLog(dir, total, 8);
    try {
      rows.splice(1, 0, await readDecode(log, inMemoryCopy(log), 8, rounds, warmUpMs));
    } finally {
      await log.close();
    }
  });
  return rows;
}

runIfMain(import.meta.url, run);
