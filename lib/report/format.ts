/** Number formats the report's messages share, in every language. */

/** Signed points: +1.2 / −0.4. */
export const points = (x: number, d = 1): string =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(d)}` : "–";
export const acc = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : "–");
export const fixed = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : "–");
export const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)}×` : "–");
export const pctOf = (x: number, d = 0): string => (Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : "–");
export const thousandsOf = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

/** "0.905 ± 0.006" — a mean and the half-width of its 95% interval. */
export const withHalf = (mean: number, half: number, d = 3): string =>
  Number.isFinite(mean)
    ? (Number.isFinite(half) && half > 0 ? `${acc(mean, d)} ± ${acc(half, d)}` : acc(mean, d))
    : "–";

export const list = (xs: string[], and: string, sep = ", "): string =>
  xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(sep)}${and}${xs.at(-1)}`;
