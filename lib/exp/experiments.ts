/**
 * The experiment registry: every experiment a notebook needs, declared once.
 *
 * An experiment is a model (+ options) and training settings at the assignment's full
 * scale. A preset (smoke / laptop / full) scales it through its question group's knobs:
 * subset sizes, input size, epochs, batch size, a width scale and seeds. Knobs an
 * experiment fixes (e.g. the input size of the 224-vs-96 comparison) are not applied.
 * The resolved TrainConfig is the experiment's identity: its hash names the results.
 */
import type { ModelOptions } from "../models/registry.ts";
import { closest, modelEntry } from "../models/registry.ts";
import type { OptimConfig } from "../train/optim.ts";
import type { TrainConfig } from "../train/trainer.ts";

export const PRESETS = ["smoke", "laptop", "full"] as const;
export type Preset = typeof PRESETS[number];

export class ExperimentError extends Error {
  override name = "ExperimentError";
}

/** What a preset may change. */
export interface Knobs {
  inputSize?: number;
  trainPerClass?: number | null;
  testPerClass?: number | null;
  epochs?: number;
  batchSize?: number;
  /** Multiplies the model's width option (widthMultiplier / width) where it has one. */
  widthScale?: number;
  /** Replaces the dense width where the model has one. */
  denseWidth?: number;
  seeds?: number[];
}

export type Question = "1a" | "1b" | "2a" | "2b" | "3a" | "3b";

export interface Experiment {
  name: string;
  question: Question;
  /** Short label for tables. */
  label: string;
  model: string;
  modelOptions: ModelOptions;
  inputSize: number;
  epochs: number;
  batchSize: number;
  optim: OptimConfig;
  labelSmoothing?: number;
  auxWeight?: number;
  augment?: { flip?: boolean; cropPad?: number };
  normalize?: boolean;
  /** Preset table to scale with. */
  group: keyof typeof GROUPS;
  /** Knobs the presets must not change for this experiment (except smoke, which must stay fast). */
  fixed?: (keyof Knobs)[];
  /** Per-preset overrides for this experiment only. */
  presets?: Partial<Record<Preset, Knobs>>;
}

const ADAM = (lr: number): OptimConfig => ({ optimizer: "adam", lr });
const FULL: Knobs = { trainPerClass: null, testPerClass: null, seeds: [1, 2, 3] };

/**
 * Preset tables per question group. Laptop sizes were chosen so that the whole report runs
 * in under an hour on a 2-core CPU with the fastest CPU backend (native; see README, Presets). Where the
 * laptop subset is small, the batch is 32 so that batch norm's moving statistics (momentum
 * 0.9) see enough steps to forget their initial values: at batch 128, 1,000 images give 24
 * steps, after which 0.9²⁴ ≈ 8% of the initial variance of 1 remains and inference-mode
 * accuracy collapses.
 */
export const GROUPS = {
  /** LeNet ablations at 28×28: cheap, so three seeds and a real subset even on a laptop. */
  lenet: {
    smoke: { trainPerClass: 10, testPerClass: 5, epochs: 1, batchSize: 32, seeds: [1] },
    laptop: { trainPerClass: 500, testPerClass: 200, epochs: 4, seeds: [1, 2, 3] },
    full: FULL,
  },
  /**
   * AlexNet ladder: laptop keeps the structure at the smallest input it accepts, narrowed 4×,
   * on 30,000 images for 6 epochs (10,000 × 5 left one seed at 0.84, under the 85% the
   * simplification question needs; native trains a run in ~90 s).
   */
  alexnet: {
    smoke: {
      trainPerClass: 10,
      testPerClass: 5,
      epochs: 1,
      batchSize: 32,
      inputSize: 67,
      widthScale: 0.125,
      denseWidth: 64,
      seeds: [1],
    },
    laptop: {
      trainPerClass: 3000,
      testPerClass: 200,
      epochs: 6,
      batchSize: 64,
      inputSize: 67,
      widthScale: 0.25,
      denseWidth: 1024,
      seeds: [1, 2],
    },
    full: { ...FULL, seeds: [1, 2] },
  },
  /** VGG-11/8: the input size is the point of question 2b, so laptop shrinks data, not inputs. */
  vgg: {
    smoke: { trainPerClass: 10, testPerClass: 5, epochs: 1, batchSize: 32, seeds: [1] },
    laptop: { trainPerClass: 100, testPerClass: 100, epochs: 3, batchSize: 32, seeds: [1, 2] },
    full: { ...FULL, seeds: [1, 2] },
  },
  /** Inception family and ResNet at the smallest input their five stride-2 stages accept. */
  inception: {
    smoke: {
      trainPerClass: 10,
      testPerClass: 5,
      epochs: 1,
      batchSize: 32,
      inputSize: 32,
      widthScale: 0.125,
      seeds: [1],
    },
    laptop: {
      trainPerClass: 100,
      testPerClass: 100,
      epochs: 3,
      batchSize: 32,
      inputSize: 32,
      widthScale: 0.25,
      seeds: [1, 2],
    },
    full: { ...FULL, seeds: [1, 2] },
  },
} satisfies Record<string, Record<Preset, Knobs>>;

function lenetExp(
  name: string,
  label: string,
  modelOptions: ModelOptions,
  extra: Partial<Experiment> = {},
): Experiment {
  return {
    name: `q1a/${name}`,
    question: "1a",
    label,
    model: "lenet",
    modelOptions,
    inputSize: 28,
    epochs: 10,
    batchSize: 128,
    optim: ADAM(0.002),
    group: "lenet",
    ...extra,
  };
}

function alexExp(name: string, label: string, modelOptions: ModelOptions, lr: number): Experiment {
  return {
    name: `q1b/${name}`,
    question: "1b",
    label,
    model: "alexnet",
    modelOptions,
    inputSize: 224,
    epochs: 3,
    batchSize: 128,
    optim: ADAM(lr),
    group: "alexnet",
  };
}

function inceptionExp(model: string, label: string, extra: Partial<Experiment> = {}): Experiment {
  return {
    name: `q3b/${model}`,
    question: "3b",
    label,
    model,
    modelOptions: {},
    inputSize: 96,
    epochs: 10,
    batchSize: 128,
    optim: ADAM(0.001),
    group: "inception",
    ...extra,
  };
}

const RELU: ModelOptions = { activation: "relu" };
const ALEXNET_STYLE: ModelOptions = {
  activation: "relu",
  pooling: "max",
  dropout: 0.5,
  extraConvs: 3,
  widthMultiplier: 4,
};

const LIST: Experiment[] = [
  // Question 1a: one ablation per claimed LeNet → AlexNet difference, on LeNet at 28×28.
  // Sigmoid vs ReLU is measured on LeNet itself; every other AlexNet feature is then added,
  // one at a time, to the ReLU LeNet (on a sigmoid LeNet that barely trains in a short budget,
  // no other effect would be measurable).
  lenetExp("lenet", "LeNet (sigmoid, avg-pool)", {}),
  lenetExp("relu", "ReLU instead of sigmoid", RELU),
  lenetExp("maxpool", "ReLU + max-pool instead of avg-pool", { ...RELU, pooling: "max" }),
  lenetExp("dropout", "ReLU + dropout 0.5 on the dense layers", { ...RELU, dropout: 0.5 }),
  lenetExp("augment", "ReLU + data augmentation (flip, crop)", RELU, { augment: { flip: true, cropPad: 2 } }),
  lenetExp("deeper", "ReLU + 3 more conv layers", { ...RELU, extraConvs: 3 }),
  lenetExp("wider", "ReLU + 4× channels", { ...RELU, widthMultiplier: 4 }),
  lenetExp("alexnet-style", "all of the above", ALEXNET_STYLE, { augment: { flip: true, cropPad: 2 } }),
  // Question 1b: the simplification ladder (the original submission's steps, then one more).
  alexExp("alexnet", "1: 10-class output, 3 epochs", {}, 0.001),
  alexExp("drop-fc2", "2: without the 4096→4096 dense layer", { fc2: false }, 0.001),
  alexExp("drop-conv4", "3: also without the 384→384 conv", { fc2: false, conv4: false }, 0.001),
  alexExp("lr-0.004", "4: learning rate 0.004", { fc2: false, conv4: false }, 0.004),
  alexExp("lr-0.002", "5: learning rate 0.002", { fc2: false, conv4: false }, 0.002),
  alexExp("half-width", "6: half the channels and dense width", {
    fc2: false,
    conv4: false,
    widthMultiplier: 0.5,
    denseWidth: 2048,
  }, 0.002),
  // Question 2: VGG-11 with channels ÷ 8 at two input sizes (2b), and feature maps (2a).
  ...[224, 96].map((size): Experiment => ({
    name: `q2b/vgg11-r8@${size}`,
    question: "2b",
    label: `VGG-11/8 at ${size}×${size}`,
    model: "vgg11-r8",
    modelOptions: {},
    inputSize: size,
    epochs: 5,
    batchSize: 128,
    optim: ADAM(0.001),
    group: "vgg",
    fixed: ["inputSize"],
    presets: { smoke: { inputSize: size === 224 ? 64 : 32 } },
  })),
  // Question 3b: the Inception family, with ResNet-18 as the residual reference.
  inceptionExp("googlenet", "GoogLeNet (v1)"),
  inceptionExp("bn-inception", "BN-Inception (v2)"),
  inceptionExp("inception-v3", "Inception v3 (+ label smoothing)", { labelSmoothing: 0.1 }),
  inceptionExp("inception-resnet", "Inception-ResNet-v1"),
  inceptionExp("resnet18", "ResNet-18"),
];

export const EXPERIMENTS: ReadonlyMap<string, Experiment> = new Map(LIST.map((e) => [e.name, e]));

export function parsePreset(s: string): Preset {
  if ((PRESETS as readonly string[]).includes(s)) return s as Preset;
  throw new ExperimentError(`unknown preset '${s}'; valid: ${PRESETS.join(", ")}`);
}

export function experiment(name: string): Experiment {
  const e = EXPERIMENTS.get(name);
  if (!e) {
    throw new ExperimentError(`unknown experiment '${name}'; closest: ${closest(name, EXPERIMENTS.keys()).join(", ")}`);
  }
  return e;
}

/** Experiments whose name matches a glob-ish pattern (`*` wildcard; a plain prefix also matches). */
export function matchExperiments(pattern: string): Experiment[] {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}`);
  return [...EXPERIMENTS.values()].filter((e) => re.test(e.name));
}

/** Seeds a preset runs by default. */
export function presetSeeds(e: Experiment, preset: Preset): number[] {
  return e.presets?.[preset]?.seeds ?? GROUPS[e.group][preset].seeds ?? [1];
}

/** The preset's knobs for an experiment, after the experiment's fixed knobs and overrides. */
export function knobsFor(e: Experiment, preset: Preset): Knobs {
  const k: Knobs = { ...GROUPS[e.group][preset] };
  if (preset !== "smoke") { for (const f of e.fixed ?? []) delete k[f]; }
  return { ...k, ...e.presets?.[preset] };
}

/** The fully resolved training configuration of an experiment at a preset. */
export function resolveConfig(e: Experiment, preset: Preset): TrainConfig {
  const k = knobsFor(e, preset);
  const entry = modelEntry(e.model);
  const opts: ModelOptions = { ...entry.defaults, ...e.modelOptions };
  if (k.widthScale !== undefined) {
    if (["lenet", "alexnet"].includes(entry.family.toLowerCase())) {
      opts.widthMultiplier = (opts.widthMultiplier ?? 1) * k.widthScale;
    } else if (["bn-inception", "inception-v3", "inception-resnet"].includes(e.model)) {
      opts.width = (opts.width ?? 1) * k.widthScale;
    }
  }
  if (k.denseWidth !== undefined && entry.family === "AlexNet") {
    opts.denseWidth = Math.max(1, Math.round((e.modelOptions.denseWidth ?? 4096) / 4096 * k.denseWidth));
  }
  return {
    model: e.model,
    modelOptions: opts,
    inputSize: k.inputSize ?? e.inputSize,
    trainPerClass: k.trainPerClass === undefined ? null : k.trainPerClass,
    testPerClass: k.testPerClass === undefined ? null : k.testPerClass,
    epochs: k.epochs ?? e.epochs,
    batchSize: k.batchSize ?? e.batchSize,
    optim: e.optim,
    labelSmoothing: e.labelSmoothing ?? 0,
    auxWeight: e.auxWeight ?? 0.3,
    augment: e.augment ?? null,
    normalize: e.normalize ?? false,
  };
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** First 12 hex digits of the SHA-256 of the canonical JSON of a configuration. */
export async function configHash(cfg: TrainConfig): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(canonical(cfg)));
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}
