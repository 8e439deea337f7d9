/**
 * The seglog the benchmarks measure: the built package (`dist/`), which is what users run, unless
 * `SEGLOG_BENCH_SRC=1` asks for the TypeScript sources (through tsx, which adds per-function wrappers
 * that slow hot paths measurably). Types always come from the sources. `npm run bench` builds first.
 */
import type * as Seglog from '../../src/main.js';

const fromSource = process.env['SEGLOG_BENCH_SRC'] === '1';
const seglog = (await import(fromSource ? '../../src/main.js' : '../../dist/index.js')) as typeof Seglog;

export const { Log, RecordBatchBuilder, encodeBatch, decodeBatches } = seglog;
export type { CompressionName, LogOptions } from '../../src/main.js';
export type Log = Seglog.Log;
