/**
 * Question 2 — VGG blocks and input resolution.
 *
 * 2a: does VGG's fixed 3×3 design lose coarse information? Feature maps of the same test images
 * from LeNet's 5×5 and AlexNet's 11×11 first layers beside every VGG block (all trained at 96
 * px), receptive fields, and a linear probe on each block's output pooled to 2×2.
 * 2b: 224 vs 96 px — parameters per layer, time per epoch against the multiply-add ratio with a
 * per-kernel timing that explains the difference, accuracy with its interval, and the verdict of
 * a reference run at the assignment's settings beside this preset's.
 */
import * as tf from "@tensorflow/tfjs";
import { batches, type Split } from "../data/dataset.ts";
import { configHash, experiment, type Preset, resolveConfig } from "../exp/experiments.ts";
import { checkpointDir, loadRecords, RecordError, type RunRecord, validateRecord } from "../exp/store.ts";
import { currentHashes } from "../exp/runner.ts";
import { PROJECT_ROOT } from "../util/fs.ts";
import { blockActivations, summarize } from "../models/inspect.ts";
import { buildModel } from "../models/registry.ts";
import { latestCheckpoint } from "../train/checkpoint.ts";
import { makeOptimizer } from "../train/optim.ts";
import { trainStep } from "../train/step.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, pctOf, ratio, thousandsOf, withHalf } from "./i18n.ts";
import type { NotebookContext } from "./notebook.ts";
import { base64, encodePng } from "./png.ts";
import { esc, tableHtml } from "./render.ts";
import {
  byName,
  curvePoints,
  curvesHtml,
  deltaCell,
  exclusions,
  showAnswer,
  summaries,
  underTrainedSentence,
  versus,
} from "./shared.ts";
import { compare, summarizeRuns } from "./analysis.ts";
import { REPORTED_2B, REPORTED_2B_EPOCHS } from "./reported.ts";

export const Q2B = ["q2b/vgg11-r8@224", "q2b/vgg11-r8@96"];
export const Q2A = ["q2a/lenet@96", "q2a/alexnet@96"];
export const Q2_ALL = [...Q2B, ...Q2A];

/** Rebuild a trained model from an experiment's last checkpoint. */
export async function trainedModel(preset: Preset, name: string, seed: number): Promise<tf.LayersModel> {
  const cfg = resolveConfig(experiment(name), preset);
  const dir = checkpointDir(name, preset, await configHash(cfg), seed);
  const ck = await latestCheckpoint(dir);
  if (!ck) {
    throw new Error(
      `no checkpoint of ${name} seed ${seed} at ${dir}; fix: deno task exp run ${name} --preset ${preset} --force`,
    );
  }
  const m = buildModel(cfg.model, { ...cfg.modelOptions, inputSize: cfg.inputSize, seed });
  const opt = makeOptimizer(cfg.optim);
  await ck.restore(m, opt);
  opt.dispose();
  return m;
}

// ---------------------------------------------------------------- 2a: maps and probes

/** Viridis-like colour for t in [0, 1]. */
function colour(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c))) as [number, number, number];
}

/**
 * The first `channels` channels of one image's activation [h, w, c] as a coloured PNG grid of
 * `tile`-pixel squares (nearest-neighbour up- or down-sampling, so every layer's cell has the same
 * width and a row of seven fits a 1,000-px page): each channel scaled to its own range; an
 * all-zero (dead) channel is drawn grey.
 */
async function mapGrid(
  data: Float32Array,
  h: number,
  w: number,
  c: number,
  channels: number,
  cols: number,
  tile = 26,
) {
  const n = Math.min(c, channels);
  const rows = Math.ceil(n / cols);
  const gap = 2;
  const W = cols * (tile + gap) - gap, H = rows * (tile + gap) - gap;
  const px = new Uint8Array(W * H * 4).fill(255);
  let dead = 0;
  for (let k = 0; k < n; k++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      const v = data[i * c + k];
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const isDead = hi === 0 && lo === 0;
    if (isDead) dead++;
    const span = hi - lo || 1;
    const ox = (k % cols) * (tile + gap), oy = Math.floor(k / cols) * (tile + gap);
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile; x++) {
        const v = data[(Math.floor((y * h) / tile) * w + Math.floor((x * w) / tile)) * c + k];
        const rgb: [number, number, number] = isDead ? [200, 200, 200] : colour((v - lo) / span);
        px.set([...rgb, 255], ((oy + y) * W + ox + x) * 4);
      }
    }
  }
  const png = await encodePng(px, W, H, 4);
  return {
    html: `<img width="${W}" height="${H}" style="image-rendering:pixelated" src="data:image/png;base64,${
      base64(png)
    }">`,
    dead,
    n,
  };
}

async function colourBar(m: Messages): Promise<string> {
  const W = 160, H = 10;
  const px = new Uint8Array(W * H * 4);
  for (let x = 0; x < W; x++) for (let y = 0; y < H; y++) px.set([...colour(x / (W - 1)), 255], (y * W + x) * 4);
  return `<span class="colourbar"><img width="${W}" height="${H}" src="data:image/png;base64,${
    base64(await encodePng(px, W, H, 4))
  }"> ${esc(m.q2.colourBar)}; <span style="background:#c8c8c8">&nbsp;&nbsp;&nbsp;</span> dead</span>`;
}

export interface Layer2a {
  /** What the row shows: "LeNet conv 1 (5×5)", "VGG block 3", … */
  label: string;
  model: string;
  layer: string;
  /** Output h × w × c. */
  shape: string;
  rf: number;
  /** Linear-probe test accuracy on the 2×2-pooled output. */
  probe: number;
}

/** Multinomial logistic regression on features, trained full-batch with Adam; returns test accuracy. */
function probeAccuracy(xTrain: tf.Tensor2D, yTrain: tf.Tensor1D, xTest: tf.Tensor2D, yTest: tf.Tensor1D) {
  const [mean, std] = tf.tidy(() => {
    const mo = tf.moments(xTrain, 0);
    return [mo.mean, mo.variance.sqrt().add(1e-6)];
  });
  const norm = (x: tf.Tensor2D) => tf.tidy(() => x.sub(mean).div(std) as tf.Tensor2D);
  const a = norm(xTrain), b = norm(xTest);
  const w = tf.variable(tf.zeros([a.shape[1], 10])), bias = tf.variable(tf.zeros([10]));
  const opt = tf.train.adam(0.05);
  const onehot = tf.oneHot(yTrain, 10).cast("float32");
  for (let i = 0; i < 200; i++) {
    opt.minimize(() =>
      tf.tidy(() =>
        tf.losses.softmaxCrossEntropy(onehot, a.matMul(w).add(bias)).add(w.square().sum().mul(1e-4))
      ) as tf.Scalar
    );
  }
  const acc = tf.tidy(() => b.matMul(w).add(bias).argMax(-1).equal(yTest).cast("float32").mean().dataSync()[0]);
  tf.dispose([mean, std, a, b, w, bias, onehot]);
  opt.dispose();
  return acc;
}

/**
 * Adaptive average pooling to a 2×2 grid (the regions of PyTorch's AdaptiveAvgPool2d), flattened
 * to [n, 4c]: for a side h ≥ 2 the regions [0, ⌈h/2⌉) and [⌊h/2⌋, h) are one average pool with
 * window ⌈h/2⌉ and stride ⌊h/2⌋ (one native kernel; slicing and a mean over the middle axes took
 * 100 s on 2,000 LeNet maps); a 1-pixel side is repeated.
 */
export function pool2x2(t: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w, c] = t.shape;
    const win = (len: number): [number, number] => [Math.ceil(len / 2), Math.max(1, Math.floor(len / 2))];
    const [kh, sh] = win(h), [kw, sw] = win(w);
    let p = tf.avgPool(t, [kh, kw], [sh, sw], "valid");
    if (h === 1 || w === 1) p = tf.tile(p, [1, h === 1 ? 2 : 1, w === 1 ? 2 : 1, 1]);
    return p.reshape([n, 4 * c]) as tf.Tensor2D;
  });
}

function take(split: Split, n: number, size: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const b = batches(split, { batchSize: n, size }).next().value!;
  return { x: b.x, y: b.y };
}

/** Feature maps (HTML) and the per-layer probe of 2a, from the trained models at the preset. */
export async function q2aLayers(ctx: NotebookContext, opts: { images?: number; probeImages?: number } = {}) {
  const m = ctx.m;
  // 2,000 probe images (200 on the smoke preset, which tests the path, not the answer).
  const images = opts.images ?? 3, probeN = opts.probeImages ?? (ctx.preset === "smoke" ? 200 : 2000);
  const models: [string, string, string[]][] = [
    ["q2a/lenet@96", "LeNet", ["block1_conv"]],
    ["q2a/alexnet@96", "AlexNet", ["conv1"]],
    ["q2b/vgg11-r8@96", "VGG", []],
  ];
  const size = resolveConfig(experiment("q2b/vgg11-r8@96"), ctx.preset).inputSize;
  for (const [name] of models) {
    const own = resolveConfig(experiment(name), ctx.preset).inputSize;
    if (own !== size) {
      throw new Error(`2a compares maps at one input size: ${name} is ${own} px at preset ${ctx.preset}, VGG ${size}`);
    }
  }
  const show = take(ctx.data.test.stratified(1, 2), images, size);
  const trainSet = take(ctx.data.train.stratified(Math.ceil(probeN / 10), 31), probeN, size);
  const testSet = take(ctx.data.test.stratified(Math.ceil(probeN / 10), 32), probeN, size);
  const rows: Layer2a[] = [];
  const cells: { label: string; grids: string[]; dead: number; n: number }[] = [];
  for (const [name, family, layers] of models) {
    const model = await trainedModel(ctx.preset, name, 1);
    const sum = summarize(model);
    const names = layers.length ? layers : sum.layers.filter((l) => /^vgg_block_\d+$/.test(l.name)).map((l) => l.name);
    const acts = blockActivations(model, show.x, names);
    const pooled = (x: tf.Tensor4D) => {
      const acts = blockActivations(model, x, names);
      const out = [...acts.values()].map((t) => tf.tidy(() => pool2x2(t as tf.Tensor4D)));
      tf.dispose([...acts.values()]);
      return out;
    };
    const fTrain = pooled(trainSet.x), fTest = pooled(testSet.x);
    for (const [k, layer] of names.entries()) {
      const l = sum.layers.find((x) => x.name === layer)!;
      const label = family === "VGG"
        ? m.q2.vggBlock(k + 1)
        : m.q2.firstLayer(family, family === "LeNet" ? "5×5" : "11×11/4");
      const probe = probeAccuracy(fTrain[k], trainSet.y, fTest[k], testSet.y);
      rows.push({ label, model: name, layer, shape: l.outputShape.join("×"), rf: l.receptiveField, probe });
      const t = acts.get(layer)!;
      const [, h, w, c] = t.shape as number[];
      const data = await t.data() as Float32Array;
      const grids: string[] = [];
      let dead = 0, shown = 0;
      for (let i = 0; i < images; i++) {
        const g = await mapGrid(data.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c, 8, 4);
        grids.push(g.html);
        dead += g.dead;
        shown += g.n;
      }
      cells.push({ label, grids, dead, n: shown });
    }
    tf.dispose([...acts.values(), ...fTrain, ...fTest]);
    model.dispose();
  }
  const labels = show.y.dataSync();
  const inputs: string[] = [];
  const px = show.x.dataSync() as Float32Array;
  for (let i = 0; i < images; i++) {
    inputs.push((await mapGrid(px.subarray(i * size * size, (i + 1) * size * size), size, size, 1, 1, 1)).html);
  }
  // One column per layer/block (LeNet, AlexNet, VGG 1–5): fits 1,000 px because each is small.
  const head = `<tr><th></th>${cells.map((c) => `<th>${esc(c.label)}</th>`).join("")}</tr>`;
  const body = Array.from(
    { length: images },
    (_, i) =>
      `<tr><td>${inputs[i]}<br>${esc(m.classNames[labels[i]])}</td>${
        cells.map((c) => `<td>${c.grids[i]}</td>`).join("")
      }</tr>`,
  ).join("");
  const deadNotes = cells.filter((c) => c.dead).map((c) => `${c.label}: ${m.q2.dead(c.dead, c.n)}`);
  const mapsHtml =
    `<p>${esc(m.q2.mapsCaption(ctx.preset))} ${await colourBar(m)}</p><table class="maps">${head}${body}</table>` +
    (deadNotes.length ? `<p class="note">${esc(deadNotes.join("; "))}</p>` : "");
  tf.dispose([show.x, show.y, trainSet.x, trainSet.y, testSet.x, testSet.y]);
  return { rows, mapsHtml };
}

/** The 2a sentences: receptive field growth, and what the probe says about coarse information. */
export function q2aAnswer(m: Messages, rows: Layer2a[]): string[] {
  const vgg = rows.filter((r) => r.model.startsWith("q2b/"));
  const alex = rows.find((r) => r.model === "q2a/alexnet@96");
  if (vgg.length < 2) return [m.missingRuns];
  const reach = vgg.find((r) => r.rf >= 11) ?? vgg.at(-1)!;
  const first = vgg[0], last = vgg.at(-1)!;
  const input = Number(resolveConfig(experiment("q2b/vgg11-r8@96"), "full").inputSize);
  const out = [m.q2.rf(reach.label, reach.rf, last.label, last.rf, input)];
  const f = last.probe >= first.probe - 0.01 ? m.q2.probeKept : m.q2.probeLost;
  out.push(
    f(first.label, acc(first.probe), last.label, acc(last.probe), alex?.label ?? "AlexNet", acc(alex?.probe ?? NaN)),
  );
  return out;
}

export async function q2aEvidence(ctx: NotebookContext, layers: { rows: Layer2a[]; mapsHtml: string }): Promise<void> {
  const m = ctx.m;
  await showHtml(
    layers.mapsHtml +
      tableHtml<Layer2a>(layers.rows, [
        { label: m.experiment, cell: (r) => r.label, numeric: false },
        { label: "h×w×c", cell: (r) => r.shape, numeric: true },
        { label: m.axisRf, cell: (r) => String(r.rf), numeric: true },
        { label: m.axisProbe, cell: (r) => acc(r.probe), numeric: true },
      ], m.q2.rfCaption) + `<p class="note">${esc(m.q2.probeNote)}</p>`,
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

/** Kernel groups a training step's time is reported under. */
function kernelGroup(name: string, inputShapes: number[][]): string {
  const firstLayer = (inputShapes[0]?.[3] ?? 0) === 1 || (inputShapes[1]?.[2] ?? 0) === 1;
  if (/Conv2DBackpropFilter/.test(name)) {
    return firstLayer ? "conv 1 (1 channel): filter gradient" : "conv: filter gradient";
  }
  if (/Conv2DBackpropInput/.test(name)) return "conv: input gradient";
  if (/Conv2D/.test(name)) return firstLayer ? "conv 1 (1 channel): forward" : "conv: forward";
  if (/MaxPool|AvgPool/.test(name)) return "pooling (+ gradient)";
  if (/Relu|Activation|Step/.test(name)) return "activation (+ gradient)";
  if (/MatMul/.test(name)) return "dense";
  if (/Resize/.test(name)) return "resize";
  if (/Adam/.test(name)) return "optimizer update";
  return "other element-wise";
}

/** Profile one training step of VGG-11/8 at 224 and at 96 (batch 32) and group kernel times. */
export async function q2bKernels(batch = 32): Promise<KernelRow[]> {
  const times = new Map<string, [number, number]>();
  for (const [i, size] of [224, 96].entries()) {
    const model = buildModel("vgg11-r8", { inputSize: size, seed: 1 });
    const opt = makeOptimizer({ optimizer: "adam", lr: 1e-4 });
    const x = tf.randomUniform([batch, size, size, 1]);
    const y = tf.tensor1d(Array.from({ length: batch }, (_, k) => k % 10), "int32");
    for (let w = 0; w < 2; w++) await trainStep(model, opt, x, y);
    const reps = 3;
    for (let r = 0; r < reps; r++) {
      const p = await tf.profile(async () => {
        await trainStep(model, opt, x, y);
      });
      for (const k of p.kernels) {
        const g = kernelGroup(k.name, k.inputShapes as number[][]);
        const t = times.get(g) ?? [0, 0];
        t[i] += (k.kernelTimeMs as number) / reps;
        times.set(g, t);
      }
    }
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
  return [...times.entries()].map(([group, [ms224, ms96]]) => ({ group, ms224, ms96 })).sort((a, b) =>
    b.ms224 - a.ms224
  );
}

/** Where the committed reference records live (published with the report, read when the store has none). */
export const PUBLISHED_REFERENCE = `${PROJECT_ROOT}/outputs/published/results/full.json`;

/**
 * Reference records: the q2b experiments at the full preset (the assignment's settings) with the
 * current configuration — from the store, else from the published records committed with the report.
 */
export async function referenceRuns(): Promise<RunRecord[]> {
  const hashes = await currentHashes("full", Q2B);
  const current = (r: RunRecord) => hashes.get(r.experiment) === r.configHash;
  const stored = (await loadRecords({ preset: "full" })).filter(current);
  if (stored.length) return stored;
  try {
    const list = JSON.parse(await Deno.readTextFile(PUBLISHED_REFERENCE)) as unknown[];
    return list.map((r, i) => validateRecord(r, `${PUBLISHED_REFERENCE}[${i}]`)).filter(current);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof RecordError || e instanceof SyntaxError) {
      console.error(`results: skipped ${PUBLISHED_REFERENCE}: ${(e as Error).message}`);
      return [];
    }
    throw e;
  }
}

export function q2bAnswer(
  m: Messages,
  runs: RunRecord[],
  reference: RunRecord[],
  kernels: KernelRow[] | null,
  lang: Lang,
): string[] {
  const page = summaries(runs, Q2B, lang);
  const s = byName(page);
  const big = s.get(Q2B[0]), small = s.get(Q2B[1]);
  if (!big?.n || !small?.n) return [m.missingRuns];
  const { rows, total } = q2bParams();
  const changed = rows.filter((r) => r.p224 !== r.p96);
  const out: string[] = [];
  const speedup = big.secondsPerEpoch / small.secondsPerEpoch, macRatio = big.macs / small.macs;
  // Which kernels shrink least from 224 to 96 (among those with at least 5% of a step at 96).
  const total96 = (kernels ?? []).reduce((a, k) => a + k.ms96, 0);
  const laggards = (kernels ?? []).filter((k) => k.ms96 >= 0.05 * total96 && k.ms224 / k.ms96 < macRatio * 0.9)
    .sort((a, b) => a.ms224 / a.ms96 - b.ms224 / b.ms96).slice(0, 3)
    .map((k) => `${m.q2.kernelGroup(k.group)} ${ratio(k.ms224 / k.ms96)}`);
  const why = speedup >= macRatio * 0.9
    ? m.q2.timeAtMacs
    : laggards.length
    ? m.q2.timeBelowMacs(laggards)
    : m.q2.timeBelowUnknown;
  out.push(`${m.q2.time(ratio(speedup), ratio(macRatio))} ${why}`);
  const c = versus(big, small, page);
  out.push(m.q2.accuracy(withHalf(big.testAcc, big.testAccHalf), withHalf(small.testAcc, small.testAccHalf), c));
  const ref = summarizeRuns(reference, Q2B);
  if (ref.length === 2 && ref.every((r) => r.n)) {
    const rc = compare(ref[0], ref[1], [...ref, ...page]);
    const agree = rc.significant === c.significant && (!c.significant || Math.sign(rc.delta) === Math.sign(c.delta));
    out.push(m.q2.reference(acc(ref[0].testAcc), acc(ref[1].testAcc), agree));
  } else out.push(m.q2.noReference);
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
  ctx: NotebookContext,
  runs: RunRecord[],
  reference: RunRecord[],
  layers: { rows: Layer2a[] } | null,
  kernels: KernelRow[] | null = null,
): Promise<void> {
  const m = ctx.m;
  await showAnswer(m, [
    ...q2bAnswer(m, runs, reference, kernels, ctx.lang),
    ...(layers ? q2aAnswer(m, layers.rows) : []),
  ]);
}

export async function q2bEvidence(
  ctx: NotebookContext,
  runs: RunRecord[],
  reference: RunRecord[],
  kernels: KernelRow[],
): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q2B, ctx.lang);
  const s = byName(page);
  const ref = byName(summaries(reference, Q2B, ctx.lang));
  const big = s.get(Q2B[0]);
  const results = tableHtml(REPORTED_2B.map((r) => ({ ...r, ours: s.get(r.experiment), ref: ref.get(r.experiment) })), [
    { label: m.input, cell: (r) => String(r.inputSize), numeric: true },
    { label: m.colSecondsPerEpoch, cell: (r) => fixed(r.ours?.secondsPerEpoch ?? NaN), numeric: true },
    { label: m.colTestAcc, cell: (r) => (r.ours ? withHalf(r.ours.testAcc, r.ours.testAccHalf) : "–"), numeric: true },
    {
      label: m.colDelta("224"),
      cell: (r) => (big && r.ours && r.ours !== big ? deltaCell(versus(big, r.ours, page)) : ""),
      numeric: true,
    },
    { label: m.q2.colReference, cell: (r) => acc(r.ref?.testAcc ?? NaN), numeric: true },
    {
      label: `${m.colSecondsPerEpoch} (${m.colReported})`,
      cell: (r) => fixed(r.trainSeconds / REPORTED_2B_EPOCHS),
      numeric: true,
    },
    { label: `${m.colTestAcc.split(" (")[0]} (${m.colReported})`, cell: (r) => acc(r.testAcc), numeric: true },
  ], m.q2.resultsCaption);
  const { rows, total } = q2bParams();
  const params = tableHtml<ParamRow>([...rows, total], [
    { label: m.q2.colLayer, cell: (r) => r.layer, numeric: false },
    { label: `${m.colParams} @224`, cell: (r) => thousandsOf(r.p224), numeric: true },
    { label: `${m.colParams} @96`, cell: (r) => thousandsOf(r.p96), numeric: true },
    { label: `${m.colMacs} @224`, cell: (r) => thousandsOf(r.m224), numeric: true },
    { label: `${m.colMacs} @96`, cell: (r) => thousandsOf(r.m96), numeric: true },
  ], m.q2.paramsCaption);
  const kernelTable = tableHtml<KernelRow>(kernels, [
    { label: m.q2.colKernel, cell: (r) => m.q2.kernelGroup(r.group), numeric: false },
    { label: m.q2.colMs224, cell: (r) => fixed(r.ms224), numeric: true },
    { label: m.q2.colMs96, cell: (r) => fixed(r.ms96), numeric: true },
    { label: m.q2.colRatio, cell: (r) => ratio(r.ms224 / r.ms96), numeric: true },
  ], `${m.q2.kernelsCaption} — ${m.q2.macRatio(ratio(total.m224 / total.m96))}`);
  const curves = curvesHtml(m, curvePoints(m, runs, Q2B, ctx.lang), m.q2.curvesTitle);
  await showHtml(results + curves + params + kernelTable, m.q2.resultsCaption);
}
