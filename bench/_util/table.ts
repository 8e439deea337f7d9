/**
 * Prints benchmark rows as an aligned text table, and as markdown for the results page. The target and its
 * verdict (PASS / MISS) sit right after the measured figure, so a reader sees both in one glance.
 */
import type { BenchRow } from './bench.js';

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'records/s' || unit === 'ops/s' || unit === 'lookups/s') {
    return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : `${(value / 1e3).toFixed(1)} K`;
  }
  if (unit === 'MB/s') return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  if (unit === 'ms' || unit === 'us' || unit === 'ns' || unit === 'MiB') {
    const magnitude = Math.abs(value);
    return magnitude >= 100 ? value.toFixed(0) : magnitude >= 10 ? value.toFixed(1) : magnitude >= 1 ? value.toFixed(2) : value.toFixed(3);
  }
  return value.toFixed(2);
}

function verdict(row: BenchRow): string {
  if (row.target === undefined || row.met === undefined) return '';
  return row.met ? 'PASS' : 'MISS';
}

function cells(row: BenchRow): string[] {
  return [
    row.group,
    row.name,
    `${formatValue(row.value, row.unit)} ${row.unit}`,
    row.target ?? '',
    verdict(row),
    row.peer === undefined ? '' : `${row.peer}: ${formatValue(row.peerValue ?? 0, row.unit)}`,
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
    row.note ?? '',
  ];
}

const HEADER = ['group', 'benchmark', 'seglog', 'target', 'result', 'peer (same run)', 'ratio', 'note'];

export function textTable(rows: readonly BenchRow[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const line = (cs: string[]) => `| ${cs.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n');
}

/** How many rows have a target, and how many of those pass; for a one-line summary under a table. */
export function summary(rows: readonly BenchRow[]): string {
  const judged = rows.filter((r) => r.target !== undefined && r.met !== undefined);
  const passed = judged.filter((r) => r.met).length;
  return `${passed}/${judged.length} targets met${judged.length > passed ? ` (MISS: ${judged.filter((r) => !r.met).map((r) => r.name).join('; ')})` : ''}`;
}
