/**
 * The Inception family after GoogLeNet, scaled to Fashion-MNIST's 96-pixel inputs:
 *
 * - BN-Inception / Inception v2 (Ioffe & Szegedy 2015): BN after every convolution, each
 *   5×5 branch replaced by two stacked 3×3 convolutions, the paper's module table (3a–5b)
 *   with stride-2 modules 3c and 4e doing grid reduction.
 * - Inception v3 (Szegedy et al. 2016): the paper's Figure 5 modules on the first grid,
 *   factorised n×n → 1×n + n×1 modules on the middle grid, expanded-filter-bank modules on
 *   the last grid, and efficient grid reduction (parallel stride-2 conv and pool branches);
 *   optional auxiliary classifier.
 * - Inception-ResNet-v1 (Szegedy et al. 2017), scaled down: Inception-ResNet-A/B/C blocks
 *   whose branch outputs are projected by a linear 1×1 conv, scaled (0.17/0.10/0.20) and
 *   added to the block input; Reduction-A/B between grids.
 *
 * Grids at 96 inputs: the stem reduces 96 → 12 (paper: 299 → 35), the first reduction to 6
 * (paper: 17), the second to 3 (paper: 8). Every conv is conv (no bias) → BN → ReLU, as in
 * the papers' reference implementations, except the residual up-projections (linear, bias).
 *
 * Why n = 3 for the factorised modules on the 6×6 middle grid: the paper picks n = 7 on a
 * 17×17 grid, i.e. each 1×n sees ~40% of the row. On a 6-pixel row a 1×7 kernel is wider
 * than the map, so with 'same' padding most of its taps read padding at every position.
 * n = 3 keeps every tap on real pixels for interior positions, and the two stacked
 * (1×3, 3×1) pairs of the deep branch still reach a 5×5 field — most of the 6×6 grid —
 * at a ninth of the parameters of a 7×7 factorisation.
 */
import * as tf from "@tensorflow/tfjs";
import {
  Builder,
  checkInputSize,
  checkPositiveInt,
  minimumSize,
  ModelError,
  type Stem,
  stemOption,
  widthScaler,
} from "./common.ts";
import { markBlocks } from "./inspect.ts";
import { type ModelEntry, optionList, type TrainingRecipe, widthBy } from "./entry.ts";

export const INCEPTION_DEFAULT_SIZE = 96;
/** Factorisation size n on the middle grid at the default input size (see file comment). */
export const FACTOR_N = 3;

type T = tf.SymbolicTensor;
type K = number | [number, number];

/** conv (no bias) → BN → ReLU. */
function cbr(b: Builder, x: T, c: number, k: K, name: string, strides = 1, padding: "same" | "valid" = "same"): T {
  return b.convBn(x, c, k, { conv: name, bn: `${name}_bn`, relu: `${name}_relu`, strides, padding, useBias: false });
}

const concat = (xs: T[], name: string) => tf.layers.concatenate({ axis: -1, name }).apply(xs) as T;
const pool = (kind: "max" | "avg", x: T, name: string, strides = 1) =>
  (kind === "max" ? tf.layers.maxPooling2d : tf.layers.averagePooling2d)({
    poolSize: 3,
    strides,
    padding: "same",
    name,
  }).apply(x) as T;

/**
 * Stem /8 (/1 when small) then two stride-2 reductions: the smallest side keeping the last grid ≥ 1
 * real pixel with 'same' padding (BN-Inception: stem /4, two reductions; held to the same minimum).
 */
export function inceptionFits(stem: Stem = "imagenet"): (n: number) => boolean {
  return (n) => n >= (stem === "small" ? 4 : 32);
}

/** The last conv → BN → ReLU of a small stem, its ReLU named "stem" (the block the probes read). */
function stemOut(b: Builder, x: T, c: number, k: K): T {
  return b.convBn(x, c, k, { conv: "stem_conv", bn: "stem_bn", relu: "stem", padding: "same", useBias: false });
}

// ---------------------------------------------------------------- BN-Inception (v2)

/** #1×1, #3×3 reduce, #3×3, double #3×3 reduce, double #3×3, pool, pool proj (0 = pass-through); stride 2 when #1×1 is 0. */
export type BnInceptionSpec = [number, number, number, number, number, "avg" | "max", number];

export const BN_INCEPTION_MODULES: Record<string, BnInceptionSpec> = {
  inception_3a: [64, 64, 64, 64, 96, "avg", 32],
  inception_3b: [64, 64, 96, 64, 96, "avg", 64],
  inception_3c: [0, 128, 160, 64, 96, "max", 0],
  inception_4a: [224, 64, 96, 96, 128, "avg", 128],
  inception_4b: [192, 96, 128, 96, 128, "avg", 128],
  inception_4c: [160, 128, 160, 128, 160, "avg", 128],
  inception_4d: [96, 128, 192, 160, 192, "avg", 128],
  inception_4e: [0, 128, 192, 192, 256, "max", 0],
  inception_5a: [352, 192, 320, 160, 224, "avg", 128],
  inception_5b: [352, 192, 320, 192, 224, "max", 128],
};

export interface InceptionOptions {
  inputSize?: number;
  /** Multiplier on every channel count (default 1 = the paper's widths). */
  width?: number;
  /** "small": the stem without its downsampling (see `Stem`); default "imagenet". */
  stem?: Stem;
  seed?: number;
}

export function bnInception(opts: InceptionOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? INCEPTION_DEFAULT_SIZE;
  const stem = stemOption(opts.stem);
  checkInputSize("BN-Inception", size, inceptionFits(stem));
  const w = widthScaler(opts.width ?? 1);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  // The small stem: the same convolutions, the 7×7/2 as a 3×3/1, without the pools.
  const small = stem === "small";
  let x = small ? cbr(b, input, w(64), 3, "stem_conv3x3a") : cbr(b, input, w(64), 7, "stem_conv7x7", 2);
  if (!small) x = pool("max", x, "stem_pool1", 2);
  x = cbr(b, x, w(64), 1, "stem_conv1x1");
  x = small ? stemOut(b, x, w(192), 3) : pool("max", cbr(b, x, w(192), 3, "stem_conv3x3"), "stem", 2);
  for (const [name, [c1, r3, c3, rd, cd, kind, proj]] of Object.entries(BN_INCEPTION_MODULES)) {
    const s = c1 === 0 ? 2 : 1;
    const branches: T[] = [];
    if (c1 > 0) branches.push(cbr(b, x, w(c1), 1, `${name}_b1_1x1`));
    branches.push(cbr(b, cbr(b, x, w(r3), 1, `${name}_b2_1x1`), w(c3), 3, `${name}_b2_3x3`, s));
    let d = cbr(b, x, w(rd), 1, `${name}_b3_1x1`);
    d = cbr(b, d, w(cd), 3, `${name}_b3_3x3a`);
    branches.push(cbr(b, d, w(cd), 3, `${name}_b3_3x3b`, s));
    const p = pool(kind, x, `${name}_b4_pool`, s);
    branches.push(proj > 0 ? cbr(b, p, w(proj), 1, `${name}_b4_1x1`) : p);
    x = concat(branches, name);
  }
  x = tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }).apply(x) as T;
  x = b.dense(10, "linear", "output").apply(x) as T;
  return markBlocks(tf.model({ inputs: input, outputs: x, name: "bn_inception" }), [
    "stem",
    ...Object.keys(BN_INCEPTION_MODULES),
  ]);
}

// ---------------------------------------------------------------- Inception v3

/**
 * The v3 stem up to its last 3×3 conv (96 → 24): conv 3×3/2, 3×3, 3×3, max-pool /2, 1×1 80,
 * 3×3 192. Inception v3 ends it with a max-pool, Inception-ResNet-v1 with a stride-2 conv. The
 * small stem keeps every convolution at stride 1 and drops the pool (28 → 28); `endsStem` makes
 * the last 3×3 the stem's output (Inception v3's small stem, which has no pool to end on).
 */
function stemTrunk(b: Builder, input: T, w: (c: number) => number, small: boolean, endsStem: boolean): T {
  let x = cbr(b, input, w(32), 3, "stem_conv1", small ? 1 : 2);
  x = cbr(b, x, w(32), 3, "stem_conv2");
  x = cbr(b, x, w(64), 3, "stem_conv3");
  if (!small) x = pool("max", x, "stem_pool1", 2);
  x = cbr(b, x, w(80), 1, "stem_conv4");
  return endsStem ? stemOut(b, x, w(192), 3) : cbr(b, x, w(192), 3, "stem_conv5");
}

/**
 * Reduction-A (Szegedy et al. 2017, Figure 7) with filter counts k, l, m, n: a stride-2 3×3 conv
 * (k), a 1×1 (l) → 3×3 (m) → stride-2 3×3 (n) branch, and a stride-2 max-pool, concatenated.
 * Inception v3's grid reduction is its (384, 64, 96, 96) case, Inception-ResNet-v1's (384, 192, 192, 256).
 */
function reductionA(b: Builder, x: tf.SymbolicTensor, [k, l, m, n]: [number, number, number, number]) {
  const r1 = cbr(b, x, k, 3, "reduction_a_b1_3x3", 2);
  let r2 = cbr(b, x, l, 1, "reduction_a_b2_1x1");
  r2 = cbr(b, cbr(b, r2, m, 3, "reduction_a_b2_3x3a"), n, 3, "reduction_a_b2_3x3b", 2);
  return concat([r1, r2, pool("max", x, "reduction_a_pool", 2)], "reduction_a");
}

export interface InceptionV3Options extends InceptionOptions {
  /** Auxiliary classifier on the middle grid (model then has outputs [main, aux]). */
  auxHead?: boolean;
  /** Factorisation size on the middle grid (default 3, see file comment). */
  n?: number;
  /** Dropout before the classifier (default 0.2). */
  dropout?: number;
}

/** Pool-projection widths of the three first-grid modules, and the 1×n branch widths of the four middle-grid modules. */
export const V3_A_POOL = [32, 64, 64];
export const V3_C_WIDTH = [128, 160, 160, 192];

export function inceptionV3(opts: InceptionV3Options = {}): tf.LayersModel {
  const size = opts.inputSize ?? INCEPTION_DEFAULT_SIZE;
  const stem = stemOption(opts.stem);
  checkInputSize("Inception v3", size, inceptionFits(stem));
  const n = checkPositiveInt("n", opts.n ?? FACTOR_N);
  const w = widthScaler(opts.width ?? 1);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = stem === "small"
    ? stemTrunk(b, input, w, true, true)
    : pool("max", stemTrunk(b, input, w, false, false), "stem", 2);
  const blocks = ["stem"];
  // First grid: Figure 5 modules (5×5 as two 3×3).
  V3_A_POOL.forEach((pf, i) => {
    const name = `mixed_a${i + 1}`;
    const b1 = cbr(b, x, w(64), 1, `${name}_b1_1x1`);
    const b2 = cbr(b, cbr(b, x, w(48), 1, `${name}_b2_1x1`), w(64), 3, `${name}_b2_3x3`);
    let b3 = cbr(b, x, w(64), 1, `${name}_b3_1x1`);
    b3 = cbr(b, cbr(b, b3, w(96), 3, `${name}_b3_3x3a`), w(96), 3, `${name}_b3_3x3b`);
    const b4 = cbr(b, pool("avg", x, `${name}_b4_pool`), w(pf), 1, `${name}_b4_1x1`);
    x = concat([b1, b2, b3, b4], name);
    blocks.push(name);
  });
  // Grid reduction (Figure 10): stride-2 conv branches in parallel with a stride-2 pool.
  x = reductionA(b, x, [w(384), w(64), w(96), w(96)]);
  blocks.push("reduction_a");
  // Middle grid: Figure 6 modules, n×n factorised into 1×n and n×1.
  let aux: T | null = null;
  V3_C_WIDTH.forEach((c7, i) => {
    const name = `mixed_b${i + 1}`;
    const b1 = cbr(b, x, w(192), 1, `${name}_b1_1x1`);
    let b2 = cbr(b, x, w(c7), 1, `${name}_b2_1x1`);
    b2 = cbr(b, cbr(b, b2, w(c7), [1, n], `${name}_b2_1xn`), w(192), [n, 1], `${name}_b2_nx1`);
    let b3 = cbr(b, x, w(c7), 1, `${name}_b3_1x1`);
    b3 = cbr(b, b3, w(c7), [n, 1], `${name}_b3_nx1a`);
    b3 = cbr(b, b3, w(c7), [1, n], `${name}_b3_1xna`);
    b3 = cbr(b, b3, w(c7), [n, 1], `${name}_b3_nx1b`);
    b3 = cbr(b, b3, w(192), [1, n], `${name}_b3_1xnb`);
    const b4 = cbr(b, pool("avg", x, `${name}_b4_pool`), w(192), 1, `${name}_b4_1x1`);
    x = concat([b1, b2, b3, b4], name);
    blocks.push(name);
  });
  if (opts.auxHead) {
    // Paper: 5×5/3 avg-pool, 1×1 conv 128, then a classifier; BN as in the reference code.
    let a = tf.layers.averagePooling2d({ poolSize: 5, strides: 3, padding: "same", name: "aux_pool" }).apply(x) as T;
    a = cbr(b, a, w(128), 1, "aux_1x1");
    a = tf.layers.globalAveragePooling2d({ name: "aux_gap" }).apply(a) as T;
    a = b.dense(w(768), "relu", "aux_fc").apply(a) as T;
    aux = b.dense(10, "linear", "aux").apply(a) as T;
  }
  {
    let r1 = cbr(b, x, w(192), 1, "reduction_b_b1_1x1");
    r1 = cbr(b, r1, w(320), 3, "reduction_b_b1_3x3", 2);
    let r2 = cbr(b, x, w(192), 1, "reduction_b_b2_1x1");
    r2 = cbr(b, cbr(b, r2, w(192), [1, n], "reduction_b_b2_1xn"), w(192), [n, 1], "reduction_b_b2_nx1");
    r2 = cbr(b, r2, w(192), 3, "reduction_b_b2_3x3", 2);
    x = concat([r1, r2, pool("max", x, "reduction_b_pool", 2)], "reduction_b");
    blocks.push("reduction_b");
  }
  // Last grid: Figure 7 modules (expanded filter bank outputs).
  for (let i = 0; i < 2; i++) {
    const name = `mixed_c${i + 1}`;
    const b1 = cbr(b, x, w(320), 1, `${name}_b1_1x1`);
    const b2 = cbr(b, x, w(384), 1, `${name}_b2_1x1`);
    const b2a = cbr(b, b2, w(384), [1, 3], `${name}_b2_1x3`);
    const b2b = cbr(b, b2, w(384), [3, 1], `${name}_b2_3x1`);
    let b3 = cbr(b, x, w(448), 1, `${name}_b3_1x1`);
    b3 = cbr(b, b3, w(384), 3, `${name}_b3_3x3`);
    const b3a = cbr(b, b3, w(384), [1, 3], `${name}_b3_1x3`);
    const b3b = cbr(b, b3, w(384), [3, 1], `${name}_b3_3x1`);
    const b4 = cbr(b, pool("avg", x, `${name}_b4_pool`), w(192), 1, `${name}_b4_1x1`);
    x = concat([b1, b2a, b2b, b3a, b3b, b4], name);
    blocks.push(name);
  }
  x = tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }).apply(x) as T;
  const drop = opts.dropout ?? 0.2;
  if (drop > 0) x = b.dropout(drop, "dropout").apply(x) as T;
  x = b.dense(10, "linear", "output").apply(x) as T;
  return markBlocks(tf.model({ inputs: input, outputs: aux ? [x, aux] : x, name: "inception_v3" }), blocks);
}

// ---------------------------------------------------------------- Inception-ResNet-v1

export interface InceptionResNetOptions extends InceptionOptions {
  /** Blocks per grid [A, B, C]; the paper's v1 uses [5, 10, 5]; default [2, 4, 2] (scaled down). */
  repeats?: [number, number, number];
  /** Residual scales for A/B/C blocks (paper: 0.1–0.3; default [0.17, 0.10, 0.20]). */
  scales?: [number, number, number];
  n?: number;
  dropout?: number;
}

export const IR_DEFAULT_REPEATS: [number, number, number] = [2, 4, 2];
export const IR_DEFAULT_SCALES: [number, number, number] = [0.17, 0.1, 0.2];

function residualJoin(b: Builder, x: T, branches: T[], channels: number, scale: number, name: string): T {
  const mixed = concat(branches, `${name}_concat`);
  const up = b.conv(channels, 1, { name: `${name}_up` }).apply(mixed) as T; // linear, with bias
  const s = tf.layers.rescaling({ scale, name: `${name}_scale` }).apply(up) as T;
  const sum = tf.layers.add({ name: `${name}_add` }).apply([x, s]) as T;
  return b.relu(name).apply(sum) as T;
}

export function inceptionResNet(opts: InceptionResNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? INCEPTION_DEFAULT_SIZE;
  const stem = stemOption(opts.stem);
  checkInputSize("Inception-ResNet", size, inceptionFits(stem));
  const [ra, rb, rc] = opts.repeats ?? IR_DEFAULT_REPEATS;
  [ra, rb, rc].forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0) throw new ModelError(`repeats[${i}] must be a non-negative integer, got ${r}`);
  });
  const [sa, sb, sc] = opts.scales ?? IR_DEFAULT_SCALES;
  const n = checkPositiveInt("n", opts.n ?? FACTOR_N);
  const w = widthScaler(opts.width ?? 1);
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  const trunk = stemTrunk(b, input, w, stem === "small", false);
  let x = stem === "small" ? stemOut(b, trunk, w(256), 3) : cbr(b, trunk, w(256), 3, "stem", 2);
  const blocks = ["stem"];
  let ch = w(256);
  for (let i = 0; i < ra; i++) {
    const name = `block_a${i + 1}`;
    const b1 = cbr(b, x, w(32), 1, `${name}_b1_1x1`);
    const b2 = cbr(b, cbr(b, x, w(32), 1, `${name}_b2_1x1`), w(32), 3, `${name}_b2_3x3`);
    let b3 = cbr(b, x, w(32), 1, `${name}_b3_1x1`);
    b3 = cbr(b, cbr(b, b3, w(32), 3, `${name}_b3_3x3a`), w(32), 3, `${name}_b3_3x3b`);
    x = residualJoin(b, x, [b1, b2, b3], ch, sa, name);
    blocks.push(name);
  }
  x = reductionA(b, x, [w(384), w(192), w(192), w(256)]);
  ch = w(384) + w(256) + ch;
  blocks.push("reduction_a");
  for (let i = 0; i < rb; i++) {
    const name = `block_b${i + 1}`;
    const b1 = cbr(b, x, w(128), 1, `${name}_b1_1x1`);
    let b2 = cbr(b, x, w(128), 1, `${name}_b2_1x1`);
    b2 = cbr(b, cbr(b, b2, w(128), [1, n], `${name}_b2_1xn`), w(128), [n, 1], `${name}_b2_nx1`);
    x = residualJoin(b, x, [b1, b2], ch, sb, name);
    blocks.push(name);
  }
  {
    const p = pool("max", x, "reduction_b_pool", 2);
    const r1 = cbr(b, cbr(b, x, w(256), 1, "reduction_b_b1_1x1"), w(384), 3, "reduction_b_b1_3x3", 2);
    const r2 = cbr(b, cbr(b, x, w(256), 1, "reduction_b_b2_1x1"), w(256), 3, "reduction_b_b2_3x3", 2);
    let r3 = cbr(b, x, w(256), 1, "reduction_b_b3_1x1");
    r3 = cbr(b, cbr(b, r3, w(256), 3, "reduction_b_b3_3x3a"), w(256), 3, "reduction_b_b3_3x3b", 2);
    x = concat([p, r1, r2, r3], "reduction_b");
    ch = ch + w(384) + w(256) + w(256);
    blocks.push("reduction_b");
  }
  for (let i = 0; i < rc; i++) {
    const name = `block_c${i + 1}`;
    const b1 = cbr(b, x, w(192), 1, `${name}_b1_1x1`);
    let b2 = cbr(b, x, w(192), 1, `${name}_b2_1x1`);
    b2 = cbr(b, cbr(b, b2, w(192), [1, 3], `${name}_b2_1x3`), w(192), [3, 1], `${name}_b2_3x1`);
    x = residualJoin(b, x, [b1, b2], ch, sc, name);
    blocks.push(name);
  }
  x = tf.layers.globalAveragePooling2d({ name: "global_avg_pool" }).apply(x) as T;
  const drop = opts.dropout ?? 0.2;
  if (drop > 0) x = b.dropout(drop, "dropout").apply(x) as T;
  x = b.dense(10, "linear", "output").apply(x) as T;
  return markBlocks(tf.model({ inputs: input, outputs: x, name: "inception_resnet" }), blocks);
}

/** One Inception-family entry: 96-px default, the paper's widths scaled by widthScale. */
function inceptionEntry<O extends InceptionOptions>(
  name: string,
  options: readonly string[],
  description: string,
  build: (o: O) => tf.LayersModel,
  recipe: TrainingRecipe,
): ModelEntry<O> {
  return {
    name,
    options,
    family: "Inception",
    description,
    defaultSize: INCEPTION_DEFAULT_SIZE,
    defaults: {} as O,
    build,
    minSize: (o) => minimumSize(inceptionFits(o.stem)),
    scale: { widthScale: widthBy<O, "width">("width") },
    recipe,
  };
}

const RMSPROP_PAPER = { optimizer: "rmsprop", lr: 0.045, batchSize: 128, epochs: 10, clipNorm: 2.0 } as const;

export const INCEPTION_MODELS = [
  inceptionEntry<InceptionOptions>(
    "bn-inception",
    optionList<InceptionOptions>()(["inputSize", "seed", "width", "stem"]),
    "BN-Inception / Inception v2 (Ioffe & Szegedy 2015): BN everywhere, 5×5 as two 3×3",
    bnInception,
    {
      optimizer: "momentum",
      lr: 0.045,
      momentum: 0.9,
      batchSize: 128,
      epochs: 10,
      source: "Ioffe & Szegedy 2015 (SGD with momentum, learning rate raised to 0.045)",
    },
  ),
  inceptionEntry<InceptionV3Options>(
    "inception-v3",
    optionList<InceptionV3Options>()(["inputSize", "seed", "width", "auxHead", "n", "dropout", "stem"]),
    "Inception v3 (Szegedy et al. 2016): factorised convolutions, efficient grid reduction",
    inceptionV3,
    {
      ...RMSPROP_PAPER,
      labelSmoothing: 0.1,
      source: "Szegedy et al. 2016 (RMSProp decay 0.9 ε 1.0, lr 0.045, label smoothing 0.1, clipping 2.0)",
    },
  ),
  inceptionEntry<InceptionResNetOptions>(
    "inception-resnet",
    optionList<InceptionResNetOptions>()(["inputSize", "seed", "width", "repeats", "scales", "n", "dropout", "stem"]),
    "Inception-ResNet-v1 (Szegedy et al. 2017), scaled down: residual Inception blocks A/B/C ×[2,4,2]",
    inceptionResNet,
    { ...RMSPROP_PAPER, source: "Szegedy et al. 2017 (RMSProp decay 0.9 ε 1.0, lr 0.045)" },
  ),
] as const;
