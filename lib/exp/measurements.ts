/**
 * Measurements: everything a page shows that was measured but is not a training run — a clean
 * step timing for a speed comparison, a per-kernel profile, linear probes and feature maps read
 * from a trained checkpoint. Each is an experiment of its own kind: a name, a question, the
 * inputs that define it at a preset (hashed, like a run's configuration), the runs whose
 * checkpoints it reads, and a record with the machine, backend, what else was training, and
 * provenance. They are produced before rendering (`deno task exp measure`, or the report's
 * measuring phase), stored under `outputs/measurements/`, listed by `exp show`, published with the
 * run records; the pages only read them. This module is pure (no model is built here): the
 * measuring itself is lib/exp/measure.ts.
 */
import { exists, outputsDir, writeFileAtomic } from "../util/fs.ts";
import { sha256Hex } from "../util/hash.ts";
import type { TrainConfig } from "../train/trainer.ts";
import {
  canonicalJson,
  configHash,
  experiment,
  globPrefix,
  type Preset,
  PRESETS,
  type Question,
  questionExperiments,
  resolveConfig,
} from "./experiments.ts";
import { readStoredJson, RecordError, reportBadFile } from "./store.ts";

/** One rung of Q1b's ladder: the preset's own shrinking from the published AlexNet (a–c), then the trained steps. */
export interface LadderRung {
  key: string;
  /** full: the published network; input: … at the preset's input size; width: … at its width; step: a trained step. */
  kind: "full" | "input" | "width" | "step";
  /** The trained experiment (steps only). */
  experiment: string | null;
  config: TrainConfig;
}

/** Q1b's ladder at a preset: rungs a–c where the preset shrinks the network, then the six steps. */
export function ladderRungs(preset: Preset): LadderRung[] {
  const steps = questionExperiments("1b");
  const step1 = resolveConfig(steps[0], preset);
  const full = resolveConfig(steps[0], "full");
  const out: LadderRung[] = [];
  if (step1.inputSize !== full.inputSize || canonicalJson(step1.modelOptions) !== canonicalJson(full.modelOptions)) {
    out.push({ key: "a", kind: "full", experiment: null, config: full });
    if (step1.inputSize !== full.inputSize) {
      out.push({ key: "b", kind: "input", experiment: null, config: { ...full, inputSize: step1.inputSize } });
    }
    out.push({ key: "c", kind: "width", experiment: null, config: step1 });
  }
  for (const e of steps) {
    out.push({ key: e.name.split("/")[1], kind: "step", experiment: e.name, config: resolveConfig(e, preset) });
  }
  return out;
}

/** How steps are timed for a measurement (lib/train/timing.ts), at a preset: warm-up, then rounds of about `roundSeconds`. */
export function timingMethod(
  preset: Preset,
): { warmup: number; warmupSeconds: number; stepsPerRound: number; roundSeconds: number; rounds: number } {
  // The smoke preset (tests) checks the path, not the numbers.
  return preset === "smoke"
    ? { warmup: 1, warmupSeconds: 0, stepsPerRound: 1, roundSeconds: 0, rounds: 2 }
    : { warmup: 3, warmupSeconds: 1, stepsPerRound: 2, roundSeconds: 0.5, rounds: 7 };
}

/** Fashion-MNIST's training images: a rung's time is stated per epoch over all of them. */
export const ALL_TRAIN_IMAGES = 60_000;

/** A run a measurement reads the checkpoint of. */
export interface SourceRun {
  experiment: string;
  seed: number;
}

export interface MeasurementSpec {
  name: string;
  question: Question;
  /** The notebook (file-name prefix) whose page shows it. */
  notebook: string;
  /** What it measures, for `exp list` and `exp show`. */
  what: string;
  /** Everything that defines it at a preset (hashed into its configHash). */
  inputs(preset: Preset): unknown;
  /** Runs whose trained checkpoints it reads (their config hashes are part of its identity). */
  sources(preset: Preset): SourceRun[];
}

/** Q2b's two networks, 224 then 96 px. */
export const Q2B_PAIR: readonly string[] = questionExperiments("2b").map((e) => e.name);
/** Q2a's models whose first layers stand beside VGG's blocks (VGG is Q2b's 96-px run). */
export const Q2A_MODELS = [
  { experiment: "q2a/lenet@96", family: "LeNet", layers: ["block1_conv"], kernel: "5×5" },
  { experiment: "q2a/alexnet@96", family: "AlexNet", layers: ["conv1"], kernel: "11×11/4" },
  { experiment: "q2b/vgg11-r8@96", family: "VGG", layers: [] as string[], kernel: "3×3" },
] as const;

/**
 * Q2a's images: 3 shown, 2,000 for each probe's training and test sets, 200 for the maps' statistics
 * (200 and 20 on the smoke preset, which tests the path); the equal-feature probes' projection seed.
 */
export function probeInputs(
  preset: Preset,
): { images: number; probeImages: number; probeSteps: number; statsImages: number; projectionSeed: number } {
  return {
    images: 3,
    probeImages: preset === "smoke" ? 200 : 2000,
    probeSteps: 200,
    statsImages: preset === "smoke" ? 20 : 200,
    projectionSeed: 7,
  };
}

/**
 * The seed whose last checkpoints Q2a's maps and probes read: 1, and 2 at the full preset, the seed
 * the reference tier trained with its checkpoints kept on one machine (a checkpoint does not outlive
 * its machine, and seed 1's VGG at 96 px was trained on another).
 */
export const probeSeed = (preset: Preset): number => (preset === "full" ? 2 : 1);

export const MEASUREMENTS: readonly MeasurementSpec[] = [
  {
    name: "q1b/ladder",
    question: "1b",
    notebook: "02",
    what: "seconds per training step of every rung of the ladder",
    inputs: (preset) => ({
      method: timingMethod(preset),
      rungs: ladderRungs(preset).map((r) => ({ key: r.key, kind: r.kind, config: r.config })),
    }),
    sources: () => [],
  },
  {
    name: "q2b/kernels",
    question: "2b",
    notebook: "03",
    what: "VGG's training step at 224 and 96 px, timed and profiled per kernel",
    inputs: (preset) => ({
      method: { ...timingMethod(preset), profiledSteps: 3, opWrappers: "not counted" },
      configs: Q2B_PAIR.map((n) => resolveConfig(experiment(n), preset)),
    }),
    sources: () => [],
  },
  {
    name: "q2a/probes",
    question: "2a",
    notebook: "03",
    what: "feature maps and linear probes of each block, from one seed's checkpoints (probeSeed)",
    inputs: (preset) => ({ ...probeInputs(preset), pool: "2x2" }),
    sources: (preset) => Q2A_MODELS.map((m) => ({ experiment: m.experiment, seed: probeSeed(preset) })),
  },
];

export function measurementSpec(name: string): MeasurementSpec {
  const s = MEASUREMENTS.find((m) => m.name === name);
  if (!s) throw new RecordError(`unknown measurement '${name}'; have: ${MEASUREMENTS.map((m) => m.name).join(", ")}`);
  return s;
}

/** The measurements matching a name or glob pattern ("q2*", "*"). */
export function matchMeasurements(pattern: string): MeasurementSpec[] {
  return MEASUREMENTS.filter((m) => globPrefix(pattern, m.name));
}

/** The measurements the notebooks with these numbers show (all when none given). */
export function notebookMeasurements(notebooks?: string[]): MeasurementSpec[] {
  return MEASUREMENTS.filter((m) => !notebooks || notebooks.includes(m.notebook));
}

/** A measurement's identity at a preset: its inputs and the configuration hashes of its source runs. */
export async function measurementHash(spec: MeasurementSpec, preset: Preset): Promise<string> {
  const sources = await Promise.all(
    spec.sources(preset).map(async (s) => ({
      ...s,
      configHash: await configHash(resolveConfig(experiment(s.experiment), preset)),
    })),
  );
  const text = canonicalJson({ measurement: spec.name, inputs: spec.inputs(preset), sources });
  return (await sha256Hex(text)).slice(0, 12);
}

/** The run a measurement read: which one, and what it was (so a page can say it). */
export interface SourceRecord extends SourceRun {
  configHash: string;
  testAcc: number;
  device: string;
}

export interface MeasureRecord<D = unknown> {
  kind: "measurement";
  measurement: string;
  question: Question;
  preset: Preset;
  configHash: string;
  backend: string;
  device: string;
  precision: string;
  /** Other runs training on this machine while it was measured (from the store's live locks); 0: alone. */
  othersTraining: number;
  sources: SourceRecord[];
  /** Wall seconds the measurement took. */
  seconds: number;
  data: D;
  versions: { cnnlab: string; deno: string; tfjs: string };
  gitCommit: string | null;
  startedAt: string;
  endedAt: string;
}

/** Q1b's ladder: per rung, its size and the seconds of each timed round (one step each, averaged over the round). */
export interface LadderData {
  rungs: {
    key: string;
    kind: LadderRung["kind"];
    experiment: string | null;
    model: string;
    inputSize: number;
    batchSize: number;
    params: number;
    macs: number;
    stepSeconds: number[];
  }[];
}

/** Q2b's step at each size: timed rounds, and per kernel group the milliseconds of one profiled step. */
export interface KernelData {
  runs: { experiment: string; inputSize: number; batchSize: number; macs: number; stepSeconds: number[] }[];
  kernels: { group: string; ms: number[] }[];
}

/** One layer or block of Q2a: where it is, its output, receptive field and the linear probe on it. */
export interface ProbeRow {
  experiment: string;
  family: string;
  /** 1-based block number for VGG, 1 for a first layer. */
  block: number;
  kernel: string;
  layer: string;
  shape: number[];
  rf: number;
  /** Features the probe sees (the output pooled to 2×2: 4 × channels). */
  features: number;
  probe: number;
  /** The probe on the same number of features for every layer (ProbeData.equalFeatures, a fixed random projection). */
  probeEqual: number;
  /** Share of the layer's activations above zero, over ProbeData.statsImages test images. */
  active: number;
  /** Mean |Pearson r| between a channel's map and the input image resized to the map (constant maps left out). */
  inputCorr: number;
  /** Feature-map grids of the images shown (PNG data URIs), and the dead channels among those drawn. */
  grids: string[];
  dead: number;
  drawn: number;
}

export interface ProbeData {
  probeImages: number;
  /** Features every probeEqual reads: the fewest any layer has. */
  equalFeatures: number;
  /** Test images the map statistics (active, inputCorr) are averaged over. */
  statsImages: number;
  /** The images shown (PNG data URIs) and their class indices. */
  inputs: string[];
  labels: number[];
  inputSize: number;
  rows: ProbeRow[];
}

/** Each measurement's data, by name (so a page gets its measurement typed). */
export interface MeasurementData {
  "q1b/ladder": LadderData;
  "q2b/kernels": KernelData;
  "q2a/probes": ProbeData;
}

const slug = (name: string) => name.replaceAll("/", "__").replaceAll("@", "_at_");

export function measurementPath(name: string, preset: string, hash: string): string {
  return `${outputsDir()}/measurements/${slug(name)}/${preset}/${hash}.json`;
}

export async function writeMeasurement(r: MeasureRecord): Promise<string> {
  const path = measurementPath(r.measurement, r.preset, r.configHash);
  await writeFileAtomic(
    path,
    JSON.stringify(r, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1) + "\n",
  );
  return path;
}

const HASH = /^[0-9a-f]{12}$/;

/** Check a parsed value against the measurement schema; throws RecordError naming the file and field. */
export function validateMeasurement(v: unknown, path: string): MeasureRecord {
  const bad = (why: string): never => {
    throw new RecordError(`${path}: not a cnnlab measurement record (${why})`);
  };
  if (!v || typeof v !== "object" || Array.isArray(v)) bad(Array.isArray(v) ? "an array" : `a ${typeof v}`);
  const r = v as Record<string, unknown>;
  if (r.kind !== "measurement") bad("field 'kind' is not \"measurement\"");
  if (!MEASUREMENTS.some((m) => m.name === r.measurement)) bad(`unknown measurement ${JSON.stringify(r.measurement)}`);
  if (!(PRESETS as readonly unknown[]).includes(r.preset)) bad(`preset ${JSON.stringify(r.preset)} is not a preset`);
  if (!HASH.test(String(r.configHash))) bad(`configHash ${JSON.stringify(r.configHash)} is not 12 hex digits`);
  for (const k of ["backend", "device", "startedAt"]) if (typeof r[k] !== "string") bad(`field '${k}' missing`);
  if (typeof r.othersTraining !== "number") bad("field 'othersTraining' missing");
  if (!Array.isArray(r.sources)) bad("field 'sources' missing");
  if (!r.data || typeof r.data !== "object") bad("field 'data' missing");
  return r as unknown as MeasureRecord;
}

/** A stored measurement, or null when there is none; a bad file throws RecordError. */
export function readMeasurement(path: string): Promise<MeasureRecord | null> {
  return readStoredJson(path, validateMeasurement);
}

/** The stored measurement of this name at this preset with its current identity, or null. */
export async function storedMeasurement(spec: MeasurementSpec, preset: Preset): Promise<MeasureRecord | null> {
  const path = measurementPath(spec.name, preset, await measurementHash(spec, preset));
  try {
    return await readMeasurement(path);
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    reportBadFile(e.message);
    return null;
  }
}

/** Every stored measurement of a preset (bad files reported and skipped). */
export async function loadMeasurements(preset?: string): Promise<MeasureRecord[]> {
  const root = `${outputsDir()}/measurements`;
  const out: MeasureRecord[] = [];
  if (!(await exists(root))) return out;
  for (const spec of MEASUREMENTS) {
    for (const p of preset ? [preset] : PRESETS) {
      const dir = `${root}/${slug(spec.name)}/${p}`;
      let names: string[] = [];
      try {
        names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json")).map((e) => e.name);
      } catch {
        continue;
      }
      for (const f of names.sort()) {
        try {
          const r = await readMeasurement(`${dir}/${f}`);
          if (r) out.push(r);
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
          reportBadFile(e.message);
        }
      }
    }
  }
  return out;
}

/** The published file of a preset's measurements, beside its runs' `<preset>.json`. */
export const publishedMeasurementsFile = (dir: string, preset: string): string => `${dir}/measurements-${preset}.json`;
