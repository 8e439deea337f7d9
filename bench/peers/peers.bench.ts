/**
 * `npm run bench:peers`: seglog against what a Node user would pick instead, in one run, same workloads:
 * the same records (random values: nothing compresses), the same count and batch size (1000 records per
 * write), the same durability (none of them fsyncs per batch: seglog 'os', lmdb noSync, SQLite WAL with
 * synchronous=OFF, LevelDB without sync, async-append-only-log and hypercore as they come), plus the
 * machine's limits: a plain `fs.writeSync` loop of seglog's own batch bytes, and page-cache read bandwidth.
 * Every row shows seglog/peer. Writes `bench/results/latest.md` and an SVG chart of append throughput
 * against record size, drawn with vega-lite.
 *
 * Peers live in `bench/peers/package.json` and are installed by the script (`npm install --prefix
 * bench/peers`), never in seglog's dependencies.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Log, encodeBatch } from '../_util/seglog.js';
import { atLeast, benchDir, cleanup, elapsedMs, now, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { ProgressBar } from '../_util/progress.js';
import { markdownTable, textTable } from '../_util/table.js';

const peerRequire = createRequire(path.join(import.meta.dirname, 'package.json'));
const BATCH = 1000;
type Rec = { key: null; value: Buffer; timestamp: number };

/** A store under test: append batches of records, then read everything back. */
interface Store {
  append(batch: Rec[], firstSeq: number): Promise<void>;
  /** Waits until every append is written (timed with the appends). */
  finish?(): Promise<void>;
  /** Reads every record, touching each value; returns the count. */
  readAll(): Promise<number>;
  close(): Promise<void>;
}
interface Peer {
  readonly name: string;
  readonly durability: string;
  open(dir: string): Promise<Store>;
}

const seq8 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

const seglogPeer: Peer = {
  name: 'seglog',
  durability: "durability 'os'",
  async open(dir) {
    const log = await Log.open(dir, { durability: 'os', maxMessageBytes: 32 * 1024 * 1024 });
    return {
      append: async (batch) => void (await log.append(batch)),
      async readAll() {
        let count = 0;
        let sink = 0;
        for (let offset = log.startOffset; offset < log.endOffset; ) {
          const range = await log.read(offset, { maxBytes: 1 << 20 });
          for (const batch of range.batches()) {
            for (const r of batch.records()) {
              sink += r.value!.length;
              count++;
            }
            offset = batch.nextOffset;
          }
        }
        return sink >= 0 ? count : -1;
      },
      close: () => log.close(),
    };
  },
};

const lmdbPeer: Peer = {
  name: 'lmdb',
  durability: 'noSync',
  async open(dir) {
    const { open } = peerRequire('lmdb') as { open(options: object): any };
    const db = open({ path: path.join(dir, 'db'), noSync: true, compression: false, encoding: 'binary' });
    return {
      async append(batch, first) {
        db.transactionSync(() => batch.forEach((r, i) => db.putSync(first + i, r.value)));
      },
      async readAll() {
        let count = 0;
        for (const { value } of db.getRange()) count += value.length >= 0 ? 1 : 0;
        return count;
      },
      close: () => db.close(),
    };
  },
};

const sqlitePeer: Peer = {
  name: 'better-sqlite3@12',
  durability: 'WAL, synchronous=OFF',
  async open(dir) {
    const Database = peerRequire('better-sqlite3') as new (file: string) => any;
    const db = new Database(path.join(dir, 'db.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, key BLOB, value BLOB)');
    const insert = db.prepare('INSERT INTO log (seq, key, value) VALUES (?, ?, ?)');
    const insertMany = db.transaction((batch: Rec[], first: number) => batch.forEach((r, i) => insert.run(first + i, r.key, r.value)));
    return {
      append: async (batch, first) => insertMany(batch, first),
      async readAll() {
        let count = 0;
        for (const row of db.prepare('SELECT value FROM log ORDER BY seq').iterate() as Iterable<{ value: Buffer }>) count += row.value.length >= 0 ? 1 : 0;
        return count;
      },
      close: async () => db.close(),
    };
  },
};

const levelPeer: Peer = {
  name: 'classic-level',
  durability: 'sync: false (default)',
  async open(dir) {
    const { ClassicLevel } = peerRequire('classic-level') as { ClassicLevel: new (dir: string, o: object) => any };
    const db = new ClassicLevel(path.join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      append: (batch, first) => db.batch(batch.map((r, i) => ({ type: 'put', key: seq8(first + i), value: r.value }))),
      async readAll() {
        let count = 0;
        for await (const [, value] of db.iterator()) count += (value as Buffer).length >= 0 ? 1 : 0;
        return count;
      },
      close: () => db.close(),
    };
  },
};

const aaolPeer: Peer = {
  name: 'async-append-only-log',
  durability: 'default (no fsync)',
  async open(dir) {
    const OffsetLog = peerRequire('async-append-only-log') as (file: string, o: object) => any;
    const log = OffsetLog(path.join(dir, 'log.bin'), { blockSize: 64 * 1024 });
    const drained = () => new Promise<void>((resolve) => log.onDrain(resolve));
    return {
      append: (batch) => new Promise<void>((resolve, reject) => log.append(batch.map((r) => r.value), (e: Error | null) => (e ? reject(e) : resolve()))),
      // Its appends return before the data is written ("writing is always async", on a timer): the timed
      // run ends when everything has been written.
      finish: drained,
      async readAll() {
        await drained();
        return new Promise<number>((resolve, reject) => {
          let count = 0;
          log.stream({ offsets: false, values: true }).pipe({ paused: false, write: (v: Buffer) => void (count += v.length >= 0 ? 1 : 0), end: (e: unknown) => (e && e !== true ? reject(e) : resolve(count)) });
        });
      },
      close: () => new Promise<void>((resolve) => log.close(() => resolve())),
    };
  },
};

const hypercorePeer: Peer = {
  name: 'hypercore@10',
  durability: 'default (no fsync per append)',
  async open(dir) {
    const Hypercore = peerRequire('hypercore') as new (dir: string) => any;
    const core = new Hypercore(path.join(dir, 'core'));
    await core.ready();
    return {
      append: async (batch) => void (await core.append(batch.map((r) => r.value))),
      async readAll() {
        let count = 0;
        for await (const block of core.createReadStream()) count += (block as Buffer).length >= 0 ? 1 : 0;
        return count;
      },
      close: () => core.close(),
    };
  },
};

const PEERS = [lmdbPeer, sqlitePeer, levelPeer, aaolPeer, hypercorePeer];

/** `measure` after a short discarded run, so JIT compilation and first-use costs are not measured. */
async function measureWarm(peer: Peer, size: number, count: number): Promise<{ append: number; read: number }> {
  await measure(peer, size, Math.min(count, 20 * BATCH));
  return measure(peer, size, count);
}

/** Records/s appending `count` records of `size` bytes in batches of 1000, then reading them all. */
async function measure(peer: Peer, size: number, count: number): Promise<{ append: number; read: number }> {
  const store = await peer.open(benchDir(peer.name.replace(/\W/g, '')));
  const batch = records(BATCH, size, size) as Rec[];
  let start = now();
  for (let n = 0; n < count; n += BATCH) await store.append(batch, n);
  await store.finish?.();
  const append = count / (elapsedMs(start) / 1000);
  start = now();
  const read = await store.readAll();
  const readRate = read / (elapsedMs(start) / 1000);
  if (read !== count) throw new Error(`${peer.name} read ${read} of ${count} records`);
  await store.close();
  return { append, read: readRate };
}

/** The machine: `fs.writeSync` of seglog's own batch bytes, and re-reading a page-cached file. */
function machineLimits(size: number, count: number): { write: number; read: number } {
  const bytes = encodeBatch(records(BATCH, size, size), { timestamp: 1 });
  const file = path.join(benchDir('disk'), 'plain.bin');
  const fd = fs.openSync(file, 'w+');
  let start = now();
  let position = 0;
  for (let n = 0; n < count; n += BATCH) position += fs.writeSync(fd, bytes, 0, bytes.byteLength, position);
  const write = count / (elapsedMs(start) / 1000);
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < position; at += chunk.length) fs.readSync(fd, chunk, 0, chunk.length, at); // warm
  start = now();
  for (let at = 0; at < position; at += chunk.length) fs.readSync(fd, chunk, 0, chunk.length, at);
  const read = count / (elapsedMs(start) / 1000);
  fs.closeSync(fd);
  return { write, read };
}

async function main(): Promise<void> {
  const full = process.argv.includes('--full');
  const sizes = [100, 1024, 10_240];
  const base = full ? 1_000_000 : 200_000;
  const countFor = (size: number) => Math.max(BATCH * 10, Math.floor((base * 100) / size / BATCH) * BATCH);
  const bar = new ProgressBar(sizes.length * (PEERS.length + 2));
  const rows: BenchRow[] = [];
  const chart: { peer: string; size: number; mbps: number }[] = [];
  try {
    for (const size of sizes) {
      const count = countFor(size);
      bar.step(`seglog ${size} B`);
      const ours = await measureWarm(seglogPeer, size, count);
      chart.push({ peer: 'seglog', size, mbps: (ours.append * size) / 1e6 });
      for (const peer of PEERS) {
        bar.step(`${peer.name} ${size} B`);
        const theirs = await measureWarm(peer, size, count);
        chart.push({ peer: peer.name, size, mbps: (theirs.append * size) / 1e6 });
        rows.push(row('append', size, count, ours.append, peer.name, theirs.append, peer.durability));
        rows.push(row('read all', size, count, ours.read, peer.name, theirs.read, 'sequential'));
      }
      bar.step(`disk ${size} B`);
      const disk = machineLimits(size, count);
      chart.push({ peer: 'fs.writeSync of the same bytes', size, mbps: (disk.write * size) / 1e6 });
      rows.push(row('append', size, count, ours.append, 'fs.writeSync loop (same bytes)', disk.write, 'machine limit'));
      rows.push(row('read all', size, count, ours.read, 'page-cache read (fs.readSync)', disk.read, 'machine limit, no decoding'));
    }
  } finally {
    bar.end();
    cleanup();
  }
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  console.log(`seglog vs peers (${full ? 'full' : 'quick'}) on ${machine}\n`);
  console.log(textTable(rows));
  await writeResults(rows, chart, machine, full);
}

/** The bars the segmented-log issue sets for 100 B appends, as a ratio to the peer in the same run. */
const APPEND_RATIO_TARGETS: Readonly<Record<string, number>> = { lmdb: 7, 'better-sqlite3@12': 5 };

function row(kind: string, size: number, count: number, ours: number, peer: string, theirs: number, note: string): BenchRow {
  const ratio = ours / theirs;
  const min = kind === 'append' && size === 100 ? APPEND_RATIO_TARGETS[peer] : undefined;
  const target = min === undefined ? {} : atLeast(ratio, min, `>= ${min}x`);
  return { group: kind, name: `${kind} ${count} x ${size} B, ${BATCH}/batch`, value: ours, unit: 'records/s', ...target, peer, peerValue: theirs, ratio, note };
}

async function writeResults(rows: BenchRow[], chart: { peer: string; size: number; mbps: number }[], machine: string, full: boolean): Promise<void> {
  // vega and vega-lite are ES modules (with top-level await): imported from bench/peers by file URL.
  const esm = (name: string) => import(pathToFileURL(peerRequire.resolve(name)).href);
  const vega = (await esm('vega')) as { View: new (runtime: unknown, o: object) => { toSVG(): Promise<string> }; parse(spec: unknown): unknown };
  const vl = (await esm('vega-lite')) as { compile(spec: object): { spec: unknown } };
  const spec = vl.compile({
    width: 560,
    height: 320,
    title: { text: 'Append throughput by record size', subtitle: ['1000 records per write, no fsync', machine] },
    data: { values: chart },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'record size (bytes)' },
      y: { field: 'mbps', type: 'quantitative', scale: { type: 'log' }, title: 'MB/s of record values' },
      color: { field: 'peer', type: 'nominal', title: null },
    },
  }).spec;
  const svg = await new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG();
  const dir = path.join(import.meta.dirname, '..', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'append-throughput.svg'), svg);
  const md = [
    '# seglog benchmark results',
    '',
    `Generated by \`npm run bench:peers${full ? ' -- --full' : ''}\` on ${machine}. Ratios are seglog/peer, measured in the same run.`,
    'Durability for every store: no fsync per batch (seglog `durability: \'os\'`); see each row.',
    '',
    '![append throughput against record size](append-throughput.svg)',
    '',
    markdownTable(rows),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'latest.md'), md);
}

await main();
