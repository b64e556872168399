/**
 * Small statistics for run records: mean ± sd, Student-t and normal quantiles (jStat), and
 * the 95% interval of an accuracy difference that covers both seed-to-seed spread and
 * test-set sampling error.
 */
import jStat from "jstat";

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b), h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The arithmetic mean; NaN for no values. */
export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN;
}

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

/** Two-sided 95% quantile of Student's t with `df` degrees of freedom (normal for df = ∞). */
export function t975(df: number): number {
  if (!(df > 0)) return NaN;
  return Number.isFinite(df) ? jStat.studentt.inv(0.975, df) : jStat.normal.inv(0.975, 0, 1);
}

/** One group of repeated measurements (an experiment's accuracies over seeds) and the test-set size behind each. */
export interface Sample {
  values: number[];
  /** Examples each accuracy was measured on (binomial sampling error); Infinity: none. */
  testSize: number;
}

/** Seed variance pooled over groups (each weighted by its n − 1), with its degrees of freedom. */
export function pooledVariance(groups: number[][]): { variance: number; df: number } {
  let ss = 0, df = 0;
  for (const g of groups) {
    const { mean, n } = meanStd(g);
    if (n < 2) continue;
    ss += g.reduce((a, x) => a + (x - mean) ** 2, 0);
    df += n - 1;
  }
  return { variance: df > 0 ? ss / df : NaN, df };
}

export interface Interval {
  /** b − a. */
  delta: number;
  lo: number;
  hi: number;
  /** Half-widths of the two parts: seed spread (Student t) and test-set sampling (normal). */
  seedHalf: number;
  testHalf: number;
  /** Degrees of freedom of the seed-variance estimate. */
  df: number;
  /** true: the interval excludes 0; false: it contains 0; null: no seed-variance estimate (one seed everywhere). */
  excludesZero: boolean | null;
}

/**
 * 95% interval of mean(b) − mean(a). Seed spread: the seed variance pooled over `pool` (the
 * page's experiments, df = Σ(n − 1)) × (1/n_a + 1/n_b), scaled by t(df) — with two or three
 * seeds per experiment one experiment's own variance has one or two degrees of freedom and is
 * itself too noisy to use alone, so the page's experiments share one estimate (as in an
 * analysis of variance). Test-set sampling: each mean accuracy p measured on N images adds
 * p(1 − p)/N (unpaired: conservative when both ran on the same images). The two half-widths
 * add in quadrature.
 */
export function differenceInterval(a: Sample, b: Sample, pool: number[][] = [a.values, b.values]): Interval {
  const ma = meanStd(a.values), mb = meanStd(b.values);
  const delta = mb.mean - ma.mean;
  const seed = pooledVariance(pool);
  const seedHalf = seed.df > 0 ? t975(seed.df) * Math.sqrt(seed.variance * (1 / ma.n + 1 / mb.n)) : NaN;
  const binom = (p: number, n: number) => (Number.isFinite(n) && n > 0 ? p * (1 - p) / n : 0);
  const testHalf = t975(Infinity) * Math.sqrt(binom(ma.mean, a.testSize) + binom(mb.mean, b.testSize));
  const half = Math.hypot(Number.isFinite(seedHalf) ? seedHalf : 0, testHalf);
  const known = Number.isFinite(seedHalf) && Number.isFinite(delta);
  return {
    delta,
    lo: delta - half,
    hi: delta + half,
    seedHalf,
    testHalf,
    df: seed.df,
    excludesZero: known ? delta - half > 0 || delta + half < 0 : null,
  };
}

/**
 * 95% interval of pb − pa for two accuracies of single models (no seed spread to estimate): test-set
 * sampling only, each p measured on n images adding p(1 − p)/n (unpaired: conservative when both
 * were scored on the same images). `excludesZero` judges on that sampling alone, which a page must say.
 */
export function samplingDifference(pa: number, na: number, pb: number, nb: number): Interval {
  const delta = pb - pa;
  const testHalf = t975(Infinity) * Math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb);
  return {
    delta,
    lo: delta - testHalf,
    hi: delta + testHalf,
    seedHalf: NaN,
    testHalf,
    df: 0,
    excludesZero: Number.isFinite(delta) ? delta - testHalf > 0 || delta + testHalf < 0 : null,
  };
}

/** 95% interval of one group's mean: seed spread (pooled as above, t with its df) and test-set sampling, in quadrature. */
export function meanInterval(s: Sample, pool: number[][] = [s.values]): { mean: number; half: number; df: number } {
  const m = meanStd(s.values);
  const seed = pooledVariance(pool);
  const seedHalf = seed.df > 0 ? t975(seed.df) * Math.sqrt(seed.variance / m.n) : 0;
  const testHalf = Number.isFinite(s.testSize) ? t975(Infinity) * Math.sqrt(m.mean * (1 - m.mean) / s.testSize) : 0;
  return { mean: m.mean, half: Math.hypot(seedHalf, testHalf), df: seed.df };
}

/**
 * 95% interval of mean(a) / mean(b) for positive measurements such as step or epoch times: the
 * Welch t interval of the difference of their mean logs, exponentiated (so it is a ratio of
 * geometric means, which for timings a few percent apart is the ratio of means). NaN bounds when
 * either side has fewer than two values.
 */
export function ratioInterval(a: readonly number[], b: readonly number[]): { ratio: number; lo: number; hi: number } {
  const ratio = mean(a) / mean(b);
  if (a.length < 2 || b.length < 2) return { ratio, lo: NaN, hi: NaN };
  const la = a.map(Math.log), lb = b.map(Math.log);
  const va = meanStd(la).sd ** 2 / la.length, vb = meanStd(lb).sd ** 2 / lb.length;
  const df = (va + vb) ** 2 / (va ** 2 / (la.length - 1) + vb ** 2 / (lb.length - 1) || Infinity);
  const d = mean(la) - mean(lb), half = t975(df > 0 ? df : Infinity) * Math.sqrt(va + vb);
  return { ratio, lo: Math.exp(d - half), hi: Math.exp(d + half) };
}
