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
import { latestCheckpoint } from "./checkpoint.ts";
import {
  checkpointer,
  type CheckpointMeta,
  evaluated,
  progressLogger,
  type StepState,
  type TrainCallback,
} from "./callbacks.ts";
import {
  type BackendRun,
  endTraining,
  type LayerPlanner,
  type LayerPlanSummary,
  prepareTraining,
  trainsInHostMemory,
  useMachinePlan as useBackendPlan,
} from "../backend/training.ts";
import { failpoint, failpointBlock, failpointThrow } from "../util/failpoint.ts";

export type { StepState, TrainCallback };
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
  /** Called as the run goes, after its progress line and its checkpoints. */
  callbacks?: TrainCallback[];
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
  if (!trainsInHostMemory() || need <= available) return;
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

/** Why a run stopped before its last epoch. */
interface Stopped {
  status: Exclude<RunStatus, "ok">;
  message: string;
}

const diverged = (what: string, where: string): Stopped => ({
  status: "diverged",
  message: `${what} became ${where}; the run diverged (lower the learning rate or add gradient clipping)`,
});

/** What one epoch's training needs besides the configuration. */
interface EpochContext {
  cfg: TrainConfig;
  seed: number;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  trainSet: Split;
  /** Batches per epoch. */
  steps: number;
  normalize: ReturnType<Split["pixelStats"]> | undefined;
  microBatch: number;
  callbacks: TrainCallback[];
  stop?: { requested: boolean };
  /** Images trained and the start time of this process's part of the run (shared across epochs). */
  clock: { imagesDone: number; start: number };
}

/** One epoch's training: running loss and accuracy, images seen, the last learning rate, seconds. */
interface EpochTrained {
  loss: number;
  acc: number;
  seen: number;
  lr: number;
  seconds: number;
}

/** Train one epoch; what it did, or why the run stopped during it. */
async function trainEpoch(c: EpochContext, epoch: number): Promise<EpochTrained | Stopped> {
  const { cfg, model, trainSet, steps } = c;
  reseedDropout(model, c.seed, epoch);
  const t0 = performance.now();
  let loss = 0, correct = 0, seen = 0, step = 0, lr = cfg.optim.lr;
  const augment = cfg.augment ?? undefined;
  const opts = { batchSize: cfg.batchSize, size: cfg.inputSize, shuffle: true, seed: c.seed, epoch, augment };
  for (const b of batches(trainSet, { ...opts, normalize: c.normalize })) {
    lr = learningRateAt(cfg.optim, epoch + step / steps, cfg.epochs);
    setLearningRate(c.optimizer, lr);
    const r = await trainStep(model, c.optimizer, b.x, b.y, { ...stepOptions(cfg), microBatch: c.microBatch });
    tf.dispose([b.x, b.y]);
    step++;
    if (!Number.isFinite(r.loss)) return diverged("loss", `${r.loss} at epoch ${epoch + 1}, step ${step}`);
    loss += r.loss * b.n;
    correct += r.correct;
    seen += b.n;
    c.clock.imagesDone += b.n;
    const state: StepState = {
      epoch: epoch + 1,
      step,
      loss: loss / seen,
      acc: correct / seen,
      imagesDone: c.clock.imagesDone,
      elapsedSeconds: (performance.now() - c.clock.start) / 1000,
      imagesLeft: (cfg.epochs - epoch - 1) * trainSet.size + (trainSet.size - seen),
    };
    for (const cb of c.callbacks) await cb.onStep?.(state);
    failpointBlock("train.step");
    await failpoint("train.step", `${epoch + 1}:${step}`);
    await eventLoopTurn(); // lets Ctrl-C / SIGTERM and timers run now, not at the epoch's end
    if (c.stop?.requested) {
      return {
        status: "interrupted",
        message: `interrupted during epoch ${epoch + 1}; rerun with --resume to continue from epoch ${epoch}`,
      };
    }
  }
  return { loss: loss / seen, acc: correct / seen, seen, lr, seconds: (performance.now() - t0) / 1000 };
}

/** Evaluate after an epoch (the evaluation split, then the fixed training subset) into the epoch's metrics. */
async function evaluateEpoch(
  model: tf.LayersModel,
  e: { evalSet: Split; trainEval: Split | null; tuning: boolean; evalOpts: Parameters<typeof evaluate>[2] },
  epoch: number,
  t: EpochTrained,
): Promise<EpochMetrics> {
  const e0 = performance.now();
  const ev = await evaluate(model, e.evalSet, e.evalOpts);
  const tr = e.trainEval ? await evaluate(model, e.trainEval, e.evalOpts) : { loss: NaN, acc: NaN };
  return {
    epoch: epoch + 1,
    trainLoss: t.loss,
    trainAcc: t.acc,
    trainEvalLoss: tr.loss,
    trainEvalAcc: tr.acc,
    testLoss: e.tuning ? NaN : ev.loss,
    testAcc: e.tuning ? NaN : ev.acc,
    ...(e.tuning ? { valLoss: ev.loss, valAcc: ev.acc } : {}),
    trainSeconds: t.seconds,
    evalSeconds: (performance.now() - e0) / 1000,
    imagesPerSecond: t.seen / t.seconds,
    lr: t.lr,
    peakRssMB: peakRssMB(),
  };
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
  const summary = summarize(model);
  const { trainable: params, macs } = summary;
  const steps = batchCount(trainSet, { batchSize: cfg.batchSize });
  const log = progressLogger(hooks.progress ?? createProgress(), hooks.title ?? cfg.model, cfg, steps);
  const epochs: EpochMetrics[] = [];
  let resumedFrom = 0, microBatch = cfg.batchSize, backend: BackendRun | null = null;
  const outcome = (status: RunStatus, message?: string): TrainOutcome => ({
    status,
    ...(message === undefined ? {} : { message }),
    epochs,
    params,
    macs,
    resumedFrom,
    microBatch,
    evalImages: evalSet.size,
    ...(backend?.extension() ?? {}),
  });
  try {
    checkMemory(summary, cfg);
    await hooks.beforeTraining?.(params);
    const ck = hooks.resume && hooks.checkpointDir ? await latestCheckpoint<CheckpointMeta>(hooks.checkpointDir) : null;
    if (ck) {
      await ck.restore(model, optimizer);
      epochs.push(...ck.meta.epochs);
      resumedFrom = ck.epoch;
      await log.say(`resumed after epoch ${ck.epoch}`);
    }
    // The backend's part: its batch split, its layer plan (a resumed run's from its checkpoint).
    backend = await prepareTraining(model, {
      batchSize: cfg.batchSize,
      evalBatch: Math.max(cfg.batchSize, 256),
      oversize: hooks.oversize ?? "split",
      planner: hooks.layerPlanner,
      layerTimingsDir: hooks.layerTimingsDir ?? null,
      resumedPlan: ck ? ck.meta.layerPlan ?? null : undefined,
      probe: (micro) => () => probeStep(model, micro, stepOptions(cfg)),
      say: log.say,
    });
    microBatch = backend.microBatch;
    const callbacks = [
      ...(hooks.checkpointDir ? [checkpointer(hooks.checkpointDir, model, optimizer, backend.layerPlan)] : []),
      log,
      ...(hooks.callbacks ?? []),
    ];
    const ctx: EpochContext = {
      cfg,
      seed,
      model,
      optimizer,
      trainSet,
      steps,
      normalize,
      microBatch,
      callbacks,
      stop: hooks.stop,
      clock: { imagesDone: 0, start: performance.now() },
    };
    const evalOpts = { batchSize: backend.evalBatch, size: cfg.inputSize, normalize };
    for (let epoch = resumedFrom; epoch < cfg.epochs; epoch++) {
      const t = await trainEpoch(ctx, epoch);
      if ("status" in t) return await end(callbacks, outcome(t.status, t.message), t.message);
      const m = await evaluateEpoch(model, { evalSet, trainEval, tuning, evalOpts }, epoch, t);
      epochs.push(m);
      const evalLoss = evaluated(m).loss;
      if (!Number.isFinite(evalLoss)) {
        const { message } = diverged("evaluation loss", `${evalLoss} after epoch ${epoch + 1}`);
        return await end(callbacks, outcome("diverged", message), message);
      }
      for (const cb of callbacks) await cb.onEpochEnd?.(epochs);
    }
    if (hooks.onModel) await hooks.onModel(model);
    const last = epochs.at(-1);
    const acc = last && evaluated(last).acc;
    const seconds = ((performance.now() - ctx.clock.start) / 1000).toFixed(0);
    const line = `done, ${tuning ? "validation" : "test"} acc ${
      acc?.toFixed(4) ?? "–"
    } after ${epochs.length} epoch(s), ${seconds} s`;
    return await end(callbacks, outcome("ok"), line);
  } finally {
    optimizer.dispose();
    model.dispose();
    endTraining();
  }
}

/** Tell every callback the run's last line, and return its outcome. */
async function end(callbacks: TrainCallback[], o: TrainOutcome, line: string): Promise<TrainOutcome> {
  for (const cb of callbacks) await cb.onTrainEnd?.(line);
  return o;
}
