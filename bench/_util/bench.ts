/**
 * Shared benchmark mechanics: result rows, medians and percentiles over rounds, an hrtime timer, temporary
 * directories, heap measurement. Benchmarks print figures; they are never pass/fail tests (the machines are
 * shared and noisy: compare medians and ratios measured in the same run, with rounds interleaved).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

/** One measured figure. `ratio` compares with `peer`, measured in the same run. */
export interface BenchRow {
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly peer?: string;
  readonly peerValue?: number;
  /** `value / peerValue` (or the inverse for lower-is-better units); always "seglog is this good". */
  readonly ratio?: number;
  /** The figure the issue asks for, shown next to the measured one. */
  readonly target?: string;
  /** Whether the measured figure meets `target` (PASS / MISS in the table). */
  readonly met?: boolean;
  readonly note?: string;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** Small sizes, few rounds: for `npm run bench` and the test suite. */
  readonly quick?: boolean;
  /** Tiny sizes: the test suite only checks that the benchmark still runs. */
  readonly tiny?: boolean;
  /** Called between steps, for a progress bar. */
  readonly progress?: (label: string) => void;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `q`-quantile (0..1) of an ascending array, nearest rank. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function now(): bigint {
  return process.hrtime.bigint();
}

/** Milliseconds since `start` (from `now()`). */
export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Milliseconds `work` took (hrtime), awaiting it if it returns a promise. */
export async function timeMs(work: () => unknown): Promise<number> {
  const start = now();
  await work();
  return elapsedMs(start);
}

/** Runs `round` `rounds` times and returns the median of what it returns. */
export async function medianOf(rounds: number, round: () => Promise<number> | number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) values.push(await round());
  return median(values);
}

/** What {@link interleaved} measured. */
export interface Interleaved {
  /** Medians of each side's rounds. */
  readonly ours: number;
  readonly peer: number;
  readonly oursAll: readonly number[];
  readonly peerAll: readonly number[];
  /**
   * Median of the per-round ratios `ours[i] / peer[i]`. Each pair ran back to back, so a slow stretch of
   * the machine hits both sides of a pair; this is steadier than the ratio of the two medians.
   */
  readonly ratio: number;
  readonly ratios: readonly number[];
}

/**
 * Runs `ours` and `peer` alternately, `rounds` times each (after a GC each), and returns the medians and
 * the paired ratios. Interleaving gives both sides the same share of a noisy machine's slow and fast
 * moments, which a block of rounds of one side followed by a block of the other does not.
 */
export async function interleaved(
  rounds: number,
  ours: () => Promise<number> | number,
  peer: () => Promise<number> | number,
): Promise<Interleaved> {
  const oursAll: number[] = [];
  const peerAll: number[] = [];
  for (let i = 0; i < rounds; i++) {
    gc();
    oursAll.push(await ours());
    gc();
    peerAll.push(await peer());
  }
  const ratios = oursAll.map((o, i) => o / peerAll[i]!);
  return { ours: median(oursAll), peer: median(peerAll), oursAll, peerAll, ratio: median(ratios), ratios };
}

/** The 25th and 75th percentiles of `values`, as "lo-hi". */
export function quartiles(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `${at(0.25).toFixed(2)}-${at(0.75).toFixed(2)}`;
}

/** "lo-hi" of `values`, each divided by `scale` and printed with `digits` decimals. */
export function range(values: readonly number[], scale = 1, digits = 2): string {
  return `${(Math.min(...values) / scale).toFixed(digits)}-${(Math.max(...values) / scale).toFixed(digits)}`;
}

/** A fresh temporary directory; `cleanup()` removes every one made and not yet removed. */
const made = new Set<string>();
export function benchDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-bench-${label}-`));
  made.add(dir);
  return dir;
}

/** Removes one directory made by {@link benchDir} now (large logs should not wait for `cleanup()`). */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}

export function cleanup(): void {
  for (const dir of made) removeDir(dir);
}

/** Runs `work` with a fresh temporary directory and removes the directory afterwards, even on failure. */
export async function withTempDir<T>(label: string, work: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = benchDir(label);
  try {
    return await work(dir);
  } finally {
    removeDir(dir);
  }
}

/** A row comparing `value` with `peerValue` (higher is better unless `lowerIsBetter`). */
export function compared(row: Omit<BenchRow, 'ratio'> & { peerValue: number }, lowerIsBetter = false): BenchRow {
  const ratio = lowerIsBetter ? row.peerValue / row.value : row.value / row.peerValue;
  return { ...row, ratio };
}

/** `{ target, met }` for a row: "at least" `min` (in the row's unit), shown as `label`. */
export function atLeast(value: number, min: number, label: string): { target: string; met: boolean } {
  return { target: label, met: value >= min };
}

/** `{ target, met }` for a row: "below" `max` (in the row's unit), shown as `label`. */
export function below(value: number, max: number, label: string): { target: string; met: boolean } {
  return { target: label, met: value < max };
}

let gcFunction: (() => void) | undefined | null = null;

/**
 * Forces a full garbage collection. Without `--expose-gc` on the command line it exposes `gc` at run time
 * (`v8.setFlagsFromString` then a fresh context, Node's documented escape hatch), so heap figures are
 * exact however the benchmark was started. Returns false if no collector could be reached.
 */
export function gc(): boolean {
  if (gcFunction === null) {
    gcFunction = (globalThis as { gc?: () => void }).gc;
    if (gcFunction === undefined) {
      try {
        v8.setFlagsFromString('--expose-gc');
        gcFunction = vm.runInNewContext('gc') as () => void;
      } catch {
        gcFunction = undefined;
      }
    }
  }
  gcFunction?.();
  return gcFunction !== undefined;
}

/** JS heap in use, in bytes, after a full collection (the retained heap). */
export function retainedHeapBytes(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Runs `work` repeatedly for `ms` milliseconds and discards the result: V8 reaches its optimised tier for
 * a hot loop only after a second or two (measured: a decode loop went 2.8 -> 4.2 -> 5.8 M records/s over
 * its first three seconds), and a library runs in a long-lived process, so steady state is what counts.
 */
export async function warmUp(ms: number, work: () => unknown): Promise<void> {
  const start = now();
  while (elapsedMs(start) < ms) await work();
}

/** Bytes to MB (10^6, as disks and networks count) per second. */
export function mbPerSec(bytes: number, ms: number): number {
  return bytes / 1e3 / ms;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
