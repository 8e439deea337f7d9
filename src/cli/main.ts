/**
 * The `seglog` command: tools for operators of a Kafka-style log. Bad arguments print the command's usage
 * and exit 2; damage or failures exit 1 with a one-line message (set `SEGLOG_DEBUG=1` for stack traces).
 */
import { isLogStorageError } from '../errors.js';
import { UsageError, type Io } from './args.js';
import { DUMP_USAGE, dump } from './dump.js';
import { CONSUME_USAGE, PRODUCE_USAGE, perfConsume, perfProduce } from './perf.js';
import { VERIFY_USAGE, verify } from './verify.js';

const USAGE = `Usage: seglog <command> [options]

Commands:
  dump <file|dir>     print the batches, records and index entries of segments (like kafka-dump-log.sh)
  verify <dir>        check every CRC, offset and index entry of a log; exit 1 on damage
  bench               run the benchmarks (as npm run bench); --full, --json [file]
  perf-produce        append throughput and latency (like kafka-producer-perf-test.sh)
  perf-consume        read throughput (like kafka-consumer-perf-test.sh)

Run 'seglog <command> --help' for a command's options.`;

const USAGES: Record<string, string> = { dump: DUMP_USAGE, verify: VERIFY_USAGE, 'perf-produce': PRODUCE_USAGE, 'perf-consume': CONSUME_USAGE };

const stdio: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

/** A progress bar on stderr for a terminal; nothing otherwise. */
function progressBar(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  return (done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((done / Math.max(total, 1)) * 100).toFixed(0)}%${done >= total ? '\n' : ''}`);
  };
}

export async function run(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dump':
        return dump(rest, io);
      case 'verify':
        return verify(rest, io, progressBar('verifying'));
      case 'perf-produce':
        return await perfProduce(rest, io);
      case 'perf-consume':
        return await perfConsume(rest, io);
      case 'bench':
        return await bench(rest, io);
      case undefined:
        io.err(USAGE);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    return report(error, command, io);
  }
}

async function bench(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out('Usage: seglog bench [--full] [--json [file]]\n\nRuns the benchmarks on a temporary directory (about a minute; --full: the whole matrix).');
    return 0;
  }
  // Bundled from bench/main.ts; loaded only for this command.
  const { main } = (await import(new URL('./bench.js', import.meta.url).href)) as { main: (argv: string[]) => Promise<unknown> };
  await main(argv);
  return 0;
}

function report(error: unknown, command: string | undefined, io: Io): number {
  if (error instanceof UsageError) {
    io.err(`seglog: ${error.message}\n`);
    io.err(USAGES[command ?? ''] ?? USAGE);
    return 2;
  }
  if (process.env['SEGLOG_DEBUG'] === '1') io.err(String((error as Error)?.stack ?? error));
  if (isLogStorageError(error)) io.err(`seglog: ${error.code}: ${error.message}`);
  else if ((error as NodeJS.ErrnoException)?.code !== undefined) io.err(`seglog: ${(error as Error).message}`);
  else io.err(`seglog: unexpected error: ${(error as Error)?.message ?? String(error)}`);
  return 1;
}
