/**
 * Question 2 — VGG blocks and input resolution, rendered from records only.
 *
 * 2a: does VGG's fixed 3×3 design lose coarse information? Feature maps of the same test images
 * from LeNet's 5×5 and AlexNet's 11×11 first layers beside every VGG block (all trained at 96
 * px), receptive fields, and a linear probe on each block's output pooled to 2×2 — all from the
 * `q2a/probes` measurement, made from the seed-1 checkpoints before rendering.
 * 2b: 224 vs 96 px — parameters per layer, time per epoch against the multiply-add ratio (the
 * `q2b/kernels` timing record, with its per-kernel profile, and the runs' own epochs), accuracy
 * with its interval, and the verdict of a reference run at the assignment's settings.
 */
import { experiment, resolveConfig } from "../exp/experiments.ts";
import {
  ALL_TRAIN_IMAGES,
  type KernelData,
  type MeasureRecord,
  type ProbeData,
  Q2A_MODELS,
  Q2B_PAIR,
} from "../exp/measurements.ts";
import type { RunRecord } from "../exp/store.ts";
import { mean, ratioInterval, samplingDifference } from "../util/stats.ts";
import { base64, encodePng, viridis } from "../util/png.ts";
import { summarize } from "../models/inspect.ts";
import { buildModel } from "../models/registry.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Messages, pctOf, points, ratio, thousandsOf, withHalf } from "./i18n.ts";
import { esc, tableHtml } from "./render.ts";
import {
  byName,
  curvePoints,
  curvesHtml,
  deltaCell,
  exclusions,
  headOf,
  type PageContext,
  ratioCi,
  sameDeviceEpochs,
  showAnswer,
  summaries,
  timedHow,
  underTrainedSentence,
  versus,
} from "./shared.ts";
import { compare, type Comparison, summarizeRuns, type Summary } from "./analysis.ts";
import { referenceRuns as reference } from "../exp/records.ts";
import { REPORTED_2B, REPORTED_2B_EPOCHS } from "./reported.ts";

/** Q2b's two input sizes, 224 then 96, as the registry defines them (lib/exp/measurements.ts times the same pair). */
export const Q2B: string[] = [...Q2B_PAIR];
/** Question 2a's own runs, in the page's order: the first layers the probes measurement sets beside VGG's blocks. */
export const Q2A: string[] = Q2A_MODELS.map((m) => m.experiment).filter((n) => n.startsWith("q2a/"));
export const Q2_ALL = [...Q2B, ...Q2A];

// ---------------------------------------------------------------- 2a: maps and probes

async function colourBar(m: Messages): Promise<string> {
  const W = 160, H = 10;
  const px = new Uint8Array(W * H * 4);
  for (let x = 0; x < W; x++) for (let y = 0; y < H; y++) px.set([...viridis(x / (W - 1)), 255], (y * W + x) * 4);
  return `<span class="colourbar"><img width="${W}" height="${H}" src="data:image/png;base64,${
    base64(await encodePng(px, W, H, 4))
  }"> ${esc(m.q2.colourBar)}; <span style="background:#c8c8c8">&nbsp;&nbsp;&nbsp;</span> ${esc(m.q2.deadKey)}</span>`;
}

export interface Layer2a {
  /** What the row shows: "LeNet conv 1 (5×5)", "VGG block 3", … */
  label: string;
  model: string;
  layer: string;
  /** Output h × w × c. */
  shape: string;
  rf: number;
  /** Linear-probe test accuracy on the 2×2-pooled output (all its features). */
  probe: number;
  /** Features that probe reads. */
  features: number;
  /** The probe on Probes2a.equalFeatures features (the same for every layer). */
  probeEqual: number;
  /** Share of activations above zero. */
  active: number;
  /** Mean |r| between a channel's map and the input image. */
  inputCorr: number;
}

/** Q2a's measured facts as the page reads them. */
export interface Probes2a {
  rows: Layer2a[];
  probeImages: number;
  equalFeatures: number;
  statsImages: number;
  /** The probed VGG's own test accuracy (its run record) and the images it was scored on. */
  vggAcc: number;
  vggTestImages: number;
  /** The seed whose checkpoints were read. */
  seed: number;
  /** Set when the probes come from the reference runs (full preset) rather than the page's own: VGG's training. */
  reference?: { images: number; epochs: number };
}

const imgOf = (uri: string) => `<img style="image-rendering:pixelated" src="${esc(uri)}">`;

/** Feature maps (HTML) and the per-layer probe rows of 2a, from the probes measurement. */
export async function q2aLayers(ctx: PageContext, probes: MeasureRecord<ProbeData>) {
  const m = ctx.m;
  const d = probes.data;
  const labelOf = (r: ProbeData["rows"][number]) =>
    r.family === "VGG" ? m.q2.vggBlock(r.block) : m.q2.firstLayer(r.family, r.kernel);
  const rows: Layer2a[] = d.rows.map((r) => ({
    label: labelOf(r),
    model: r.experiment,
    layer: r.layer,
    shape: r.shape.join("×"),
    rf: r.rf,
    probe: r.probe,
    features: r.features,
    probeEqual: r.probeEqual,
    active: r.active,
    inputCorr: r.inputCorr,
  }));
  // One column per layer/block (LeNet, AlexNet, VGG 1–5): fits 1,000 px because each is small.
  const head = `<tr><th></th>${d.rows.map((r) => `<th>${esc(labelOf(r))}</th>`).join("")}</tr>`;
  const body = d.inputs.map((input, i) =>
    `<tr><td>${imgOf(input)}<br>${esc(m.classNames[d.labels[i]])}</td>${
      d.rows.map((r) => `<td>${imgOf(r.grids[i])}</td>`).join("")
    }</tr>`
  ).join("");
  const deadNotes = d.rows.filter((r) => r.dead).map((r) => `${labelOf(r)}: ${m.q2.dead(r.dead, r.drawn)}`);
  const seed = probes.sources[0]?.seed ?? 1;
  const mapsHtml = `<p>${esc(m.q2.mapsCaption(probes.preset, d.inputSize, seed))} ${await colourBar(
    m,
  )}</p><table class="maps">${head}${body}</table>` +
    (deadNotes.length ? `<p class="note">${esc(deadNotes.join("; "))}</p>` : "");
  const family = new Map<string, string>(d.rows.map((r) => [r.experiment, r.family]));
  const sources = m.q2.probeSources(
    probes.sources.map((s) => `${family.get(s.experiment) ?? s.experiment} ${acc(s.testAcc)}`).join(", "),
    [...new Set(probes.sources.map((s) => m.deviceName(s.device)))].join("; "),
    seed,
  );
  const vgg = Q2A_MODELS.at(-1)!.experiment;
  const vggCfg = resolveConfig(experiment(vgg), probes.preset);
  return {
    rows,
    mapsHtml,
    probeImages: d.probeImages,
    equalFeatures: d.equalFeatures,
    statsImages: d.statsImages,
    vggAcc: probes.sources.find((x) => x.experiment === vgg)?.testAcc ?? NaN,
    vggTestImages: (vggCfg.testPerClass ?? 1000) * 10,
    seed,
    reference: probes.preset === ctx.preset
      ? undefined
      : { images: vggCfg.trainPerClass ? vggCfg.trainPerClass * 10 : ALL_TRAIN_IMAGES, epochs: vggCfg.epochs },
    sources,
  };
}

/**
 * The 2a sentences: receptive field growth; what linear probes read at equal feature counts (with
 * test-sampling intervals), first against last VGG block and against AlexNet's first layer; the maps
 * read in words from their measured statistics; and the probe against the network's own accuracy.
 */
export function q2aAnswer(m: Messages, p: Probes2a): string[] {
  const rows = p.rows;
  const vgg = rows.filter((r) => r.model.startsWith("q2b/"));
  const alex = rows.find((r) => r.model === "q2a/alexnet@96");
  if (vgg.length < 2) return [m.missingRuns];
  const reach = vgg.find((r) => r.rf >= 11) ?? vgg.at(-1)!;
  const first = vgg[0], last = vgg.at(-1)!;
  const input = Number(resolveConfig(experiment("q2b/vgg11-r8@96"), "full").inputSize);
  const n = p.probeImages;
  const half = (x: number) => withHalf(x, 1.96 * Math.sqrt(x * (1 - x) / n));
  const diff = (a: number, b: number): Comparison => {
    const iv = samplingDifference(a, n, b, n);
    return { ...iv, significant: iv.excludesZero };
  };
  const out = [m.q2.rf(reach.label, reach.rf, last.label, last.rf, input)];
  if (p.reference) {
    out.push(m.q2.probesAtScale(thousandsOf(p.reference.images), p.reference.epochs, p.seed, acc(p.vggAcc)));
  }
  const depth = diff(first.probeEqual, last.probeEqual);
  // The first VGG block a probe reads as well as AlexNet's first layer (not significantly below it).
  const match = alex
    ? vgg.find((r) => !(diff(alex.probeEqual, r.probeEqual).significant && r.probeEqual < alex.probeEqual))
    : undefined;
  out.push(
    m.q2.probeEqual(
      p.equalFeatures,
      thousandsOf(n),
      first.label,
      half(first.probeEqual),
      last.label,
      half(last.probeEqual),
      depth,
      alex?.label ?? "AlexNet",
      half(alex?.probeEqual ?? NaN),
      match ? match.label : null,
    ),
  );
  out.push(
    m.q2.probeAll(
      first.features,
      last.features,
      acc(first.probe),
      acc(last.probe),
      points(last.probe - first.probe),
      points(depth.delta),
      last.probe - first.probe > depth.delta + 0.01,
    ),
  );
  const corrFalls = last.inputCorr < first.inputCorr - 0.05, sparser = last.active < first.active - 0.05;
  out.push(
    m.q2.mapsRead(
      first.label,
      last.label,
      fixed(first.inputCorr, 2),
      fixed(last.inputCorr, 2),
      pctOf(first.active),
      pctOf(last.active),
      corrFalls,
      sparser,
      p.statsImages,
    ),
  );
  const best = [...vgg].sort((a, b) => b.probe - a.probe)[0];
  const vsNet = samplingDifference(p.vggAcc, p.vggTestImages, best.probe, n);
  if (Number.isFinite(p.vggAcc) && vsNet.excludesZero && vsNet.delta > 0) {
    out.push(m.q2.probeBeatsNet(best.label, acc(best.probe), acc(p.vggAcc), p.seed));
  }
  return out;
}

export async function q2aEvidence(
  ctx: PageContext,
  layers: Probes2a & { mapsHtml: string; sources: string },
): Promise<void> {
  const m = ctx.m;
  await showHtml(
    layers.mapsHtml +
      tableHtml<Layer2a>(layers.rows, [
        { label: m.experiment, cell: (r) => r.label, numeric: false },
        { label: "h×w×c", cell: (r) => r.shape, numeric: true },
        { label: m.axisRf, cell: (r) => String(r.rf), numeric: true },
        { label: m.q2.colFeatures, cell: (r) => String(r.features), numeric: true },
        { label: m.axisProbe, cell: (r) => acc(r.probe), numeric: true },
        { label: m.q2.colProbeEqual(layers.equalFeatures), cell: (r) => acc(r.probeEqual), numeric: true },
        { label: m.q2.colActive, cell: (r) => pctOf(r.active), numeric: true },
        { label: m.q2.colInputCorr, cell: (r) => fixed(r.inputCorr, 2), numeric: true },
      ], m.q2.rfCaption) +
      `<p class="note">${esc(m.q2.probeNote(thousandsOf(layers.probeImages)))} ${esc(layers.sources)}</p>`,
    m.q2.rfCaption,
  );
}

// ---------------------------------------------------------------- 2b: 224 vs 96

export interface ParamRow {
  layer: string;
  p224: number;
  p96: number;
  m224: number;
  m96: number;
}

export function q2bParams(): { rows: ParamRow[]; total: ParamRow } {
  const [a, b] = [224, 96].map((n) => {
    const model = buildModel("vgg11-r8", { inputSize: n });
    const s = summarize(model);
    model.dispose();
    return s;
  });
  const rows = a.layers.filter((l) => l.trainable > 0).map((l) => {
    const o = b.layers.find((x) => x.name === l.name)!;
    return { layer: l.name, p224: l.trainable, p96: o.trainable, m224: l.macs, m96: o.macs };
  });
  return { rows, total: { layer: "total", p224: a.trainable, p96: b.trainable, m224: a.macs, m96: b.macs } };
}

export interface KernelRow {
  group: string;
  ms224: number;
  ms96: number;
}

/** The kernel groups of one profiled step at 224 and at 96, from the timing record. */
export function kernelRows(kernels: MeasureRecord<KernelData>): KernelRow[] {
  return kernels.data.kernels.map((k) => ({ group: k.group, ms224: k.ms[0], ms96: k.ms[1] }));
}

/** The reference runs at the full preset (the assignment's settings) this page sets beside its own. */
export function referenceRuns(ctx: PageContext): Promise<RunRecord[]> {
  return reference(ctx.records, Q2B);
}

/**
 * Q2b's verdict at the assignment's scale, first: both sizes' accuracy with the reference's own interval,
 * the time per epoch where one device ran both, then whether this preset's verdict agrees (and, where it
 * does not, why the smaller budget misleads). Null without reference runs of both sizes.
 */
export function q2bReferenceLead(
  m: Messages,
  page: Summary[],
  reference: RunRecord[],
  c: Comparison,
  /** The multiply-add ratio 224 ÷ 96, as printed; this preset's training steps per run. */
  macRatio: string,
  steps: number,
): string[] | null {
  const ref = summarizeRuns(reference, Q2B);
  if (ref.length !== 2 || !ref.every((r) => r.n)) return null;
  const [r224, r96] = ref;
  const rc = compare(r224, r96, ref);
  const out = [
    m.q2.refLead(
      withHalf(r224.testAcc, r224.testAccHalf),
      withHalf(r96.testAcc, r96.testAccHalf),
      rc,
      thousandsOf(r224.trainImages),
      r224.epochs,
      r224.n === r96.n ? m.seedsEach(r224.n) : `${m.seedsEach(r224.n)} / ${m.seedsEach(r96.n)}`,
    ),
  ];
  const pair = sameDeviceEpochs(reference, Q2B[0], Q2B[1]);
  if (pair) out.push(m.q2.refTime(ratioCi(m, ratioInterval(pair.a, pair.b)), m.deviceName(pair.device), macRatio));
  const lap = page.find((x) => x.experiment === Q2B[0])!;
  const share = (lap.trainImages * lap.epochs) / (r224.trainImages * r224.epochs);
  const agree = rc.significant === c.significant && (!c.significant || Math.sign(rc.delta) === Math.sign(c.delta));
  out.push(m.q2.replication(agree, thousandsOf(lap.trainImages), lap.epochs, pctOf(share), steps));
  return out;
}

export function q2bAnswer(
  ctx: PageContext,
  runs: RunRecord[],
  reference: RunRecord[],
  kernels: MeasureRecord<KernelData>,
): string[] {
  const m = ctx.m;
  const page = summaries(runs, Q2B, ctx.lang);
  const s = byName(page);
  const big = s.get(Q2B[0]), small = s.get(Q2B[1]);
  if (!big?.n || !small?.n) return [m.missingRuns];
  const { rows, total } = q2bParams();
  const changed = rows.filter((r) => r.p224 !== r.p96);
  const out: string[] = [];
  const [t224, t96] = kernels.data.runs;
  const timed = ratioInterval(t224.stepSeconds, t96.stepSeconds);
  const macRatio = t224.macs / t96.macs;
  // Which kernels shrink clearly less than the multiply-adds (at least 10% less, among those with at
  // least 5% of a step at 96); else, when the kernels together keep up, the time outside them.
  const rowsK = kernelRows(kernels);
  const total96 = rowsK.reduce((a, k) => a + k.ms96, 0), total224 = rowsK.reduce((a, k) => a + k.ms224, 0);
  const laggards = rowsK.filter((k) => k.ms96 >= 0.05 * total96 && k.ms224 / k.ms96 < macRatio * 0.9)
    .sort((a, b) => a.ms224 / a.ms96 - b.ms224 / b.ms96).slice(0, 3)
    .map((k) => `${m.q2.kernelGroup(k.group)} ${ratio(k.ms224 / k.ms96)}`);
  const step96 = 1000 * mean(t96.stepSeconds);
  const outside96 = step96 - total96;
  const why = macRatio < timed.lo
    ? m.q2.timeAboveMacs
    : macRatio <= timed.hi || !Number.isFinite(timed.hi)
    ? m.q2.timeAtMacs
    : laggards.length
    ? m.q2.timeBelowMacs(laggards)
    : total224 / total96 >= macRatio * 0.9 && outside96 > 0.05 * step96
    ? m.q2.timeOutsideKernels(ratio(total224 / total96), fixed(outside96, 0), pctOf(outside96 / step96))
    : m.q2.timeBelowUnknown;
  out.push(`${m.q2.time(ratioCi(m, timed), ratio(macRatio), timedHow(m, kernels))} ${why}`);
  if (big.epochSeconds.length && small.epochSeconds.length) {
    const own = ratioInterval(big.epochSeconds, small.epochSeconds);
    const others = Math.max(big.othersTraining ?? NaN, small.othersTraining ?? NaN);
    out.push(
      m.q2.runsTime(
        ratioCi(m, own),
        !(own.lo > timed.hi || own.hi < timed.lo),
        m.runsWhere(m.deviceName(big.device), Number.isNaN(others) ? null : others),
      ),
    );
  }
  const c = versus(big, small, page);
  const accuracy = m.q2.accuracy(withHalf(big.testAcc, big.testAccHalf), withHalf(small.testAcc, small.testAccHalf), c);
  // Where reference runs at the assignment's scale exist, their verdict leads and this preset's follows
  // as the replication; else this preset's verdict leads and the page says no reference is stored.
  const bigRun = runs.find((r) => r.experiment === Q2B[0]);
  const steps = bigRun ? Math.ceil(big.trainImages / bigRun.config.batchSize) * big.epochs : NaN;
  const lead = q2bReferenceLead(m, page, reference, c, ratio(macRatio), steps);
  if (lead) out.unshift(...lead, accuracy);
  else out.unshift(accuracy, m.q2.noReference);
  if (changed.length) {
    out.push(
      m.q2.params(
        changed.map((r) => r.layer).join(", "),
        thousandsOf(changed.reduce((a, r) => a + r.p224, 0)),
        thousandsOf(changed.reduce((a, r) => a + r.p96, 0)),
        pctOf(total.p96 / total.p224, 1),
        pctOf(total.m96 / total.m224, 1),
      ),
    );
  }
  out.push(underTrainedSentence(m, page, "vgg") ?? "");
  out.push(exclusions(m, page));
  return out.filter(Boolean);
}

export async function q2AnswerBlock(
  ctx: PageContext,
  runs: RunRecord[],
  reference: RunRecord[],
  layers: Probes2a,
  kernels: MeasureRecord<KernelData>,
): Promise<void> {
  // In the assignment's order: 2a (what the blocks see), then 2b (the input size).
  await showAnswer(ctx.m, [...q2aAnswer(ctx.m, layers), ...q2bAnswer(ctx, runs, reference, kernels)]);
}

export async function q2bEvidence(
  ctx: PageContext,
  runs: RunRecord[],
  reference: RunRecord[],
  kernels: MeasureRecord<KernelData>,
): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q2B, ctx.lang);
  const s = byName(page);
  const ref = byName(summaries(reference, Q2B, ctx.lang));
  const big = s.get(Q2B[0]);
  const timing = new Map(kernels.data.runs.map((r) => [r.experiment, r]));
  // Reference seconds per epoch only where one device ran both sizes (the caption names it).
  const pair = sameDeviceEpochs(reference, Q2B[0], Q2B[1]);
  const results = tableHtml(REPORTED_2B.map((r) => ({ ...r, ours: s.get(r.experiment), ref: ref.get(r.experiment) })), [
    { label: m.input, cell: (r) => String(r.inputSize), numeric: true },
    {
      label: m.q2.colTimedStep,
      cell: (r) => fixed(1000 * mean(timing.get(r.experiment)?.stepSeconds ?? []), 0),
      numeric: true,
    },
    { label: m.q2.colRunEpoch, cell: (r) => fixed(r.ours?.secondsPerEpoch ?? NaN), numeric: true },
    { label: m.colTestAcc, cell: (r) => (r.ours ? withHalf(r.ours.testAcc, r.ours.testAccHalf) : "–"), numeric: true },
    {
      label: m.colDelta("224"),
      cell: (r) => (big && r.ours && r.ours !== big ? deltaCell(versus(big, r.ours, page)) : ""),
      numeric: true,
    },
    {
      label: m.q2.colReference,
      cell: (r) => (r.ref ? withHalf(r.ref.testAcc, r.ref.testAccHalf) : "–"),
      numeric: true,
    },
    {
      label: m.q2.colRefEpoch,
      cell: (r) => fixed(r.experiment === Q2B[0] ? mean(pair?.a ?? []) : mean(pair?.b ?? [])),
      numeric: true,
    },
    {
      label: `${m.colSecondsPerEpoch} (${m.colReported})`,
      cell: (r) => fixed(r.trainSeconds / REPORTED_2B_EPOCHS),
      numeric: true,
    },
    { label: `${headOf(m.colTestAcc)} (${m.colReported})`, cell: (r) => acc(r.testAcc), numeric: true },
  ], m.q2.resultsCaption(thousandsOf(big?.trainImages ?? NaN), pair ? m.deviceName(pair.device) : null));
  const { rows, total } = q2bParams();
  const params = tableHtml<ParamRow>([...rows, total], [
    { label: m.q2.colLayer, cell: (r) => r === total ? m.total : r.layer, numeric: false, code: (r) => r !== total },
    { label: `${m.colParams} @224`, cell: (r) => thousandsOf(r.p224), numeric: true },
    { label: `${m.colParams} @96`, cell: (r) => thousandsOf(r.p96), numeric: true },
    { label: `${m.colMacs} @224`, cell: (r) => thousandsOf(r.m224), numeric: true },
    { label: `${m.colMacs} @96`, cell: (r) => thousandsOf(r.m96), numeric: true },
  ], m.q2.paramsCaption);
  const batch = kernels.data.runs[0]?.batchSize ?? 0;
  const kernelTable = tableHtml<KernelRow>(kernelRows(kernels), [
    { label: m.q2.colKernel, cell: (r) => m.q2.kernelGroup(r.group), numeric: false },
    { label: m.q2.colMs224, cell: (r) => fixed(r.ms224), numeric: true },
    { label: m.q2.colMs96, cell: (r) => fixed(r.ms96), numeric: true },
    { label: m.q2.colRatio, cell: (r) => ratio(r.ms224 / r.ms96), numeric: true },
  ], `${m.q2.kernelsCaption(batch, timedHow(m, kernels))} — ${m.q2.macRatio(ratio(total.m224 / total.m96))}`);
  const curves = curvesHtml(m, curvePoints(m, runs, Q2B, ctx.lang), m.q2.curvesTitle);
  await showHtml(results + curves + params + kernelTable, m.q2.curvesTitle);
}
