/**
 * Question 3a — Why NiN and GoogLeNet are so much smaller: parameters by layer type and
 * multiply-adds; GoogLeNet's 1×1 convolutions by role; counterfactual counts built from the zoo
 * (GoogLeNet without its 1×1 reductions; NiN and GoogLeNet with AlexNet's dense head); and a
 * measured answer to "does global average pooling slow training?" (ReLU LeNet, same network,
 * GAP head vs dense head).
 */
import * as tf from "@tensorflow/tfjs";
import type { RunRecord } from "../exp/store.ts";
import { summarize } from "../models/inspect.ts";
import { buildModel } from "../models/registry.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, pctOf, thousandsOf } from "./i18n.ts";
import { Plot, plotHtml, tableHtml } from "./render.ts";
import {
  byName,
  curvePoints,
  curvesHtml,
  exclusions,
  modelTable,
  type PageContext,
  ratioCi,
  sameDeviceEpochs,
  showAnswer,
  summaries,
  versus,
} from "./shared.ts";
import { ratioInterval } from "../util/stats.ts";
import { compare, summarizeRuns, type Summary } from "./analysis.ts";
import { referenceRuns } from "../exp/records.ts";

export const Q3A_MODELS: [string, string][] = [
  ["AlexNet", "alexnet"],
  ["VGG-11", "vgg11"],
  ["NiN", "nin"],
  ["GoogLeNet", "googlenet"],
];
/** The dense head (question 1a's ReLU LeNet) against the GAP head of the same widths and the GAP head of the same parameter count. */
export const Q3A = ["q1a/relu", "q3a/lenet-gap", "q3a/lenet-gap-matched"];

export interface Totals {
  model: string;
  input: number;
  params: number;
  convK: number;
  conv1: number;
  dense: number;
  other: number;
  macs: number;
  /** Multiply-adds per image at the one input size every network is compared at (COMMON_INPUT). */
  macsCommon: number;
  gap: boolean;
}

/** The input size at which the networks' compute is compared: AlexNet's and VGG's own, which NiN and GoogLeNet accept. */
export const COMMON_INPUT = 224;

function macsAt(name: string, inputSize: number): number {
  const m = buildModel(name, { inputSize });
  const macs = summarize(m).macs;
  m.dispose();
  return macs;
}

function totals(label: string, name: string): Totals {
  const m = buildModel(name);
  const s = summarize(m);
  let conv1 = 0, convK = 0, dense = 0, other = 0;
  m.layers.forEach((l, i) => {
    const p = s.layers[i].trainable;
    if (l.getClassName() === "Conv2D") {
      const k = l.getConfig().kernelSize as number[];
      if (k[0] * k[1] === 1) conv1 += p;
      else convK += p;
    } else if (l.getClassName() === "Dense") dense += p;
    else other += p;
  });
  const t: Totals = {
    model: label,
    input: s.inputSize,
    params: s.trainable,
    convK,
    conv1,
    dense,
    other,
    macs: s.macs,
    macsCommon: s.inputSize === COMMON_INPUT ? s.macs : macsAt(name, COMMON_INPUT),
    gap: m.layers.some((l) => l.getClassName() === "GlobalAveragePooling2D"),
  };
  m.dispose();
  return t;
}

/** GoogLeNet's 1×1 convolution parameters by role. */
export function oneByOneRoles(): {
  reduction: number;
  branch: number;
  projection: number;
  other: number;
  total: number;
} {
  const m = buildModel("googlenet");
  const s = summarize(m);
  const r = { reduction: 0, branch: 0, projection: 0, other: 0, total: s.trainable };
  m.layers.forEach((l, i) => {
    if (l.getClassName() !== "Conv2D") return;
    const k = l.getConfig().kernelSize as number[];
    if (k[0] * k[1] !== 1) return;
    const p = s.layers[i].trainable;
    if (/_b[23]_1x1$/.test(l.name)) r.reduction += p;
    else if (/_b1_1x1$/.test(l.name)) r.branch += p;
    else if (/_b4_1x1$/.test(l.name)) r.projection += p;
    else r.other += p;
  });
  m.dispose();
  return r;
}

/** Parameters of AlexNet's classifier (flatten → 4096 → 4096 → 10) on a feature map, built and counted. */
function denseHeadParams(features: number[]): number {
  const input = tf.input({ shape: features });
  const x = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const h1 = tf.layers.dense({ units: 4096 }).apply(x) as tf.SymbolicTensor;
  const h2 = tf.layers.dense({ units: 4096 }).apply(h1) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(h2) as tf.SymbolicTensor;
  const head = tf.model({ inputs: input, outputs: out });
  const n = head.countParams();
  head.dispose();
  return n;
}

export interface Counterfactual {
  what: string;
  params: number;
  actual: number;
}

/** Where each network's classifier starts: the layer whose output an AlexNet-style head would read. */
const FEATURES: Record<string, [string, string]> = { NiN: ["nin", "pool3"], GoogLeNet: ["googlenet", "inception_5b"] };

export function counterfactuals(m: Messages, t: Map<string, Totals>): Counterfactual[] {
  const noRed = buildModel("googlenet", { reductions: false });
  const noRedParams = summarize(noRed).trainable;
  noRed.dispose();
  const out: Counterfactual[] = [{
    what: m.q3a.cfNoReductions,
    params: noRedParams,
    actual: t.get("GoogLeNet")!.params,
  }];
  for (const [label, [name, layer]] of Object.entries(FEATURES)) {
    // The layers up to the features stay; the GAP classifier after them is replaced by AlexNet's.
    const model = buildModel(name);
    const s = summarize(model);
    const at = s.layers.findIndex((l) => l.name === layer);
    const kept = s.layers.slice(0, at + 1).reduce((a, l) => a + l.trainable, 0);
    out.push({
      what: m.q3a.cfDenseHead(label),
      params: kept + denseHeadParams(s.layers[at].outputShape),
      actual: s.trainable,
    });
    model.dispose();
  }
  return out;
}

export function q3aFacts() {
  const t = new Map(Q3A_MODELS.map(([label, name]) => [label, totals(label, name)]));
  return { t, roles: oneByOneRoles() };
}

export function q3aAnswer(
  m: Messages,
  facts: ReturnType<typeof q3aFacts>,
  cf: Counterfactual[],
  runs: RunRecord[],
  lang: Lang,
  reference: RunRecord[] = [],
): string[] {
  const { t, roles } = facts;
  const alex = t.get("AlexNet")!, vgg = t.get("VGG-11")!, nin = t.get("NiN")!, goog = t.get("GoogLeNet")!;
  const out = [
    m.q3a.dense(
      pctOf(alex.dense / alex.params),
      pctOf(vgg.dense / vgg.params),
      pctOf(nin.dense / nin.params),
      pctOf(goog.dense / goog.params, 1),
      alex.dense > alex.params / 2 && vgg.dense > vgg.params / 2,
    ),
    m.q3a.oneByOne(pctOf(roles.reduction / roles.total), thousandsOf(cf[0].params), thousandsOf(cf[0].actual)),
    m.q3a.macs(
      COMMON_INPUT,
      thousandsOf(nin.macsCommon),
      thousandsOf(alex.macsCommon),
      pctOf(nin.params / alex.params, 0),
      pctOf(nin.macsCommon / alex.macsCommon, 0),
      pctOf(goog.params / alex.params, 0),
      pctOf(goog.macsCommon / alex.macsCommon, 0),
      nin.macsCommon > alex.macsCommon,
      // Compute shrinks far less than the parameters (by more than 2× their share) for both.
      [nin, goog].every((x) => x.macsCommon / alex.macsCommon > 2 * (x.params / alex.params)),
    ),
  ];
  out.push(...gapSentences(m, runs, lang, reference));
  return out;
}

type GapVerdict = "yes" | "worse" | "no" | "faster";

/**
 * One run set's GAP-vs-dense facts: each head against the dense one after epoch 1 and at the end, in
 * seconds per epoch where one device ran both, and the verdict of the last head (the matched one when
 * it ran). Null until the dense head and one GAP head ran.
 */
function gapCore(m: Messages, runs: RunRecord[], lang: Lang) {
  const page = summaries(runs, Q3A, lang);
  const s = byName(page);
  const dense = s.get(Q3A[0]);
  const heads = Q3A.slice(1).map((n) => s.get(n)).filter((x): x is Summary => Boolean(x?.n));
  if (!dense?.n || !heads.length) return null;
  const epoch1 = (name: string) =>
    summarizeRuns(
      runs.filter((r) => r.experiment === name).map((r) => ({ ...r, testAcc: r.epochs[0]?.testAcc ?? NaN })),
      [name],
    )[0];
  const d1 = epoch1(dense.experiment);
  const lines: string[] = [];
  let verdict: GapVerdict = "no";
  for (const gap of heads) {
    const g1 = epoch1(gap.experiment);
    const c1 = compare(d1, g1, [d1, g1]);
    const cf = versus(dense, gap, page);
    const pair = sameDeviceEpochs(runs, gap.experiment, dense.experiment);
    lines.push(
      m.q3a.gapHead(
        gap.label,
        thousandsOf(gap.params),
        acc(g1.testAcc),
        acc(d1.testAcc),
        c1,
        acc(gap.testAcc),
        acc(dense.testAcc),
        cf,
        pair ? ratioCi(m, ratioInterval(pair.a, pair.b)) : null,
      ),
    );
    // Slower means behind early and caught up by the end; behind at the end too is a weaker model, not a slower one.
    verdict = c1.significant && c1.delta < 0
      ? cf.significant && cf.delta < 0 ? "worse" : "yes"
      : c1.significant && c1.delta > 0
      ? "faster"
      : "no";
  }
  const cfg = runs.find((r) => r.experiment === dense.experiment)!.config;
  const seeds = Math.min(...[dense, ...heads].map((x) => x.n));
  return {
    page,
    dense,
    lines,
    verdict,
    matched: heads.length > 1,
    epochs: cfg.epochs,
    images: dense.trainImages,
    seeds,
  };
}

/**
 * The measured GAP-vs-dense sentences. Where the reference runs (the textbook's epochs on all images)
 * hold both heads, their verdict leads and this preset's runs follow as the replication, with a
 * sentence where the two disagree; "whether more epochs would close the gap" is then answered by them.
 */
export function gapSentences(m: Messages, runs: RunRecord[], lang: Lang, reference: RunRecord[] = []): string[] {
  const own = gapCore(m, runs, lang);
  if (!own) return [m.missingRuns];
  const ref = gapCore(m, reference.filter((r) => r.preset === "full"), lang);
  const longer = ref && ref.epochs > own.epochs ? ref : null;
  const bare = (c: NonNullable<typeof own>, untested: boolean) =>
    ({
      yes: m.q3a.gapYes,
      worse: untested ? m.q3a.gapWorse : m.q3a.gapWorseAfter(c.epochs),
      no: m.q3a.gapNo,
      faster: m.q3a.gapFaster,
    })[c.verdict];
  const say = (c: NonNullable<typeof own>, untested: boolean) =>
    c.matched ? m.q3a.gapVerdictMatched(bare(c, untested)) : bare(c, untested);
  const intro = m.q3a.gapIntro(thousandsOf(own.dense.params));
  if (!longer) return [intro, ...own.lines, say(own, true), exclusions(m, own.page)].filter(Boolean);
  return [
    intro,
    m.q3a.gapReference(longer.epochs, thousandsOf(longer.images), longer.seeds, say(longer, false)),
    ...longer.lines,
    m.q3a.gapReplication(own.epochs, thousandsOf(own.images)),
    ...own.lines,
    own.verdict === longer.verdict ? "" : m.q3a.gapDisagree(own.epochs, bare(own, false)),
    exclusions(m, longer.page),
    exclusions(m, own.page),
  ].filter(Boolean);
}

/** The reference runs (the full preset) of the GAP comparison, where stored. */
export function q3aReferenceRuns(ctx: PageContext): Promise<RunRecord[]> {
  return referenceRuns(ctx.records, Q3A);
}

export async function q3aAnswerBlock(ctx: PageContext, runs: RunRecord[], reference: RunRecord[] = []) {
  const facts = q3aFacts();
  const cf = counterfactuals(ctx.m, facts.t);
  await showAnswer(ctx.m, q3aAnswer(ctx.m, facts, cf, runs, ctx.lang, reference));
  return { facts, cf };
}

/** The GAP-vs-dense runs, one row per head: parameters, accuracy after epoch 1 and at the end, seconds and device. */
function gapTableHtml(m: Messages, runs: RunRecord[], lang: Lang, caption: string): string {
  const page = summaries(runs, Q3A, lang);
  if (!page.some((x) => x.n)) return "";
  return tableHtml<Summary>(page, [
    { label: m.experiment, cell: (x) => x.label, numeric: false },
    { label: m.colParams, cell: (x) => thousandsOf(x.params), numeric: true },
    {
      label: m.q3a.colEpoch1,
      cell: (x) => {
        const v = runs.filter((rr) => rr.experiment === x.experiment).map((rr) => rr.epochs[0]?.testAcc ?? NaN);
        return acc(v.reduce((a, b) => a + b, 0) / v.length);
      },
      numeric: true,
    },
    { label: m.colTestAcc, cell: (x) => acc(x.testAcc), numeric: true },
    { label: m.colTrainAcc, cell: (x) => acc(x.trainAcc), numeric: true },
    { label: m.colSecondsPerEpoch, cell: (x) => fixed(x.secondsPerEpoch), numeric: true },
    {
      label: m.device,
      cell: (x) => m.deviceName(x.device),
      numeric: false,
    },
  ], caption);
}

export async function q3aEvidence(
  ctx: PageContext,
  facts: ReturnType<typeof q3aFacts>,
  cf: Counterfactual[],
  runs: RunRecord[],
  reference: RunRecord[] = [],
): Promise<void> {
  const m = ctx.m;
  const rows = [...facts.t.values()];
  const totalsTable = tableHtml<Totals>(rows, [
    { label: m.model, cell: (r) => r.model, numeric: false },
    { label: m.input, cell: (r) => String(r.input), numeric: true },
    { label: m.colParams, cell: (r) => thousandsOf(r.params), numeric: true },
    { label: m.q3a.colConvK, cell: (r) => thousandsOf(r.convK), numeric: true },
    { label: m.q3a.colConv1, cell: (r) => thousandsOf(r.conv1), numeric: true },
    { label: m.colDense, cell: (r) => thousandsOf(r.dense), numeric: true },
    { label: m.q3a.colDenseShare, cell: (r) => pctOf(r.dense / r.params, 1), numeric: true },
    { label: m.colMacs, cell: (r) => thousandsOf(r.macs), numeric: true },
    { label: `${m.colMacs} @${COMMON_INPUT}`, cell: (r) => thousandsOf(r.macsCommon), numeric: true },
    { label: m.q3a.colGap, cell: (r) => (r.gap ? "✓" : "–"), numeric: false },
  ], m.q3a.totalsCaption);
  const bars = rows.flatMap((r) => [
    { model: r.model, kind: m.q3a.colConvK, params: r.convK / 1e6 },
    { model: r.model, kind: m.q3a.colConv1, params: r.conv1 / 1e6 },
    { model: r.model, kind: m.colDense, params: r.dense / 1e6 },
  ]);
  const chart = plotHtml({
    title: m.q3a.chartTitle,
    width: 900,
    height: 260,
    marginLeft: 90,
    color: { legend: true },
    x: { label: m.axisParamsM, grid: true },
    y: { label: null },
    marks: [Plot.barX(bars, { x: "params", y: "model", fill: "kind" })],
  });
  const r = facts.roles;
  const roles = tableHtml([
    { role: m.q3a.roleReduction, p: r.reduction },
    { role: m.q3a.roleBranch, p: r.branch },
    { role: m.q3a.roleProjection, p: r.projection },
    { role: m.q3a.roleStem, p: r.other },
  ], [
    { label: m.q3a.colRole, cell: (x) => x.role, numeric: false },
    { label: m.colParams, cell: (x) => thousandsOf(x.p), numeric: true },
    { label: m.q3a.colShare, cell: (x) => pctOf(x.p / r.total, 1), numeric: true },
  ], m.q3a.oneByOneCaption);
  const counter = tableHtml<Counterfactual>(cf, [
    { label: m.q3a.colCounterfactual, cell: (x) => x.what, numeric: false },
    { label: m.colParams, cell: (x) => thousandsOf(x.params), numeric: true },
    { label: m.q3a.colActual, cell: (x) => thousandsOf(x.actual), numeric: true },
    { label: m.q3a.colTimes, cell: (x) => `${(x.params / x.actual).toFixed(1)}×`, numeric: true },
  ], m.q3a.counterCaption);
  const full = reference.filter((r) => r.preset === "full" && Q3A.includes(r.experiment));
  const gapTable = gapTableHtml(m, runs, ctx.lang, m.q3a.gapCaption) +
    gapTableHtml(
      m,
      full,
      ctx.lang,
      full.length
        ? m.q3a.gapCaptionReference(
          full[0].config.epochs,
          thousandsOf(summaries(full, Q3A, ctx.lang).find((x) => x.n)?.trainImages ?? NaN),
        )
        : "",
    ) +
    Q3A.slice(1).map((n) => modelTable(m, ctx.lang, n, ctx.preset).html).join("");
  await showHtml(
    totalsTable + chart + roles + counter + gapTable +
      curvesHtml(m, curvePoints(m, runs, Q3A, ctx.lang), m.q3a.gapCurves),
    m.q3a.totalsCaption,
  );
}
