/**
 * The training engine: epochs of seeded batches, per-epoch evaluation and timing,
 * live progress, NaN/Inf detection, per-epoch checkpoints and exact resumption.
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { batchCount, batches, type Dataset, mixSeed, type Split } from "../data/dataset.ts";
import { SeededDropout } from "../models/common.ts";
import { buildModel, type ModelOptions } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import { checkOptimConfig, learningRateAt, makeOptimizer, type OptimConfig, setLearningRate } from "./optim.ts";
import { evaluate, trainStep } from "./step.ts";
import { createProgress, type Progress } from "./progress.ts";
import { latestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { activationPlan, bindingLimitBytes, planBatch } from "../backend/webgpu.ts";

/** Everything that determines a run, fully resolved (the experiment's identity hashes this). */
export interface TrainConfig {
  model: string;
  modelOptions: ModelOptions;
  inputSize: number;
  /** Stratified subset sizes (null = the whole split). */
  trainPerClass: number | null;
  testPerClass: number | null;
  epochs: number;
  batchSize: number;
  optim: OptimConfig;
  labelSmoothing: number;
  auxWeight: number;
  augment: { flip?: boolean; cropPad?: number } | null;
  /** Normalise inputs by the training subset's pixel mean/std. */
  normalize: boolean;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  trainSeconds: number;
  evalSeconds: number;
  imagesPerSecond: number;
  lr: number;
  peakRssMB: number;
}

export type RunStatus = "ok" | "diverged" | "interrupted";

export interface TrainOutcome {
  status: RunStatus;
  message?: string;
  epochs: EpochMetrics[];
  params: number;
  /** Multiply-adds per image (conv and dense layers). */
  macs: number;
  /** Epoch the run resumed after (0 = from scratch). */
  resumedFrom: number;
  /** Examples per gradient-accumulation slice when the batch did not fit the GPU (else the batch size). */
  microBatch: number;
}

export interface TrainHooks {
  /** Where per-epoch checkpoints go (none when absent). */
  checkpointDir?: string;
  /** Resume from the newest checkpoint in checkpointDir, if any. */
  resume?: boolean;
  progress?: Progress;
  title?: string;
  /** Checked between steps: a set flag stops the run as "interrupted". */
  stop?: { requested: boolean };
  /** On WebGPU, a batch whose tensors exceed the adapter's binding limit is split ("split", default) or refused ("error"). */
  oversize?: "split" | "error";
  /** Called with the trained model before it is disposed (e.g. to inspect feature maps). */
  onModel?: (m: tf.LayersModel) => void | Promise<void>;
}

export class TrainError extends Error {
  override name = "TrainError";
}

export function subsets(cfg: TrainConfig, data: Dataset, seed: number): { train: Split; test: Split } {
  // Subsets depend on the seed too, so seeds measure data variation as well as init.
  return {
    train: cfg.trainPerClass ? data.train.stratified(cfg.trainPerClass, mixSeed(seed, 11)) : data.train,
    test: cfg.testPerClass ? data.test.stratified(cfg.testPerClass, mixSeed(seed, 12)) : data.test,
  };
}

/** Restart every dropout layer's mask stream for an epoch, so a resumed epoch draws the same masks. */
function reseedDropout(model: tf.LayersModel, seed: number, epoch: number): void {
  model.layers.forEach((l, i) => {
    if (l instanceof SeededDropout) l.reseed(mixSeed(mixSeed(seed, 3000 + epoch), i));
  });
}

const rssMB = () => process.resourceUsage().maxRSS / 1024;

export async function train(
  cfg: TrainConfig,
  seed: number,
  data: Dataset,
  hooks: TrainHooks = {},
): Promise<TrainOutcome> {
  checkOptimConfig(cfg.optim);
  const { train: trainSet, test: testSet } = subsets(cfg, data, seed);
  const normalize = cfg.normalize ? trainSet.pixelStats() : undefined;
  const model = buildModel(cfg.model, { ...cfg.modelOptions, inputSize: cfg.inputSize, seed });
  const optimizer = makeOptimizer(cfg.optim);
  const progress = hooks.progress ?? createProgress();
  const title = hooks.title ?? cfg.model;
  const epochs: EpochMetrics[] = [];
  let resumedFrom = 0;
  const { trainable: params, macs } = summarize(model);
  let microBatch = cfg.batchSize;
  let evalBatch = Math.max(cfg.batchSize, 256);
  try {
    if (hooks.resume && hooks.checkpointDir) {
      const ck = await latestCheckpoint<{ epochs: EpochMetrics[] }>(hooks.checkpointDir);
      if (ck) {
        await ck.restore(model, optimizer);
        epochs.push(...ck.meta.epochs);
        resumedFrom = ck.epoch;
        await progress.epochEnd(`${title}: resumed after epoch ${ck.epoch}`);
      }
    }
    if (tf.getBackend() === "webgpu") {
      microBatch = planBatch(model, cfg.batchSize, hooks.oversize ?? "split");
      evalBatch = Math.max(1, Math.min(evalBatch, activationPlan(model, bindingLimitBytes()).maxBatch));
      if (microBatch < cfg.batchSize) {
        await progress.epochEnd(
          `${title}: batch ${cfg.batchSize} exceeds this GPU's storage-buffer binding limit; accumulating gradients over slices of ${microBatch}`,
        );
      }
    }
    const steps = batchCount(trainSet, { batchSize: cfg.batchSize });
    const runStart = performance.now();
    let imagesDone = 0;
    for (let epoch = resumedFrom; epoch < cfg.epochs; epoch++) {
      reseedDropout(model, seed, epoch);
      const t0 = performance.now();
      let loss = 0, correct = 0, seen = 0, step = 0;
      let lr = cfg.optim.lr;
      for (
        const b of batches(trainSet, {
          batchSize: cfg.batchSize,
          size: cfg.inputSize,
          shuffle: true,
          seed,
          epoch,
          normalize,
          augment: cfg.augment ?? undefined,
        })
      ) {
        lr = learningRateAt(cfg.optim, epoch + step / steps, cfg.epochs);
        setLearningRate(optimizer, lr);
        const r = await trainStep(model, optimizer, b.x, b.y, {
          labelSmoothing: cfg.labelSmoothing,
          auxWeight: cfg.auxWeight,
          weightDecay: cfg.optim.weightDecay,
          clipNorm: cfg.optim.clipNorm,
          microBatch,
        });
        tf.dispose([b.x, b.y]);
        step++;
        if (!Number.isFinite(r.loss)) {
          const message = `loss became ${r.loss} at epoch ${
            epoch + 1
          }, step ${step}; the run diverged (lower the learning rate or add gradient clipping)`;
          await progress.finish(`${title}: ${message}`);
          return { status: "diverged", message, epochs, params, macs, resumedFrom, microBatch };
        }
        loss += r.loss * b.n;
        correct += r.correct;
        seen += b.n;
        imagesDone += b.n;
        const elapsed = (performance.now() - runStart) / 1000;
        const ips = imagesDone / elapsed;
        const left = (cfg.epochs - epoch - 1) * trainSet.size + (trainSet.size - seen);
        await progress.update({
          title,
          epoch: epoch + 1,
          epochs: cfg.epochs,
          step,
          steps,
          loss: loss / seen,
          acc: correct / seen,
          imagesPerSecond: ips,
          etaSeconds: left / ips,
        });
        if (hooks.stop?.requested) {
          const message = `interrupted during epoch ${epoch + 1}; rerun with --resume to continue from epoch ${epoch}`;
          await progress.finish(`${title}: ${message}`);
          return { status: "interrupted", message, epochs, params, macs, resumedFrom, microBatch };
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const e0 = performance.now();
      const ev = await evaluate(model, testSet, { batchSize: evalBatch, size: cfg.inputSize, normalize });
      const evalSeconds = (performance.now() - e0) / 1000;
      const m: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: loss / seen,
        trainAcc: correct / seen,
        testLoss: ev.loss,
        testAcc: ev.acc,
        trainSeconds,
        evalSeconds,
        imagesPerSecond: seen / trainSeconds,
        lr,
        peakRssMB: rssMB(),
      };
      epochs.push(m);
      if (hooks.checkpointDir) await saveCheckpoint(hooks.checkpointDir, epoch + 1, model, optimizer, { epochs });
      await progress.epochEnd(
        `${title}: epoch ${m.epoch}/${cfg.epochs} train loss ${m.trainLoss.toFixed(4)} acc ${
          m.trainAcc.toFixed(4)
        } | test loss ${m.testLoss.toFixed(4)} acc ${m.testAcc.toFixed(4)} | ${m.trainSeconds.toFixed(1)} s, ${
          m.imagesPerSecond.toFixed(0)
        } img/s`,
      );
    }
    if (hooks.onModel) await hooks.onModel(model);
    return { status: "ok", epochs, params, macs, resumedFrom, microBatch };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
