/**
 * Network in Network (d2l): NiN blocks (k×k conv, then two 1×1 convs, all ReLU)
 * 96@11 s4, 256@5 p2, 384@3 p1 with 3/2 max-pools, dropout 0.5, a final block with 10
 * channels, global average pooling — no dense layers at all.
 */
import * as tf from "@tensorflow/tfjs";
import { Builder, checkInputSize, minimumSize, outSide } from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { D2L_SGD, type ModelEntry, optionList } from "./entry.ts";

export const NIN_DEFAULT_SIZE = 224;

export interface NinOptions {
  inputSize?: number;
  dropout?: number;
  seed?: number;
}

export function ninFits(n: number): boolean {
  let s = outSide(n, 11, 4);
  for (let i = 0; i < 3; i++) {
    if (s < 3) return false;
    s = outSide(s, 3, 2);
  }
  return s >= 1;
}

export function nin(opts: NinOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? NIN_DEFAULT_SIZE;
  checkInputSize("NiN", size, ninFits);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const ap = (l: tf.layers.Layer) => (x = l.apply(x) as tf.SymbolicTensor);
  const block = (i: number, c: number, k: number, s: number, padding: "same" | "valid") => {
    ap(b.conv(c, k, { strides: s, padding, activation: "relu", name: `nin_block_${i}_conv` }));
    ap(b.conv(c, 1, { activation: "relu", name: `nin_block_${i}_1x1a` }));
    ap(b.conv(c, 1, { activation: "relu", name: `nin_block_${i}` }));
  };
  block(1, 96, 11, 4, "valid");
  ap(b.pool("max", 3, 2, "valid", "pool1"));
  block(2, 256, 5, 1, "same");
  ap(b.pool("max", 3, 2, "valid", "pool2"));
  block(3, 384, 3, 1, "same");
  ap(b.pool("max", 3, 2, "valid", "pool3"));
  const drop = opts.dropout ?? 0.5;
  if (drop > 0) ap(b.dropout(drop, "dropout"));
  block(4, 10, 3, 1, "same");
  ap(tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }));
  return markBlocks(tf.model({ inputs: input, outputs: x, name: "nin" }), [1, 2, 3, 4].map((i) => `nin_block_${i}`));
}

export const NIN_MODELS: ModelEntry<NinOptions>[] = [{
  name: "nin",
  options: optionList<NinOptions>()(["inputSize", "seed", "dropout"]),
  family: "NiN",
  description: "Network in Network (d2l): 1×1 convs, global average pooling, no dense layers",
  defaultSize: NIN_DEFAULT_SIZE,
  defaults: {},
  build: nin,
  minSize: () => minimumSize(ninFits),
  scale: {},
  recipe: D2L_SGD(0.1),
}];
