/** Mean and sample standard deviation (n − 1); sd is NaN for fewer than two values. */
export function meanStd(xs: number[]): { mean: number; sd: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, sd, n };
}

/** "0.8123 ± 0.0040" (or just the mean for a single value). */
export function meanSd(xs: number[], digits: number): string {
  const { mean, sd } = meanStd(xs);
  if (!Number.isFinite(mean)) return "–";
  return Number.isFinite(sd) ? `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}` : mean.toFixed(digits);
}
