/**
 * The model zoo's registry: name → builder, default input size, minimum input size and
 * recommended training recipe (d2l's for the d2l models, the paper's for the Inception
 * family). Everything that builds a model by name goes through `buildModel`.
 */
import type * as tf from "@tensorflow/tfjs";
import { ModelError } from "./common.ts";
import { lenet, lenetFits, type LeNetOptions } from "./lenet.ts";
import { alexnet, alexnetFits, type AlexNetOptions } from "./alexnet.ts";
import { vgg, VGG11, vggFits, type VggOptions } from "./vgg.ts";
import { nin, ninFits, type NinOptions } from "./nin.ts";
import { googlenet, googlenetFits, type GoogLeNetOptions } from "./googlenet.ts";
import {
  bnInception,
  inceptionFits,
  type InceptionOptions,
  inceptionResNet,
  type InceptionResNetOptions,
  inceptionV3,
  type InceptionV3Options,
} from "./inception.ts";
import { resnet18, resnetFits, type ResNetOptions } from "./resnet.ts";
import { minimumSize } from "./common.ts";

export interface TrainingRecipe {
  optimizer: "sgd" | "momentum" | "adam" | "rmsprop";
  lr: number;
  batchSize: number;
  epochs: number;
  momentum?: number;
  labelSmoothing?: number;
  clipNorm?: number;
  /** Where the recipe comes from. */
  source: string;
}

/** Options every builder accepts; family-specific ones pass through. */
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

/** The size knobs an experiment preset may turn (see lib/exp/experiments.ts). */
export type ScaleKnob = "widthScale" | "denseWidth";
export const SCALE_KNOBS: readonly ScaleKnob[] = ["widthScale", "denseWidth"];

/** How each knob this model accepts changes its options; a knob a model lacks cannot be applied to it. */
export type Scaling = Partial<Record<ScaleKnob, (o: ModelOptions, value: number) => ModelOptions>>;

/** widthScale multiplies one option (default 1). */
const widthBy = (key: "widthMultiplier" | "width"): Scaling["widthScale"] => (o, s) => ({
  ...o,
  [key]: (o[key] ?? 1) * s,
});

/** VGG divides its channels by an integer ratio: widthScale s makes it ratio / s, which must stay an integer. */
const vggWidth: Scaling["widthScale"] = (o, s) => {
  const ratio = (o.ratio ?? 1) / s;
  if (!Number.isInteger(ratio)) {
    throw new ModelError(`VGG: widthScale ${s} turns channel ratio ${o.ratio ?? 1} into ${ratio}, not an integer`);
  }
  return { ...o, ratio };
};

/** denseWidth is the width of a full-size AlexNet's dense layers; a model declared at half of 4096 gets half of it. */
const alexDense: Scaling["denseWidth"] = (o, units) => ({
  ...o,
  denseWidth: Math.max(1, Math.round((o.denseWidth ?? 4096) / 4096 * units)),
});

/** A list of an options type's every key: the compiler refuses one that misses a key or names another. */
type AllKeys<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never] ? K : never;
function optionList<T>() {
  return <const K extends readonly (keyof T & string)[]>(keys: AllKeys<T, K>): readonly string[] => keys;
}
const LENET_OPTIONS = optionList<LeNetOptions>()([
  "inputSize",
  "seed",
  "activation",
  "pooling",
  "batchNorm",
  "dropout",
  "widthMultiplier",
  "extraConvs",
  "head",
  "headWidths",
]);
const ALEXNET_OPTIONS = optionList<AlexNetOptions>()([
  "inputSize",
  "seed",
  "fc2",
  "conv4",
  "denseWidth",
  "widthMultiplier",
  "activation",
  "pooling",
  "dropout",
  "extraConvs",
]);
const VGG_OPTIONS = optionList<VggOptions>()(["inputSize", "seed", "convArch", "ratio", "denseWidth", "dropout"]);
const NIN_OPTIONS = optionList<NinOptions>()(["inputSize", "seed", "dropout"]);
const GOOGLENET_OPTIONS = optionList<GoogLeNetOptions>()([
  "inputSize",
  "seed",
  "auxHeads",
  "width",
  "reductions",
  "stem",
]);
const INCEPTION_OPTIONS = optionList<InceptionOptions>()(["inputSize", "seed", "width", "stem"]);
const V3_OPTIONS = optionList<InceptionV3Options>()(["inputSize", "seed", "width", "auxHead", "n", "dropout", "stem"]);
const IR_OPTIONS = optionList<InceptionResNetOptions>()([
  "inputSize",
  "seed",
  "width",
  "repeats",
  "scales",
  "n",
  "dropout",
  "stem",
]);
const RESNET_OPTIONS = optionList<ResNetOptions>()(["inputSize", "seed", "width", "stem"]);

export interface ModelEntry {
  name: string;
  /** Every option its builder reads (an option outside this list is refused, never hashed into a run). */
  options: readonly string[];
  family: string;
  description: string;
  defaultSize: number;
  /** Preset options the entry applies before the caller's (e.g. VGG's ratio 8). */
  defaults: ModelOptions;
  build: (opts: ModelOptions) => tf.LayersModel;
  /** Smallest input side accepted with these options. */
  minSize: (opts: ModelOptions) => number;
  recipe: TrainingRecipe;
  /** The preset knobs this model takes (input size it always takes, down to minSize). */
  scale: Scaling;
}

const D2L_SGD = (lr: number, batchSize = 128): TrainingRecipe => ({
  optimizer: "sgd",
  lr,
  batchSize,
  epochs: 10,
  source: "d2l (Dive into Deep Learning, ch. 7–8)",
});
const incMin = (o: ModelOptions) => minimumSize(inceptionFits(o.stem));

const ENTRIES: ModelEntry[] = [
  {
    name: "lenet",
    options: LENET_OPTIONS,
    family: "LeNet",
    description: "LeNet-5 (d2l): sigmoid, average pooling",
    defaultSize: 28,
    defaults: {},
    build: (o) => lenet(o as LeNetOptions),
    minSize: () => minimumSize(lenetFits),
    scale: { widthScale: widthBy("widthMultiplier") },
    recipe: { ...D2L_SGD(0.9, 256) },
  },
  {
    name: "bn-lenet",
    options: LENET_OPTIONS,
    family: "LeNet",
    description: "LeNet with batch norm after every conv and hidden dense layer (d2l 8.5)",
    defaultSize: 28,
    defaults: { batchNorm: true },
    build: (o) => lenet(o as LeNetOptions),
    minSize: () => minimumSize(lenetFits),
    scale: { widthScale: widthBy("widthMultiplier") },
    recipe: { ...D2L_SGD(1.0, 256) },
  },
  {
    name: "alexnet",
    options: ALEXNET_OPTIONS,
    family: "AlexNet",
    description: "AlexNet (d2l Fashion-MNIST version): 5 convs, dense 4096-4096-10, dropout 0.5",
    defaultSize: 224,
    defaults: {},
    build: (o) => alexnet(o as AlexNetOptions),
    minSize: () => minimumSize(alexnetFits),
    scale: { widthScale: widthBy("widthMultiplier"), denseWidth: alexDense },
    recipe: D2L_SGD(0.01),
  },
  {
    name: "alexnet-simplified",
    options: ALEXNET_OPTIONS,
    family: "AlexNet",
    description:
      "AlexNet without the 4096→4096 dense layer and the 384→384 conv (the original submission's final model)",
    defaultSize: 224,
    defaults: { fc2: false, conv4: false },
    build: (o) => alexnet(o as AlexNetOptions),
    minSize: () => minimumSize(alexnetFits),
    scale: { widthScale: widthBy("widthMultiplier"), denseWidth: alexDense },
    recipe: {
      optimizer: "adam",
      lr: 0.002,
      batchSize: 128,
      epochs: 3,
      source: "the original submission (Adam 0.002, 3 epochs)",
    },
  },
  {
    name: "vgg11",
    options: VGG_OPTIONS,
    family: "VGG",
    description: "VGG-11 at full width: blocks (1,64) (1,128) (2,256) (2,512) (2,512), dense 4096",
    defaultSize: 224,
    defaults: { convArch: VGG11 },
    build: (o) => vgg(o as VggOptions),
    minSize: (o) => minimumSize(vggFits((o.convArch ?? VGG11).length)),
    scale: { widthScale: vggWidth },
    recipe: D2L_SGD(0.05),
  },
  {
    name: "vgg11-r8",
    options: VGG_OPTIONS,
    family: "VGG",
    description: "VGG-11 with every channel count and the dense width divided by 8 (the original submission's)",
    defaultSize: 224,
    defaults: { convArch: VGG11, ratio: 8 },
    build: (o) => vgg(o as VggOptions),
    minSize: (o) => minimumSize(vggFits((o.convArch ?? VGG11).length)),
    scale: { widthScale: vggWidth },
    recipe: {
      optimizer: "adam",
      lr: 0.001,
      batchSize: 128,
      epochs: 5,
      source: "the original submission (Adam 0.001, 5 epochs)",
    },
  },
  {
    name: "nin",
    options: NIN_OPTIONS,
    family: "NiN",
    description: "Network in Network (d2l): 1×1 convs, global average pooling, no dense layers",
    defaultSize: 224,
    defaults: {},
    build: (o) => nin(o as NinOptions),
    minSize: () => minimumSize(ninFits),
    scale: {},
    recipe: D2L_SGD(0.1),
  },
  {
    name: "googlenet",
    options: GOOGLENET_OPTIONS,
    family: "Inception",
    description: "GoogLeNet / Inception v1 (d2l): nine Inception modules, global average pooling",
    defaultSize: 96,
    defaults: {},
    build: (o) => googlenet(o as GoogLeNetOptions),
    minSize: (o) => minimumSize(googlenetFits(Boolean(o.auxHeads), o.stem)),
    scale: { widthScale: widthBy("width") },
    recipe: D2L_SGD(0.1),
  },
  {
    name: "bn-inception",
    options: INCEPTION_OPTIONS,
    family: "Inception",
    description: "BN-Inception / Inception v2 (Ioffe & Szegedy 2015): BN everywhere, 5×5 as two 3×3",
    defaultSize: 96,
    defaults: {},
    build: (o) => bnInception(o as InceptionOptions),
    minSize: incMin,
    scale: { widthScale: widthBy("width") },
    recipe: {
      optimizer: "momentum",
      lr: 0.045,
      momentum: 0.9,
      batchSize: 128,
      epochs: 10,
      source: "Ioffe & Szegedy 2015 (SGD with momentum, learning rate raised to 0.045)",
    },
  },
  {
    name: "inception-v3",
    options: V3_OPTIONS,
    family: "Inception",
    description: "Inception v3 (Szegedy et al. 2016): factorised convolutions, efficient grid reduction",
    defaultSize: 96,
    defaults: {},
    build: (o) => inceptionV3(o as InceptionV3Options),
    minSize: incMin,
    scale: { widthScale: widthBy("width") },
    recipe: {
      optimizer: "rmsprop",
      lr: 0.045,
      batchSize: 128,
      epochs: 10,
      labelSmoothing: 0.1,
      clipNorm: 2.0,
      source: "Szegedy et al. 2016 (RMSProp decay 0.9 ε 1.0, lr 0.045, label smoothing 0.1, clipping 2.0)",
    },
  },
  {
    name: "inception-resnet",
    options: IR_OPTIONS,
    family: "Inception",
    description: "Inception-ResNet-v1 (Szegedy et al. 2017), scaled down: residual Inception blocks A/B/C ×[2,4,2]",
    defaultSize: 96,
    defaults: {},
    build: (o) => inceptionResNet(o as InceptionResNetOptions),
    minSize: incMin,
    scale: { widthScale: widthBy("width") },
    recipe: {
      optimizer: "rmsprop",
      lr: 0.045,
      batchSize: 128,
      epochs: 10,
      clipNorm: 2.0,
      source: "Szegedy et al. 2017 (RMSProp decay 0.9 ε 1.0, lr 0.045)",
    },
  },
  {
    name: "resnet18",
    options: RESNET_OPTIONS,
    family: "ResNet",
    description: "ResNet-18 (d2l): the residual reference point",
    defaultSize: 96,
    defaults: {},
    build: (o) => resnet18(o as ResNetOptions),
    minSize: (o) => minimumSize(resnetFits(o.stem)),
    scale: { widthScale: widthBy("width") },
    recipe: { ...D2L_SGD(0.05, 256) },
  },
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
