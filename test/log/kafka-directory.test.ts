/**
 * A partition directory laid out as a Kafka broker leaves it (reference section 0), from batches another
 * implementation encoded (KafkaJS 2.2.4, with its codecs: none, gzip, snappy via kafkajs-snappy, lz4 via
 * kafkajs-lz4): `.log` segments named by their 20-digit base offset, holding batches whose absolute
 * offsets and leader epochs were written into the header as the broker writes them (both lie outside the
 * CRC, so the producer's CRC stays valid), and nothing else of seglog's: no `.index`/`.timeindex`, no
 * checkpoints, no clean-shutdown marker; and, as right after a roll, an empty active segment. `Log.open`
 * must rebuild the indexes, read every record back in order, rebuild idempotent-producer state from the
 * batch headers, append and reopen.
 *
 * The batches are what a broker stores: plain ones, an idempotent producer's (in sequence), a
 * transactional producer's each followed by its COMMIT marker (a control batch, which consumers skip),
 * and batches of a LogAppendTime topic (the broker set the timestamp type and max timestamp and
 * recomputed the CRC, as `LogValidator` does). KafkaJS cannot write the last two kinds, so its batches are
 * patched as the broker patches them, with KafkaJS's own CRC-32C.
 *
 * A variant adds the files a broker keeps next to the segments (`leader-epoch-checkpoint`,
 * `partition.metadata`, a producer-state `.snapshot`), which must neither be treated as segments nor as
 * damage, nor be removed or changed. seglog reads `.snapshot` files itself (Kafka's v1 format, see
 * `producer-state.ts`), so the one written here is a valid v1 snapshot, checksummed with KafkaJS's CRC-32C.
 *
 * Randomness: each test draws a seed with `testSeed` and prints it; `SEED=<n>` replays a failure.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, Log, type CompressionName, type LogRecord } from '../../src/main.js';
import { KAFKA_PY_V0, KAFKA_PY_V1 } from '../fixtures/vectors.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as {
  CompressionCodecs: Record<number, unknown>;
  CompressionTypes: { None: number; GZIP: number; Snappy: number; LZ4: number };
};
const LZ4Codec = require('kafkajs-lz4') as new () => { codec: unknown };
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (bytes: Buffer) => number;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: number): unknown };

const CODECS: readonly (readonly [CompressionName, number])[] = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
];

/** v2 header fields (reference 1.1) a broker writes or patches. */
const BASE_OFFSET_POSITION = 0;
const PARTITION_LEADER_EPOCH_POSITION = 12;
const CRC_POSITION = 17;
const ATTRIBUTES_POSITION = 21;
const MAX_TIMESTAMP_POSITION = 35;
const TIMESTAMP_TYPE_FLAG = 0x08;
const CONTROL_FLAG = 0x20;
const FIRST_TIMESTAMP = 1_700_000_000_000;
/** The idempotent producer some batches come from, and the transactional one. */
const PRODUCER_ID = 4242;
const TRANSACTIONAL_PRODUCER_ID = 7777;
/** A COMMIT marker's record (reference 1.3): key = version 0, type 1; value = version 0, coordinator epoch. */
const COMMIT_KEY = Buffer.from([0, 0, 0, 1]);
const COMMIT_VALUE = Buffer.from([0, 0, 0, 0, 0, 3]);

const fileName = (offset: number, suffix: string): string => `${String(offset).padStart(20, '0')}${suffix}`;

/** A record as the test expects a consumer to read it back. */
interface Expected {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: readonly { key: string; value: string | null }[];
}

/** A batch as a producer sent it and as the broker stored it. */
interface BrokerBatch {
  /** As the producer sent it: base offset 0, leader epoch 0. */
  readonly sent: Buffer;
  /** As the broker stored it: absolute base offset and the leader's epoch patched in. */
  readonly stored: Buffer;
  readonly baseOffset: number;
  readonly count: number;
  /** The records a consumer sees: none for a control batch. */
  readonly records: readonly Expected[];
  /** Every record's offset and timestamp, control records included (what time lookups search). */
  readonly timeline: readonly { offset: number; timestamp: number }[];
  readonly producerId: number;
  readonly producerSequence: number;
}

interface BatchParams {
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: number;
  readonly leaderEpoch: number;
  /** Idempotent (or transactional) producer and the first record's sequence. */
  readonly producer?: { id: number; sequence: number; transactional: boolean };
  /** A LogAppendTime topic: the broker's clock when it appended the batch. */
  readonly logAppendTimeMs?: number;
}

/** Sets attribute bits and, optionally, the max timestamp, then the CRC-32C (KafkaJS's), as a broker does. */
function patchHeader(batch: Buffer, attributes: number, maxTimestamp?: number): void {
  batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_POSITION) | attributes, ATTRIBUTES_POSITION);
  if (maxTimestamp !== undefined) batch.writeBigInt64BE(BigInt(maxTimestamp), MAX_TIMESTAMP_POSITION);
  batch.writeUInt32BE(kafkajsCrc32C(batch.subarray(ATTRIBUTES_POSITION)), CRC_POSITION);
}

/** Seeded contents of record `offset`. */
function randomRecord(rng: Rng, offset: number): { key: string | null; value: string | null; headers: Record<string, string> } {
  return {
    key: rng.bool(0.2) ? null : `key-${rng.int(0, 99)}`,
    value: rng.bool(0.05) ? null : `value of offset ${offset}: ${'x'.repeat(rng.int(0, 300))}`,
    headers: rng.bool(0.5) ? { source: 'kafkajs', 'trace-id': String(rng.int(0, 1e9)) } : {},
  };
}

/** KafkaJS's encoder over `records`; their timestamps are `firstTimestamp + 10 * i`. */
async function kafkajsEncode(records: readonly { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[], params: BatchParams, firstTimestamp: number): Promise<Buffer> {
  const encoded = records.map((r, i) => kafkajsRecord({ offsetDelta: i, timestampDelta: Long.fromValue(10 * i), key: r.key, value: r.value, headers: r.headers }));
  const { producer } = params;
  const batch = await kafkajsRecordBatch({
    compression: params.codec,
    records: encoded,
    firstTimestamp,
    maxTimestamp: firstTimestamp + 10 * (records.length - 1),
    lastOffsetDelta: records.length - 1,
    ...(producer === undefined
      ? {}
      : { producerId: Long.fromValue(producer.id), producerEpoch: 0, firstSequence: producer.sequence, transactional: producer.transactional }),
  });
  return Buffer.from(batch.buffer);
}

/** The batch as the broker stores it: its absolute base offset and the leader's epoch written in. */
function stored(sent: Buffer, baseOffset: number, leaderEpoch: number): Buffer {
  const bytes = Buffer.from(sent);
  bytes.writeBigInt64BE(BigInt(baseOffset), BASE_OFFSET_POSITION);
  bytes.writeInt32BE(leaderEpoch, PARTITION_LEADER_EPOCH_POSITION);
  return bytes;
}

/**
 * One KafkaJS batch of `count` records at absolute `baseOffset` with seeded contents. Record timestamps rise
 * with the offset (`FIRST_TIMESTAMP + 10 * offset`); a LogAppendTime batch's records all read as the
 * broker's time instead.
 */
async function kafkajsBatch(rng: Rng, params: BatchParams): Promise<BrokerBatch> {
  const { baseOffset, count } = params;
  const contents = Array.from({ length: count }, (_, i) => randomRecord(rng, baseOffset + i));
  const records = contents.map((c, i) => ({
    offset: baseOffset + i,
    timestamp: params.logAppendTimeMs ?? FIRST_TIMESTAMP + 10 * (baseOffset + i),
    key: c.key,
    value: c.value,
    headers: Object.entries(c.headers).map(([key, value]) => ({ key, value })),
  }));
  const asBytes = (t: string | null) => (t === null ? null : Buffer.from(t));
  const sent = await kafkajsEncode(contents.map((c) => ({ key: asBytes(c.key), value: asBytes(c.value), headers: c.headers })), params, FIRST_TIMESTAMP + 10 * baseOffset);
  const bytes = stored(sent, baseOffset, params.leaderEpoch);
  if (params.logAppendTimeMs !== undefined) patchHeader(bytes, TIMESTAMP_TYPE_FLAG, params.logAppendTimeMs);
  return {
    sent,
    stored: bytes,
    baseOffset,
    count,
    records,
    timeline: records.map((r) => ({ offset: r.offset, timestamp: r.timestamp })),
    producerId: params.producer?.id ?? -1,
    producerSequence: params.producer?.sequence ?? -1,
  };
}

/** The COMMIT marker the transaction coordinator has the broker write after a transaction's batches. */
async function commitMarker(params: { baseOffset: number; leaderEpoch: number; timestamp: number }): Promise<BrokerBatch> {
  const producer = { id: TRANSACTIONAL_PRODUCER_ID, sequence: -1, transactional: true };
  const batchParams = { baseOffset: params.baseOffset, count: 1, codec: CompressionTypes.None, leaderEpoch: params.leaderEpoch, producer };
  const sent = await kafkajsEncode([{ key: COMMIT_KEY, value: COMMIT_VALUE, headers: {} }], batchParams, params.timestamp);
  const bytes = stored(sent, params.baseOffset, params.leaderEpoch);
  patchHeader(bytes, CONTROL_FLAG);
  return { sent, stored: bytes, baseOffset: params.baseOffset, count: 1, records: [], timeline: [{ offset: params.baseOffset, timestamp: params.timestamp }], producerId: producer.id, producerSequence: -1 };
}

interface BrokerDirectory {
  readonly segmentBaseOffsets: readonly number[];
  readonly batches: readonly BrokerBatch[];
  readonly records: readonly Expected[];
  readonly endOffset: number;
}

/**
 * Writes `segments` `.log` files into `dir`, the first at `firstOffset` (above 0 when retention already
 * deleted older segments), and with `emptyActiveSegment` an empty one after them. Batches use every codec in turn; by position, one in four comes from the
 * idempotent producer (in sequence), one in seven from the transactional producer (then its COMMIT
 * marker), one in five from a LogAppendTime topic; the leader epoch rises with the segments.
 */
async function writeBrokerDirectory(dir: string, rng: Rng, params: { firstOffset: number; segments: number; emptyActiveSegment?: boolean }): Promise<BrokerDirectory> {
  const segmentBaseOffsets: number[] = [];
  const batches: BrokerBatch[] = [];
  const sequences = new Map<number, number>([
    [PRODUCER_ID, 0],
    [TRANSACTIONAL_PRODUCER_ID, 0],
  ]);
  let offset = params.firstOffset;
  for (let segment = 0; segment < params.segments; segment++) {
    segmentBaseOffsets.push(offset);
    const leaderEpoch = Math.floor(segment / 2);
    const segmentBatches: BrokerBatch[] = [];
    for (let b = rng.int(8, 20); b > 0; b--) {
      const n = batches.length + segmentBatches.length;
      const count = rng.int(1, 12);
      const id = n % 4 === 0 ? PRODUCER_ID : n % 7 === 3 ? TRANSACTIONAL_PRODUCER_ID : undefined;
      const producer = id === undefined ? undefined : { id, sequence: sequences.get(id)!, transactional: id === TRANSACTIONAL_PRODUCER_ID };
      const lastTimestamp = FIRST_TIMESTAMP + 10 * (offset + count - 1);
      const batch = await kafkajsBatch(rng, {
        baseOffset: offset,
        count,
        codec: CODECS[n % CODECS.length]![1],
        leaderEpoch,
        ...(producer === undefined ? {} : { producer }),
        // The broker's clock: after the records' own times, before the next batch's.
        ...(n % 5 === 2 ? { logAppendTimeMs: lastTimestamp + 5 } : {}),
      });
      segmentBatches.push(batch);
      offset += count;
      if (producer !== undefined) sequences.set(producer.id, producer.sequence + count);
      if (producer?.transactional) {
        segmentBatches.push(await commitMarker({ baseOffset: offset, leaderEpoch, timestamp: lastTimestamp + 5 }));
        offset += 1;
      }
    }
    batches.push(...segmentBatches);
    fs.writeFileSync(path.join(dir, fileName(segmentBaseOffsets[segment]!, '.log')), Buffer.concat(segmentBatches.map((b) => b.stored)));
  }
  if (params.emptyActiveSegment === true) {
    // A broker that has just rolled (segment.ms, segment.bytes) leaves an empty active segment.
    segmentBaseOffsets.push(offset);
    fs.writeFileSync(path.join(dir, fileName(offset, '.log')), Buffer.alloc(0));
  }
  return { segmentBaseOffsets, batches, records: batches.flatMap((b) => b.records), endOffset: offset };
}

/** Naive model of a time lookup: the first record, control records included, with a timestamp >= `t`. */
function firstOffsetAtOrAfter(directory: BrokerDirectory, t: number): number | null {
  for (const batch of directory.batches) for (const r of batch.timeline) if (r.timestamp >= t) return r.offset;
  return null;
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString());

function asExpected(record: LogRecord): Expected {
  return { offset: record.offset, timestamp: record.timestamp, key: text(record.key), value: text(record.value), headers: record.headers.map((h) => ({ key: h.key, value: text(h.value) })) };
}

/** Read sizes the loop cycles through: below one batch (minOneMessage applies), a few batches, a segment. */
const READ_SIZES = [1, 700, 2048, 64 * 1024] as const;

/**
 * Every record from `startOffset` to `endOffset`, in order, through a consumer's read loop: each read
 * resumes after the last whole batch of the previous one (`nextOffset`), which also steps over control
 * batches, whose records consumers never see.
 */
async function readEverything(log: Log): Promise<Expected[]> {
  const out: Expected[] = [];
  for (let offset = log.startOffset, i = 0; offset < log.endOffset; i++) {
    const range = await log.read(offset, { maxBytes: READ_SIZES[i % READ_SIZES.length]! });
    const records = [...range.records()];
    expect(range.nextOffset, `read at ${offset} makes progress`).toBeGreaterThan(offset);
    for (const record of records) expect(record.offset, `read at ${offset}`).toBeGreaterThanOrEqual(offset);
    out.push(...records.map(asExpected));
    offset = range.nextOffset;
  }
  return out;
}

/** Every batch header's leader epoch and base offset, in order. */
async function batchHeaders(log: Log): Promise<{ baseOffset: number; partitionLeaderEpoch: number }[]> {
  const out: { baseOffset: number; partitionLeaderEpoch: number }[] = [];
  for (let offset = log.startOffset; offset < log.endOffset; ) {
    for (const batch of (await log.read(offset)).batches()) {
      out.push({ baseOffset: batch.baseOffset, partitionLeaderEpoch: batch.partitionLeaderEpoch });
      offset = batch.nextOffset;
    }
  }
  return out;
}

/** The last batch of the idempotent producer, as the producer sent it (a retry resends exactly this). */
function lastIdempotent(directory: BrokerDirectory): BrokerBatch {
  return directory.batches.filter((b) => b.producerId === PRODUCER_ID).at(-1)!;
}

/**
 * Opens `dir` (a broker's directory written by {@link writeBrokerDirectory}), checks everything reads back
 * and that producer state was rebuilt, appends, closes, reopens and reads again. Returns nothing: it asserts.
 */
async function openReadAppendReopen(dir: string, directory: BrokerDirectory, rng: Rng, afterOpen: () => void = () => {}): Promise<void> {
  const log = await Log.open(dir, { durability: 'os' });
  afterOpen();
  const report = log.recoveryReport;
  expect(report.clean, 'no clean-shutdown marker: recovery runs').toBe(false);
  expect(report.truncations).toEqual([]);
  expect(report.deletedSegments).toEqual([]);
  expect(report.removedFiles, "none of the broker's files is removed").toEqual([]);
  expect(report.recoveredSegments, 'every segment without indexes is scanned').toBe(directory.segmentBaseOffsets.length);
  expect(log.segments.map((s) => s.baseOffset)).toEqual(directory.segmentBaseOffsets);
  expect(log.startOffset).toBe(directory.segmentBaseOffsets[0]);
  expect(log.endOffset).toBe(directory.endOffset);

  expect(await readEverything(log)).toEqual(directory.records);
  expect(await batchHeaders(log)).toEqual(
    directory.batches.map((b) => ({ baseOffset: b.baseOffset, partitionLeaderEpoch: b.stored.readInt32BE(PARTITION_LEADER_EPOCH_POSITION) })),
  );
  // The rebuilt time indexes against the naive model, for the times of a few records and just before them.
  const records = directory.records;
  for (const record of [records[0]!, rng.pick(records), rng.pick(records), records.at(-1)!]) {
    for (const t of [record.timestamp, record.timestamp - 3]) expect(await log.offsetForTimestamp(t), `time ${t}`).toBe(firstOffsetAtOrAfter(directory, t));
  }
  expect(await log.offsetForTimestamp(FIRST_TIMESTAMP + 10 * directory.endOffset + 100)).toBe(null);

  // Producer state rebuilt from the batch headers: a retry of the producer's last batch is answered with its
  // original offsets, a gap in its sequence is refused, and its next batch is taken.
  const retry = lastIdempotent(directory);
  expect(await log.appendBatch(retry.sent)).toEqual({ baseOffset: retry.baseOffset, lastOffset: retry.baseOffset + retry.count - 1, duplicate: true });
  const nextSequence = retry.producerSequence + retry.count;
  const producer = { id: PRODUCER_ID, transactional: false };
  const gap = await kafkajsBatch(rng, { baseOffset: 0, count: 2, codec: CompressionTypes.LZ4, leaderEpoch: 0, producer: { ...producer, sequence: nextSequence + 1 } });
  await expect(log.appendBatch(gap.sent)).rejects.toMatchObject({ code: ErrorCode.OUT_OF_ORDER_SEQUENCE });
  const next = await kafkajsBatch(rng, { baseOffset: directory.endOffset, count: 3, codec: CompressionTypes.GZIP, leaderEpoch: 0, producer: { ...producer, sequence: nextSequence } });
  expect(await log.appendBatch(next.sent)).toEqual({ baseOffset: directory.endOffset, lastOffset: directory.endOffset + 2 });
  const appended = await log.append([{ key: 'k', value: 'appended by seglog', timestamp: FIRST_TIMESTAMP + 10 * (directory.endOffset + 3) }]);
  expect(appended.baseOffset).toBe(directory.endOffset + 3);
  const all = [
    ...directory.records,
    ...next.records,
    { offset: directory.endOffset + 3, timestamp: FIRST_TIMESTAMP + 10 * (directory.endOffset + 3), key: 'k', value: 'appended by seglog', headers: [] },
  ];
  expect(await readEverything(log)).toEqual(all);
  await log.close();
  for (const base of directory.segmentBaseOffsets) {
    expect(fs.existsSync(path.join(dir, fileName(base, '.index'))), `index of ${base} written`).toBe(true);
    expect(fs.existsSync(path.join(dir, fileName(base, '.timeindex'))), `time index of ${base} written`).toBe(true);
  }

  const reopened = await Log.open(dir, { durability: 'os' });
  expect(reopened.recoveryReport.clean).toBe(true);
  expect(reopened.recoveryReport.truncations).toEqual([]);
  expect(reopened.startOffset).toBe(directory.segmentBaseOffsets[0]);
  expect(reopened.endOffset).toBe(directory.endOffset + 4);
  expect(await readEverything(reopened)).toEqual(all);
  expect(await reopened.appendBatch(next.sent)).toMatchObject({ baseOffset: directory.endOffset, duplicate: true });
  await reopened.close();
}

/**
 * Kafka's producer-state snapshot, version 1 (`ProducerStateManager`): version int16, CRC-32C of the bytes
 * after the CRC, entry count int32; no entries (the state before offset 0 is empty).
 */
function kafkaEmptyProducerSnapshot(): Buffer {
  const bytes = Buffer.alloc(2 + 4 + 4);
  bytes.writeInt16BE(1, 0);
  bytes.writeInt32BE(0, 6);
  bytes.writeUInt32BE(kafkajsCrc32C(bytes.subarray(6)), 2);
  return bytes;
}

describe('a directory written as a Kafka broker would', () => {
  it('opens without index files or checkpoints (and an empty active segment), reads every record in order, appends and reopens', async () => {
    const seed = testSeed('kafka directory');
    const rng = new Rng(seed);
    const dir = tempDir('orders-0-');
    const directory = await writeBrokerDirectory(dir, rng, { firstOffset: 0, segments: 4, emptyActiveSegment: true });
    expect(fs.readdirSync(dir).sort()).toEqual(directory.segmentBaseOffsets.map((b) => fileName(b, '.log')));
    await openReadAppendReopen(dir, directory, rng);
  });

  it('opens a directory whose oldest segments retention deleted (first segment above offset 0)', async () => {
    const seed = testSeed('kafka directory after retention');
    const rng = new Rng(seed);
    const dir = tempDir('orders-1-');
    const directory = await writeBrokerDirectory(dir, rng, { firstOffset: 123_456_789_012, segments: 3 });
    await openReadAppendReopen(dir, directory, rng);
  });

  it("leaves the broker's other files alone: leader-epoch-checkpoint, partition.metadata, a producer snapshot", async () => {
    const seed = testSeed('kafka directory with broker files');
    const rng = new Rng(seed);
    const dir = tempDir('orders-2-');
    const directory = await writeBrokerDirectory(dir, rng, { firstOffset: 0, segments: 3 });
    // As Kafka writes them (CheckpointFile: version, entry count, entries; PartitionMetadataFile).
    const brokerFiles: Record<string, Buffer> = {
      'leader-epoch-checkpoint': Buffer.from(`0\n2\n0 0\n1 ${directory.segmentBaseOffsets[2]}\n`),
      'partition.metadata': Buffer.from('version: 0\ntopic_id: 5tCHqc8hTxK2Y7lRAhK5nA\n'),
    };
    for (const [name, bytes] of Object.entries(brokerFiles)) fs.writeFileSync(path.join(dir, name), bytes);
    const snapshot = path.join(dir, fileName(0, '.snapshot'));
    fs.writeFileSync(snapshot, kafkaEmptyProducerSnapshot());

    await openReadAppendReopen(dir, directory, rng, () => {
      // Read as a valid snapshot: a damaged one would have been deleted by now.
      expect(fs.existsSync(snapshot), "Kafka's v1 snapshot is accepted").toBe(true);
    });
    for (const [name, bytes] of Object.entries(brokerFiles)) {
      expect(fs.readFileSync(path.join(dir, name)).equals(bytes), `${name} unchanged`).toBe(true);
    }
  });

  it('reads a directory of legacy v0 and v1 messages (Kafka 0.10 data)', async () => {
    for (const bytes of [KAFKA_PY_V0, KAFKA_PY_V1]) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, fileName(0, '.log')), bytes);
      const log = await Log.open(dir, { durability: 'os' });
      expect(log.endOffset).toBe(4);
      expect((await readEverything(log)).map((r) => r.value)).toEqual(['123', '', '', '123']);
      await log.append([{ value: 'v2 after legacy' }]);
      expect(log.endOffset).toBe(5);
      await log.close();
    }
  });
});
