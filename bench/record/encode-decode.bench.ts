/**
 * Question: how fast are v2 batches built and parsed, against KafkaJS's encoder and decoder in the same
 * run? 1000-record batches of 100-byte values, uncompressed and lz4. Decode verifies the CRC-32C and
 * touches every key and value; KafkaJS checks no CRC, which favours it.
 */
import { createRequire } from 'node:module';
import { decodeBatches, encodeBatch, RecordBatchBuilder } from '../_util/seglog.js';
import { elapsedMs, gc, median, now, warmUp, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

interface KafkaJs {
  RecordBatch: (a: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
  KafkaRecord: (a: Record<string, unknown>) => unknown;
  decode: (d: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer | null }[] }>;
  Decoder: new (b: Buffer) => unknown;
  codecs: { none: number; lz4: number };
}

/** KafkaJS, the peer, when installed (a dev dependency: `seglog bench` from an installed package skips it). */
function loadKafkaJs(): KafkaJs | undefined {
  const require = createRequire(import.meta.url);
  try {
    const { CompressionCodecs, CompressionTypes } = require('kafkajs') as { CompressionCodecs: Record<number, unknown>; CompressionTypes: Record<string, number> };
    const Lz4 = require('kafkajs-lz4') as new () => { codec: unknown };
    CompressionCodecs[CompressionTypes['LZ4']!] = new Lz4().codec;
    return {
      RecordBatch: (require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: KafkaJs['RecordBatch'] }).RecordBatch,
      KafkaRecord: require('kafkajs/src/protocol/recordBatch/record/v0') as KafkaJs['KafkaRecord'],
      decode: require('kafkajs/src/protocol/recordBatch/v0/decoder') as KafkaJs['decode'],
      Decoder: require('kafkajs/src/protocol/decoder') as KafkaJs['Decoder'],
      codecs: { none: CompressionTypes['None']!, lz4: CompressionTypes['LZ4']! },
    };
  } catch {
    return undefined;
  }
}

const RECORDS_PER_BATCH = 1000;
const VALUE_BYTES = 100;

/** Records per second over `batches` runs of `work` (each handles one 1000-record batch). */
async function rate(batches: number, work: () => unknown): Promise<number> {
  gc(); // the other side's garbage is not this side's cost (a no-op without --expose-gc)
  const start = now();
  for (let i = 0; i < batches; i++) await work();
  return (batches * RECORDS_PER_BATCH) / (elapsedMs(start) / 1000);
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const batches = options.tiny ? 3 : options.quick ? 400 : 1000;
  const rounds = options.tiny ? 1 : options.quick ? 5 : 9;
  const kafkajs = loadKafkaJs();
  const input = records(RECORDS_PER_BATCH, VALUE_BYTES, 1);
  const builder = new RecordBatchBuilder();
  const rows: BenchRow[] = [];
  for (const codec of ['none', 'lz4'] as const) {
    options.progress?.(`encode/decode ${codec}`);
    const bytes = encodeBatch(input, { compression: codec });
    let sink = 0;
    const decodeOurs = () => {
      for (const batch of decodeBatches(bytes)) for (const r of batch.records()) sink += (r.key?.length ?? 0) + r.value!.length;
    };
    const ours = { build: [] as number[], fresh: [] as number[], decode: [] as number[] };
    const theirs = { encode: [] as number[], decode: [] as number[] };
    const kafkajsEncode = kafkajs && (() => kafkajs.RecordBatch({ compression: kafkajs.codecs[codec], records: input.map((r, i) => kafkajs.KafkaRecord({ offsetDelta: i, key: r.key, value: r.value })), lastOffsetDelta: RECORDS_PER_BATCH - 1 }));
    const kafkajsBytes = kafkajsEncode && Buffer.from((await kafkajsEncode()).buffer);
    const warm = options.tiny ? 10 : 1500;
    await warmUp(warm, () => builder.buildReusable(input, { compression: codec, timestamp: 1 }));
    await warmUp(warm, () => encodeBatch(input, { compression: codec, timestamp: 1 }));
    await warmUp(warm, decodeOurs);
    for (let r = 0; r < rounds; r++) {
      // Interleaved rounds: both sides see the same (noisy) machine.
      ours.build.push(await rate(batches, () => builder.buildReusable(input, { compression: codec, timestamp: 1 })));
      ours.fresh.push(await rate(batches, () => encodeBatch(input, { compression: codec, timestamp: 1 })));
      ours.decode.push(await rate(batches, decodeOurs));
      if (kafkajs && kafkajsEncode && kafkajsBytes) {
        theirs.encode.push(await rate(Math.max(1, batches / 10), kafkajsEncode));
        theirs.decode.push(await rate(Math.max(1, batches / 5), async () => {
          for (const rec of (await kafkajs.decode(new kafkajs.Decoder(kafkajsBytes))).records) sink += (rec.key?.length ?? 0) + rec.value!.length;
        }));
      }
    }
    const build = median(ours.build);
    const decode = median(ours.decode);
    const peerEncode = kafkajs ? { peer: 'KafkaJS', peerValue: median(theirs.encode) } : {};
    const peerDecode = kafkajs ? { peer: 'KafkaJS (no CRC)', peerValue: median(theirs.decode) } : {};
    const ratio = (value: number, peer: number | undefined) => (peer === undefined ? undefined : value / peer);
    const encodeRatio = ratio(build, peerEncode.peerValue);
    const decodeRatio = ratio(decode, peerDecode.peerValue);
    rows.push({ group: 'record', name: `encode 1000 x 100 B, ${codec} (reusable builder)`, value: build, unit: 'records/s', ...peerEncode, ...(encodeRatio === undefined ? {} : { ratio: encodeRatio }), target: '>= 15x, >= 5 M/s', met: (encodeRatio ?? 0) >= 15 && build >= 5e6, note: kafkajs ? `median of ${rounds}` : 'KafkaJS not installed' });
    rows.push({ group: 'record', name: `encode 1000 x 100 B, ${codec} (encodeBatch, new buffer)`, value: median(ours.fresh), unit: 'records/s' });
    rows.push({ group: 'record', name: `decode 1000 x 100 B, ${codec}, CRC verified`, value: decode, unit: 'records/s', ...peerDecode, ...(decodeRatio === undefined ? {} : { ratio: decodeRatio }), target: '>= 4x, >= 4 M/s', met: (decodeRatio ?? 0) >= 4 && decode >= 4e6, note: `median of ${rounds}` });
    if (sink < 0) console.log(sink);
  }
  return rows;
}

runIfMain(import.meta.url, run);
