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
}

export { median };

const pairKey = (r: RoundRow) => `${r.model}@${r.size}/${r.batch}/${r.backend}/${r.precision}`;
const torchKey = (r: RoundRow) => `${r.model}@${r.size}/${r.batch}/pytorch/fp32`;

/** PyTorch's measurement of the same model, size and batch in the same round as `r` (none for PyTorch's own rows). */
export function sameRoundPytorch<T extends RoundRow>(rows: readonly T[], r: RoundRow): T | undefined {
  if (r.backend === "pytorch") return undefined;
  return rows.find((t) => pairKey(t) === torchKey(r) && t.round === r.round);
}

/**
 * One row per (model, size, batch, backend, precision), in the order pairs first appear:
 * images/s and GFLOP/s are the rounds' medians, steps and seconds their sums, peak RSS the
 * largest. A row of ours is compared with PyTorch's measurement of the same round only; its
 * ratio is the median of those rounds' ratios (a round where PyTorch failed is left out).
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
    const ratios = byRound.flatMap((r) => {
      const t = sameRoundPytorch(rows, r);
      return t ? [r.trainImagesPerSecond / t.trainImagesPerSecond] : [];
    });
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
    if (ratios.length) folded.vsPytorch = median(ratios);
    if (byRound.length > 1) {
      folded.perRound = byRound.map((r) => r.trainImagesPerSecond);
      if (ratios.length) folded.vsPytorchPerRound = ratios;
    }
    out.push(folded);
  }
  return out;
}
