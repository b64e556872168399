/**
 * AlexNet as in d2l's Fashion-MNIST version (1 input channel, 10 classes):
 * conv 96@11×11 s4 p1 → max-pool 3/2 → conv 256@5×5 p2 → max-pool → conv 384@3×3 →
 * conv 384@3×3 → conv 256@3×3 → max-pool → dense 4096 → dropout → dense 4096 →
 * dropout → dense 10.
 * Options cover question 1b's simplification ladder and question 1a's LeNet-style
 * ablations.
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
import { D2L_SGD, family, type ModelEntry, optionList, type Scaling, widthBy } from "./entry.ts";

export interface AlexNetOptions {
  inputSize?: number;
  /** Keep the second 4096→4096 dense layer (default true). */
  fc2?: boolean;
  /** Keep the 384→384 conv (default true). */
  conv4?: boolean;
  /** Hidden dense width (default 4096). */
  denseWidth?: number;
  /** Multiplier on every conv channel count (default 1). */
  widthMultiplier?: number;
  activation?: Activation;
  pooling?: Pooling;
  /** Dropout rate after each hidden dense layer (default 0.5; 0 = none). */
  dropout?: number;
  /** Extra 3×3 convs (same channels) before the last pool, for depth ablations (default 0). */
  extraConvs?: number;
  seed?: number;
}

export const ALEXNET_DEFAULT_SIZE = 224;

export function alexnetFits(n: number): boolean {
  const a = outSide(n, 11, 4, 1);
  if (a < 3) return false;
  const b = outSide(a, 3, 2);
  if (b < 3) return false;
  const c = outSide(b, 3, 2);
  return c >= 3 && outSide(c, 3, 2) >= 1;
}

export function alexnet(opts: AlexNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? ALEXNET_DEFAULT_SIZE;
  checkInputSize("AlexNet", size, alexnetFits);
  const act = checkChoice("activation", opts.activation ?? "relu", ACTIVATIONS);
  const pool = checkChoice("pooling", opts.pooling ?? "max", POOLINGS);
  const mult = opts.widthMultiplier ?? 1;
  if (!(mult > 0)) throw new ModelError(`widthMultiplier must be positive, got ${mult}`);
  const dense = checkPositiveInt("denseWidth", opts.denseWidth ?? 4096);
  const drop = opts.dropout ?? 0.5;
  const extra = opts.extraConvs ?? 0;
  if (!Number.isInteger(extra) || extra < 0) {
    throw new ModelError(`extraConvs must be a non-negative integer, got ${extra}`);
  }
  const ch = (c: number) => Math.max(1, Math.round(c * mult));
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const ap = (l: tf.layers.Layer) => (x = l.apply(x) as tf.SymbolicTensor);
  ap(b.zeroPad(1, "conv1_pad"));
  ap(b.conv(ch(96), 11, { strides: 4, activation: act, name: "conv1" }));
  ap(b.pool(pool, 3, 2, "valid", "pool1"));
  ap(b.conv(ch(256), 5, { padding: "same", activation: act, name: "conv2" }));
  ap(b.pool(pool, 3, 2, "valid", "pool2"));
  ap(b.conv(ch(384), 3, { padding: "same", activation: act, name: "conv3" }));
  if (opts.conv4 ?? true) ap(b.conv(ch(384), 3, { padding: "same", activation: act, name: "conv4" }));
  ap(b.conv(ch(256), 3, { padding: "same", activation: act, name: "conv5" }));
  for (let i = 0; i < extra; i++) {
    ap(b.conv(ch(256), 3, { padding: "same", activation: act, name: `conv_extra${i + 1}` }));
  }
  ap(b.pool(pool, 3, 2, "valid", "pool3"));
  ap(tf.layers.flatten({ name: "flatten" }));
  ap(b.dense(dense, act, "fc1"));
  if (drop > 0) ap(b.dropout(drop, "fc1_dropout"));
  if (opts.fc2 ?? true) {
    ap(b.dense(dense, act, "fc2"));
    if (drop > 0) ap(b.dropout(drop, "fc2_dropout"));
  }
  ap(b.dense(10, "linear", "output"));
  return tf.model({ inputs: input, outputs: x, name: "alexnet" });
}

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

/** denseWidth is the width of a full-size AlexNet's dense layers; a model declared at half of 4096 gets half of it. */
const alexDense: Scaling<AlexNetOptions>["denseWidth"] = (o, units) => ({
  ...o,
  denseWidth: Math.max(1, Math.round((o.denseWidth ?? 4096) / 4096 * units)),
});

export const ALEXNET_MODELS: ModelEntry<AlexNetOptions>[] = family<AlexNetOptions>({
  options: ALEXNET_OPTIONS,
  family: "AlexNet",
  defaultSize: ALEXNET_DEFAULT_SIZE,
  build: alexnet,
  minSize: () => minimumSize(alexnetFits),
  scale: { widthScale: widthBy("widthMultiplier"), denseWidth: alexDense },
}, [
  {
    name: "alexnet",
    description: "AlexNet (d2l Fashion-MNIST version): 5 convs, dense 4096-4096-10, dropout 0.5",
    defaults: {},
    recipe: D2L_SGD(0.01),
  },
  {
    name: "alexnet-simplified",
    description:
      "AlexNet without the 4096→4096 dense layer and the 384→384 conv (the original submission's final model)",
    defaults: { fc2: false, conv4: false },
    recipe: {
      optimizer: "adam",
      lr: 0.002,
      batchSize: 128,
      epochs: 3,
      source: "the original submission (Adam 0.002, 3 epochs)",
    },
  },
]);
