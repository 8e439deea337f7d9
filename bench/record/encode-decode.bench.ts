/**
 * Question: how fast are v2 batches built and parsed, against KafkaJS's encoder and decoder in the same
 * run? 1000-record batches of 100-byte values, uncompressed and lz4. Decode verifies the CRC-32C and
 * touches every key and value; KafkaJS checks no CRC, which favours it.
 */
import { createRequire } from 'node:module';
import { decodeBatches, encodeBatch, RecordBatchBuilder } from '../_util/seglog.js';
import { compared, elapsedMs, medianOf, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const require = createRequire(import.meta.url);
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as { CompressionCodecs: Record<number, unknown>; CompressionTypes: Record<string, number> };
const Lz4 = require('kafkajs-lz4') as new () => { codec: unknown };
CompressionCodecs[CompressionTypes['LZ4']!] = new Lz4().codec;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (a: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (a: Record<string, unknown>) => unknown;
const decodeKafkaJs = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer | null }[] }>;
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;

const RECORDS_PER_BATCH = 1000;
const VALUE_BYTES = 100;

/** Records per second over `batches` runs of `work` (each handles one 1000-record batch). */
async function rate(batches: number, work: () => unknown): Promise<number> {
  const start = now();
  for (let i = 0; i < batches; i++) await work();
  return (batches * RECORDS_PER_BATCH) / (elapsedMs(start) / 1000);
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const batches = options.tiny ? 3 : options.quick ? 60 : 300;
  const rounds = options.tiny ? 1 : options.quick ? 3 : 7;
  const input = records(RECORDS_PER_BATCH, VALUE_BYTES, 1);
  const builder = new RecordBatchBuilder();
  const rows: BenchRow[] = [];
  for (const codec of ['none', 'lz4'] as const) {
    options.progress?.(`encode/decode ${codec}`);
    const kafkajsCodec = codec === 'none' ? CompressionTypes['None'] : CompressionTypes['LZ4'];
    const kafkajsEncode = () =>
      RecordBatch({ compression: kafkajsCodec, records: input.map((r, i) => KafkaRecord({ offsetDelta: i, key: r.key, value: r.value })), lastOffsetDelta: RECORDS_PER_BATCH - 1 });
    const ours = await medianOf(rounds, () => rate(batches, () => builder.buildReusable(input, { compression: codec, timestamp: 1 })));
    const oursFresh = await medianOf(rounds, () => rate(batches, () => encodeBatch(input, { compression: codec, timestamp: 1 })));
    const theirs = await medianOf(rounds, () => rate(Math.max(1, batches / 10), kafkajsEncode));
    rows.push(compared({ group: 'record', name: `encode 1000 x 100 B, ${codec} (reusable builder)`, value: ours, unit: 'records/s', peer: 'KafkaJS', peerValue: theirs, target: '>= 15x, >= 5 M/s', met: ours / theirs >= 15 && ours >= 5e6 }));
    rows.push(compared({ group: 'record', name: `encode 1000 x 100 B, ${codec} (encodeBatch, new buffer)`, value: oursFresh, unit: 'records/s', peer: 'KafkaJS', peerValue: theirs }));
    const bytes = encodeBatch(input, { compression: codec });
    const kafkajsBytes = Buffer.from((await kafkajsEncode()).buffer);
    let sink = 0;
    const decodeOurs = () => {
      for (const batch of decodeBatches(bytes)) for (const r of batch.records()) sink += (r.key?.length ?? 0) + r.value!.length;
    };
    const decodeTheirs = async () => {
      for (const r of (await decodeKafkaJs(new KafkaDecoder(kafkajsBytes))).records) sink += (r.key?.length ?? 0) + r.value!.length;
    };
    const oursDecode = await medianOf(rounds, () => rate(batches, decodeOurs));
    const theirsDecode = await medianOf(rounds, () => rate(Math.max(1, batches / 5), decodeTheirs));
    rows.push(compared({ group: 'record', name: `decode 1000 x 100 B, ${codec}, CRC verified`, value: oursDecode, unit: 'records/s', peer: 'KafkaJS (no CRC)', peerValue: theirsDecode, target: '>= 4x, >= 4 M/s', met: oursDecode / theirsDecode >= 4 && oursDecode >= 4e6 }));
    if (sink < 0) console.log(sink);
  }
  return rows;
}

runIfMain(import.meta.url, run);
