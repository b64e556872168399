/**
 * `deno task bench --rounds N`: every (model, backend) pair is measured N times, PyTorch and
 * ours one after the other in each round (the order alternating from round to round), so
 * that both sides of a ratio see the same minute of this VM's drifting speed (±10–25 %
 * between runs here). The rounds are then folded into one row per pair: the median images/s,
 * each round's figure, and — for ours — the median of the rounds' own ratios to PyTorch.
 */
import { median } from "../lib/util/stats.ts";

/** What a measurement must carry to be folded (BenchResult in train_bench.ts adds the device and the architecture). */
export interface RoundRow {
  /** The zoo model, or the experiment whose configuration was measured. */
  model: string;
  size: number;
  batch: number;
  /** Ours: a cnnlab backend; PyTorch's rows say "pytorch". */
  backend: string;
  precision: string;
  steps: number;
  seconds: number;
  trainImagesPerSecond: number;
  /** Useful work: 6 × forward MACs per image × images/s, in GFLOP/s. */
  gflops: number;
  peakRssMB: number;
  /** This row's images/s over PyTorch's for the same model, size and batch (when measured). */
  vsPytorch?: number;
  /** The round (1-based) this measurement belongs to; absent once folded. */
  round?: number;
  /** After folding, with more than one round: each round's images/s, in round order. */
  perRound?: number[];
  /** After folding, ours with PyTorch in the same rounds: each such round's ratio. */
  vsPytorchPerRound?: number[];
  /** A row of ours in another precision: its images/s over the same backend's fp32 row, rounds paired likewise. */
  vsFp32?: number;
  /** After folding, with more than one round: each round's ratio to fp32. */
  vsFp32PerRound?: number[];
}

export { median };

const pairKey = (r: RoundRow) => `${r.model}@${r.size}/${r.batch}/${r.backend}/${r.precision}`;

/** The measurement of the same model, size and batch on `backend` in `precision`, in the same round as `r`. */
function sameRound<T extends RoundRow>(rows: readonly T[], r: RoundRow, backend: string, precision: string) {
  const k = pairKey({ ...r, backend, precision });
  return rows.find((t) => pairKey(t) === k && t.round === r.round);
}

/** PyTorch's measurement of the same model, size and batch in the same round as `r` (none for PyTorch's own rows). */
export function sameRoundPytorch<T extends RoundRow>(rows: readonly T[], r: RoundRow): T | undefined {
  return r.backend === "pytorch" ? undefined : sameRound(rows, r, "pytorch", "fp32");
}

/** The same backend's fp32 measurement in the same round as `r` (none for fp32 and PyTorch rows). */
export function sameRoundFp32<T extends RoundRow>(rows: readonly T[], r: RoundRow): T | undefined {
  return r.backend === "pytorch" || r.precision === "fp32" ? undefined : sameRound(rows, r, r.backend, "fp32");
}

/**
 * One row per (model, size, batch, backend, precision), in the order pairs first appear:
 * images/s and GFLOP/s are the rounds' medians, steps and seconds their sums, peak RSS the
 * largest. A row of ours is compared with PyTorch's measurement of the same round only; its
 * ratio is the median of those rounds' ratios (a round where PyTorch failed is left out). A
 * row in another precision than fp32 is compared the same way with its backend's fp32 row.
 * With one round the rows come back as they were, less `round`.
 */
export function foldRounds<T extends RoundRow>(rows: readonly T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const k = pairKey(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const out: T[] = [];
  for (const g of groups.values()) {
    const byRound = [...g].sort((a, b) => (a.round ?? 0) - (b.round ?? 0));
    const ratiosTo = (other: (rows: readonly T[], r: RoundRow) => T | undefined) =>
      byRound.flatMap((r) => {
        const t = other(rows, r);
        return t ? [r.trainImagesPerSecond / t.trainImagesPerSecond] : [];
      });
    const ratios = ratiosTo(sameRoundPytorch), toFp32 = ratiosTo(sameRoundFp32);
    const { round: _round, ...first } = byRound[0];
    const folded = {
      ...first,
      steps: byRound.reduce((s, r) => s + r.steps, 0),
      seconds: byRound.reduce((s, r) => s + r.seconds, 0),
      trainImagesPerSecond: median(byRound.map((r) => r.trainImagesPerSecond)),
      gflops: median(byRound.map((r) => r.gflops)),
      peakRssMB: Math.max(...byRound.map((r) => r.peakRssMB)),
    } as T;
    delete folded.vsPytorch;
    delete folded.vsFp32;
    if (ratios.length) folded.vsPytorch = median(ratios);
    if (toFp32.length) folded.vsFp32 = median(toFp32);
    if (byRound.length > 1) {
      folded.perRound = byRound.map((r) => r.trainImagesPerSecond);
      if (ratios.length) folded.vsPytorchPerRound = ratios;
      if (toFp32.length) folded.vsFp32PerRound = toFp32;
    }
    out.push(folded);
  }
  return out;
}
