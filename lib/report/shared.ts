/**
 * What every question page shares: summaries with localized labels, the answer block, the
 * under-training check against the textbook's accuracies, charts (accuracy with intervals,
 * learning curves with integer epoch ticks) and the settings-and-provenance block.
 */
import type { RunRecord } from "../exp/store.ts";
import {
  experiment,
  GROUPS,
  type Knobs,
  LAPTOP_WHY,
  type Preset,
  presetSeeds,
  resolveConfig,
  trainsAt,
} from "../exp/experiments.ts";
import { pooledVariance } from "../util/stats.ts";
import { compare, type Comparison, summarizeRuns, type Summary } from "./analysis.ts";
import { acc, labelOf, type Lang, type Messages, points, ratio, thousandsOf, withHalf } from "./i18n.ts";
import { createModel } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import type { MeasureRecord } from "../exp/measurements.ts";
import type { RecordSource } from "../exp/records.ts";
import { type Column, esc, Plot, plotHtml, tableHtml } from "./render.ts";
import { showHtml } from "./display.ts";
import { TEXTBOOK } from "./reported.ts";

/** What a page is rendered with: its notebook, preset, language and where its records come from. */
export interface PageContext {
  id: string;
  preset: Preset;
  lang: Lang;
  m: Messages;
  records: RecordSource;
}

/** "2.98× (95% interval 2.90–3.05×)" in the page's language; just the ratio when no interval could be formed. */
export function ratioCi(m: Messages, r: { ratio: number; lo: number; hi: number }): string {
  return Number.isFinite(r.lo) && Number.isFinite(r.hi)
    ? m.ratioCi(ratio(r.ratio), ratio(r.lo), ratio(r.hi))
    : ratio(r.ratio);
}

/** How a timing record was measured: machine, backend, and how many other runs trained meanwhile. */
export function timedHow(m: Messages, r: MeasureRecord): string {
  return m.timedHow(m.deviceName(r.device), r.backend, r.othersTraining);
}

/** A step's number from its label ("1: 10-class output" / "1：输出层改为 10 类" → "1"). */
export const stepOf = (label: string): string => label.split(/[:：]/)[0];

/** A column heading without its parenthesis ("test acc (95% interval)" / "测试准确率（95% 区间）" → the name). */
export const headOf = (heading: string): string => heading.split(/ \(|（/)[0];

/** Summaries of `names` (in that order) with the page language's labels. */
export function summaries(runs: RunRecord[], names: string[], lang: Lang): Summary[] {
  return summarizeRuns(runs, names).map((s) => ({ ...s, label: labelOf(lang, s.experiment, s.label) }));
}

/** Look a summary up by experiment name. */
export const byName = (s: Summary[]): Map<string, Summary> => new Map(s.map((x) => [x.experiment, x]));

/** b − a with seed variance pooled over the page's summaries. */
export const versus = (a: Summary, b: Summary, page: Summary[]): Comparison => compare(a, b, page);

/** Degrees of freedom of the page's pooled seed variance (for the statistics note). */
export const pageDf = (page: Summary[]): number => pooledVariance(page.map((s) => s.accs)).df;

/** A table cell for a difference: "+1.2 (+0.4, +2.0)", or just the points when not judged. */
export function deltaCell(c: Comparison): string {
  if (!Number.isFinite(c.delta)) return "–";
  return c.significant === null ? points(c.delta) : `${points(c.delta)} (${points(c.lo)}, ${points(c.hi)})`;
}

/** "0.905 ± 0.006" for a summary's test accuracy. */
export const accOf = (s: Summary | undefined): string => (s ? withHalf(s.testAcc, s.testAccHalf) : "–");

/**
 * Labels of summaries that are clearly below a textbook accuracy: the upper end of their 95%
 * interval is more than one point under it. Empty when every one is near or above.
 */
export function belowBar(s: Summary[], bar: number): string[] {
  return s.filter((x) => x.n > 0 && x.testAcc + (Number.isFinite(x.testAccHalf) ? x.testAccHalf : 0) < bar - 0.01)
    .map((x) => x.label);
}

/** The under-training sentence for a family, or null when nothing is below its bar. */
export function underTrainedSentence(m: Messages, s: Summary[], family: keyof typeof TEXTBOOK): string | null {
  const bar = TEXTBOOK[family];
  const low = belowBar(s, bar.acc);
  return low.length ? m.underTrained(low, `${bar.acc.toFixed(2)}${m.parens(bar.source[m.lang as Lang])}`) : null;
}

/** Names of runs left out of means on a page, as one sentence ("" when none). */
export function exclusions(m: Messages, s: Summary[]): string {
  const items = s.flatMap((x) =>
    x.excluded.map((e) => `${x.label}: ${m.runFlag(e.seed, e.flag, Number.isFinite(e.testAcc) ? acc(e.testAcc) : "–")}`)
  );
  return m.excluded(items);
}

/** Sentences as they go on a page: empty ones dropped, each starting with a capital letter. */
const sentencesOf = (xs: (string | null | undefined | false)[]): string[] =>
  xs.filter((x): x is string => Boolean(x)).map((x) => x.charAt(0).toUpperCase() + x.slice(1));

/** The answer block: a heading and 3–6 generated sentences, each one a list item. */
export function answerHtml(m: Messages, sentences: (string | null | undefined | false)[]): string {
  const items = sentencesOf(sentences);
  return `<div class="cnnlab-answer"><h2>${esc(m.answer)}</h2><ul>${
    items.map((x) => `<li>${esc(x)}</li>`).join("")
  }</ul></div>`;
}

export async function showAnswer(m: Messages, sentences: (string | null | undefined | false)[]): Promise<void> {
  const items = sentencesOf(sentences);
  await showHtml(answerHtml(m, items), `${m.answer}\n${items.map((x) => `- ${x}`).join("\n")}`);
}

/** Test accuracy per experiment as bars with 95% intervals; the x axis zoomed to the data. */
export function accuracyChartHtml(m: Messages, s: Summary[], title: string): string {
  const ok = s.filter((x) => x.n > 0);
  const lo = Math.min(...ok.map((x) => x.testAcc - (x.testAccHalf || 0)));
  const hi = Math.max(...ok.map((x) => x.testAcc + (x.testAccHalf || 0)));
  const pad = Math.max(0.01, (hi - lo) * 0.15);
  return plotHtml({
    title,
    marginLeft: 250,
    width: 900,
    height: 50 + 26 * ok.length,
    x: { label: m.axisTestAcc, grid: true, domain: [Math.max(0, lo - pad), Math.min(1, hi + pad)] },
    y: { label: null, domain: ok.map((r) => r.label) },
    marks: [
      Plot.ruleY(ok, {
        x1: (d: Summary) => d.testAcc - (d.testAccHalf || 0),
        x2: (d: Summary) => d.testAcc + (d.testAccHalf || 0),
        y: "label",
        stroke: "#234",
        strokeWidth: 2,
      }),
      Plot.dot(ok, { x: "testAcc", y: "label", fill: "#4c78a8", r: 4 }),
      Plot.text(ok, { x: "testAcc", y: "label", text: (d: Summary) => d.testAcc.toFixed(3), dy: -9, fontSize: 10 }),
    ],
  });
}

export interface CurvePoint {
  label: string;
  epoch: number;
  value: number;
  metric: string;
}

/** Mean over usable seeds, per epoch, of test and inference-mode train accuracy. */
export function curvePoints(m: Messages, runs: RunRecord[], names: string[], lang: Lang): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const name of names) {
    const rs = runs.filter((r) => r.experiment === name && r.status === "ok" && r.testAcc > 0.15);
    if (!rs.length) continue;
    const label = labelOf(lang, name, rs[0].label);
    const epochs = Math.max(...rs.map((r) => r.epochs.length));
    for (let e = 0; e < epochs; e++) {
      for (const [metric, key] of [[m.axisTestAccEpoch, "testAcc"], [m.axisTrainAccEpoch, "trainEvalAcc"]] as const) {
        const v = rs.map((r) => r.epochs[e]?.[key]).filter((x): x is number => Number.isFinite(x));
        if (v.length) out.push({ label, epoch: e + 1, value: v.reduce((a, b) => a + b, 0) / v.length, metric });
      }
    }
  }
  return out;
}

/** Learning curves (test and train accuracy per epoch), one panel per metric, integer epoch ticks. */
export function curvesHtml(m: Messages, pts: CurvePoint[], title: string): string {
  if (pts.length === 0) return ""; // every run at chance or failed: the tables name them
  const maxEpoch = Math.max(1, ...pts.map((p) => p.epoch));
  const ys = pts.map((p) => p.value);
  const lo = Math.min(...ys), hi = Math.max(...ys);
  return plotHtml({
    title,
    width: 900,
    height: 340,
    marginRight: 20,
    color: { legend: true },
    fx: { label: null },
    x: { label: m.axisEpoch, ticks: Array.from({ length: maxEpoch }, (_, i) => i + 1), tickFormat: "d" },
    y: { label: null, grid: true, domain: [Math.max(0, lo - 0.01), Math.min(1, hi + 0.01)] },
    marks: [
      Plot.line(pts, { x: "epoch", y: "value", stroke: "label", fx: "metric", marker: "dot" }),
    ],
  });
}

/** One row per seed when seeds disagree (sd above a point) or a run was left out. */
export function seedRows(
  s: Summary[],
  runs: RunRecord[],
): { label: string; seed: number; status: string; testAcc: number }[] {
  const show = s.filter((x) => x.excluded.length || (Number.isFinite(x.testAccSd) && x.testAccSd > 0.01));
  return show.flatMap((x) =>
    runs.filter((r) => r.experiment === x.experiment).sort((a, b) => a.seed - b.seed).map((r) => ({
      label: x.label,
      seed: r.seed,
      status: r.status === "ok" && !(r.testAcc > 0.15) ? "chance" : r.status,
      testAcc: r.testAcc,
    }))
  );
}

/**
 * The epochs of experiments `a` and `b` among `runs`, from the first device that trained both (a time
 * ratio is taken only where one device ran both); null where none did.
 */
export function sameDeviceEpochs(
  runs: RunRecord[],
  a: string,
  b: string,
): { device: string; a: number[]; b: number[] } | null {
  const ok = (name: string, device: string) =>
    runs.filter((r) => r.experiment === name && r.status === "ok" && r.device === device);
  const secs = (rs: RunRecord[]) => rs.flatMap((r) => r.epochs.map((e) => e.trainSeconds));
  for (const device of new Set(runs.filter((r) => r.experiment === a && r.status === "ok").map((r) => r.device))) {
    const xs = ok(a, device), ys = ok(b, device);
    if (xs.length && ys.length) return { device, a: secs(xs), b: secs(ys) };
  }
  return null;
}

// ---------------------------------------------------------------- a network, layer by layer

/**
 * The network an experiment trains at a preset, layer by layer (name, type, output shape, parameters,
 * multiply-adds; layers without weights shown where they pool, flatten, join or add), under a heading
 * with its totals; folded unless `open`.
 */
export function modelTable(
  m: Messages,
  lang: Lang,
  name: string,
  preset: Preset,
  opts: { open?: boolean; caption?: string } = {},
): { html: string; text: string; params: number; macs: number } {
  const e = experiment(name);
  const cfg = resolveConfig(e, preset);
  const model = createModel(cfg, 1, e.build);
  const s = summarize(model);
  model.dispose();
  const rows = s.layers.filter((l) => l.trainable > 0 || /pool|flatten|concat|add/i.test(l.type));
  const heading = `${opts.caption ? `${esc(opts.caption)}: ` : ""}${esc(e.label[lang])} — <code>${
    esc(cfg.model)
  }</code>${esc(m.modelFacts(cfg.inputSize, thousandsOf(s.trainable), thousandsOf(s.macs)))}`;
  return {
    html: `<details class="model"${opts.open ? " open" : ""}><summary>${heading}</summary>` +
      tableHtml(rows, [
        { label: m.q2.colLayer, cell: (l) => l.name, numeric: false, code: true },
        { label: m.colType, cell: (l) => l.type, numeric: false, code: true },
        { label: "h×w×c", cell: (l) => l.outputShape.join("×"), numeric: true },
        { label: m.colParams, cell: (l) => thousandsOf(l.trainable), numeric: true },
        { label: m.colMacs, cell: (l) => thousandsOf(l.macs), numeric: true },
      ]) + `</details>`,
    text: `${name}: ${s.trainable} parameters`,
    params: s.trainable,
    macs: s.macs,
  };
}

// ---------------------------------------------------------------- settings and provenance

const cfgCells = (m: Messages, name: string, preset: Preset) => {
  const c = resolveConfig(experiment(name), preset);
  const o = c.modelOptions as Record<string, unknown>;
  const width = o.width ?? o.widthMultiplier ?? (o.ratio ? `1/${o.ratio}` : 1);
  return {
    experiment: name,
    model: c.model,
    input: `${c.inputSize}`,
    width: String(width),
    images: c.trainPerClass ? (c.trainPerClass * 10).toLocaleString("en-US") : "60,000",
    epochs: String(c.epochs),
    batch: String(c.batchSize),
    optim: m.optimText(c.optim.optimizer, c.optim.lr, c.optim.momentum, c.optim.weightDecay),
    schedule: m.scheduleText(c.optim.schedule ?? "constant", c.optim.warmupEpochs),
  };
};

/**
 * The "Settings and provenance" block, once per page: the resolved configuration of each
 * experiment, what the preset changed from the assignment's settings and why, then backend,
 * device, precision, seeds, versions and commit of the records shown, and the statistics note.
 */
export function settingsHtml(m: Messages, preset: Preset, names: string[], runs: RunRecord[], df: number): string {
  const lang = m.lang as Lang;
  const used = runs.filter((r) => names.includes(r.experiment));
  const rows = names.map((n) => cfgCells(m, n, preset));
  const cols: Column[] = [
    { label: m.experiment, cell: (r) => String(r.experiment), numeric: false, code: true },
    { label: m.model, cell: (r) => String(r.model), numeric: false, code: true },
    { label: m.input, cell: (r) => String(r.input), numeric: true },
    { label: m.width, cell: (r) => String(r.width), numeric: true },
    { label: m.trainImages, cell: (r) => String(r.images), numeric: true },
    { label: m.epochs, cell: (r) => String(r.epochs), numeric: true },
    { label: m.batch, cell: (r) => String(r.batch), numeric: true },
    { label: m.optimizer, cell: (r) => String(r.optim), numeric: false },
    { label: m.schedule, cell: (r) => String(r.schedule), numeric: false },
  ];
  // What the preset changed, per question group: the resolved values here and at the assignment's
  // settings (the full preset), with the reason; a setting that is the same and has no reason is left out.
  // Each group read from its first experiment on the page (the page's own runs; the reference tier's
  // variants come later and fix their own inputs).
  const exps = names.map((n) => experiment(n));
  const groups = exps.filter((e, i) => exps.findIndex((x) => x.group === e.group) === i);
  const knobRows = groups.flatMap((e) => {
    const here = resolveConfig(e, preset), full = resolveConfig(e, "full");
    const why = preset === "laptop" ? LAPTOP_WHY[e.group] : {};
    // Width and dense width as the preset scales every model of the group, not one model's values.
    const knobs = (p: Preset): Knobs => GROUPS[e.group as keyof typeof GROUPS][p];
    const scale = (p: Preset) => `×${knobs(p).widthScale ?? 1}`;
    const dense = (p: Preset) => {
      const d = knobs(p).denseWidth;
      return d ? d.toLocaleString("en-US") : m.modelsOwn;
    };
    const images = (
      n: number | null,
      all: number,
    ) => (n ? (n * 10).toLocaleString("en-US") : all.toLocaleString("en-US"));
    // The input sizes of the group's experiments this preset trains (Q2b's are two).
    const members = exps.filter((x) => x.group === e.group && trainsAt(x, preset));
    const inputs = (p: Preset) => [...new Set(members.map((x) => resolveConfig(x, p).inputSize))].join(", ");
    const rows: [string, string, string, string | undefined][] = [
      [m.input, inputs(preset), inputs("full"), why.inputSize?.[lang]],
      [m.widthScale, scale(preset), scale("full"), why.widthScale?.[lang]],
      [m.denseWidth, dense(preset), dense("full"), why.denseWidth?.[lang]],
      [m.trainImages, images(here.trainPerClass, 60_000), images(full.trainPerClass, 60_000), why.data?.[lang]],
      [m.testImages, images(here.testPerClass, 10_000), images(full.testPerClass, 10_000), undefined],
      [m.epochs, `${here.epochs}`, `${full.epochs}`, why.epochs?.[lang]],
      [m.batch, `${here.batchSize}`, `${full.batchSize}`, undefined],
      [m.seeds, presetSeeds(e, preset).join(", "), presetSeeds(e, "full").join(", "), why.seeds?.[lang]],
    ];
    return rows.filter(([, h, f, w]) => h !== f || w).map(([knob, h, f, w]) => ({
      knob,
      here: h,
      full: f,
      why: w ?? "",
    }));
  });
  const uniq = (f: (r: RunRecord) => string | null | undefined) => [...new Set(used.map(f).filter(Boolean))].join("; ");
  // [label, value, set as code (identifiers a user types: the preset, the backend)]
  const facts: [string, string, boolean?][] = [
    [m.preset, preset, true],
    [m.backend, uniq((r) => r.backend), true],
    [m.device, uniq((r) => m.deviceName(r.device))],
    [
      m.precision,
      uniq((r) =>
        r.layerPlan
          ? `${r.precision}${m.parens(m.perLayer(r.layerPlan.bf16, r.layerPlan.bf16 + r.layerPlan.fp32))}`
          : r.precision ?? "fp32"
      ),
    ],
    [m.seeds, uniq((r) => String(r.seed))],
    [m.runs, String(used.length)],
    [m.versions, uniq((r) => `cnnlab ${r.versions.cnnlab}, Deno ${r.versions.deno}, tfjs ${r.versions.tfjs}`)],
    [m.commit, uniq((r) => r.gitCommit?.slice(0, 10))],
    [m.trainedOn, uniq((r) => r.endedAt.slice(0, 10))],
  ];
  const whyRows = names.flatMap((n) =>
    Object.entries(experiment(n).why).filter(([, v]) => v).map(([k, v]) => ({ experiment: n, knob: k, why: v![lang] }))
  );
  const dedup = whyRows.filter((r, i) => whyRows.findIndex((x) => x.knob === r.knob && x.why === r.why) === i);
  return `<section class="cnnlab-settings"><h2>${esc(m.settings)}</h2>` +
    `<p class="facts">${
      facts.filter(([, v]) => v).map(([k, v, code]) => `<b>${esc(k)}</b> ${code ? `<code>${esc(v)}</code>` : esc(v)}`)
        .join(" · ")
    }</p>` +
    tableHtml(rows, cols) +
    (knobRows.length
      ? tableHtml(knobRows, [
        { label: m.knob, cell: (r) => String(r.knob), numeric: false },
        { label: m.value, cell: (r) => String(r.here), numeric: false },
        { label: m.assignment, cell: (r) => String(r.full), numeric: false },
        { label: m.why, cell: (r) => String(r.why), numeric: false },
      ], m.presetChanged)
      : "") +
    tableHtml(dedup, [
      { label: m.experiment, cell: (r) => String(r.experiment), numeric: false, code: true },
      { label: m.knob, cell: (r) => m.reasonKey(String(r.knob)), numeric: false },
      { label: m.why, cell: (r) => String(r.why), numeric: false },
    ], m.recipeWhy) +
    `<p class="note">${esc(m.statsNote(df))}</p></section>`;
}
