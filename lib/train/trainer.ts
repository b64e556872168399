/**
 * The training engine: epochs of seeded batches, per-epoch evaluation and timing,
 * live progress, NaN/Inf detection, per-epoch checkpoints and exact resumption.
 */
import * as tf from "@tensorflow/tfjs";
import { batchCount, batches, type Dataset, mixSeed, type Split } from "../data/dataset.ts";
import { TRAIN_EVAL_PER_CLASS } from "../data/fashion_mnist.ts";
import { SeededDropout } from "../models/common.ts";
import { createModel, type ModelOptions } from "../models/registry.ts";
import { summarize, trainingMemoryBytes } from "../models/inspect.ts";
import { checkOptimConfig, learningRateAt, makeOptimizer, type OptimConfig, setLearningRate } from "./optim.ts";
import { evaluate, probeStep, type StepOptions, trainStep } from "./step.ts";
import { createProgress, type Progress } from "./progress.ts";
import { latestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import {
  type BackendRun,
  endTraining,
  type LayerPlan,
  type LayerPlanner,
  type LayerPlanSummary,
  prepareTraining,
  useMachinePlan as useBackendPlan,
} from "../backend/training.ts";
import { failpoint, failpointBlock, failpointThrow } from "../util/failpoint.ts";
import { eventLoopTurn } from "../util/turn.ts";
import { peakRssMB } from "../util/memory.ts";

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
  /**
   * Images per class held out of the training split as a validation set (absent or null: none).
   * A run with one is a tuning run: it trains on the rest, evaluates on the validation set after
   * every epoch and never reads the test set (its test metrics are NaN).
   */
  validation?: number | null;
  /**
   * Images per class of a fixed subset of the training data on which train accuracy is measured
   * in inference mode (dropout off, BN moving statistics) after every epoch. Default 100; 0: none.
   */
  trainEvalPerClass?: number;
}

/** The validation split is the same for every run and seed, so tuning runs compare on equal terms. */
export const VALIDATION_SEED = 20_171_128;

export interface EpochMetrics {
  epoch: number;
  /** Running mean over the epoch's training steps (training mode: dropout on, BN batch statistics). */
  trainLoss: number;
  trainAcc: number;
  /** On a fixed training subset in inference mode after the epoch (NaN when not measured). */
  trainEvalLoss: number;
  trainEvalAcc: number;
  /** On the test set (NaN in tuning runs, which evaluate on the validation split instead). */
  testLoss: number;
  testAcc: number;
  /** On the validation split (tuning runs only). */
  valLoss?: number;
  valAcc?: number;
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
  /** Examples of the split every epoch was evaluated on (test set, or validation split in tuning runs). */
  evalImages: number;
  /** In bf16 on backend native: how many layers computed in each precision (native/precision_plan.ts). */
  layerPlan?: LayerPlanSummary;
}

/** What a checkpoint keeps besides the weights: the epochs so far and, in bf16, the run's layer plan. */
interface CheckpointMeta {
  epochs: EpochMetrics[];
  layerPlan?: LayerPlan;
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
  /** Called once the model is built, before the first step (e.g. to check the outputs folder); throwing stops the run. */
  beforeTraining?: (params: number) => void | Promise<void>;
  /** Builds the model instead of the registry (a custom experiment's network). */
  build?: (opts: { inputSize: number; seed: number }) => tf.LayersModel;
  /** In bf16: the folder of this machine's layer timings, which choose each layer's precision (none: measured, not kept). */
  layerTimingsDir?: string;
  /**
   * Chooses each layer's precision from the layers `step` notes, saying what went wrong with its
   * timings through `log` (default: in bf16 on backend native, `planLayers` over
   * `layerTimingsDir`; none otherwise). Given, it is used in any precision.
   */
  layerPlanner?: LayerPlanner;
}

export class TrainError extends Error {
  override name = "TrainError";
}

/** Largest input side cnnlab trains at (the assignment's largest is 224). */
export const MAX_INPUT_SIZE = 512;
/** Most epochs one run may ask for. */
export const MAX_EPOCHS = 1000;

/** Impossible settings stop before anything is built, each with one line naming the fix. */
export function checkTrainConfig(cfg: TrainConfig): void {
  const int = (k: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new TrainError(`${k} must be an integer from ${lo} to ${hi}, got ${v}`);
    }
  };
  int("input size", cfg.inputSize, 1, MAX_INPUT_SIZE);
  int("epochs", cfg.epochs, 1, MAX_EPOCHS);
  int("batch size", cfg.batchSize, 1, 8192);
  if (cfg.trainPerClass !== null) int("train images per class", cfg.trainPerClass, 1, 6000);
  if (cfg.testPerClass !== null) int("test images per class", cfg.testPerClass, 1, 1000);
  if (cfg.validation) int("validation images per class", cfg.validation, 1, 3000);
  if (!(cfg.labelSmoothing >= 0 && cfg.labelSmoothing < 1)) {
    throw new TrainError(`label smoothing must be in [0, 1), got ${cfg.labelSmoothing}`);
  }
}

/** Fail before training when the batch cannot fit in memory, naming the largest batch that would. */
function checkMemory(s: ReturnType<typeof summarize>, cfg: TrainConfig): void {
  let available = Infinity;
  try {
    available = Deno.systemMemoryInfo().available;
  } catch {
    return; // no --allow-sys: cannot tell
  }
  const need = trainingMemoryBytes(s, cfg.batchSize);
  if (tf.getBackend() === "webgpu" || need <= available) return;
  let fits = cfg.batchSize;
  while (fits > 1 && trainingMemoryBytes(s, fits) > available) fits = Math.floor(fits / 2);
  throw new TrainError(
    `${cfg.model}@${cfg.inputSize} at batch ${cfg.batchSize} needs about ${(need / 2 ** 30).toFixed(1)} GiB, ${
      (available / 2 ** 30).toFixed(1)
    } GiB are available; fix: ${
      trainingMemoryBytes(s, fits) <= available ? `use batch ${fits} or less` : "use a smaller input size"
    }`,
  );
}

export interface RunSplits {
  train: Split;
  /** What every epoch is evaluated on: the test set, or the validation split in tuning runs. */
  evaluation: Split;
  /** The fixed training subset evaluated in inference mode (null when not measured). */
  trainEval: Split | null;
}

export function subsets(cfg: TrainConfig, data: Dataset, seed: number): RunSplits {
  let pool = data.train;
  let evaluation = data.test;
  if (cfg.validation) {
    const { held, rest } = data.train.holdout(cfg.validation, VALIDATION_SEED);
    pool = rest;
    evaluation = held;
  } else if (cfg.testPerClass) {
    evaluation = data.test.stratified(cfg.testPerClass, mixSeed(seed, 12));
  }
  // Subsets depend on the seed too, so seeds measure data variation as well as init.
  const train = cfg.trainPerClass ? pool.stratified(cfg.trainPerClass, mixSeed(seed, 11)) : pool;
  const perClass = Math.min(cfg.trainEvalPerClass ?? TRAIN_EVAL_PER_CLASS, Math.min(...train.classCounts()));
  const trainEval = perClass > 0 ? train.stratified(perClass, mixSeed(seed, 13)) : null;
  return { train, evaluation, trainEval };
}

/** Restart every dropout layer's mask stream for an epoch, so a resumed epoch draws the same masks. */
function reseedDropout(model: tf.LayersModel, seed: number, epoch: number): void {
  model.layers.forEach((l, i) => {
    if (l instanceof SeededDropout) l.reseed(mixSeed(mixSeed(seed, 3000 + epoch), i));
  });
}

/** What a training step of this run does beyond forward, backward and update (its loss terms, decay, clipping). */
export function stepOptions(cfg: TrainConfig): StepOptions {
  return {
    labelSmoothing: cfg.labelSmoothing,
    auxWeight: cfg.auxWeight,
    weightDecay: cfg.optim.weightDecay,
    clipNorm: cfg.optim.clipNorm,
  };
}

/**
 * Put this machine's layer plan for `model` in use as `train` would: for a bench that times
 * steps outside `train`. Its summary, or null (nothing changed). Undo with `endMachinePlan()`
 * (lib/backend/training.ts).
 */
export function useMachinePlan(
  model: tf.LayersModel,
  batch: number,
  opts: StepOptions,
  dir: string | null,
): Promise<LayerPlanSummary | null> {
  return useBackendPlan(() => probeStep(model, batch, opts), dir);
}

export async function train(
  cfg: TrainConfig,
  seed: number,
  data: Dataset,
  hooks: TrainHooks = {},
): Promise<TrainOutcome> {
  failpointThrow("train.start");
  checkTrainConfig(cfg);
  checkOptimConfig(cfg.optim);
  const { train: trainSet, evaluation: evalSet, trainEval } = subsets(cfg, data, seed);
  const tuning = Boolean(cfg.validation);
  const normalize = cfg.normalize ? trainSet.pixelStats() : undefined;
  const model = createModel(cfg, seed, hooks.build);
  const optimizer = makeOptimizer(cfg.optim);
  const progress = hooks.progress ?? createProgress();
  const title = hooks.title ?? cfg.model;
  const epochs: EpochMetrics[] = [];
  let resumedFrom = 0;
  const summary = summarize(model);
  const { trainable: params, macs } = summary;
  let microBatch = cfg.batchSize;
  let evalBatch = Math.max(cfg.batchSize, 256);
  let backend: BackendRun | null = null;
  const planned = () => backend?.extension() ?? {};
  /** Stop the run early (diverged or interrupted), with its last line. */
  const stopRun = async (status: RunStatus, message: string): Promise<TrainOutcome> => {
    await progress.finish(`${title}: ${message}`);
    return { status, message, epochs, params, macs, resumedFrom, microBatch, evalImages: evalSet.size, ...planned() };
  };
  try {
    checkMemory(summary, cfg);
    await hooks.beforeTraining?.(params);
    let resumedPlan: LayerPlan | null | undefined;
    if (hooks.resume && hooks.checkpointDir) {
      const ck = await latestCheckpoint<CheckpointMeta>(hooks.checkpointDir);
      if (ck) {
        await ck.restore(model, optimizer);
        epochs.push(...ck.meta.epochs);
        resumedFrom = ck.epoch;
        resumedPlan = ck.meta.layerPlan ?? null;
        await progress.epochEnd(`${title}: resumed after epoch ${ck.epoch}`);
      }
    }
    // The backend's part: its batch split, its layer plan (a resumed run's from its checkpoint).
    backend = await prepareTraining(model, {
      batchSize: cfg.batchSize,
      evalBatch,
      oversize: hooks.oversize ?? "split",
      planner: hooks.layerPlanner,
      layerTimingsDir: hooks.layerTimingsDir ?? null,
      resumedPlan,
      probe: (micro) => () => probeStep(model, micro, stepOptions(cfg)),
      say: (line) => progress.epochEnd(`${title}: ${line}`),
    });
    ({ microBatch, evalBatch } = backend);
    const layerPlan = backend.layerPlan;
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
        const r = await trainStep(model, optimizer, b.x, b.y, { ...stepOptions(cfg), microBatch });
        tf.dispose([b.x, b.y]);
        step++;
        if (!Number.isFinite(r.loss)) {
          const message = `loss became ${r.loss} at epoch ${
            epoch + 1
          }, step ${step}; the run diverged (lower the learning rate or add gradient clipping)`;
          return await stopRun("diverged", message);
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
        failpointBlock("train.step");
        await failpoint("train.step", `${epoch + 1}:${step}`);
        await eventLoopTurn(); // lets Ctrl-C / SIGTERM and timers run now, not at the epoch's end
        if (hooks.stop?.requested) {
          const message = `interrupted during epoch ${epoch + 1}; rerun with --resume to continue from epoch ${epoch}`;
          return await stopRun("interrupted", message);
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const e0 = performance.now();
      const evalOpts = { batchSize: evalBatch, size: cfg.inputSize, normalize };
      const ev = await evaluate(model, evalSet, evalOpts);
      const tr = trainEval ? await evaluate(model, trainEval, evalOpts) : { loss: NaN, acc: NaN };
      const evalSeconds = (performance.now() - e0) / 1000;
      const m: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: loss / seen,
        trainAcc: correct / seen,
        trainEvalLoss: tr.loss,
        trainEvalAcc: tr.acc,
        testLoss: tuning ? NaN : ev.loss,
        testAcc: tuning ? NaN : ev.acc,
        ...(tuning ? { valLoss: ev.loss, valAcc: ev.acc } : {}),
        trainSeconds,
        evalSeconds,
        imagesPerSecond: seen / trainSeconds,
        lr,
        peakRssMB: peakRssMB(),
      };
      epochs.push(m);
      if (!Number.isFinite(ev.loss)) {
        const message =
          `evaluation loss became ${ev.loss} after epoch ${m.epoch}; the run diverged (lower the learning rate or add gradient clipping)`;
        return await stopRun("diverged", message);
      }
      if (hooks.checkpointDir) {
        const meta: CheckpointMeta = { epochs, ...(layerPlan ? { layerPlan } : {}) };
        await saveCheckpoint(hooks.checkpointDir, epoch + 1, model, optimizer, meta);
        await failpoint("train.checkpoint", epoch + 1);
      }
      await progress.epochEnd(
        `${title}: epoch ${m.epoch}/${cfg.epochs} train loss ${m.trainLoss.toFixed(4)} acc ${m.trainAcc.toFixed(4)} | ${
          tuning ? "validation" : "test"
        } loss ${ev.loss.toFixed(4)} acc ${ev.acc.toFixed(4)} | ${m.trainSeconds.toFixed(1)} s, ${
          m.imagesPerSecond.toFixed(0)
        } img/s`,
      );
    }
    if (hooks.onModel) await hooks.onModel(model);
    const last = epochs.at(-1);
    await progress.finish(
      `${title}: done, ${tuning ? "validation" : "test"} acc ${
        (tuning ? last?.valAcc : last?.testAcc)?.toFixed(4) ?? "–"
      } after ${epochs.length} epoch(s), ${((performance.now() - runStart) / 1000).toFixed(0)} s`,
    );
    return { status: "ok", epochs, params, macs, resumedFrom, microBatch, evalImages: evalSet.size, ...planned() };
  } finally {
    optimizer.dispose();
    model.dispose();
    endTraining();
  }
}
