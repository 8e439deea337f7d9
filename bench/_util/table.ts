/** Prints benchmark rows as an aligned text table, and as markdown for the results page. */
import type { BenchRow } from './bench.js';

export function formatValue(value: number, unit: string): string {
  if (unit === 'records/s' || unit === 'ops/s') return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : `${(value / 1e3).toFixed(1)} K`;
  if (unit === 'MB/s') return value.toFixed(0);
  if (unit === 'ms' || unit === 'us' || unit === 'MiB') return value < 10 ? value.toFixed(2) : value.toFixed(0);
  return value.toFixed(2);
}

function cells(row: BenchRow): string[] {
  return [
    row.group,
    row.name,
    `${formatValue(row.value, row.unit)} ${row.unit}`,
    row.peer === undefined ? '' : `${row.peer}: ${formatValue(row.peerValue ?? 0, row.unit)}`,
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
    row.target === undefined ? '' : `${row.target} ${row.met === undefined ? '' : row.met ? 'met' : 'MISSED'}`,
    row.note ?? '',
  ];
}

const HEADER = ['group', 'benchmark', 'seglog', 'peer (same run)', 'ratio', 'target', 'note'];

export function textTable(rows: readonly BenchRow[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const line = (cs: string[]) => `| ${cs.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n');
}
