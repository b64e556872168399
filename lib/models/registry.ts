/**
 * The model zoo's registry: the entries each family registers beside its builder (name, builder,
 * options, default and minimum input size, preset knobs, recommended recipe; see entry.ts),
 * gathered under one name → entry map. Everything that builds a model by name goes through
 * `createModel` / `buildModel`, which refuse an option the model does not read.
 */
import type * as tf from "@tensorflow/tfjs";
import { ModelError } from "./common.ts";
import { LENET_MODELS, type LeNetOptions } from "./lenet.ts";
import { ALEXNET_MODELS, type AlexNetOptions } from "./alexnet.ts";
import { VGG_MODELS, type VggOptions } from "./vgg.ts";
import { NIN_MODELS, type NinOptions } from "./nin.ts";
import { GOOGLENET_MODELS, type GoogLeNetOptions } from "./googlenet.ts";
import {
  INCEPTION_MODELS,
  type InceptionOptions,
  type InceptionResNetOptions,
  type InceptionV3Options,
} from "./inception.ts";
import { RESNET_MODELS, type ResNetOptions } from "./resnet.ts";
import type { ModelEntry as FamilyEntry, Scaling as FamilyScaling } from "./entry.ts";

export { SCALE_KNOBS, type ScaleKnob, type TrainingRecipe } from "./entry.ts";

/** The options of every family in one bag, as an experiment's configuration carries them. */
export type ModelOptions =
  & { inputSize?: number; seed?: number }
  & Partial<
    & LeNetOptions
    & AlexNetOptions
    & VggOptions
    & NinOptions
    & GoogLeNetOptions
    & InceptionOptions
    & InceptionV3Options
    & InceptionResNetOptions
    & ResNetOptions
  >;

/** A registered model as callers see it: its builder reads only the options it declares, and `buildModel` refuses the rest. */
export type ModelEntry = FamilyEntry<ModelOptions>;
export type Scaling = FamilyScaling<ModelOptions>;

const ENTRIES: ModelEntry[] = [
  ...LENET_MODELS,
  ...ALEXNET_MODELS,
  ...VGG_MODELS,
  ...NIN_MODELS,
  ...GOOGLENET_MODELS,
  ...INCEPTION_MODELS,
  ...RESNET_MODELS,
];

export const MODELS: ReadonlyMap<string, ModelEntry> = new Map(ENTRIES.map((e) => [e.name, e]));

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** Up to three known names closest to `name`. */
export function closest(name: string, known: Iterable<string>): string[] {
  return [...known]
    .map((k) => ({ k, d: k.includes(name) || name.includes(k) ? 0 : editDistance(name, k) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.k);
}

export function modelEntry(name: string): ModelEntry {
  const e = MODELS.get(name);
  if (!e) {
    throw new ModelError(
      `unknown model '${name}'; did you mean ${closest(name, MODELS.keys()).join(", ")}? (all: ${
        [...MODELS.keys()].join(", ")
      })`,
    );
  }
  return e;
}

/** Build a registered model; options override the entry's defaults. */
/** What a model is built from: a run's configuration (TrainConfig) or a bench's spec. */
export interface ModelSpec {
  model: string;
  modelOptions?: ModelOptions;
  inputSize: number;
}

/** A custom experiment's own builder (a notebook cell's layers-API network). */
export type CustomBuild = (opts: { inputSize: number; seed: number }) => tf.LayersModel;

/**
 * The one way every caller (trainer, planner, measurements, benches, notebooks) makes a run's
 * network: the experiment's own builder where it has one, else the registered model with the
 * configuration's options, at its input size, initialised from `seed`.
 */
export function createModel(spec: ModelSpec, seed = 1, build?: CustomBuild): tf.LayersModel {
  return build
    ? build({ inputSize: spec.inputSize, seed })
    : buildModel(spec.model, { ...spec.modelOptions, inputSize: spec.inputSize, seed });
}

/** Refuse an option the model's builder does not read, naming the ones it does. */
export function checkModelOptions(name: string, opts: object): void {
  const e = modelEntry(name);
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined && !e.options.includes(k)) {
      throw new ModelError(`model ${name} has no option '${k}'; its options: ${e.options.join(", ")}`);
    }
  }
}

export function buildModel(name: string, opts: ModelOptions = {}): tf.LayersModel {
  checkModelOptions(name, opts);
  const e = modelEntry(name);
  const o = { ...e.defaults, ...opts };
  return e.build({ ...o, inputSize: o.inputSize ?? e.defaultSize });
}
