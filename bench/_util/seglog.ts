/**
 * The seglog the benchmarks measure: the built package, imported by its own name (`seglog` resolves to
 * `dist/` through the package's exports map, here and in an installed copy), because that is what users
 * run. `SEGLOG_BENCH_SRC=1` measures the TypeScript sources instead (through tsx, whose per-function
 * wrappers slow hot paths measurably). `npm run bench` builds first.
 */
import type * as Seglog from '../../src/main.js';

const seglog: typeof Seglog = process.env['SEGLOG_BENCH_SRC'] === '1' ? await import('../../src/main.js') : await import('seglog');

export const { Log, RecordBatchBuilder, encodeBatch, decodeBatches, crc32c, crc32cBackend } = seglog;
export type Log = Seglog.Log;
export type { CompressionName, LogOptions } from '../../src/main.js';
