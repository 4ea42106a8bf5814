/**
 * Bench figures and the printed table. A figure is a measured ratio or time with its target; `status` is
 * 'pass' / 'miss' against the target, 'info' when it has none, 'n/a' when it could not be measured (note says why).
 */
export type FigureStatus = 'pass' | 'miss' | 'info' | 'n/a';

export interface Figure {
  readonly section: string;
  readonly name: string;
  /** Display value, e.g. "1.013" or "412 ms". */
  readonly value: string;
  /** The raw number behind `value` (null for n/a). */
  readonly raw: number | null;
  readonly target: string;
  readonly status: FigureStatus;
  readonly note?: string;
}

export function figure(section: string, name: string, raw: number | null, opts: {
  unit?: string; digits?: number; target?: string; pass?: (v: number) => boolean; note?: string; naReason?: string;
  /** Appended to the display value, e.g. " (+12 ms)". */
  suffix?: string;
} = {}): Figure {
  if (raw === null || !Number.isFinite(raw)) {
    return { section, name, value: 'n/a', raw: null, target: opts.target ?? '', status: 'n/a', note: opts.naReason ?? opts.note };
  }
  const digits = opts.digits ?? (Math.abs(raw) >= 100 ? 0 : Math.abs(raw) >= 10 ? 1 : 3);
  const value = `${raw.toFixed(digits)}${opts.unit ? ` ${opts.unit}` : ''}${opts.suffix ?? ''}`;
  const status: FigureStatus = opts.pass ? (opts.pass(raw) ? 'pass' : 'miss') : 'info';
  return { section, name, value, raw, target: opts.target ?? '', status, note: opts.note };
}

export const naFigure = (section: string, name: string, target: string, reason: string): Figure =>
  ({ section, name, value: 'n/a', raw: null, target, status: 'n/a', note: reason });

/** Plain-text table, one row per figure, grouped by section. */
export function formatTable(figures: readonly Figure[]): string {
  const head = ['Figure', 'Value', 'Target', 'Result'];
  const rows: string[][] = [];
  let section = '';
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      rows.push([`[${section}]`, '', '', '']);
    }
    rows.push([`  ${f.name}`, f.value, f.target, f.status.toUpperCase()]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('-|-')];
  for (const r of rows) out.push(line(r));
  return out.join('\n');
}

/** Same rows as a Markdown table (for the README). */
export function formatMarkdown(figures: readonly Figure[]): string {
  const out = ['| Section | Figure | Value | Target | Result |', '|---|---|---|---|---|'];
  for (const f of figures) out.push(`| ${f.section} | ${f.name} | ${f.value} | ${f.target} | ${f.status} |`);
  return out.join('\n');
}

/** Notes for rows that missed or could not be measured. */
export function formatNotes(figures: readonly Figure[]): string {
  return figures
    .filter((f) => f.note)
    .map((f) => `- ${f.section} / ${f.name}: ${f.note}`)
    .join('\n');
}
