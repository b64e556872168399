/**
 * Question 3b — GoogLeNet and its successors, implemented and trained at one common width and
 * input size: what each changed, its parameters, multiply-adds and time, accuracy with its
 * interval against GoogLeNet's, per-seed rows when seeds disagree, and learning curves that show
 * whether batch normalisation speeds early training (a comparison after epoch 1, not an assertion).
 */
import { canonicalJson, experiment, type Preset, questionExperiments, resolveConfig } from "../exp/experiments.ts";
import type { RunRecord } from "../exp/store.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, ratio, thousandsOf, withHalf } from "./i18n.ts";
import { createModel } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import { V3_FACTORISATION_GRID } from "./reported.ts";
import type { PageContext } from "./shared.ts";
import { tableHtml } from "./render.ts";
import {
  accOf,
  accuracyChartHtml,
  byName,
  curvePoints,
  curvesHtml,
  deltaCell,
  exclusions,
  sameDeviceEpochs,
  seedRows,
  showAnswer,
  summaries,
  underTrainedSentence,
  versus,
} from "./shared.ts";
import { compare, type Comparison, summarizeRuns, type Summary } from "./analysis.ts";
import { referenceRuns } from "../exp/records.ts";
import { mean } from "../util/stats.ts";

/** Every Q3b experiment, in the registry's order (lib/exp/experiments.ts). */
export const Q3B_ALL: string[] = questionExperiments("3b").map((e) => e.name);
/** The five models, one recipe. */
export const Q3B: string[] = Q3B_ALL.filter((n) => !n.includes("@"));
/** Each of the five at a reference setting (reference-tier runs, named `<model>@<suffix>`): [base, at the setting]. */
const atSetting = (suffix: string): [string, string][] =>
  Q3B_ALL.filter((n) => n.endsWith(`@${suffix}`)).map((n) => [n.split("@")[0], n]);
/** Each model with the small stem, against itself with the ImageNet stem: [base, small stem]. */
export const Q3B_STEMS: [string, string][] = atSetting("small-stem");
/** Each model at the textbook's 96 px with its own stem, against itself at this page's input: [base, at 96 px]. */
export const Q3B_INPUTS: [string, string][] = atSetting("96");
/** Inception v3's pair, the one the grid diagnosis is about. */
export const Q3B_STEM: [string, string] = Q3B_STEMS.find(([base]) => base === "q3b/inception-v3")!;
/** Inception v3 at 96 px: the grids the 96-px sentences and table name. */
const V3_AT_96 = Q3B_INPUTS.find(([base]) => base === Q3B_STEM[0])![1];
/** Batch normalisation's higher learning rate: [model at the five's recipe, the same at the higher rate]. */
export const Q3B_LR: [string, string][] = Q3B_ALL.filter((n) => n.includes("@lr")).map((n) => [n.split("@")[0], n]);

/** Width and input every Q3b model shares at a preset (a test proves they agree). */
export function commonSize(preset: Preset): { width: number; input: number; epochs: number } {
  const cfgs = Q3B.map((n) => resolveConfig(experiment(n), preset));
  const width = (cfgs[0].modelOptions.width as number | undefined) ?? 1;
  return { width, input: cfgs[0].inputSize, epochs: cfgs[0].epochs };
}

const widthText = (w: number) => (w === 1 ? "1" : w === 0.5 ? "½" : w === 0.25 ? "¼" : w === 0.125 ? "⅛" : String(w));

/** Mean test accuracy after epoch 1, as a summary (for the early-training comparison). */
function afterEpoch1(runs: RunRecord[], name: string): Summary | undefined {
  return summarizeRuns(
    runs.filter((r) => r.experiment === name && r.epochs.length).map((r) => ({ ...r, testAcc: r.epochs[0].testAcc })),
    [name],
  )[0];
}

type Grids = { input: number; a: number; b: number; c: number };
const GRIDS = new Map<string, Grids>();

/**
 * The grid (height = width) each Inception v3 stage runs on at a preset's input, from the built model
 * (built once per experiment and preset: the diagnosis and the stem sentence both read it, in each language).
 */
export function v3Grids(preset: Preset, name = "q3b/inception-v3"): Grids {
  const key = `${name}|${preset}`;
  if (!GRIDS.has(key)) GRIDS.set(key, buildGrids(preset, name));
  return GRIDS.get(key)!;
}

function buildGrids(preset: Preset, name: string): Grids {
  const e = experiment(name);
  const cfg = resolveConfig(e, preset);
  const model = createModel(cfg, 1, e.build);
  const layers = summarize(model).layers;
  model.dispose();
  const grid = (name: string) => layers.find((l) => l.name === name)?.outputShape[0] ?? NaN;
  return { input: cfg.inputSize, a: grid("mixed_a1"), b: grid("mixed_b1"), c: grid("mixed_c1") };
}

/**
 * Accuracy per second: the models whose accuracy cannot be told apart from the most accurate one,
 * and the fastest of them per epoch, when one device trained them all; null otherwise.
 */
export function perSecond(m: Messages, page: Summary[]): string | null {
  const ran = page.filter((x) => x.n && Number.isFinite(x.secondsPerEpoch));
  if (ran.length < 2 || new Set(ran.map((x) => x.device)).size !== 1) return null;
  const best = [...ran].sort((a, b) => b.testAcc - a.testAcc)[0];
  const tied = ran.filter((x) => x === best || !versus(best, x, page).significant);
  const fastest = [...tied].sort((a, b) => a.secondsPerEpoch - b.secondsPerEpoch)[0];
  const slowest = [...ran].sort((a, b) => b.secondsPerEpoch - a.secondsPerEpoch)[0];
  // The slowest is named only when it is clearly slower (5%) than the fastest of the tied.
  const slower = slowest.secondsPerEpoch > 1.05 * fastest.secondsPerEpoch;
  return m.q3b.perSecond(
    best.label,
    fastest === best ? null : fastest.label,
    fixed(best.secondsPerEpoch),
    fixed(fastest.secondsPerEpoch),
    slower ? slowest.label : null,
    fixed(slowest.secondsPerEpoch),
    ratio(slowest.secondsPerEpoch / fastest.secondsPerEpoch),
  );
}

/**
 * Inception v3 at this input: the grids its stages run on against the medium grids (12–20) its paper
 * found the n×1 factorisation to work on, and whether it under-fits (train accuracy below GoogLeNet's
 * too) or over-fits. Null when v3 did not run.
 */
export function v3Diagnosis(
  m: Messages,
  s: Map<string, Summary>,
  grids: ReturnType<typeof v3Grids>,
): string | null {
  const v3 = s.get("q3b/inception-v3"), g = s.get("q3b/googlenet");
  if (!v3?.n || !g?.n) return null;
  const small = grids.b < V3_FACTORISATION_GRID.min;
  return m.q3b.v3Diagnosis(
    grids.input,
    grids.a,
    grids.b,
    grids.c,
    V3_FACTORISATION_GRID.min,
    V3_FACTORISATION_GRID.max,
    small,
    acc(v3.trainAcc),
    acc(g.trainAcc),
    v3.trainAcc < g.trainAcc - 0.005,
    acc(v3.gap),
    acc(g.gap),
    v3.gap > g.gap + 0.01,
  );
}

/** The full preset's runs of the five with the small stem and at 96 px (reference-tier experiments), where stored. */
export function q3bReferenceRuns(ctx: PageContext): Promise<RunRecord[]> {
  return referenceRuns(ctx.records, [...Q3B_STEMS, ...Q3B_INPUTS].map(([, at]) => at));
}

/**
 * The grids [a, b, c] Inception v3 reaches its three stages on at a run's preset, built from the run's
 * own experiment or, for another model's run, from v3's with the same stem (`as`).
 */
const gridsOf = (r: RunRecord, as = r.experiment): [number, number, number] => {
  const g = v3Grids(r.preset as Preset, as);
  return [g.a, g.b, g.c];
};

/** A reference setting of the five: its pairs, and the configuration knobs a pair may differ in. */
type Setting = { pairs: [string, string][]; rest: (c: RunRecord["config"]) => string };
/** The small stem at 28 px: the stem and the input differ from this page's runs. */
const SMALL_STEM: Setting = {
  pairs: Q3B_STEMS,
  rest: (c) => canonicalJson({ ...c, inputSize: 0, modelOptions: { ...c.modelOptions, stem: 0 } }),
};
/** The textbook's 96 px with each model's own stem: the input alone differs. */
const TEXTBOOK_INPUT: Setting = { pairs: Q3B_INPUTS, rest: (c) => canonicalJson({ ...c, inputSize: 0 }) };

type SettingPair = {
  /** This page's run and the reference run at the setting, seed spread pooled as the page's. */
  a: Summary;
  b: Summary;
  c: Comparison;
  /** The summaries the seed spread is pooled over. */
  pool: Summary[];
  ra: RunRecord;
  rb: RunRecord;
  /** Seconds per epoch at the setting over this page's, where one device ran both. */
  perEpoch: number | null;
};

/**
 * Each model at a reference setting (full-preset records) against itself at this page's settings, in
 * the registry's order, null where either did not run or their configurations differ in more than the
 * setting allows. Seed spread pooled over the page's five and every run at the setting (one pool for
 * all pairs), as the page's own intervals are.
 */
function settingPairs(s: Setting, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): (SettingPair | null)[] {
  const refs = refRuns.filter((r) => s.pairs.some(([, at]) => at === r.experiment));
  // This page's runs of the five only: at the smoke preset the page trains the reference variants too,
  // and those must not join the reference records' summaries.
  const own = runs.filter((r) => Q3B.includes(r.experiment));
  const pool = summaries([...own, ...refs], [...Q3B, ...s.pairs.map(([, at]) => at)], lang).filter((x) => x.n);
  return s.pairs.map(([base, at]) => {
    const a = pool.find((x) => x.experiment === base), b = pool.find((x) => x.experiment === at);
    if (!a || !b) return null;
    const ra = runs.find((r) => r.experiment === base)!, rb = refs.find((r) => r.experiment === at)!;
    if (s.rest(ra.config) !== s.rest(rb.config)) return null;
    const pair = sameDeviceEpochs(
      [...runs.filter((r) => r.experiment === base), ...refs.filter((r) => r.experiment === at)],
      base,
      at,
    );
    return { a, b, c: compare(a, b, pool), pool, ra, rb, perEpoch: pair ? mean(pair.b) / mean(pair.a) : null };
  });
}

/** Each model with the small stem against itself with the ImageNet stem (`settingPairs`). */
export const stemPairs = (runs: RunRecord[], refRuns: RunRecord[], lang: Lang): (SettingPair | null)[] =>
  settingPairs(SMALL_STEM, runs, refRuns, lang);

/** Inception v3's pair (`stemPairs`), the one the grid diagnosis is about. */
const v3Pair = (runs: RunRecord[], refRuns: RunRecord[], lang: Lang): SettingPair | null =>
  stemPairs(runs, refRuns, lang)[Q3B_STEMS.indexOf(Q3B_STEM)];

const heldOf = (m: Messages, p: SettingPair) =>
  m.q3b.stemHeld(
    thousandsOf(p.a.trainImages),
    p.ra.config.epochs,
    widthText((p.ra.config.modelOptions.width as number | undefined) ?? 1),
  );

/**
 * Inception v3 with the small stem against this page's v3 with the ImageNet stem: the grids on both
 * sides and what the difference says about the diagnosis; null unless its pair (`stemPairs`) holds.
 */
export function v3Stem(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const p = v3Pair(runs, refRuns, lang);
  if (!p) return null;
  return m.q3b.v3Stem(
    p.rb.config.inputSize,
    gridsOf(p.rb),
    withHalf(p.b.testAcc, p.b.testAccHalf),
    p.ra.config.inputSize,
    gridsOf(p.ra),
    withHalf(p.a.testAcc, p.a.testAccHalf),
    p.c,
    heldOf(m, p),
    p.perEpoch ? ratio(p.perEpoch) : null,
  );
}

/** Which models beat GoogLeNet and which fall behind it, beyond the 95% interval. */
type Verdict = { beat: string[]; behind: string[] };
const verdictParts = (m: Messages, v: Verdict): string[] => [
  v.beat.length ? m.q3b.beat(v.beat) : m.q3b.noneBeat,
  ...(v.behind.length ? [m.q3b.behind(v.behind)] : []),
];

/**
 * Which of the others beat GoogLeNet and which fall behind it, over a pool of summaries; `undecided`
 * when a comparison has no interval (one run and no pooled spread).
 */
function verdictOf(
  g: Summary,
  others: Summary[],
  pool: Summary[],
  label = (x: Summary) => x.label,
): Verdict & { undecided: boolean } {
  const vs = others.map((x) => ({ x, c: versus(g, x, pool) }));
  return {
    beat: vs.filter((v) => v.c.significant && v.c.delta > 0).map((v) => label(v.x)),
    behind: vs.filter((v) => v.c.significant && v.c.delta < 0).map((v) => label(v.x)),
    undecided: vs.some((v) => v.c.significant === null),
  };
}

/**
 * The verdict at a reference setting: with all five at it, which beat GoogLeNet and which fall behind
 * it (seed spread pooled as in `settingPairs`), with the fewest and most seeds a model has there. Null
 * until all five ran at the setting and each differs from this page's run as the setting allows.
 */
function settingVerdict(
  s: Setting,
  runs: RunRecord[],
  refRuns: RunRecord[],
  lang: Lang,
): (Verdict & { seeds: [number, number]; rb: RunRecord }) | null {
  const pairs = settingPairs(s, runs, refRuns, lang);
  if (pairs.length !== Q3B.length || pairs.some((p) => !p)) return null;
  const at = pairs.map((p) => p!.b), g = at[s.pairs.findIndex(([base]) => base === "q3b/googlenet")];
  // Named as the models (this page's labels), not as their runs at the setting.
  const v = verdictOf(g, at.filter((x) => x !== g), pairs[0]!.pool, (x) => pairs.find((p) => p!.b === x)!.a.label);
  const seeds = at.map((x) => x.n);
  return v.undecided ? null : { ...v, seeds: [Math.min(...seeds), Math.max(...seeds)], rb: pairs[0]!.rb };
}

/** The verdict on grids the designs work on (all five with the small stem); null until it stands. */
export function stemVerdict(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const v = settingVerdict(SMALL_STEM, runs, refRuns, lang);
  return v && m.q3b.stemVerdict(v.rb.config.inputSize, gridsOf(v.rb, Q3B_STEM[1]), v.seeds, verdictParts(m, v));
}

/** The verdict at the textbook's input (all five at 96 px, each with its own stem); null until it stands. */
export function inputVerdict(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const v = settingVerdict(TEXTBOOK_INPUT, runs, refRuns, lang);
  return v &&
    m.q3b.inputVerdict(v.rb.config.inputSize, gridsOf(v.rb, V3_AT_96), v.seeds, verdictParts(m, v));
}

/**
 * Where the verdict at the textbook's 96 px and this page's differ: each model whose standing against
 * GoogLeNet (ahead, not distinguishable, behind) changes with the input, and which holds. Null when
 * they agree, or either verdict does not stand.
 */
export function inputDisagreement(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const at = settingVerdict(TEXTBOOK_INPUT, runs, refRuns, lang);
  const page = summaries(runs, Q3B, lang);
  const g = page.find((x) => x.experiment === "q3b/googlenet");
  if (!at || !g?.n) return null;
  const others = page.filter((x) => x !== g && x.n);
  const here = verdictOf(g, others, page);
  if (here.undecided) return null;
  const standing = (v: Verdict, label: string) =>
    v.beat.includes(label) ? "ahead" : v.behind.includes(label) ? "behind" : "level";
  const differ = others.map((x) => x.label).filter((l) => standing(here, l) !== standing(at, l));
  if (!differ.length) return null;
  const base = runs.find((r) => r.experiment === "q3b/googlenet")!, input = base.config.inputSize;
  const ref = at.rb.config.inputSize;
  return m.q3b.disagree(
    differ.map((l) => m.q3b.differs(l, m.q3b.standing(standing(here, l)), input, m.q3b.standing(standing(at, l)), ref)),
    input,
    gridsOf(base, Q3B_STEM[0]),
    ref,
  );
}

/**
 * What the small stem changes for each of the other four (v3 has its own sentence): each model's
 * accuracy with the ImageNet stem and with the small stem, the difference and its verdict. Null when
 * none of the four has a pair.
 */
export function stemEffects(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const pairs = stemPairs(runs, refRuns, lang).filter((p): p is SettingPair =>
    p !== null && p.a.experiment !== Q3B_STEM[0]
  );
  if (!pairs.length) return null;
  return m.q3b.stemEffects(
    pairs.map((p) => m.q3b.moves(p.a.label, acc(p.a.testAcc), acc(p.b.testAcc), p.c)),
    heldOf(m, pairs[0]),
  );
}

/**
 * What the textbook's 96 px changes for each of the five: its accuracy at this page's input and at 96
 * px, the difference and its verdict. Null when none has a pair.
 */
export function inputEffects(m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string | null {
  const pairs = settingPairs(TEXTBOOK_INPUT, runs, refRuns, lang).filter((p): p is SettingPair => p !== null);
  if (!pairs.length) return null;
  return m.q3b.inputEffects(
    pairs.map((p) => m.q3b.moves(p.a.label, acc(p.a.testAcc), acc(p.b.testAcc), p.c)),
    pairs[0].ra.config.inputSize,
    pairs[0].rb.config.inputSize,
    heldOf(m, pairs[0]),
  );
}

/** How many times the five's learning rate the higher-rate runs train at, from their definitions. */
export const rateFactor = (): number =>
  Math.round(experiment(Q3B_LR[0][1]).optim.lr / experiment(Q3B_LR[0][0]).optim.lr);

/**
 * What batch normalisation allows: GoogLeNet and BN-Inception at the higher learning rate against
 * themselves at the five's rate (runs at chance or diverged count as "fails at it"). Null until both pairs ran.
 */
export function bnRate(m: Messages, runs: RunRecord[], lang: Lang): string | null {
  if (Q3B_LR.length !== 2) return null;
  const s = byName(summaries(runs, Q3B_LR.flat(), lang));
  const page = [...s.values()];
  const pairs = Q3B_LR.map(([base, high]) => ({ base: s.get(base), high: s.get(high) }));
  if (pairs.some((p) => !p.base?.n || !p.high)) return null;
  // The rate's effect on each: a significant drop, or every seed at chance or diverged, is "hurt".
  const effect = pairs.map(({ base, high }) => {
    if (!high!.n) return { text: m.q3b.rateFailed(base!.label), hurt: true, gain: false };
    const c = versus(base!, high!, page);
    return {
      text: m.q3b.moves(base!.label, acc(base!.testAcc), acc(high!.testAcc), c),
      hurt: c.significant === true && c.delta < 0,
      gain: c.significant === true && c.delta > 0,
    };
  });
  const [g, b] = effect;
  const verdict = g.hurt && !b.hurt
    ? "allows"
    : !g.hurt && !b.hurt
    ? (b.gain && !g.gain ? "gains" : "both")
    : g.hurt && b.hurt
    ? "neither"
    : "reverse";
  return m.q3b.bnRate(rateFactor(), experiment(Q3B_LR[0][1]).optim.lr, g.text, b.text, verdict);
}

export function q3bAnswer(
  m: Messages,
  runs: RunRecord[],
  preset: Preset,
  lang: Lang,
  refRuns: RunRecord[] = [],
): string[] {
  const page = summaries(runs, Q3B, lang);
  const s = byName(page);
  const g = s.get("q3b/googlenet");
  if (!g?.n) return [m.missingRuns];
  const size = commonSize(preset);
  // The verdict first (which successors beat GoogLeNet, which fall behind), then the numbers behind it.
  // Where all five ran at the textbook's input or on grids their designs work on (the reference
  // tier's runs), those verdicts lead, and this page's follows as the replication.
  const laptop = verdictParts(m, verdictOf(g, page.filter((x) => x !== g && x.n), page));
  const atScale = [inputVerdict(m, runs, refRuns, lang), stemVerdict(m, runs, refRuns, lang)].filter(
    (x): x is string => x !== null,
  );
  const out = atScale.length ? [...atScale, m.q3b.withImagenetStem(size.input, laptop)] : laptop;
  out.push(inputDisagreement(m, runs, refRuns, lang) ?? "");
  out.push(
    m.q3b.overview(
      page.filter((x) => x.n).map((x) => `${x.label} ${withHalf(x.testAcc, x.testAccHalf)}`),
      widthText(size.width),
      size.input,
      size.epochs,
    ),
  );
  const g1 = afterEpoch1(runs, "q3b/googlenet"), b1 = afterEpoch1(runs, "q3b/bn-inception");
  if (g1?.n && b1?.n) out.push(m.q3b.bnEarly(acc(b1.testAcc), acc(g1.testAcc), compare(g1, b1, [g1, b1])));
  out.push(bnRate(m, runs, lang) ?? "");
  out.push(perSecond(m, page) ?? "");
  const v3 = s.get("q3b/inception-v3")?.n ? v3Diagnosis(m, s, v3Grids(preset)) : null;
  out.push(v3 ?? "");
  out.push(v3Stem(m, runs, refRuns, lang) ?? "");
  out.push(inputEffects(m, runs, refRuns, lang) ?? "");
  out.push(stemEffects(m, runs, refRuns, lang) ?? "");
  // Inception v3 has its own diagnosis above; the textbook's bar speaks for the others.
  out.push(
    underTrainedSentence(m, v3 ? page.filter((x) => x.experiment !== "q3b/inception-v3") : page, "googlenet") ?? "",
  );
  out.push(exclusions(m, page));
  return out.filter(Boolean);
}

export async function q3bAnswerBlock(ctx: PageContext, runs: RunRecord[], refRuns: RunRecord[] = []): Promise<void> {
  await showAnswer(ctx.m, q3bAnswer(ctx.m, runs, ctx.preset, ctx.lang, refRuns));
}

/** A reference setting's table: the column labels and caption, from its first pair and every pair's device. */
type SettingTable = { b: string; delta: string; seeds: string; seconds: string; caption: string };

/** Each model at a reference setting against itself at this page's settings, where both ran (`settingPairs`). */
function settingTableHtml(
  m: Messages,
  s: Setting,
  text: (p0: SettingPair, devices: string) => SettingTable,
  runs: RunRecord[],
  refRuns: RunRecord[],
  lang: Lang,
): string {
  const pairs = settingPairs(s, runs, refRuns, lang).filter((p): p is SettingPair => p !== null);
  if (!pairs.length) return "";
  const t = text(pairs[0], [...new Set(pairs.map((p) => m.deviceName(p.rb.device)))].join("; "));
  return tableHtml<SettingPair>(
    pairs,
    [
      { label: m.model, cell: (p) => p.a.label, numeric: false },
      { label: m.q3b.colStem("imagenet", pairs[0].ra.config.inputSize), cell: (p) => accOf(p.a), numeric: true },
      { label: t.b, cell: (p) => accOf(p.b), numeric: true },
      { label: t.delta, cell: (p) => deltaCell(p.c), numeric: true },
      { label: t.seeds, cell: (p) => `${p.a.n} / ${p.b.n}`, numeric: true },
      { label: t.seconds, cell: (p) => fixed(p.b.secondsPerEpoch), numeric: true },
    ],
    t.caption,
  );
}

/** Each model with the small stem against itself with the ImageNet stem, where both ran (`stemPairs`). */
export const stemTableHtml = (m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string =>
  settingTableHtml(
    m,
    SMALL_STEM,
    (p0, devices) => ({
      b: m.q3b.colStem("small", p0.rb.config.inputSize),
      delta: m.q3b.colStemDelta,
      seeds: m.q3b.colStemSeeds,
      seconds: m.q3b.colStemSeconds,
      caption: m.q3b.stemCaption(gridsOf(p0.rb, Q3B_STEM[1]), heldOf(m, p0), devices),
    }),
    runs,
    refRuns,
    lang,
  );

/** Each model at the textbook's 96 px against itself at this page's input, where both ran. */
export const inputTableHtml = (m: Messages, runs: RunRecord[], refRuns: RunRecord[], lang: Lang): string =>
  settingTableHtml(
    m,
    TEXTBOOK_INPUT,
    (p0, devices) => {
      const [a, b] = [p0.ra.config.inputSize, p0.rb.config.inputSize];
      return {
        b: m.q3b.colStem("imagenet", b),
        delta: m.q3b.colInputDelta(a, b),
        seeds: m.q3b.colInputSeeds(a, b),
        seconds: m.q3b.colInputSeconds(b),
        caption: m.q3b.inputCaption(b, gridsOf(p0.rb, V3_AT_96), heldOf(m, p0), devices),
      };
    },
    runs,
    refRuns,
    lang,
  );

export async function q3bEvidence(ctx: PageContext, runs: RunRecord[], refRuns: RunRecord[] = []): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q3B, ctx.lang);
  const g = byName(page).get("q3b/googlenet");
  const size = commonSize(ctx.preset);
  const table = tableHtml<Summary>(page, [
    { label: m.model, cell: (x) => x.label, numeric: false },
    { label: m.q3b.colChanged, cell: (x) => experiment(x.experiment).changes?.[ctx.lang] ?? "", numeric: false },
    { label: m.colParams, cell: (x) => thousandsOf(x.params), numeric: true },
    { label: m.colMacs, cell: (x) => thousandsOf(x.macs), numeric: true },
    { label: m.colSecondsPerEpoch, cell: (x) => fixed(x.secondsPerEpoch), numeric: true },
    { label: m.colTestAcc, cell: (x) => withHalf(x.testAcc, x.testAccHalf), numeric: true },
    { label: m.colDelta("GoogLeNet"), cell: (x) => (g && x !== g ? deltaCell(versus(g, x, page)) : ""), numeric: true },
    { label: m.colTrainAcc, cell: (x) => acc(x.trainAcc), numeric: true },
  ], m.q3b.tableCaption(widthText(size.width), size.input, size.epochs));
  const seeds = seedRows(page, runs);
  const lrPage = summaries(runs, Q3B_LR.flat(), ctx.lang);
  const lrBy = byName(lrPage);
  const lrRows = Q3B_LR.flatMap(([base, high]) => [lrBy.get(base), lrBy.get(high)]).filter((x): x is Summary =>
    Boolean(x)
  );
  const lrTable = lrRows.length
    ? tableHtml<Summary>(lrRows, [
      { label: m.model, cell: (x) => x.label, numeric: false },
      {
        label: m.optimizer,
        cell: (x) => m.optimText(experiment(x.experiment).optim.optimizer, experiment(x.experiment).optim.lr),
        numeric: false,
      },
      { label: m.colTestAcc, cell: (x) => (x.n ? withHalf(x.testAcc, x.testAccHalf) : "–"), numeric: true },
      {
        label: m.q3b.colRateDelta(experiment(Q3B_LR[0][0]).optim.lr),
        cell: (x) => {
          const pair = Q3B_LR.find(([, h]) => h === x.experiment);
          const b = pair && lrBy.get(pair[0]);
          return b && x.n ? deltaCell(versus(b, x, lrPage)) : "";
        },
        numeric: true,
      },
    ], m.q3b.rateCaption(rateFactor()))
    : "";
  await showHtml(
    table + accuracyChartHtml(m, page, m.q3b.chartTitle) + inputTableHtml(m, runs, refRuns, ctx.lang) +
      stemTableHtml(m, runs, refRuns, ctx.lang) + lrTable +
      curvesHtml(m, curvePoints(m, runs, Q3B, ctx.lang), m.q3b.curvesTitle) +
      (seeds.length
        ? tableHtml(seeds, [
          { label: m.model, cell: (r) => r.label, numeric: false },
          { label: m.colSeed, cell: (r) => String(r.seed), numeric: true },
          { label: m.colStatus, cell: (r) => m.status(r.status), numeric: false },
          { label: m.colTestAcc, cell: (r) => acc(r.testAcc), numeric: true },
        ], m.q3b.seedsCaption)
        : ""),
    m.q3b.tableCaption(widthText(size.width), size.input, size.epochs),
  );
}
