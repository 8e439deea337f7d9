/** Runs a benchmark file's `run` and prints its table when the file is executed directly. */
import { pathToFileURL } from 'node:url';
import { cleanup, type BenchOptions, type BenchRow } from './bench.js';
import { textTable } from './table.js';

export function runIfMain(url: string, run: (options: BenchOptions) => Promise<BenchRow[]>): void {
  if (process.argv[1] === undefined || pathToFileURL(process.argv[1]).href !== url) return;
  const quick = process.argv.includes('--quick');
  run({ quick })
    .then((rows) => console.log(textTable(rows)))
    .finally(cleanup)
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
