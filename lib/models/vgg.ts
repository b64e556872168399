/**
 * VGG (d2l): blocks of `convs` 3×3 convolutions (pad 1, ReLU) followed by a 2×2 max-pool,
 * then dense → dropout → dense → dropout → 10. `ratio` divides every channel count and the
 * dense width (the original submission used VGG-11 with ratio 8, dense 4096/8). The flatten
 * size follows from the input size: (size / 2^blocks)² × last channels.
 */
import * as tf from "@tensorflow/tfjs";
import { Builder, checkInputSize, checkPositiveInt, minimumSize, ModelError } from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { D2L_SGD, family, type ModelEntry, optionList, type Scaling } from "./entry.ts";

/** [convs, channels] per block. */
export type ConvArch = [number, number][];
export const VGG11: ConvArch = [[1, 64], [1, 128], [2, 256], [2, 512], [2, 512]];
export const VGG_DEFAULT_SIZE = 224;

export interface VggOptions {
  inputSize?: number;
  convArch?: ConvArch;
  /** Divides every channel count and the dense width (default 1). */
  ratio?: number;
  /** Dense width before division by ratio (default 4096). */
  denseWidth?: number;
  dropout?: number;
  seed?: number;
}

export function vggFits(blocks: number): (n: number) => boolean {
  return (n) => Math.floor(n / 2 ** blocks) >= 1;
}

export function vgg(opts: VggOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? VGG_DEFAULT_SIZE;
  const arch = opts.convArch ?? VGG11;
  if (!Array.isArray(arch) || arch.length === 0) throw new ModelError("convArch must list at least one block");
  arch.forEach(([n, c], i) => {
    checkPositiveInt(`convArch[${i}] convs`, n);
    checkPositiveInt(`convArch[${i}] channels`, c);
  });
  checkInputSize(`VGG (${arch.length} blocks)`, size, vggFits(arch.length));
  const ratio = checkPositiveInt("ratio", opts.ratio ?? 1);
  const dense = checkPositiveInt("denseWidth / ratio", Math.floor((opts.denseWidth ?? 4096) / ratio));
  const drop = opts.dropout ?? 0.5;
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const ap = (l: tf.layers.Layer) => (x = l.apply(x) as tf.SymbolicTensor);
  const blocks: string[] = [];
  arch.forEach(([convs, channels], i) => {
    const c = checkPositiveInt(`channels ${channels} / ratio ${ratio}`, Math.floor(channels / ratio));
    for (let j = 0; j < convs; j++) {
      ap(b.conv(c, 3, { padding: "same", activation: "relu", name: `vgg_block_${i + 1}_conv${j + 1}` }));
    }
    ap(b.pool("max", 2, 2, "valid", `vgg_block_${i + 1}`));
    blocks.push(`vgg_block_${i + 1}`);
  });
  ap(tf.layers.flatten({ name: "flatten" }));
  ap(b.dense(dense, "relu", "fc1"));
  if (drop > 0) ap(b.dropout(drop, "fc1_dropout"));
  ap(b.dense(dense, "relu", "fc2"));
  if (drop > 0) ap(b.dropout(drop, "fc2_dropout"));
  ap(b.dense(10, "linear", "output"));
  return markBlocks(tf.model({ inputs: input, outputs: x, name: "vgg" }), blocks);
}

const VGG_OPTIONS = optionList<VggOptions>()(["inputSize", "seed", "convArch", "ratio", "denseWidth", "dropout"]);

/** VGG divides its channels by an integer ratio: widthScale s makes it ratio / s, which must stay an integer. */
const vggWidth: Scaling<VggOptions>["widthScale"] = (o, s) => {
  const ratio = (o.ratio ?? 1) / s;
  if (!Number.isInteger(ratio)) {
    throw new ModelError(`VGG: widthScale ${s} turns channel ratio ${o.ratio ?? 1} into ${ratio}, not an integer`);
  }
  return { ...o, ratio };
};

export const VGG_MODELS: ModelEntry<VggOptions>[] = family<VggOptions>({
  options: VGG_OPTIONS,
  family: "VGG",
  defaultSize: VGG_DEFAULT_SIZE,
  build: vgg,
  minSize: (o) => minimumSize(vggFits((o.convArch ?? VGG11).length)),
  scale: { widthScale: vggWidth },
}, [
  {
    name: "vgg11",
    description: "VGG-11 at full width: blocks (1,64) (1,128) (2,256) (2,512) (2,512), dense 4096",
    defaults: { convArch: VGG11 },
    recipe: D2L_SGD(0.05),
  },
  {
    name: "vgg11-r8",
    description: "VGG-11 with every channel count and the dense width divided by 8 (the original submission's)",
    defaults: { convArch: VGG11, ratio: 8 },
    recipe: {
      optimizer: "adam",
      lr: 0.001,
      batchSize: 128,
      epochs: 5,
      source: "the original submission (Adam 0.001, 5 epochs)",
    },
  },
]);
