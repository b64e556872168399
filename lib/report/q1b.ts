/**
 * Question 1b — Simplifying AlexNet: the preset's own shrinking shown as explicit rungs from the
 * published AlexNet at 224 px (timed on this machine), then the simplification steps (trained),
 * each with seconds per epoch on all 60,000 images timed the same way, test accuracy with its
 * 95% interval, Δ accuracy and speed-up; the original submission's figures beside ours.
 */
import { experiment, type Preset, resolveConfig } from "../exp/experiments.ts";
import type { RunRecord } from "../exp/store.ts";
import { calibrate } from "../exp/plan.ts";
import type { TrainConfig } from "../train/trainer.ts";
import { buildModel } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, pctOf, ratio, thousandsOf, withHalf } from "./i18n.ts";
import type { NotebookContext } from "./notebook.ts";
import { Plot, plotHtml, tableHtml } from "./render.ts";
import { byName, deltaCell, exclusions, showAnswer, summaries, underTrainedSentence, versus } from "./shared.ts";
import { REPORTED_1B, REPORTED_1B_EPOCHS } from "./reported.ts";
import type { Summary } from "./analysis.ts";

export const Q1B = ["q1b/alexnet", "q1b/drop-fc2", "q1b/drop-conv4", "q1b/lr-0.004", "q1b/lr-0.002", "q1b/half-width"];

/** The assignment's floor for every simplification step. */
export const FLOOR = 0.85;

/** One rung of the ladder: a configuration timed here, and trained when it is one of the steps. */
export interface Rung {
  key: string;
  label: string;
  params: number;
  macs: number;
  /** Seconds per epoch on all 60,000 training images, from timed steps on this machine. */
  secondsPerEpoch: number;
  summary: Summary | null;
}

/** Time one configuration's epoch on all 60,000 images from a few calibrated steps. */
async function epochSeconds(cfg: TrainConfig, seconds: number): Promise<number> {
  const c = await calibrate(cfg, { seconds });
  return Math.ceil(60_000 / cfg.batchSize) * c.stepSeconds;
}

/**
 * The ladder at a preset: rungs a–c shrink the published AlexNet to the preset's network (input,
 * then width), rungs 1–6 are the trained steps. Every rung is timed here, the same way.
 */
export async function ladder(preset: Preset, runs: RunRecord[], lang: Lang, m: Messages): Promise<Rung[]> {
  // Four seconds of steps per rung on a real preset; the smoke preset (tests) times one step.
  const seconds = preset === "smoke" ? 0.1 : 4;
  const page = summaries(runs, Q1B, lang);
  const s = byName(page);
  const step1 = resolveConfig(experiment("q1b/alexnet"), preset);
  const full = resolveConfig(experiment("q1b/alexnet"), "full");
  const shrink: [string, string, TrainConfig][] = [];
  if (step1.inputSize !== full.inputSize || JSON.stringify(step1.modelOptions) !== JSON.stringify(full.modelOptions)) {
    shrink.push(["a", m.q1b.rungFull(full.inputSize), full]);
    if (step1.inputSize !== full.inputSize) {
      shrink.push(["b", m.q1b.rungInput(step1.inputSize), { ...full, inputSize: step1.inputSize }]);
    }
    shrink.push(["c", m.q1b.rungWidth(step1.inputSize), step1]);
  }
  const out: Rung[] = [];
  const size = (cfg: TrainConfig) => {
    const model = buildModel(cfg.model, { ...cfg.modelOptions, inputSize: cfg.inputSize });
    const r = summarize(model);
    model.dispose();
    return r;
  };
  for (const [key, label, cfg] of shrink) {
    const z = size(cfg);
    out.push({
      key,
      label,
      params: z.trainable,
      macs: z.macs,
      secondsPerEpoch: await epochSeconds(cfg, seconds),
      summary: null,
    });
  }
  for (const name of Q1B) {
    const cfg = resolveConfig(experiment(name), preset);
    const z = size(cfg);
    out.push({
      key: name.split("/")[1],
      label: s.get(name)?.label ?? name,
      params: z.trainable,
      macs: z.macs,
      secondsPerEpoch: await epochSeconds(cfg, seconds),
      summary: s.get(name) ?? null,
    });
  }
  return out;
}

/** The answer, from the ladder (times) and the records (accuracies). */
export function q1bAnswer(m: Messages, rungs: Rung[], runs: RunRecord[], lang: Lang): string[] {
  const page = summaries(runs, Q1B, lang);
  const trained = rungs.filter((r) => r.summary?.n);
  if (trained.length === 0) return [m.missingRuns];
  const out: string[] = [];
  const above = trained.filter((r) => r.summary!.testAcc - r.summary!.testAccHalf >= FLOOR);
  const below = trained.filter((r) => !above.includes(r)).map((r) => r.label);
  out.push(m.q1b.floorOk(above.length, trained.length, below));
  const step1 = rungs.find((r) => r.key === "alexnet");
  const fastest = [...above].sort((a, b) => a.secondsPerEpoch - b.secondsPerEpoch)[0];
  if (fastest && step1) {
    out.push(
      m.q1b.fastest(
        fastest.label,
        fixed(fastest.secondsPerEpoch),
        ratio(step1.secondsPerEpoch / fastest.secondsPerEpoch),
        withHalf(fastest.summary!.testAcc, fastest.summary!.testAccHalf),
      ),
    );
  } else if (!fastest) {
    out.push(m.q1b.noneAbove(acc(Math.max(...trained.map((r) => r.summary!.testAcc)))));
  }
  const same = ["drop-conv4", "lr-0.004", "lr-0.002"].map((k) => rungs.find((r) => r.key === k)).filter(
    Boolean,
  ) as Rung[];
  if (same.length === 3) {
    const t = same.map((r) => r.secondsPerEpoch);
    const spread = (Math.max(...t) - Math.min(...t)) / Math.min(...t);
    const times = t.map((x) => fixed(x)).join(" / ");
    const [step3, step4] = [REPORTED_1B[2].trainSeconds, REPORTED_1B[3].trainSeconds].map((x) => fixed(x));
    out.push(
      spread <= 0.1
        ? m.q1b.sameNet(times, pctOf(spread, 0), step3, step4)
        : m.q1b.sameNetNoisy(times, pctOf(spread, 0)),
    );
  }
  const a = rungs.find((r) => r.key === "a");
  if (a && step1) {
    out.push(
      m.q1b.shrink(
        fixed(a.secondsPerEpoch, 0),
        fixed(step1.secondsPerEpoch),
        ratio(a.secondsPerEpoch / step1.secondsPerEpoch),
      ),
    );
  }
  out.push(underTrainedSentence(m, page, "alexnet") ?? "");
  out.push(exclusions(m, page));
  return out.filter(Boolean);
}

export async function q1bAnswerBlock(ctx: NotebookContext, rungs: Rung[], runs: RunRecord[]): Promise<void> {
  await showAnswer(ctx.m, q1bAnswer(ctx.m, rungs, runs, ctx.lang));
}

export async function q1bEvidence(ctx: NotebookContext, rungs: Rung[], runs: RunRecord[]): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q1B, ctx.lang);
  const step1 = rungs.find((r) => r.key === "alexnet");
  const s1 = step1?.summary;
  const ladderTable = tableHtml<Rung>(rungs, [
    { label: "", cell: (r) => (r.summary ? "" : r.key), numeric: false },
    { label: m.experiment, cell: (r) => r.label, numeric: false },
    { label: m.colParams, cell: (r) => thousandsOf(r.params), numeric: true },
    { label: m.colMacs, cell: (r) => thousandsOf(r.macs), numeric: true },
    { label: m.colSecondsPerEpoch, cell: (r) => fixed(r.secondsPerEpoch), numeric: true },
    {
      label: m.colSpeedup,
      cell: (r) => (step1 ? ratio(step1.secondsPerEpoch / r.secondsPerEpoch) : "–"),
      numeric: true,
    },
    {
      label: m.colTestAcc,
      cell: (r) => (r.summary ? withHalf(r.summary.testAcc, r.summary.testAccHalf) : m.q1b.notTrained),
      numeric: true,
    },
    {
      label: m.colDelta(s1?.label.split(":")[0] ?? "1"),
      cell: (r) => (r.summary && s1 && r.summary !== s1 ? deltaCell(versus(s1, r.summary, page)) : ""),
      numeric: true,
    },
  ], m.q1b.ladderCaption);
  const s = byName(page);
  const rep = REPORTED_1B.map((r) => ({
    ...r,
    label: s.get(r.experiment)?.label ?? r.experiment,
    ours: s.get(r.experiment),
    oursT: rungs.find((x) => `q1b/${x.key}` === r.experiment)?.secondsPerEpoch ?? NaN,
  }));
  const reported = tableHtml(rep, [
    { label: m.experiment, cell: (r) => r.label, numeric: false },
    {
      label: `${m.colSecondsPerEpoch} (${m.colReported})`,
      cell: (r) => fixed(r.trainSeconds / REPORTED_1B_EPOCHS),
      numeric: true,
    },
    { label: `${m.colTestAcc.split(" (")[0]} (${m.colReported})`, cell: (r) => acc(r.testAcc), numeric: true },
    { label: `${m.colSecondsPerEpoch} (${m.colOurs})`, cell: (r) => fixed(r.oursT), numeric: true },
    { label: `${m.colTestAcc.split(" (")[0]} (${m.colOurs})`, cell: (r) => acc(r.ours?.testAcc ?? NaN), numeric: true },
  ], m.q1b.reportedCaption);
  const pts = rungs.filter((r) => r.summary?.n).map((r) => ({
    label: r.label.split(":")[0],
    t: r.secondsPerEpoch,
    a: r.summary!.testAcc,
    h: r.summary!.testAccHalf || 0,
  }));
  const lo = Math.min(FLOOR, ...pts.map((p) => p.a - p.h)), hi = Math.max(...pts.map((p) => p.a + p.h));
  const chart = plotHtml({
    title: m.q1b.chartTitle,
    width: 900,
    height: 340,
    grid: true,
    x: { label: m.colSecondsPerEpoch },
    y: { label: m.axisTestAcc, domain: [lo - 0.005, Math.min(1, hi + 0.005)] },
    marks: [
      Plot.ruleY([FLOOR], { stroke: "#c33", strokeDasharray: "4 3" }),
      Plot.ruleX(pts, {
        x: "t",
        y1: (d: { a: number; h: number }) => d.a - d.h,
        y2: (d: { a: number; h: number }) => d.a + d.h,
      }),
      Plot.dot(pts, { x: "t", y: "a", fill: "#4c78a8", r: 4 }),
      Plot.text(pts, { x: "t", y: "a", text: "label", dx: 12 }),
    ],
  });
  await showHtml(ladderTable + chart + reported, m.q1b.ladderCaption);
}
