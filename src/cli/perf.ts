/**
 * `seglog perf-produce` and `seglog perf-consume`: Kafka's `kafka-producer-perf-test.sh` and
 * `kafka-consumer-perf-test.sh` for a log directory of the user's choosing: records/s, MB/s and append
 * latency percentiles, in the shape those tools print.
 */
import { randomBytes } from 'node:crypto';
import type { CompressionName } from '../compression/codec.js';
import { Log } from '../log/log.js';
import { UsageError, choiceOption, intOption, parse, type Io } from './args.js';

export const PRODUCE_USAGE = `Usage: seglog perf-produce --dir <log directory> [options]

Appends records as fast as it can and prints throughput and append latency.

Options:
  --dir <path>            log directory (created if missing)
  --records <n>           records to append (default 1000000)
  --record-size <bytes>   value size (default 100)
  --batch-size <n>        records per append (default 1000)
  --codec <name>          none, gzip, snappy, lz4, zstd (default none)
  --durability <mode>     os or fsync (default os)
  -h, --help              this message`;

export const CONSUME_USAGE = `Usage: seglog perf-consume --dir <log directory> [options]

Reads and decodes records as fast as it can and prints throughput.

Options:
  --dir <path>            log directory (must exist)
  --from <offset>         first offset (default: the log's start)
  --max-records <n>       stop after n records (default: all)
  --fetch-size <bytes>    bytes per read (default 1048576)
  -h, --help              this message`;

const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export async function perfProduce(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    dir: { type: 'string' },
    records: { type: 'string' },
    'record-size': { type: 'string' },
    'batch-size': { type: 'string' },
    codec: { type: 'string' },
    durability: { type: 'string' },
  });
  if (values['help']) {
    io.out(PRODUCE_USAGE);
    return 0;
  }
  if (typeof values['dir'] !== 'string') throw new UsageError('--dir is required');
  const total = intOption(values, 'records', 1_000_000);
  const size = intOption(values, 'record-size', 100, 0);
  const batchSize = intOption(values, 'batch-size', 1000);
  const compression = choiceOption(values, 'codec', CODECS, 'none');
  const durability = choiceOption(values, 'durability', ['os', 'fsync'] as const, 'os');
  const value = randomBytes(size);
  const batch = Array.from({ length: batchSize }, () => ({ value }));
  const log = await Log.open(values['dir'], { durability, maxMessageBytes: Math.max(1_048_588, batchSize * (size + 32) + 100) });
  const latencies = new Float64Array(Math.ceil(total / batchSize));
  const start = performance.now();
  let sent = 0;
  for (let i = 0; sent < total; i++) {
    const records = total - sent >= batchSize ? batch : batch.slice(0, total - sent);
    const t = performance.now();
    await log.append(records, { compression });
    latencies[i] = performance.now() - t;
    sent += records.length;
  }
  const seconds = (performance.now() - start) / 1000;
  await log.close();
  latencies.sort();
  const avg = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  io.out(
    `${sent} records sent, ${(sent / seconds).toFixed(1)} records/sec (${((sent * size) / 1024 / 1024 / seconds).toFixed(2)} MB/sec), ` +
      `${avg.toFixed(2)} ms avg latency, ${latencies[latencies.length - 1]!.toFixed(2)} ms max latency, ` +
      `${percentile(latencies, 0.5).toFixed(2)} ms 50th, ${percentile(latencies, 0.95).toFixed(2)} ms 95th, ` +
      `${percentile(latencies, 0.99).toFixed(2)} ms 99th, ${percentile(latencies, 0.999).toFixed(2)} ms 99.9th (per append of ${batchSize}, durability ${durability}, codec ${compression})`,
  );
  return 0;
}

export async function perfConsume(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { dir: { type: 'string' }, from: { type: 'string' }, 'max-records': { type: 'string' }, 'fetch-size': { type: 'string' } });
  if (values['help']) {
    io.out(CONSUME_USAGE);
    return 0;
  }
  if (typeof values['dir'] !== 'string') throw new UsageError('--dir is required');
  const log = await Log.open(values['dir'], { durability: 'os' });
  try {
    const maxRecords = intOption(values, 'max-records', Number.MAX_SAFE_INTEGER);
    const fetchSize = intOption(values, 'fetch-size', 1024 * 1024);
    let offset = intOption(values, 'from', log.startOffset, 0);
    const start = performance.now();
    let records = 0;
    let bytes = 0;
    while (offset < log.endOffset && records < maxRecords) {
      const range = await log.read(offset, { maxBytes: fetchSize });
      for (const record of range.records()) {
        bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
        if (++records >= maxRecords) break;
      }
      offset = range.nextOffset;
    }
    const seconds = (performance.now() - start) / 1000;
    io.out('data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec');
    io.out(`${(bytes / 1024 / 1024).toFixed(4)}, ${(bytes / 1024 / 1024 / seconds).toFixed(4)}, ${records}, ${(records / seconds).toFixed(4)}`);
    return 0;
  } finally {
    await log.close();
  }
}
