/**
 * GoogLeNet v1 (Szegedy et al. 2015) as in d2l: stem (7×7/2 conv, pool, 1×1, 3×3, pool),
 * nine Inception modules (3a–3b, 4a–4e, 5a–5b) with pools between stages, global
 * average pooling and one dense layer. Optional auxiliary heads after 4a and 4d (the
 * paper's: 5×5/3 avg-pool, 1×1 128, dense 1024, dropout 0.7, dense 10).
 *
 * PyTorch's explicit pads (7×7/2 pad 3, pool 3/2 pad 1) give the same output sizes as
 * tfjs 'same' padding for these kernels and strides, so 'same' is used.
 */
import * as tf from "@tensorflow/tfjs";
import { Builder, checkInputSize, minimumSize, type Stem, stemOption, widthScaler } from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { D2L_SGD, type ModelEntry, optionList, widthBy } from "./entry.ts";

export const GOOGLENET_DEFAULT_SIZE = 96;

export interface GoogLeNetOptions {
  inputSize?: number;
  /** Add the two auxiliary classifiers (model then has three outputs: main, aux1, aux2). */
  auxHeads?: boolean;
  /** Multiplier on every channel count, auxiliary heads included (default 1 = the paper's widths). */
  width?: number;
  /**
   * Keep the 1×1 convolutions that reduce channels before the 3×3 and 5×5 branches (default
   * true). False builds the counterfactual question 3a counts: those convolutions read the
   * module's full input instead.
   */
  reductions?: boolean;
  /** "small": the stem without its 4× downsampling (see `Stem`); default "imagenet". */
  stem?: Stem;
  seed?: number;
}

/** c1, [c2 reduce, c2], [c3 reduce, c3], c4 — d2l's `Inception(c1, c2, c3, c4)`. */
export type InceptionSpec = [number, [number, number], [number, number], number];

export const GOOGLENET_MODULES: Record<string, InceptionSpec> = {
  inception_3a: [64, [96, 128], [16, 32], 32],
  inception_3b: [128, [128, 192], [32, 96], 64],
  inception_4a: [192, [96, 208], [16, 48], 64],
  inception_4b: [160, [112, 224], [24, 64], 64],
  inception_4c: [128, [128, 256], [24, 64], 64],
  inception_4d: [112, [144, 288], [32, 64], 64],
  inception_4e: [256, [160, 320], [32, 128], 128],
  inception_5a: [256, [160, 320], [32, 128], 128],
  inception_5b: [384, [192, 384], [48, 128], 128],
};

/**
 * Five stride-2 stages ('same' padding, so ceil(n/2) each): 96 → 3; three fewer with the small
 * stem. Require the last grid to hold at least one real pixel (n ≥ the total stride) and, with aux
 * heads, a 4a/4d grid of at least 5 for their 5×5 pooling.
 */
export function googlenetFits(aux: boolean, stem: Stem = "imagenet"): (n: number) => boolean {
  const s = stem === "small" ? 1 : 4;
  return (n) => n >= 8 * s && (!aux || Math.ceil(n / (4 * s)) >= 5);
}

function inception(
  b: Builder,
  x: tf.SymbolicTensor,
  name: string,
  spec: InceptionSpec,
  w: (c: number) => number,
  reductions = true,
): tf.SymbolicTensor {
  const [c1, c2, c3, c4] = spec;
  const conv = (t: tf.SymbolicTensor, c: number, k: number, n: string) =>
    b.conv(c, k, { padding: "same", activation: "relu", name: `${name}_${n}` }).apply(t) as tf.SymbolicTensor;
  const p1 = conv(x, w(c1), 1, "b1_1x1");
  const p2 = conv(reductions ? conv(x, w(c2[0]), 1, "b2_1x1") : x, w(c2[1]), 3, "b2_3x3");
  const p3 = conv(reductions ? conv(x, w(c3[0]), 1, "b3_1x1") : x, w(c3[1]), 5, "b3_5x5");
  const pooled = b.pool("max", 3, 1, "same", `${name}_b4_pool`).apply(x) as tf.SymbolicTensor;
  const p4 = conv(pooled, w(c4), 1, "b4_1x1");
  return tf.layers.concatenate({ axis: -1, name }).apply([p1, p2, p3, p4]) as tf.SymbolicTensor;
}

function auxHead(b: Builder, x: tf.SymbolicTensor, name: string, w: (c: number) => number): tf.SymbolicTensor {
  let t = tf.layers.averagePooling2d({ poolSize: 5, strides: 3, padding: "valid", name: `${name}_pool` }).apply(
    x,
  ) as tf.SymbolicTensor;
  t = b.conv(w(128), 1, { activation: "relu", name: `${name}_1x1` }).apply(t) as tf.SymbolicTensor;
  t = tf.layers.flatten({ name: `${name}_flatten` }).apply(t) as tf.SymbolicTensor;
  t = b.dense(w(1024), "relu", `${name}_fc`).apply(t) as tf.SymbolicTensor;
  t = b.dropout(0.7, `${name}_dropout`).apply(t) as tf.SymbolicTensor;
  return b.dense(10, "linear", name).apply(t) as tf.SymbolicTensor;
}

export function googlenet(opts: GoogLeNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? GOOGLENET_DEFAULT_SIZE;
  const aux = opts.auxHeads ?? false;
  const stem = stemOption(opts.stem);
  checkInputSize(`GoogLeNet${aux ? " with auxiliary heads" : ""}`, size, googlenetFits(aux, stem));
  const w = widthScaler(opts.width ?? 1);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const ap = (l: tf.layers.Layer) => (x = l.apply(x) as tf.SymbolicTensor);
  // The small stem: the same convolutions, the 7×7/2 as a 3×3/1, without the pools (its last conv is "stem").
  const small = stem === "small";
  ap(b.conv(w(64), small ? 3 : 7, {
    strides: small ? 1 : 2,
    padding: "same",
    activation: "relu",
    name: small ? "stem_conv3x3a" : "stem_conv7x7",
  }));
  if (!small) ap(b.pool("max", 3, 2, "same", "stem_pool1"));
  ap(b.conv(w(64), 1, { activation: "relu", name: "stem_conv1x1" }));
  ap(b.conv(w(192), 3, { padding: "same", activation: "relu", name: small ? "stem" : "stem_conv3x3" }));
  if (!small) ap(b.pool("max", 3, 2, "same", "stem"));
  const heads: tf.SymbolicTensor[] = [];
  for (const [name, spec] of Object.entries(GOOGLENET_MODULES)) {
    x = inception(b, x, name, spec, w, opts.reductions ?? true);
    if (aux && name === "inception_4a") heads.push(auxHead(b, x, "aux1", w));
    if (aux && name === "inception_4d") heads.push(auxHead(b, x, "aux2", w));
    if (name === "inception_3b" || name === "inception_4e") {
      ap(b.pool("max", 3, 2, "same", `pool_${name.slice(-2, -1)}`));
    }
  }
  ap(tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }));
  ap(b.dense(10, "linear", "output"));
  const model = tf.model({ inputs: input, outputs: [x, ...heads], name: "googlenet" });
  return markBlocks(model, ["stem", ...Object.keys(GOOGLENET_MODULES)]);
}

export const GOOGLENET_MODELS: ModelEntry<GoogLeNetOptions>[] = [{
  name: "googlenet",
  options: optionList<GoogLeNetOptions>()(["inputSize", "seed", "auxHeads", "width", "reductions", "stem"]),
  family: "Inception",
  description: "GoogLeNet / Inception v1 (d2l): nine Inception modules, global average pooling",
  defaultSize: GOOGLENET_DEFAULT_SIZE,
  defaults: {},
  build: googlenet,
  minSize: (o) => minimumSize(googlenetFits(Boolean(o.auxHeads), o.stem)),
  scale: { widthScale: widthBy("width") },
  recipe: D2L_SGD(0.1),
}];
