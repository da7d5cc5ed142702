import type { Summary } from './stats';

/** How a row's value is judged: against the median, or (for exact counts) against every run. */
export interface Target {
  op: '>=' | '<=' | '<' | '>' | '==';
  value: number;
  unit?: string;
  /** 'all': every run must satisfy the target (exact counts), 'median': the median must. */
  over?: 'median' | 'all';
}

export interface Row {
  id: string;
  measure: string;
  summary: Summary | null;
  unit: string;
  /** Digits after the decimal point when printing. */
  digits: number;
  target: Target | null;
  /** Why there is no value, e.g. 'n/a (install libmemcached-tools)'. */
  note?: string;
}

export type Verdict = 'yes' | 'NO' | 'report' | 'n/a';

export function compare(value: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return value >= target.value;
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '>':
      return value > target.value;
    case '==':
      return value === target.value;
  }
}

export function verdict(row: Row): Verdict {
  if (!row.summary) return 'n/a';
  if (!row.target) return 'report';
  const values = row.target.over === 'all' ? row.summary.runs : [row.summary.median];
  return values.every((v) => compare(v, row.target!)) ? 'yes' : 'NO';
}

export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "0.93 (0.91-0.95)"; a single run or a spread of zero prints the value alone. */
export function formatValue(row: Row): string {
  if (!row.summary) return row.note ?? 'n/a';
  const { median, min, max, runs } = row.summary;
  const unit = row.unit ? ` ${row.unit}` : '';
  const m = formatNumber(median, row.digits);
  if (runs.length < 2 || (formatNumber(min, row.digits) === m && formatNumber(max, row.digits) === m)) {
    return `${m}${unit}`;
  }
  return `${m}${unit} (${formatNumber(min, row.digits)}-${formatNumber(max, row.digits)})`;
}

export function formatTarget(target: Target | null): string {
  if (!target) return 'report';
  const unit = target.unit ? ` ${target.unit}` : '';
  return `${target.op === '==' ? '=' : target.op} ${target.value}${unit}`;
}

/** A plain-text table with aligned columns, for the terminal and CI logs. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['case', 'measure', 'value (median, min-max)', 'target', 'met?'];
  const body = rows.map((r) => [r.id, r.measure, formatValue(r), formatTarget(r.target), verdict(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
