/**
 * Shared benchmark mechanics: result rows, medians over rounds, temp directories. Benchmarks print
 * figures; they are never pass/fail tests (the machines are shared and noisy: compare medians and ratios
 * measured in the same run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One measured figure. `ratio` compares with `peer`, measured in the same run. */
export interface BenchRow {
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly peer?: string;
  readonly peerValue?: number;
  readonly ratio?: number;
  /** The figure the issue asks for, shown next to the measured one. */
  readonly target?: string;
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

/** Milliseconds since `start` (from `now()`). */
export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function now(): bigint {
  return process.hrtime.bigint();
}

/** Runs `round` `rounds` times and returns the median of what it returns. */
export async function medianOf(rounds: number, round: () => Promise<number> | number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) values.push(await round());
  return median(values);
}

/** A fresh temporary directory; `cleanup()` removes every one made. */
const made: string[] = [];
export function benchDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-bench-${label}-`));
  made.push(dir);
  return dir;
}
export function cleanup(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A row comparing `value` with `peerValue` (higher is better unless `lowerIsBetter`). */
export function compared(row: Omit<BenchRow, 'ratio'> & { peerValue: number }, lowerIsBetter = false): BenchRow {
  const ratio = lowerIsBetter ? row.peerValue / row.value : row.value / row.peerValue;
  return { ...row, ratio };
}

/** Forces a GC when the process runs with --expose-gc (heap measurements), else does nothing. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
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
