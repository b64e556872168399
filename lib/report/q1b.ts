/**
 * Question 1b — Simplifying AlexNet: the preset's own shrinking shown as explicit rungs from the
 * published AlexNet at 224 px, then the simplification steps (trained). Every time on the page
 * comes from a record: the ladder's timing record (steps of every rung timed one after another,
 * with how many other runs were training) for the speed comparison, and the training runs' own
 * epochs beside it; accuracies from the run records, with 95% intervals.
 */
import type { RunRecord } from "../exp/store.ts";
import { ALL_TRAIN_IMAGES, type LadderData, ladderRungs, type MeasureRecord } from "../exp/measurements.ts";
import { questionExperiments } from "../exp/experiments.ts";
import { mean, ratioInterval } from "../util/stats.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, ratio, thousandsOf, withHalf } from "./i18n.ts";
import { referenceRuns } from "../exp/records.ts";
import { Plot, plotHtml, tableHtml } from "./render.ts";
import {
  byName,
  deltaCell,
  exclusions,
  headOf,
  modelTable,
  type PageContext,
  ratioCi,
  sameDeviceEpochs,
  showAnswer,
  stepOf,
  summaries,
  timedHow,
  underTrainedSentence,
  versus,
} from "./shared.ts";
import { REPORTED_1B, REPORTED_1B_EPOCHS } from "./reported.ts";
import type { Summary } from "./analysis.ts";

export const Q1B: string[] = questionExperiments("1b").map((e) => e.name);

/** The assignment's floor for every simplification step. */
export const FLOOR = 0.85;

/** One rung of the ladder, with its times from the records. */
export interface Rung {
  key: string;
  label: string;
  params: number;
  macs: number;
  /** Seconds per epoch on all 60,000 images, one value per timed round of the timing record. */
  timed: number[];
  /** Mean of `timed`. */
  timedMean: number;
  /** The training runs' own seconds per epoch (every epoch of every usable seed; empty when not trained). */
  trained: number[];
  summary: Summary | null;
}

/** The ladder from the timing record (times, sizes) and the run records (accuracies, the runs' own times). */
export function ladder(ctx: PageContext, runs: RunRecord[], timing: MeasureRecord<LadderData>): Rung[] {
  const m = ctx.m;
  const s = byName(summaries(runs, Q1B, ctx.lang));
  const configs = new Map(ladderRungs(ctx.preset).map((r) => [r.key, r.config]));
  return timing.data.rungs.map((r) => {
    const cfg = configs.get(r.key);
    const o = (cfg?.modelOptions ?? {}) as { widthMultiplier?: number; denseWidth?: number };
    const label = r.kind === "full"
      ? m.q1b.rungFull(r.inputSize)
      : r.kind === "input"
      ? m.q1b.rungInput(r.inputSize)
      : r.kind === "width"
      ? m.q1b.rungWidth(r.inputSize, o.widthMultiplier ?? 1, thousandsOf(o.denseWidth ?? 4096))
      : s.get(r.experiment!)?.label ?? r.experiment!;
    const steps = Math.ceil(ALL_TRAIN_IMAGES / r.batchSize);
    const timed = r.stepSeconds.map((t) => t * steps);
    const summary = r.experiment ? s.get(r.experiment) ?? null : null;
    return {
      key: r.key,
      label,
      params: r.params,
      macs: r.macs,
      timed,
      timedMean: mean(timed),
      trained: summary?.epochSeconds ?? [],
      summary,
    };
  });
}

/** The answer, from the ladder (times from the timing record) and the records (accuracies). */
export function q1bAnswer(ctx: PageContext, rungs: Rung[], runs: RunRecord[], timing: MeasureRecord): string[] {
  const m = ctx.m;
  const page = summaries(runs, Q1B, ctx.lang);
  const trained = rungs.filter((r) => r.summary?.n);
  if (trained.length === 0) return [m.missingRuns];
  const out: string[] = [];
  const above = trained.filter((r) => r.summary!.testAcc - r.summary!.testAccHalf >= FLOOR);
  const below = trained.filter((r) => !above.includes(r)).map((r) => r.label);
  // Step 1 as this preset trains it: the scale the floor sentence and the shrink sentence name.
  const configs = ladderRungs(ctx.preset);
  const small = configs.find((r) => r.key === "alexnet")!.config;
  const width = (small.modelOptions as { widthMultiplier?: number }).widthMultiplier ?? 1;
  const scale = m.q1b.scale(small.inputSize, width, small.epochs);
  out.push(m.q1b.floorOk(above.length, trained.length, below, scale));
  const step1 = rungs.find((r) => r.key === "alexnet");
  const fastest = [...above].sort((a, b) => a.timedMean - b.timedMean)[0];
  const how = timedHow(m, timing);
  if (fastest && step1 && fastest !== step1) {
    out.push(
      m.q1b.fastest(
        fastest.label,
        fixed(fastest.timedMean),
        ratioCi(m, ratioInterval(step1.timed, fastest.timed)),
        withHalf(fastest.summary!.testAcc, fastest.summary!.testAccHalf),
        how,
      ),
    );
    if (fastest.trained.length && step1.trained.length) {
      const t = ratioInterval(step1.trained, fastest.trained);
      const c = ratioInterval(step1.timed, fastest.timed);
      const agree = !(t.lo > c.hi || t.hi < c.lo);
      const others = Math.max(fastest.summary!.othersTraining ?? NaN, step1.summary!.othersTraining ?? NaN);
      out.push(
        m.q1b.runsRatio(
          ratioCi(m, t),
          agree,
          m.runsWhere(m.deviceName(fastest.summary!.device), Number.isNaN(others) ? null : others),
        ),
      );
    }
  } else if (!fastest) {
    out.push(m.q1b.noneAbove(acc(Math.max(...trained.map((r) => r.summary!.testAcc)))));
  }
  const same = ["drop-conv4", "lr-0.004", "lr-0.002"].map((k) => rungs.find((r) => r.key === k)).filter(
    (r): r is Rung => r !== undefined,
  );
  if (same.length === 3) {
    const sorted = [...same].sort((a, b) => b.timedMean - a.timedMean);
    const spread = ratioInterval(sorted[0].timed, sorted[2].timed);
    const times = same.map((r) => fixed(r.timedMean)).join(" / ");
    const [step3, step4] = [REPORTED_1B[2].trainSeconds, REPORTED_1B[3].trainSeconds].map((x) =>
      fixed(x / REPORTED_1B_EPOCHS)
    );
    out.push(
      !(spread.lo > 1)
        ? m.q1b.sameNet(times, ratioCi(m, spread), step3, step4)
        : m.q1b.sameNetNoisy(times, ratioCi(m, spread)),
    );
  }
  const a = rungs.find((r) => r.key === "a");
  if (a && step1) {
    const shrink = ratioInterval(a.timed, step1.timed);
    const best = Math.max(...trained.map((r) => step1.timedMean / r.timedMean));
    out.push(
      m.q1b.shrink(
        fixed(a.timedMean, 0),
        fixed(step1.timedMean),
        ratioCi(m, shrink),
        configs[0].config.inputSize,
        small.inputSize,
        width,
        shrink.ratio > best,
      ),
    );
  }
  out.push(underTrainedSentence(m, page, "alexnet") ?? "");
  out.push(exclusions(m, page));
  return out.filter(Boolean);
}

/** The reference runs at the full preset (the assignment's scale) this page sets beside its own. */
export function q1bReferenceRuns(ctx: PageContext): Promise<RunRecord[]> {
  return referenceRuns(ctx.records, Q1B);
}

/**
 * Q1b's verdict at the assignment's scale, first: the published AlexNet (step 1) against the network
 * the ladder ends on, both at the full preset — the accuracy cost of simplifying (its interval, or one
 * seed said plainly), the floor, and the time per epoch where one device ran both. Empty without both.
 */
export function q1bReferenceLead(m: Messages, reference: RunRecord[], lang: Lang): string[] {
  const [first, last] = [Q1B[0], Q1B.at(-1)!];
  const ref = byName(summaries(reference, [first, last], lang));
  const a = ref.get(first), b = ref.get(last);
  if (!a?.n || !b?.n) return [];
  const cfg = reference.find((r) => r.experiment === first)!.config;
  const out = [
    m.q1b.refLead(
      cfg.inputSize,
      thousandsOf(a.trainImages),
      a.epochs,
      a.n === b.n ? m.seedsEach(a.n) : `${m.seedsEach(a.n)} / ${m.seedsEach(b.n)}`,
      withHalf(a.testAcc, a.testAccHalf),
      b.label,
      withHalf(b.testAcc, b.testAccHalf),
      versus(a, b, [a, b]),
      b.testAcc - b.testAccHalf >= FLOOR,
    ),
  ];
  const pair = sameDeviceEpochs(reference, first, last);
  if (pair) {
    out.push(
      m.q1b.refTime(
        fixed(mean(pair.a), 0),
        fixed(mean(pair.b), 0),
        ratioCi(m, ratioInterval(pair.a, pair.b)),
        m.deviceName(pair.device),
      ),
    );
  }
  return out;
}

/** The answer block: the verdict at scale first where reference runs exist, then this preset's ladder. */
export async function q1bAnswerBlock(
  ctx: PageContext,
  rungs: Rung[],
  runs: RunRecord[],
  timing: MeasureRecord,
  reference: RunRecord[] = [],
): Promise<void> {
  const lead = q1bReferenceLead(ctx.m, reference, ctx.lang);
  await showAnswer(ctx.m, [
    ...lead,
    ...(lead.length ? [ctx.m.q1b.replication] : []),
    ...q1bAnswer(ctx, rungs, runs, timing),
  ]);
}

export async function q1bEvidence(
  ctx: PageContext,
  rungs: Rung[],
  runs: RunRecord[],
  timing: MeasureRecord,
): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q1B, ctx.lang);
  const step1 = rungs.find((r) => r.key === "alexnet");
  const s1 = step1?.summary;
  const images = s1 ? thousandsOf(s1.trainImages) : "–";
  const ladderTable = tableHtml<Rung>(rungs, [
    { label: "", cell: (r) => (r.summary ? "" : r.key), numeric: false },
    { label: m.experiment, cell: (r) => r.label, numeric: false },
    { label: m.colParams, cell: (r) => thousandsOf(r.params), numeric: true },
    { label: m.colMacs, cell: (r) => thousandsOf(r.macs), numeric: true },
    { label: m.q1b.colTimed, cell: (r) => fixed(r.timedMean), numeric: true },
    {
      label: m.colSpeedup,
      cell: (r) => (step1 ? ratio(step1.timedMean / r.timedMean) : "–"),
      numeric: true,
    },
    {
      label: m.q1b.colTrained(images),
      cell: (r) => (r.trained.length ? fixed(mean(r.trained)) : "–"),
      numeric: true,
    },
    {
      label: m.colTestAcc,
      cell: (r) => (r.summary ? withHalf(r.summary.testAcc, r.summary.testAccHalf) : m.q1b.notTrained),
      numeric: true,
    },
    {
      label: m.colDelta((s1 ? stepOf(s1.label) : undefined) ?? "1"),
      cell: (r) => (r.summary && s1 && r.summary !== s1 ? deltaCell(versus(s1, r.summary, page)) : ""),
      numeric: true,
    },
  ], `${m.q1b.ladderCaption} ${m.q1b.timingNote(timedHow(m, timing))}`);
  const s = byName(page);
  const rep = REPORTED_1B.map((r) => ({
    ...r,
    label: s.get(r.experiment)?.label ?? r.experiment,
    ours: s.get(r.experiment),
    oursT: rungs.find((x) => `q1b/${x.key}` === r.experiment)?.timedMean ?? NaN,
  }));
  const reported = tableHtml(rep, [
    { label: m.experiment, cell: (r) => r.label, numeric: false },
    {
      label: `${m.colSecondsPerEpoch} (${m.colReported})`,
      cell: (r) => fixed(r.trainSeconds / REPORTED_1B_EPOCHS),
      numeric: true,
    },
    { label: `${headOf(m.colTestAcc)} (${m.colReported})`, cell: (r) => acc(r.testAcc), numeric: true },
    { label: `${m.q1b.colTimed} (${m.colOurs})`, cell: (r) => fixed(r.oursT), numeric: true },
    { label: `${headOf(m.colTestAcc)} (${m.colOurs})`, cell: (r) => acc(r.ours?.testAcc ?? NaN), numeric: true },
  ], m.q1b.reportedCaption);
  const pts = rungs.filter((r) => r.summary?.n).map((r) => ({
    label: stepOf(r.label),
    t: r.timedMean,
    a: r.summary!.testAcc,
    h: r.summary!.testAccHalf || 0,
  }));
  const lo = Math.min(FLOOR, ...pts.map((p) => p.a - p.h)), hi = Math.max(...pts.map((p) => p.a + p.h));
  const chart = plotHtml({
    title: m.q1b.chartTitle,
    width: 900,
    height: 340,
    grid: true,
    x: { label: m.q1b.colTimed },
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

/**
 * The simplified network the ladder ends on, layer by layer: as this preset trains it (shown), and at
 * the full preset, the assignment's scale (folded).
 */
export async function q1bFinalNetwork(ctx: PageContext): Promise<void> {
  const last = Q1B.at(-1)!;
  const here = modelTable(ctx.m, ctx.lang, last, ctx.preset, { open: true, caption: ctx.m.q1b.finalHere });
  const full = ctx.preset === "full"
    ? null
    : modelTable(ctx.m, ctx.lang, last, "full", { caption: ctx.m.q1b.finalFull });
  await showHtml(here.html + (full?.html ?? ""), here.text);
}
