/**
 * Turning run records into the numbers the notebooks print: per-experiment mean ± sd over
 * seeds, comparisons that say whether a difference exceeds the seed-to-seed spread, and
 * sentences generated from those numbers (so a rerun with another preset cannot leave a
 * stale claim).
 */
import pl from "nodejs-polars";
import type { RunRecord } from "../exp/store.ts";
import { meanStd } from "../util/stats.ts";
import { type Column, fmt } from "./render.ts";

export interface Summary {
  experiment: string;
  label: string;
  preset: string;
  backend: string;
  device: string;
  seeds: string;
  n: number;
  status: string;
  params: number;
  macs: number;
  inputSize: number;
  epochs: number;
  trainSeconds: number;
  trainSecondsSd: number;
  secondsPerEpoch: number;
  imagesPerSecond: number;
  imagesPerSecondSd: number;
  testAcc: number;
  testAccSd: number;
  trainAcc: number;
  trainAccSd: number;
  /** train accuracy − test accuracy (overfitting gap). */
  gap: number;
  gapSd: number;
}

/** One summary per experiment (in `order`), over the given records' seeds. */
export function summarizeRuns(records: RunRecord[], order?: string[]): Summary[] {
  const names = order ?? [...new Set(records.map((r) => r.experiment))];
  return names.flatMap((name) => {
    const rs = records.filter((r) => r.experiment === name);
    if (rs.length === 0) return [];
    const ok = rs.filter((r) => r.status === "ok");
    const use = ok.length ? ok : rs;
    const ms = (f: (r: RunRecord) => number) => meanStd(use.map(f));
    const t = ms((r) => r.trainSeconds), ips = ms((r) => r.imagesPerSecond), te = ms((r) => r.testAcc);
    const tr = ms((r) => r.epochs.at(-1)?.trainAcc ?? NaN),
      gap = ms((r) => (r.epochs.at(-1)?.trainAcc ?? NaN) - r.testAcc);
    return [{
      experiment: name,
      label: rs[0].label,
      preset: rs[0].preset,
      backend: [...new Set(rs.map((r) => r.backend))].join("+"),
      device: [...new Set(rs.map((r) => r.device))].join(" + "),
      seeds: rs.map((r) => r.seed).join(","),
      n: use.length,
      status: [...new Set(rs.map((r) => r.status))].join(","),
      params: rs[0].params,
      macs: rs[0].macs,
      inputSize: rs[0].config.inputSize,
      epochs: rs[0].config.epochs,
      trainSeconds: t.mean,
      trainSecondsSd: t.sd,
      secondsPerEpoch: t.mean / Math.max(1, rs[0].config.epochs),
      imagesPerSecond: ips.mean,
      imagesPerSecondSd: ips.sd,
      testAcc: te.mean,
      testAccSd: te.sd,
      trainAcc: tr.mean,
      trainAccSd: tr.sd,
      gap: gap.mean,
      gapSd: gap.sd,
    }];
  });
}

export function summaryFrame(s: Summary[]): pl.DataFrame {
  return pl.DataFrame(s as unknown as Record<string, unknown>[]);
}

/** The columns every results table carries: provenance first, then the measurements. */
export const PROVENANCE: Column[] = [
  fmt.text("preset", "preset"),
  fmt.text("backend", "backend"),
  fmt.text("device", "device"),
  fmt.text("seeds", "seeds"),
];

export const RESULT_COLUMNS: Column[] = [
  fmt.int("params", "params"),
  fmt.int("MACs/image", "macs"),
  fmt.meanSd("train s", "trainSeconds", "trainSecondsSd", 1),
  fmt.meanSd("img/s", "imagesPerSecond", "imagesPerSecondSd", 0),
  fmt.meanSd("train acc", "trainAcc", "trainAccSd", 3),
  fmt.meanSd("test acc", "testAcc", "testAccSd", 3),
];

export interface Comparison {
  delta: number;
  /** true: beyond the seed spread; false: within it; null: fewer than two seeds on a side. */
  significant: boolean | null;
  text: string;
}

/**
 * Compare a metric of b against a (b − a). A difference counts only when it exceeds twice
 * the larger of the two seed standard deviations.
 */
export function compare(a: Summary, b: Summary, metric: "testAcc" | "gap" | "trainAcc" = "testAcc"): Comparison {
  const sdKey = `${metric}Sd` as "testAccSd" | "gapSd" | "trainAccSd";
  const delta = b[metric] - a[metric];
  const spread = Math.max(a[sdKey], b[sdKey]);
  const significant = a.n < 2 || b.n < 2 || !Number.isFinite(spread) ? null : Math.abs(delta) > 2 * spread;
  const pts = `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(1)} points`;
  const verdict = significant === null
    ? "single seed, not judged"
    : significant
    ? `beyond the seed spread (2 × sd = ${(2 * spread * 100).toFixed(1)} points)`
    : `within the seed spread (2 × sd = ${(2 * spread * 100).toFixed(1)} points): no measurable effect`;
  return { delta, significant, text: `${pts}, ${verdict}` };
}

export const pct = (x: number, d = 1): string => `${(x * 100).toFixed(d)}%`;

/** "1.8×" style ratio. */
export const times = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)}×`;
