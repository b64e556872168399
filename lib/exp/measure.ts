/**
 * Making measurements (lib/exp/measurements.ts defines them): the steps of Q1b's ladder and of
 * Q2b's two networks timed alone with the one step timer (lib/train/timing.ts), Q2b's kernels
 * profiled, Q2a's feature maps and linear probes read from trained checkpoints. A measurement is
 * stored like a run: reused when its identity is stored, else measured and written atomically.
 */
import * as tf from "@tensorflow/tfjs";
import { currentBackend } from "../backend/mod.ts";
import { failpointThrow } from "../util/failpoint.ts";
import { batches, type Dataset, fashionMnist, type Split } from "../data/dataset.ts";
import { blockActivations, summarize } from "../models/inspect.ts";
import { createModel } from "../models/registry.ts";
import { latestCheckpoint } from "../train/checkpoint.ts";
import { makeOptimizer } from "../train/optim.ts";
import { trainStep } from "../train/step.ts";
import { isOpWrapper, timeSteps } from "../train/timing.ts";
import type { TrainConfig } from "../train/trainer.ts";
import { stepOptions } from "../train/trainer.ts";
import { base64, encodePng, viridis } from "../util/png.ts";
import { configHash, experiment, type Preset, resolveConfig } from "./experiments.ts";
import {
  type KernelData,
  type LadderData,
  ladderRungs,
  measurementHash,
  type MeasurementSpec,
  type MeasureRecord,
  type ProbeData,
  probeInputs,
  type ProbeRow,
  probeSeed,
  Q2A_MODELS,
  Q2B_PAIR,
  type SourceRecord,
  storedMeasurement,
  timingMethod,
  writeMeasurement,
} from "./measurements.ts";
import { checkpointDir, readRecord, recordPath } from "./store.ts";
import { CNNLAB_VERSION, gitCommit, othersTraining } from "./runner.ts";

export class MeasureError extends Error {
  override name = "MeasureError";
}

export interface MeasureOptions {
  preset: Preset;
  data?: Dataset;
  force?: boolean;
  log?: (line: string) => void;
}

/** The stored measurement, or a new one measured now and stored. */
export async function runMeasurement(spec: MeasurementSpec, opts: MeasureOptions): Promise<MeasureRecord> {
  const log = opts.log ?? ((l: string) => console.error(l));
  if (!opts.force) {
    const old = await storedMeasurement(spec, opts.preset);
    if (old) {
      log(`${spec.name} [${opts.preset}]: reusing stored measurement (${old.device})`);
      return old;
    }
  }
  failpointThrow("measure.start");
  const backend = currentBackend();
  if (!backend) throw new MeasureError("no backend started: call initBackend() first");
  const startedAt = new Date().toISOString(), t0 = performance.now();
  const others = othersTraining();
  const sources = await sourceRecords(spec, opts.preset);
  log(`${spec.name} [${opts.preset}]: measuring ${spec.what}${others ? ` (${others} other run(s) training)` : ""}`);
  const data = spec.name === "q1b/ladder"
    ? await ladder(opts.preset)
    : spec.name === "q2b/kernels"
    ? await kernels(opts.preset)
    : await probes(opts.preset, opts.data ?? await fashionMnist());
  const r: MeasureRecord = {
    kind: "measurement",
    measurement: spec.name,
    question: spec.question,
    preset: opts.preset,
    configHash: await measurementHash(spec, opts.preset),
    backend: backend.name,
    device: backend.device,
    precision: backend.precision,
    othersTraining: Math.max(others, othersTraining()),
    sources,
    seconds: (performance.now() - t0) / 1000,
    data,
    versions: { cnnlab: CNNLAB_VERSION, deno: Deno.version.deno, tfjs: tf.version.tfjs },
    gitCommit: await gitCommit(),
    startedAt,
    endedAt: new Date().toISOString(),
  };
  const path = await writeMeasurement(r);
  log(`${spec.name} [${opts.preset}]: stored ${path} (${r.seconds.toFixed(0)} s)`);
  return r;
}

/** The runs a measurement reads, each with its stored record and checkpoint, or one line naming the fix. */
async function sourceRecords(spec: MeasurementSpec, preset: Preset): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for (const s of spec.sources(preset)) {
    const hash = await configHash(resolveConfig(experiment(s.experiment), preset));
    const r = await readRecord(recordPath(s.experiment, preset, hash, s.seed));
    const ck = await latestCheckpoint(checkpointDir(s.experiment, preset, hash, s.seed));
    if (!r || r.status !== "ok" || !ck) {
      throw new MeasureError(
        `${spec.name} reads the trained checkpoint of ${s.experiment} seed ${s.seed}, which this store lacks; fix: deno task exp run ${s.experiment} --preset ${preset} --seeds ${s.seed}${
          r ? " --force" : ""
        }`,
      );
    }
    out.push({ ...s, configHash: hash, testAcc: r.testAcc, device: r.device });
  }
  return out;
}

/**
 * One configuration's size, and its seconds per step, one value per timed round, on a random batch
 * (making batches excluded): one model built for both.
 */
async function timedStep(
  cfg: TrainConfig,
  preset: Preset,
): Promise<{ params: number; macs: number; stepSeconds: number[] }> {
  const method = timingMethod(preset);
  const model = createModel(cfg, 1);
  const { trainable: params, macs } = summarize(model);
  const optimizer = makeOptimizer(cfg.optim);
  const x = tf.randomUniform([cfg.batchSize, cfg.inputSize, cfg.inputSize, 1]);
  const y = tf.tensor1d(Array.from({ length: cfg.batchSize }, (_, i) => i % 10), "int32");
  try {
    const stepSeconds = await timeSteps(() => trainStep(model, optimizer, x, y, stepOptions(cfg)), {
      ...method,
      minRounds: method.rounds,
      maxRounds: method.rounds,
    });
    return { params, macs, stepSeconds };
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

async function ladder(preset: Preset): Promise<LadderData> {
  const rungs: LadderData["rungs"] = [];
  for (const r of ladderRungs(preset)) {
    rungs.push({
      key: r.key,
      kind: r.kind,
      experiment: r.experiment,
      model: r.config.model,
      inputSize: r.config.inputSize,
      batchSize: r.config.batchSize,
      ...await timedStep(r.config, preset),
    });
  }
  return { rungs };
}

/** Kernel groups a training step's time is reported under. */
export function kernelGroup(name: string, inputShapes: number[][]): string {
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

async function kernels(preset: Preset): Promise<KernelData> {
  const reps = 3;
  const runs: KernelData["runs"] = [];
  const times = new Map<string, number[]>();
  for (const [i, name] of Q2B_PAIR.entries()) {
    const cfg = resolveConfig(experiment(name), preset);
    const { macs, stepSeconds } = await timedStep(cfg, preset);
    runs.push({ experiment: name, inputSize: cfg.inputSize, batchSize: cfg.batchSize, macs, stepSeconds });
    const model = createModel(cfg, 1);
    const opt = makeOptimizer(cfg.optim);
    const x = tf.randomUniform([cfg.batchSize, cfg.inputSize, cfg.inputSize, 1]);
    const y = tf.tensor1d(Array.from({ length: cfg.batchSize }, (_, k) => k % 10), "int32");
    for (let w = 0; w < 2; w++) await trainStep(model, opt, x, y, stepOptions(cfg));
    for (let r = 0; r < reps; r++) {
      failpointThrow("measure.profile");
      const p = await tf.profile(async () => {
        await trainStep(model, opt, x, y, stepOptions(cfg));
      });
      for (const k of p.kernels.filter((k) => !isOpWrapper(k.name))) {
        const g = kernelGroup(k.name, k.inputShapes as number[][]);
        const t = times.get(g) ?? Q2B_PAIR.map(() => 0);
        t[i] += (k.kernelTimeMs as number) / reps;
        times.set(g, t);
      }
    }
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
  const kernels = [...times.entries()].map(([group, ms]) => ({ group, ms })).sort((a, b) => b.ms[0] - a.ms[0]);
  return { runs, kernels };
}

// ---------------------------------------------------------------- Q2a: maps and probes

/** Rebuild a trained model from a run's last checkpoint. */
async function trainedModel(preset: Preset, name: string, seed: number): Promise<tf.LayersModel> {
  const cfg = resolveConfig(experiment(name), preset);
  const dir = checkpointDir(name, preset, await configHash(cfg), seed);
  const ck = await latestCheckpoint(dir);
  if (!ck) throw new MeasureError(`no checkpoint of ${name} seed ${seed} at ${dir}`);
  const m = createModel(cfg, seed);
  const opt = makeOptimizer(cfg.optim);
  await ck.restore(m, opt);
  opt.dispose();
  return m;
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
): Promise<{ uri: string; dead: number; n: number }> {
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
        const rgb: [number, number, number] = isDead ? [200, 200, 200] : viridis((v - lo) / span);
        px.set([...rgb, 255], ((oy + y) * W + ox + x) * 4);
      }
    }
  }
  return { uri: `data:image/png;base64,${base64(await encodePng(px, W, H, 4))}`, dead, n };
}

/** Multinomial logistic regression on features, trained full-batch with Adam; returns test accuracy. */
function probeAccuracy(
  xTrain: tf.Tensor2D,
  yTrain: tf.Tensor1D,
  xTest: tf.Tensor2D,
  yTest: tf.Tensor1D,
  steps: number,
): number {
  const [mean, std] = tf.tidy(() => {
    const mo = tf.moments(xTrain, 0);
    return [mo.mean, mo.variance.sqrt().add(1e-6)];
  });
  const norm = (x: tf.Tensor2D) => tf.tidy(() => x.sub(mean).div(std) as tf.Tensor2D);
  const a = norm(xTrain), b = norm(xTest);
  const w = tf.variable(tf.zeros([a.shape[1], 10])), bias = tf.variable(tf.zeros([10]));
  const opt = tf.train.adam(0.05);
  const onehot = tf.oneHot(yTrain, 10).cast("float32");
  for (let i = 0; i < steps; i++) {
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

/**
 * What a layer's maps look like, measured: the share of activations above zero, and how much a
 * channel's map still looks like the picture — the mean |Pearson r| between each non-constant
 * channel map and the input resized to the map's size, over the images.
 */
function mapStatistics(act: tf.Tensor4D, x: tf.Tensor4D): { active: number; inputCorr: number } {
  return tf.tidy(() => {
    const [, h, w] = act.shape;
    const active = act.greater(0).cast("float32").mean().dataSync()[0];
    const img = tf.image.resizeBilinear(x, [h, w]);
    const center = (t: tf.Tensor4D) => t.sub(t.mean([1, 2], true));
    const a = center(act), i = center(img);
    const cov = a.mul(i).mean([1, 2]); // [n, c]
    const sa = a.square().mean([1, 2]).sqrt(), si = i.square().mean([1, 2]).sqrt(); // [n, c], [n, 1]
    const ok = sa.greater(1e-8).logicalAnd(si.greater(1e-8)).cast("float32");
    const r = cov.div(sa.mul(si).add(1e-12)).abs().mul(ok);
    const n = ok.sum().dataSync()[0];
    return { active, inputCorr: n ? r.sum().dataSync()[0] / n : NaN };
  });
}

function take(split: Split, n: number, size: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const b = batches(split, { batchSize: n, size }).next().value!;
  return { x: b.x, y: b.y };
}

async function probes(preset: Preset, data: Dataset): Promise<ProbeData> {
  const inputs = probeInputs(preset);
  const images = inputs.images, probeN = inputs.probeImages;
  const size = resolveConfig(experiment(Q2B_PAIR[1]), preset).inputSize;
  for (const { experiment: name } of Q2A_MODELS) {
    const own = resolveConfig(experiment(name), preset).inputSize;
    if (own !== size) {
      throw new MeasureError(
        `2a compares maps at one input size: ${name} is ${own} px at preset ${preset}, VGG ${size}`,
      );
    }
  }
  const show = take(data.test.stratified(1, 2), images, size);
  const trainSet = take(data.train.stratified(Math.ceil(probeN / 10), 31), probeN, size);
  const testSet = take(data.test.stratified(Math.ceil(probeN / 10), 32), probeN, size);
  const stats = inputs.statsImages;
  const statSet = take(data.test.stratified(Math.ceil(stats / 10), 33), stats, size);
  const rows: ProbeRow[] = [];
  // Pooled features of every layer, kept until all are known: the equal-feature probes read as many
  // features as the smallest layer has, through one fixed random projection each.
  const features: { fTrain: tf.Tensor2D; fTest: tf.Tensor2D }[] = [];
  try {
    for (const spec of Q2A_MODELS) {
      const model = await trainedModel(preset, spec.experiment, probeSeed(preset));
      const sum = summarize(model);
      const names = spec.layers.length
        ? [...spec.layers]
        : sum.layers.filter((l) => /^vgg_block_\d+$/.test(l.name)).map((l) => l.name);
      const acts = blockActivations(model, show.x, names);
      const pooled = (x: tf.Tensor4D) => {
        const a = blockActivations(model, x, names);
        const out = [...a.values()].map((t) => pool2x2(t as tf.Tensor4D));
        tf.dispose([...a.values()]);
        return out;
      };
      const fTrain = pooled(trainSet.x), fTest = pooled(testSet.x);
      const statActs = blockActivations(model, statSet.x, names);
      for (const [k, layer] of names.entries()) {
        const l = sum.layers.find((x) => x.name === layer)!;
        const t = acts.get(layer)!;
        const [, h, w, c] = t.shape as number[];
        const values = await t.data() as Float32Array;
        const grids: string[] = [];
        let dead = 0, drawn = 0;
        for (let i = 0; i < images; i++) {
          const g = await mapGrid(values.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c, 8, 4);
          grids.push(g.uri);
          dead += g.dead;
          drawn += g.n;
        }
        const st = mapStatistics(statActs.get(layer) as tf.Tensor4D, statSet.x);
        rows.push({
          experiment: spec.experiment,
          family: spec.family,
          block: k + 1,
          kernel: spec.kernel,
          layer,
          shape: l.outputShape.filter((d): d is number => typeof d === "number"),
          rf: l.receptiveField,
          features: fTrain[k].shape[1],
          probe: probeAccuracy(fTrain[k], trainSet.y, fTest[k], testSet.y, inputs.probeSteps),
          probeEqual: NaN,
          active: st.active,
          inputCorr: st.inputCorr,
          grids,
          dead,
          drawn,
        });
        features.push({ fTrain: fTrain[k], fTest: fTest[k] });
      }
      tf.dispose([...acts.values(), ...statActs.values()]);
      model.dispose();
    }
    const equal = Math.min(...rows.map((r) => r.features));
    features.forEach((f, i) => {
      const proj = tf.randomNormal(
        [f.fTrain.shape[1], equal],
        0,
        1 / Math.sqrt(equal),
        "float32",
        inputs.projectionSeed,
      );
      const a = tf.matMul(f.fTrain, proj) as tf.Tensor2D, b = tf.matMul(f.fTest, proj) as tf.Tensor2D;
      rows[i].probeEqual = probeAccuracy(a, trainSet.y, b, testSet.y, inputs.probeSteps);
      tf.dispose([proj, a, b]);
    });
    const px = show.x.dataSync() as Float32Array;
    const shown: string[] = [];
    for (let i = 0; i < images; i++) {
      shown.push((await mapGrid(px.subarray(i * size * size, (i + 1) * size * size), size, size, 1, 1, 1)).uri);
    }
    return {
      probeImages: probeN,
      equalFeatures: equal,
      statsImages: stats,
      inputs: shown,
      labels: [...show.y.dataSync()],
      inputSize: size,
      rows,
    };
  } finally {
    tf.dispose([show.x, show.y, trainSet.x, trainSet.y, testSet.x, testSet.y, statSet.x, statSet.y]);
    tf.dispose(features.flatMap((f) => [f.fTrain, f.fTest]));
  }
}
