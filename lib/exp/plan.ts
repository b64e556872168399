/**
 * `deno task plan`: what a preset will cost on this machine before anything trains. Each
 * experiment with runs still to train is calibrated with a few timed training steps and
 * inference batches (random data, the run's model, batch and input size, at the thread count
 * the workers will use); runs already stored cost nothing. Runs are then scheduled on the
 * workers longest-first, which gives the predicted wall time per question and in total. A plan
 * that prices stored runs too (the reference tier's) also says what the whole set would cost on
 * this machine from scratch, beside what the stored runs took as they trained (`recordedCost`).
 */
import * as tf from "@tensorflow/tfjs";
import { cpuHasBf16, currentBackend, releaseBackendMemory, setPrecision } from "../backend/mod.ts";
import { precisionFor } from "./bf16.ts";
import { NATIVE, nativeSettings, setNativeThreads } from "../backend/native.ts";
import { createModel } from "../models/registry.ts";
import { timeSteps } from "../train/timing.ts";
import { median } from "../util/stats.ts";
import { makeOptimizer } from "../train/optim.ts";
import { mainOutput, trainStep } from "../train/step.ts";
import type { TrainConfig } from "../train/trainer.ts";
import { batches, NUM_CLASSES, SIDE, Split } from "../data/dataset.ts";
import { configHash, type Experiment, type Preset, presetSeeds, type Question, resolveConfig } from "./experiments.ts";
import { outputsDir, readRecord, RecordError, recordPath, type RunRecord } from "./store.ts";
import { writeFileAtomic } from "../util/fs.ts";

/** Training-set and test-set sizes of Fashion-MNIST. */
const TRAIN_IMAGES = 60_000, TEST_IMAGES = 10_000;

export interface Calibration {
  /** Seconds per training step at the run's batch size, making the batch (scaling, augmentation, resize) included. */
  stepSeconds: number;
  /** Images per second in inference mode (evaluation). */
  evalImagesPerSecond: number;
}

/** Time a few training steps and inference batches of a configuration on the current backend. */
export async function calibrate(cfg: TrainConfig, opts: { seconds?: number } = {}): Promise<Calibration> {
  const budget = (opts.seconds ?? 3) * 1000;
  const model = createModel(cfg, 1);
  const optimizer = makeOptimizer(cfg.optim);
  const b = cfg.batchSize;
  const x = tf.randomUniform([b, cfg.inputSize, cfg.inputSize, 1]);
  const y = tf.tensor1d(Array.from({ length: b }, (_, i) => i % NUM_CLASSES), "int32");
  const evalB = Math.max(b, 256);
  const xe = tf.randomUniform([evalB, cfg.inputSize, cfg.inputSize, 1]);
  try {
    const opt = { labelSmoothing: cfg.labelSmoothing, auxWeight: cfg.auxWeight };
    // A tiny budget (the smoke preset, tests) times one step after one warm-up; otherwise three or more after two.
    const quick = budget < 500;
    const times = await timeSteps(() => trainStep(model, optimizer, x, y, opt), {
      warmup: quick ? 1 : 2,
      minRounds: quick ? 1 : 3,
      maxRounds: 50,
      budgetSeconds: budget / 1000,
    });
    // The median: one step disturbed by the machine (or a page-fault storm) must not set the plan.
    const stepOnly = median(times);
    // Making batches: the same pixel work and resize as training, on random bytes.
    const n = b * 3;
    const bytes = new Uint8Array(n * SIDE * SIDE).map((_, i) => (i * 2654435761) >>> 24);
    const fake = Split.whole("calibration", bytes, new Uint8Array(n).map((_, i) => i % NUM_CLASSES));
    const d0 = performance.now();
    for (
      const batch of batches(fake, {
        batchSize: b,
        size: cfg.inputSize,
        shuffle: true,
        augment: cfg.augment ?? undefined,
      })
    ) {
      tf.dispose([batch.x, batch.y]);
    }
    const stepSeconds = stepOnly + (performance.now() - d0) / 1000 / 3;
    const infer = async () => {
      const out = tf.tidy(() => mainOutput(model.apply(xe, { training: false }) as tf.Tensor | tf.Tensor[]));
      await out.data();
      out.dispose();
    };
    await infer();
    let evals = 0;
    const e0 = performance.now();
    while (evals < 1 || (performance.now() - e0 < budget / 2 && evals < 20)) {
      await infer();
      evals++;
    }
    return { stepSeconds, evalImagesPerSecond: evals * evalB / ((performance.now() - e0) / 1000) };
  } finally {
    tf.dispose([x, y, xe]);
    optimizer.dispose();
    model.dispose();
    releaseBackendMemory();
  }
}

/** Predicted seconds of one run (training + evaluation) from a calibration. */
export function predictSeconds(cfg: TrainConfig, c: Calibration): number {
  const train = cfg.trainPerClass ? cfg.trainPerClass * NUM_CLASSES : TRAIN_IMAGES;
  const test = cfg.testPerClass ? cfg.testPerClass * NUM_CLASSES : TEST_IMAGES;
  const trainEval = Math.min(cfg.trainEvalPerClass ?? 100, train / NUM_CLASSES) * NUM_CLASSES;
  const steps = Math.ceil(train / cfg.batchSize);
  return cfg.epochs * (steps * c.stepSeconds + (test + trainEval) / c.evalImagesPerSecond);
}

export interface PlannedRun {
  experiment: string;
  question: Question;
  seed: number;
  /** A reusable record is stored: nothing to train. */
  stored: boolean;
  /** Predicted seconds (0 when stored). */
  seconds: number;
  /** Predicted seconds from scratch, stored or not (0 for a stored run unless the plan prices stored runs). */
  predicted: number;
  /** Worker (0-based) the schedule puts the run on; -1 when stored. */
  worker: number;
}

export interface Plan {
  preset: Preset;
  workers: number;
  threadsPerWorker: number;
  backend: string;
  device: string;
  runs: PlannedRun[];
  /** Per question: runs stored, runs to train, predicted seconds of work. */
  questions: { question: Question; stored: number; toTrain: number; seconds: number }[];
  /** Sum of predicted run seconds. */
  workSeconds: number;
  /** Predicted wall seconds with the workers in parallel (longest-first schedule). */
  wallSeconds: number;
  /** The same for every run from scratch, stored or not; null unless the plan prices stored runs. */
  whole: { workSeconds: number; wallSeconds: number } | null;
  calibrationSeconds: number;
}

/** Longest-first assignment of jobs to `workers`; returns each job's worker and the makespan. */
export function schedule(seconds: number[], workers: number): { worker: number[]; makespan: number } {
  const load = new Array(workers).fill(0);
  const worker = new Array(seconds.length).fill(-1);
  const order = seconds.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s);
  for (const { s, i } of order) {
    if (s <= 0) continue;
    const w = load.indexOf(Math.min(...load));
    load[w] += s;
    worker[i] = w;
  }
  return { worker, makespan: Math.max(0, ...load) };
}

/**
 * The plan for a set of experiments at a preset: which runs are stored, and the calibrated
 * cost of the others with `workers` parallel workers sharing the machine's cores.
 */
export async function makePlan(
  experiments: Experiment[],
  preset: Preset,
  opts: {
    workers?: number;
    log?: (line: string) => void;
    calibrationSeconds?: number;
    /** The seeds to plan for each experiment (default: the preset's; the reference tier names its own). */
    seeds?: (e: Experiment) => number[];
    /** Runs published elsewhere (the reference records) that count as stored: "experiment|hash|seed". */
    published?: Set<string>;
    /** Also price the stored runs, as if from scratch (what the whole set costs on this machine). */
    priceStored?: boolean;
  } = {},
): Promise<Plan> {
  const backend = currentBackend();
  if (!backend) throw new Error("no backend started: call initBackend() first");
  const workers = Math.max(1, opts.workers ?? 1);
  const native = backend.name === NATIVE;
  const threadsPerWorker = native ? Math.max(1, Math.floor(nativeSettings().threads / workers)) : 1;
  const before = native ? nativeSettings().threads : 0;
  if (native) setNativeThreads(threadsPerWorker);
  const t0 = performance.now();
  const runs: PlannedRun[] = [];
  // Calibrations are kept per (configuration, threads, device): a second plan on this machine costs nothing.
  const cacheFile = `${outputsDir()}/plan/calibrations.json`;
  let cache: Record<string, Calibration> = {};
  try {
    cache = JSON.parse(await Deno.readTextFile(cacheFile));
  } catch {
    cache = {};
  }
  const key = (hash: string) =>
    `${hash}|${threadsPerWorker}|${backend.name}|${currentBackend()?.precision}|${backend.device}`;
  const cached = (hash: string) => cache[key(hash)] ?? null;
  const remember = (hash: string, c: Calibration) => (cache[key(hash)] = c);
  try {
    for (const e of experiments) {
      const cfg = resolveConfig(e, preset);
      const hash = await configHash(cfg);
      let cal: Calibration | null = null;
      // The precision the workers will train this experiment in (`--precision auto` on native).
      const precision = native ? precisionFor(e, "auto", cpuHasBf16()).precision : backend.precision;
      if (native) setPrecision(precision);
      for (const seed of opts.seeds?.(e) ?? presetSeeds(e, preset)) {
        let stored = opts.published?.has(`${e.name}|${hash}|${seed}`) ?? false;
        try {
          const r = stored ? null : await readRecord(recordPath(e.name, preset, hash, seed));
          stored ||= r !== null && r.status !== "interrupted" && (r.precision ?? "fp32") === precision;
        } catch (err) {
          if (!(err instanceof RecordError)) throw err; // a bad record will be retrained
        }
        if ((!stored || opts.priceStored) && !cal) {
          cal = cached(hash) ??
            await calibrate(cfg, { seconds: opts.calibrationSeconds ?? (preset === "smoke" ? 0.2 : 1.5) });
          remember(hash, cal);
          opts.log?.(
            `plan: ${e.name}: ${(cfg.batchSize / cal.stepSeconds).toFixed(0)} img/s training, ${
              cal.evalImagesPerSecond.toFixed(0)
            } img/s evaluation (${threadsPerWorker} thread${threadsPerWorker > 1 ? "s" : ""})`,
          );
        }
        const predicted = cal && (!stored || opts.priceStored) ? predictSeconds(cfg, cal) : 0;
        runs.push({
          experiment: e.name,
          question: e.question,
          seed,
          stored,
          seconds: stored ? 0 : predicted,
          predicted,
          worker: -1,
        });
      }
    }
  } finally {
    if (native) {
      setNativeThreads(before);
      setPrecision(backend.precision);
    }
  }
  await writeFileAtomic(cacheFile, JSON.stringify(cache, null, 1)).catch(() => {});
  const s = schedule(runs.map((r) => r.seconds), workers);
  runs.forEach((r, i) => (r.worker = s.worker[i]));
  const qs = [...new Set(runs.map((r) => r.question))].map((question) => {
    const rs = runs.filter((r) => r.question === question);
    return {
      question,
      stored: rs.filter((r) => r.stored).length,
      toTrain: rs.filter((r) => !r.stored).length,
      seconds: rs.reduce((a, r) => a + r.seconds, 0),
    };
  });
  return {
    preset,
    workers,
    threadsPerWorker,
    backend: backend.name,
    device: backend.device,
    runs,
    questions: qs,
    workSeconds: runs.reduce((a, r) => a + r.seconds, 0),
    wallSeconds: s.makespan,
    whole: opts.priceStored
      ? {
        workSeconds: runs.reduce((a, r) => a + r.predicted, 0),
        wallSeconds: schedule(runs.map((r) => r.predicted), workers).makespan,
      }
      : null,
    calibrationSeconds: (performance.now() - t0) / 1000,
  };
}

/** What finished runs took as they trained, per device: runs, seconds (training and evaluation), how many beside other runs. */
export interface RecordedCost {
  device: string;
  runs: number;
  seconds: number;
  /** Runs that trained while other runs shared the machine (their seconds are loaded times). */
  loaded: number;
}

/** The recorded cost of finished runs (interrupted ones left out), per device, the costliest device first. */
export function recordedCost(runs: RunRecord[]): RecordedCost[] {
  const by = new Map<string, RecordedCost>();
  for (const r of runs.filter((r) => r.status !== "interrupted")) {
    const c = by.get(r.device) ?? { device: r.device, runs: 0, seconds: 0, loaded: 0 };
    c.runs++;
    c.seconds += r.trainSeconds + r.evalSeconds;
    if ((r.othersTraining ?? 0) > 0) c.loaded++;
    by.set(r.device, c);
  }
  return [...by.values()].sort((a, b) => b.seconds - a.seconds);
}

/** Hours with one decimal. */
export const hours = (s: number): string => `${(s / 3600).toFixed(1)} h`;

/** Minutes with one decimal. */
export const minutes = (s: number): string => `${(s / 60).toFixed(1)} min`;

/** Memory one training worker may need at the presets' largest models (VGG-11/8@224 at batch 128: ~3.4 GB). */
const WORKER_MEMORY_BYTES = 4 * 2 ** 30;

/**
 * Workers `deno task report` trains with: on CPU backends one per core (one thread each: small
 * models scale poorly over threads, so two 1-thread workers train ~1.6× the images of one
 * 2-thread process on 2 cores), as many as memory allows; on a GPU one.
 */
export function defaultWorkers(backend: string): number {
  if (backend === "webgpu" || backend === "tensorflow") return 1;
  let free = Infinity;
  try {
    free = Deno.systemMemoryInfo().available;
  } catch {
    // no --allow-sys: cores decide
  }
  return Math.max(1, Math.min(navigator.hardwareConcurrency, Math.floor(free / WORKER_MEMORY_BYTES)));
}
