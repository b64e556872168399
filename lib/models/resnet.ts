/**
 * ResNet-18 as in d2l: stem (7×7/2 conv 64, BN, ReLU, 3/2 max-pool), four stages of two
 * residual blocks (64, 128, 256, 512 channels; stages 2–4 halve the grid and project the
 * shortcut with a 1×1/2 conv), global average pooling, dense 10. Convolutions keep their
 * biases, as d2l's do.
 */
import * as tf from "@tensorflow/tfjs";
import { Builder, checkInputSize, minimumSize, type Stem, stemOption, widthScaler } from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { D2L_SGD, type ModelEntry, optionList, widthBy } from "./entry.ts";

export const RESNET_DEFAULT_SIZE = 96;

export interface ResNetOptions {
  inputSize?: number;
  /** Multiplier on every channel count (default 1 = 64-128-256-512). */
  width?: number;
  /** "small": a 3×3/1 stem conv and no max-pool (see `Stem`); default "imagenet". */
  stem?: Stem;
  seed?: number;
}

/** Stem /4 (/1 when small) then three stride-2 stages: require the last grid to hold one real pixel. */
export function resnetFits(stem: Stem = "imagenet"): (n: number) => boolean {
  return (n) => n >= (stem === "small" ? 8 : 32);
}

function residual(b: Builder, x: tf.SymbolicTensor, channels: number, stride: number, project: boolean, name: string) {
  let y = b.convBn(x, channels, 3, {
    conv: `${name}_conv1`,
    bn: `${name}_bn1`,
    relu: `${name}_relu1`,
    strides: stride,
    padding: "same",
  });
  y = b.convBn(y, channels, 3, { conv: `${name}_conv2`, bn: `${name}_bn2`, relu: null, padding: "same" });
  const shortcut = project
    ? b.conv(channels, 1, { strides: stride, name: `${name}_proj` }).apply(x) as tf.SymbolicTensor
    : x;
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return b.relu(name).apply(sum) as tf.SymbolicTensor;
}

export function resnet18(opts: ResNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? RESNET_DEFAULT_SIZE;
  const stem = stemOption(opts.stem);
  checkInputSize("ResNet-18", size, resnetFits(stem));
  const w = widthScaler(opts.width ?? 1);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  const small = stem === "small";
  let x = b.convBn(input, w(64), small ? 3 : 7, {
    conv: "stem_conv",
    bn: "stem_bn",
    relu: small ? "stem" : "stem_relu",
    strides: small ? 1 : 2,
    padding: "same",
  });
  if (!small) x = b.pool("max", 3, 2, "same", "stem").apply(x) as tf.SymbolicTensor;
  const blocks = ["stem"];
  const stages: [number, number][] = [[64, 1], [128, 2], [256, 2], [512, 2]];
  stages.forEach(([c, s], i) => {
    for (let j = 0; j < 2; j++) {
      const name = `stage${i + 2}_block${j + 1}`;
      x = residual(b, x, w(c), j === 0 ? s : 1, j === 0 && i > 0, name);
      blocks.push(name);
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }).apply(x) as tf.SymbolicTensor;
  x = b.dense(10, "linear", "output").apply(x) as tf.SymbolicTensor;
  return markBlocks(tf.model({ inputs: input, outputs: x, name: "resnet18" }), blocks);
}

export const RESNET_MODELS: ModelEntry<ResNetOptions>[] = [{
  name: "resnet18",
  options: optionList<ResNetOptions>()(["inputSize", "seed", "width", "stem"]),
  family: "ResNet",
  description: "ResNet-18 (d2l): the residual reference point",
  defaultSize: RESNET_DEFAULT_SIZE,
  defaults: {},
  build: resnet18,
  minSize: (o) => minimumSize(resnetFits(o.stem)),
  scale: { widthScale: widthBy("width") },
  recipe: D2L_SGD(0.05, 256),
}];
