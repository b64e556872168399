/**
 * LeNet-5 as in d2l (Fashion-MNIST version): conv 6@5×5 pad 2 → act → pool 2 →
 * conv 16@5×5 → act → pool 2 → dense 120 → 84 → 10.
 * Options for question 1a's ablations: activation, pooling, batch norm, dropout.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Activation,
  ACTIVATIONS,
  Builder,
  checkChoice,
  checkInputSize,
  checkPositiveInt,
  minimumSize,
  ModelError,
  outSide,
  type Pooling,
  POOLINGS,
} from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { D2L_SGD, family, type ModelEntry, optionList, widthBy } from "./entry.ts";

export interface LeNetOptions {
  inputSize?: number;
  activation?: Activation;
  pooling?: Pooling;
  /** BN after every conv and hidden dense layer (BN-LeNet, d2l 8.5). */
  batchNorm?: boolean;
  /** Dropout rate after each hidden dense layer (0 = none). */
  dropout?: number;
  /** Multiplier on both conv layers' channel counts (AlexNet has tens of times more channels). */
  widthMultiplier?: number;
  /** Extra 3×3 convs after the second conv, before its pool (AlexNet adds three). */
  extraConvs?: number;
  /**
   * Classifier: "dense" (flatten → 120 → 84 → 10, LeNet's) or "gap" (NiN's: the same widths as
   * 1×1 convolutions — 120, 84, then a linear 10 — applied at every position, then global average
   * pooling; no dense layer).
   */
  head?: "dense" | "gap";
  /** The classifier's two hidden widths (dense units, or the GAP head's 1×1 channels); LeNet's [120, 84]. */
  headWidths?: [number, number];
  seed?: number;
}

export const LENET_DEFAULT_SIZE = 28;

export function lenetFits(n: number): boolean {
  const a = Math.floor(n / 2); // conv1 keeps the size (pad 2), pool halves
  const b = outSide(a, 5);
  return b >= 2 && Math.floor(b / 2) >= 1;
}

export function lenet(opts: LeNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? LENET_DEFAULT_SIZE;
  checkInputSize("LeNet", size, lenetFits);
  const act = checkChoice("activation", opts.activation ?? "sigmoid", ACTIVATIONS);
  const pool = checkChoice("pooling", opts.pooling ?? "avg", POOLINGS);
  const bn = opts.batchNorm ?? false;
  const drop = opts.dropout ?? 0;
  const mult = opts.widthMultiplier ?? 1;
  if (!(mult > 0)) throw new ModelError(`widthMultiplier must be positive, got ${mult}`);
  const extra = opts.extraConvs ?? 0;
  if (!Number.isInteger(extra) || extra < 0) {
    throw new ModelError(`extraConvs must be a non-negative integer, got ${extra}`);
  }
  const ch = (c: number) => Math.max(1, Math.round(c * mult));
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const conv = (filters: number, k: number, padding: "same" | "valid", name: string) => {
    x = b.conv(filters, k, { padding, activation: bn ? "linear" : act, name }).apply(x) as tf.SymbolicTensor;
    if (bn) {
      const base = name.replace(/_conv$/, "");
      x = b.batchNorm(`${base}_bn`).apply(x) as tf.SymbolicTensor;
      x = b.activation(act, `${base}_act`).apply(x) as tf.SymbolicTensor;
    }
  };
  conv(ch(6), 5, "same", "block1_conv");
  x = b.pool(pool, 2, 2, "valid", "block1_pool").apply(x) as tf.SymbolicTensor;
  conv(ch(16), 5, "valid", "block2_conv");
  for (let i = 0; i < extra; i++) conv(ch(16), 3, "same", `block2_extra${i + 1}_conv`);
  x = b.pool(pool, 2, 2, "valid", "block2_pool").apply(x) as tf.SymbolicTensor;
  const head = checkChoice("head", opts.head ?? "dense", ["dense", "gap"] as const);
  const [h1, h2] = opts.headWidths ?? [120, 84];
  const hidden = [[1, checkPositiveInt("headWidths[0]", h1)], [2, checkPositiveInt("headWidths[1]", h2)]] as const;
  if (head === "gap") {
    for (const [i, units] of hidden) {
      x = b.conv(units, 1, { activation: act, name: `head${i}_1x1` }).apply(x) as tf.SymbolicTensor;
      if (drop > 0) x = b.dropout(drop, `head${i}_dropout`).apply(x) as tf.SymbolicTensor;
    }
    x = b.conv(10, 1, { name: "head_1x1" }).apply(x) as tf.SymbolicTensor;
    const logits = tf.layers.globalAveragePooling2d({ name: "output" }).apply(x) as tf.SymbolicTensor;
    return markBlocks(tf.model({ inputs: input, outputs: logits, name: "lenet" }), ["block1_pool", "block2_pool"]);
  }
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  for (const [i, units] of hidden) {
    x = b.dense(units, bn ? "linear" : act, `fc${i}`).apply(x) as tf.SymbolicTensor;
    if (bn) {
      x = b.batchNorm(`fc${i}_bn`).apply(x) as tf.SymbolicTensor;
      x = b.activation(act, `fc${i}_act`).apply(x) as tf.SymbolicTensor;
    }
    if (drop > 0) x = b.dropout(drop, `fc${i}_dropout`).apply(x) as tf.SymbolicTensor;
  }
  const out = b.dense(10, "linear", "output").apply(x) as tf.SymbolicTensor;
  return markBlocks(tf.model({ inputs: input, outputs: out, name: "lenet" }), ["block1_pool", "block2_pool"]);
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

export const LENET_MODELS: ModelEntry<LeNetOptions>[] = family<LeNetOptions>({
  options: LENET_OPTIONS,
  family: "LeNet",
  defaultSize: LENET_DEFAULT_SIZE,
  build: lenet,
  minSize: () => minimumSize(lenetFits),
  scale: { widthScale: widthBy("widthMultiplier") },
}, [
  { name: "lenet", description: "LeNet-5 (d2l): sigmoid, average pooling", defaults: {}, recipe: D2L_SGD(0.9, 256) },
  {
    name: "bn-lenet",
    description: "LeNet with batch norm after every conv and hidden dense layer (d2l 8.5)",
    defaults: { batchNorm: true },
    recipe: D2L_SGD(1.0, 256),
  },
]);
