/**
 * Plain-text tables for the command-line tools and text/plain outputs. Columns align right
 * when `opts.numeric` says so, else when every cell looks numeric; `rule: false` drops the
 * dashed line under the header.
 */
export function textTable(
  head: string[],
  rows: string[][],
  opts: { numeric?: boolean[]; rule?: boolean } = {},
): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = opts.numeric ??
    head.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+(\s?[a-zA-Z%/]*)?$|^$/.test(r[i] ?? "")));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  const rule = opts.rule === false ? [] : [w.map((n) => "-".repeat(n)).join("  ")];
  return [line(head), ...rule, ...rows.map(line)].join("\n");
}

/** 1234567 → "1,234,567". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
