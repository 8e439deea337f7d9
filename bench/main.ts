/**
 * `npm run bench`: seglog's own benchmarks, one after the other, on temporary directories, printed as one
 * table. Quick by default (about a minute); `--full` runs the whole matrix with larger sizes; `--json
 * [file]` also writes the rows as JSON (to stdout when no file is given); `--tiny` is for the test suite.
 * Peers (lmdb, SQLite, LevelDB, hypercore, ...) are in `npm run bench:peers`.
 */
import fs from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { cleanup, type BenchOptions, type BenchRow } from './_util/bench.js';
import { ProgressBar } from './_util/progress.js';
import { textTable } from './_util/table.js';

type Bench = { run: (options: BenchOptions) => Promise<BenchRow[]> };

const BENCHES: (() => Promise<Bench>)[] = [
  () => import('./record/encode-decode.bench.js'),
  () => import('./record/crc.bench.js'),
  () => import('./log/append.bench.js'),
  () => import('./log/read.bench.js'),
  () => import('./log/group-commit.bench.js'),
  () => import('./log/tail.bench.js'),
  () => import('./log/open.bench.js'),
  () => import('./index/lookup.bench.js'),
  () => import('./compression/codecs.bench.js'),
];

function parseArgs(argv: string[]): { full: boolean; tiny: boolean; json: string | boolean } {
  const jsonAt = argv.indexOf('--json');
  const next = argv[jsonAt + 1];
  return {
    full: argv.includes('--full'),
    tiny: argv.includes('--tiny'),
    json: jsonAt < 0 ? false : next !== undefined && !next.startsWith('--') ? next : true,
  };
}

export async function main(argv: string[]): Promise<BenchRow[]> {
  const args = parseArgs(argv);
  const bar = new ProgressBar(BENCHES.length * 3);
  const options: BenchOptions = { quick: !args.full, tiny: args.tiny, progress: (label) => bar.step(label) };
  const rows: BenchRow[] = [];
  try {
    for (const load of BENCHES) rows.push(...(await (await load()).run(options)));
    // Tiny runs only prove the benchmarks still work: their sizes say nothing about the targets.
    if (args.tiny) {
      rows.forEach((row, i) => {
        const { target: _target, met: _met, ...rest } = row;
        rows[i] = rest;
      });
    }
  } finally {
    bar.end();
    cleanup();
  }
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  if (args.json === true) console.log(JSON.stringify({ machine, rows }, null, 2));
  else {
    console.log(`seglog benchmarks (${args.full ? 'full' : args.tiny ? 'tiny' : 'quick'}) on ${machine}\n`);
    console.log(textTable(rows));
    if (typeof args.json === 'string') fs.writeFileSync(args.json, JSON.stringify({ machine, rows }, null, 2));
  }
  return rows;
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) await main(process.argv.slice(2));
