/**
 * `seglog dump <segment file | log directory>`: what Kafka's `kafka-dump-log.sh` prints: every batch
 * (offsets, position, size, magic, codec, CRC check, timestamps, producer fields), with `--records` every
 * record, with `--index` the index entries checked against the log (`--verify-index-only` prints only
 * the problems). Read-only; works on directories written by Kafka.
 */
import fs from 'node:fs';
import { UsageError, parse, type Io } from './args.js';
import { checkIndex, printable, readFile, readIndexEntries, scanBatches, segmentFilesOf, type BatchSummary } from './segment-files.js';

export const DUMP_USAGE = `Usage: seglog dump <segment .log file | log directory> [options]

Prints the batches of a segment file, or of every segment of a log directory, in order.

Options:
  --records              print every record (key and value as text, or hex when not printable)
  --index                print the .index and .timeindex entries and check each one against the log
  --verify-index-only    check the indexes, print only the problems
  --max-batches <n>      stop after n batches per segment
  -h, --help             this message`;

export function dump(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, {
    records: { type: 'boolean' },
    index: { type: 'boolean' },
    'verify-index-only': { type: 'boolean' },
    'max-batches': { type: 'string' },
  });
  if (values['help']) {
    io.out(DUMP_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('dump takes exactly one segment file or directory');
  const maxBatches = values['max-batches'] === undefined ? Infinity : Number(values['max-batches']);
  if (!(maxBatches >= 1)) throw new UsageError('--max-batches must be a positive integer');
  const indexOnly = values['verify-index-only'] === true;
  let problems = 0;
  for (const file of segmentFilesOf(positionals[0]!)) {
    if (!file.endsWith('.log')) throw new UsageError(`${file} is not a segment .log file`);
    const batches = dumpSegment(file, { records: values['records'] === true, quiet: indexOnly, maxBatches }, io);
    problems += batches.problems;
    if (values['index'] || indexOnly) problems += dumpIndexes(file, batches.summaries, indexOnly, io);
  }
  return problems === 0 ? 0 : 1;
}

function dumpSegment(file: string, options: { records: boolean; quiet: boolean; maxBatches: number }, io: Io): { summaries: BatchSummary[]; problems: number } {
  const summaries: BatchSummary[] = [];
  let problems = 0;
  if (!options.quiet) io.out(`Dumping ${file}`);
  let shown = 0;
  for (const step of scanBatches(readFile(file), file)) {
    if (step.kind === 'problem') {
      io.out(`Found an invalid batch at position ${step.position}: ${step.message}`);
      problems++;
      break;
    }
    const b = step.batch;
    summaries.push({ position: step.position, lastOffset: b.lastOffset, maxTimestamp: b.maxTimestamp });
    if (!step.crcOk) problems++;
    if (options.quiet || shown++ >= options.maxBatches) continue;
    io.out(
      `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.recordCount} position: ${step.position} size: ${step.size} ` +
        `magic: ${b.magic} compresscodec: ${b.compressionName} crcValid: ${step.crcOk} ${b.timestampType}: ${b.maxTimestamp} ` +
        `producerId: ${b.producerId} producerEpoch: ${b.producerEpoch} baseSequence: ${b.baseSequence} ` +
        `isTransactional: ${b.isTransactional} isControl: ${b.isControl} partitionLeaderEpoch: ${b.partitionLeaderEpoch}`,
    );
    if (options.records && step.crcOk) {
      for (const r of b.records()) {
        const headers = r.headers.map((h) => `${h.key}=${printable(h.value)}`).join(',');
        io.out(`| offset: ${r.offset} ${b.timestampType}: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} headers: [${headers}] key: ${printable(r.key)} payload: ${printable(r.value)}`);
      }
    }
  }
  return { summaries, problems };
}

function dumpIndexes(logFile: string, batches: BatchSummary[], quiet: boolean, io: Io): number {
  let problems = 0;
  for (const file of [logFile.replace(/\.log$/, '.index'), logFile.replace(/\.log$/, '.timeindex')]) {
    if (!fs.existsSync(file)) {
      if (!quiet) io.out(`No index file ${file}`);
      continue;
    }
    const index = readIndexEntries(file);
    if (!quiet) {
      io.out(`Dumping ${file}`);
      for (const [a, b] of index.entries) io.out(index.kind === 'offset' ? `offset: ${a} position: ${b}` : `timestamp: ${a} offset: ${b}`);
    }
    for (const problem of checkIndex(index, batches, file)) {
      io.out(`Index problem: ${problem}`);
      problems++;
    }
  }
  return problems;
}
