/**
 * Turning run records into the numbers the notebooks print: per-experiment means over the
 * usable seeds, runs at chance or diverged flagged and named (never averaged in), and
 * differences with a 95% interval that covers seed-to-seed spread and test-set sampling.
 * Sentences that state a comparison are generated from those numbers and their condition.
 */
import pl from "nodejs-polars";
import type { RunRecord } from "../exp/store.ts";
import { differenceInterval, type Interval, meanInterval, type Sample } from "../util/stats.ts";

/** A run whose final accuracy is at or below this (10 classes: chance is 0.10) learned nothing. */
export const CHANCE_LIMIT = 0.15;

export type RunFlag = "ok" | "chance" | "diverged" | "interrupted";

/** Why a run is left out of means, or "ok". */
export function runFlag(r: RunRecord): RunFlag {
  if (r.status === "diverged") return "diverged";
  if (r.status === "interrupted") return "interrupted";
  return Number.isFinite(r.testAcc) && r.testAcc > CHANCE_LIMIT ? "ok" : "chance";
}

/** Images each record's test accuracy was measured on. */
export function testImages(r: RunRecord): number {
  return r.testImages ?? (r.config.testPerClass ? r.config.testPerClass * 10 : 10_000);
}

export interface Summary {
  experiment: string;
  label: string;
  preset: string;
  backend: string;
  device: string;
  /** Seeds of every run, usable or not. */
  seeds: string;
  /** Usable runs (status ok, above chance) behind the means. */
  n: number;
  /** Runs left out of the means: which seed, why, at what accuracy. */
  excluded: { seed: number; flag: RunFlag; testAcc: number }[];
  status: string;
  params: number;
  macs: number;
  inputSize: number;
  epochs: number;
  /** Training images per epoch (the preset's subset, or all 60,000). */
  trainImages: number;
  testImages: number;
  trainSeconds: number;
  trainSecondsSd: number;
  secondsPerEpoch: number;
  /** Most other runs training beside any of these runs (null: not recorded, older records). */
  othersTraining: number | null;
  /** Training seconds of every epoch of every usable run (for intervals of time ratios). */
  epochSeconds: number[];
  imagesPerSecond: number;
  imagesPerSecondSd: number;
  testAcc: number;
  testAccSd: number;
  /** Half-width of the 95% interval of the mean test accuracy (seeds and test-set sampling). */
  testAccHalf: number;
  /** Train accuracy in inference mode on a fixed training subset (NaN for records that predate it). */
  trainAcc: number;
  trainAccSd: number;
  /** train accuracy − test accuracy, both in inference mode. */
  gap: number;
  gapSd: number;
  /** The usable seeds' test accuracies, for intervals. */
  accs: number[];
}

/**
 * The usable runs' per-experiment statistics, aggregated by polars: one row per experiment with
 * n and the mean and sample sd of time, speed, test and inference-mode train accuracy and their
 * gap, plus the list of test accuracies (for intervals). Chance-level and diverged runs are
 * filtered out first; `summarizeRuns` adds what polars cannot (intervals pooled over a page).
 */
export function usableStatsFrame(records: RunRecord[]): pl.DataFrame {
  const usable = records.filter((r) => runFlag(r) === "ok");
  const runs = pl.DataFrame({
    experiment: usable.map((r) => r.experiment),
    trainSeconds: usable.map((r) => r.trainSeconds),
    imagesPerSecond: usable.map((r) => r.imagesPerSecond),
    testAcc: usable.map((r) => r.testAcc),
    trainAcc: usable.map((r) => r.epochs.at(-1)?.trainEvalAcc ?? NaN),
  }).withColumns(pl.col("trainAcc").minus(pl.col("testAcc")).alias("gap"));
  const stats = ["trainSeconds", "imagesPerSecond", "testAcc", "trainAcc", "gap"].flatMap((c) => [
    pl.col(c).mean().alias(c),
    pl.col(c).std().alias(`${c}Sd`),
  ]);
  return runs.groupBy("experiment").agg(
    pl.col("testAcc").count().alias("n"),
    ...stats,
    pl.col("testAcc").alias("accs"),
  );
}

/** One summary per experiment (in `order`), over the given records' usable seeds. */
export function summarizeRuns(records: RunRecord[], order?: string[]): Summary[] {
  const names = order ?? [...new Set(records.map((r) => r.experiment))];
  const agg = new Map(
    (usableStatsFrame(records).toRecords() as Record<string, unknown>[]).map((r) => [r.experiment as string, r]),
  );
  const num = (v: unknown) => (typeof v === "number" ? v : NaN); // polars gives null for an sd of one value
  const rows = names.flatMap((name) => {
    const rs = records.filter((r) => r.experiment === name).sort((a, b) => a.seed - b.seed);
    if (rs.length === 0) return [];
    const a = agg.get(name) ?? {};
    const trainSeconds = num(a.trainSeconds);
    return [{
      experiment: name,
      label: rs[0].label,
      preset: rs[0].preset,
      backend: [...new Set(rs.map((r) => r.backend))].join("+"),
      device: [...new Set(rs.map((r) => r.device))].join(" + "),
      seeds: rs.map((r) => r.seed).join(","),
      n: num(a.n) || 0,
      excluded: rs.filter((r) => runFlag(r) !== "ok").map((r) => ({
        seed: r.seed,
        flag: runFlag(r),
        testAcc: r.testAcc,
      })),
      status: [...new Set(rs.map((r) => runFlag(r)))].join(","),
      params: rs[0].params,
      macs: rs[0].macs,
      inputSize: rs[0].config.inputSize,
      epochs: rs[0].config.epochs,
      trainImages: rs[0].config.trainPerClass ? rs[0].config.trainPerClass * 10 : 60_000,
      testImages: testImages(rs[0]),
      trainSeconds,
      trainSecondsSd: num(a.trainSecondsSd),
      secondsPerEpoch: trainSeconds / Math.max(1, rs[0].config.epochs),
      othersTraining: rs.every((r) => typeof r.othersTraining === "number")
        ? Math.max(...rs.map((r) => r.othersTraining!))
        : null,
      epochSeconds: rs.filter((r) => runFlag(r) === "ok").flatMap((r) => r.epochs.map((e) => e.trainSeconds)),
      imagesPerSecond: num(a.imagesPerSecond),
      imagesPerSecondSd: num(a.imagesPerSecondSd),
      testAcc: num(a.testAcc),
      testAccSd: num(a.testAccSd),
      testAccHalf: NaN,
      trainAcc: num(a.trainAcc),
      trainAccSd: num(a.trainAccSd),
      gap: num(a.gap),
      gapSd: num(a.gapSd),
      accs: Array.isArray(a.accs) ? (a.accs as number[]).map(num) : [],
    }];
  });
  const pool = rows.map((r) => r.accs);
  for (const r of rows) r.testAccHalf = r.n ? meanInterval(sample(r), pool).half : NaN;
  return rows;
}

const sample = (s: Summary): Sample => ({ values: s.accs, testSize: s.testImages });

export interface Comparison extends Interval {
  /** true: the 95% interval excludes 0; false: it contains 0; null: not judged (one seed everywhere, or a side has no usable run). */
  significant: boolean | null;
}

/**
 * Compare test accuracy of b against a (b − a) with a 95% interval that covers seed spread
 * (pooled over `pool`, the page's experiments) and test-set sampling. A difference counts
 * only when the interval excludes zero.
 */
export function compare(a: Summary, b: Summary, pool: Summary[] = [a, b]): Comparison {
  if (!a.n || !b.n) {
    return {
      delta: NaN,
      lo: NaN,
      hi: NaN,
      seedHalf: NaN,
      testHalf: NaN,
      df: 0,
      excludesZero: null,
      significant: null,
    };
  }
  const iv = differenceInterval(sample(a), sample(b), pool.map((s) => s.accs));
  return { ...iv, significant: iv.excludesZero };
}
