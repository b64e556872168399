/**
 * Time whole epochs of one experiment at a preset on a chosen backend, e.g. a `full`-preset
 * epoch of the simplified AlexNet on a GPU:
 *
 *   deno task epoch-bench --experiment q1b/drop-conv4 --preset full --backend webgpu [--epochs 1]
 *                         [--step-seconds 10] [--json FILE]
 *
 * Prints a progress line every ~10 s (so a run stopped early still gives its rate) and a
 * JSON summary: images/s, seconds per epoch, test accuracy, device. It also times the
 * trainer's own step alone (same model, optimizer, step options and batch size, on one fixed
 * batch) for --step-seconds before and again after the epochs, and states what the rest of
 * an epoch costs: each epoch's images per second of training alone and of training plus its
 * evaluation, as fractions of the step-only rate (the goal: within 10% of it, with evaluation).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { endMachinePlan } from "../lib/backend/training.ts";
import { layerTimingsDir } from "../lib/util/fs.ts";
import { batches, type Dataset, fashionMnist } from "../lib/data/dataset.ts";
import { experiment, parsePreset, resolveConfig } from "../lib/exp/experiments.ts";
import type { Progress } from "../lib/train/progress.ts";
import { progressLine } from "../lib/train/progress.ts";
import { MAX_EPOCHS, stepOptions, train, type TrainConfig, useMachinePlan } from "../lib/train/trainer.ts";
import { createModel } from "../lib/models/registry.ts";
import { timeSteps } from "../lib/train/timing.ts";
import { makeOptimizer } from "../lib/train/optim.ts";
import { trainStep } from "../lib/train/step.ts";
import { planRunBatches } from "../lib/backend/webgpu.ts";
import { intFlag, parseCli, UsageError } from "../lib/util/cli.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";

function usage(msg: string): never {
  console.error(`epoch-bench: ${msg}`);
  console.error(
    "usage: deno task epoch-bench [--experiment q1b/drop-conv4] [--preset full] [--backend B] [--epochs 1] [--step-seconds 10] [--json FILE]",
  );
  Deno.exit(2);
}
const opts = (() => {
  try {
    const { values, positionals } = parseCli(Deno.args, {
      experiment: { type: "string" },
      preset: { type: "string" },
      backend: { type: "string" },
      epochs: { type: "string" },
      "step-seconds": { type: "string" },
      json: { type: "string" },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    return {
      e: experiment(values.experiment ?? "q1b/drop-conv4"),
      preset: parsePreset(values.preset ?? "full"),
      epochs: intFlag("epochs", values.epochs ?? "1", 1, MAX_EPOCHS),
      stepSeconds: intFlag("step-seconds", values["step-seconds"] ?? "10", 0, 600),
      backend: values.backend,
      json: values.json,
    };
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const { e, preset, epochs } = opts;
const backend = await initBackend({ backend: opts.backend });
const cfg = { ...resolveConfig(e, preset), epochs };
let last = 0;
const progress: Progress = {
  mode: "plain",
  update(s) {
    if (performance.now() - last > 10_000) {
      last = performance.now();
      console.log(progressLine(s));
    }
    return Promise.resolve();
  },
  epochEnd(l) {
    console.log(l);
    return Promise.resolve();
  },
  finish(l) {
    console.log(l);
    return Promise.resolve();
  },
};
/**
 * The trainer's step alone: the run's model, optimizer and step options on one fixed batch of
 * training images, two warm-up steps, then as many as `seconds` allow (at least 3).
 */
async function stepOnly(cfg: TrainConfig, data: Dataset, seconds: number) {
  const model = createModel(cfg, 1);
  const optimizer = makeOptimizer(cfg.optim);
  const { microBatch } = planRunBatches(model, cfg.batchSize, cfg.batchSize, "split");
  const b = batches(data.train, { batchSize: cfg.batchSize, size: cfg.inputSize, shuffle: true, seed: 1 }).next()
    .value!;
  const step = () => trainStep(model, optimizer, b.x, b.y, { ...stepOptions(cfg), microBatch });
  try {
    await useMachinePlan(model, microBatch, stepOptions(cfg), layerTimingsDir()); // bf16: the layers as train() computes them
    const rounds = await timeSteps(step, { warmup: 2, minRounds: 3, maxRounds: Infinity, budgetSeconds: seconds });
    const steps = rounds.length, s = rounds.reduce((a, x) => a + x, 0);
    console.log(`step only: ${steps} steps of ${b.n} in ${s.toFixed(1)} s, ${(steps * b.n / s).toFixed(0)} img/s`);
    return { steps, seconds: s, imagesPerSecond: (steps * b.n) / s };
  } finally {
    endMachinePlan();
    tf.dispose([b.x, b.y]);
    optimizer.dispose();
    model.dispose();
  }
}

const data = await fashionMnist();
const before = opts.stepSeconds ? await stepOnly(cfg, data, opts.stepSeconds) : null;
const t0 = performance.now();
const r = await train(cfg, 1, data, { progress, title: `${e.name} [${preset}]`, layerTimingsDir: layerTimingsDir() });
const wall = (performance.now() - t0) / 1000;
const after = opts.stepSeconds ? await stepOnly(cfg, data, opts.stepSeconds) : null;
const stepRate = before && after ? (before.imagesPerSecond + after.imagesPerSecond) / 2 : NaN;
const summary = {
  experiment: e.name,
  preset,
  backend: backend.name,
  device: backend.device,
  inputSize: cfg.inputSize,
  batchSize: cfg.batchSize,
  microBatch: r.microBatch,
  trainImages: r.epochs.length ? Math.round(r.epochs[0].imagesPerSecond * r.epochs[0].trainSeconds) : 0,
  epochs: r.epochs.map((m) => {
    const images = m.imagesPerSecond * m.trainSeconds;
    const withEval = images / (m.trainSeconds + m.evalSeconds);
    return {
      epoch: m.epoch,
      trainSeconds: m.trainSeconds,
      evalSeconds: m.evalSeconds,
      imagesPerSecond: m.imagesPerSecond,
      imagesPerSecondWithEval: withEval,
      ...(before ? { trainVsStepOnly: m.imagesPerSecond / stepRate, epochVsStepOnly: withEval / stepRate } : {}),
      testAcc: m.testAcc,
    };
  }),
  ...(before && after ? { stepOnly: { before, after, imagesPerSecond: stepRate } } : {}),
  status: r.status,
  wallSeconds: wall,
};
console.log(JSON.stringify(summary, null, 2));
for (const m of summary.epochs) {
  if (m.epochVsStepOnly === undefined) continue;
  console.log(
    `epoch ${m.epoch}: training ${m.imagesPerSecond.toFixed(0)} img/s (${
      (100 * m.trainVsStepOnly!).toFixed(1)
    }% of step-only ${stepRate.toFixed(0)}), with evaluation ${m.imagesPerSecondWithEval.toFixed(0)} img/s (${
      (100 * m.epochVsStepOnly).toFixed(1)
    }%)`,
  );
}
const json = opts.json ?? "";
if (json) await writeFileAtomic(json, JSON.stringify(summary, null, 2) + "\n");
