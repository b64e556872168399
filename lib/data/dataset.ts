/**
 * Training-side view of Fashion-MNIST: splits, seeded shuffling, stratified subsets,
 * scaling/normalisation, per-batch resizing and augmentation.
 *
 * Images stay as bytes (55 MB for the whole set). Float tensors exist only per batch,
 * resized on the fly: 60,000 images at 224×224 would be 12 GB of float32.
 */
import * as tf from "@tensorflow/tfjs";
import { DataError, loadFashionMnist, type LocateOptions } from "./fashion_mnist.ts";
import { permutation, Rng } from "../util/rng.ts";

export const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const NUM_CLASSES = 10;

/** Mix a seed with a salt (epoch number, purpose) into a new 31-bit seed. */
export function mixSeed(seed: number, salt: number): number {
  let h = (Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul((salt | 0) + 0x165667b1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 13)) & 0x7fffffff;
}

/** A set of examples: shared byte arrays plus the indices that belong to this view. */
export class Split {
  constructor(
    readonly name: string,
    readonly images: Uint8Array,
    readonly labels: Uint8Array,
    readonly indices: Uint32Array,
  ) {}

  static whole(name: string, images: Uint8Array, labels: Uint8Array): Split {
    const n = labels.length;
    if (images.length !== n * PIXELS) {
      throw new DataError(`${name}: ${images.length} image bytes for ${n} labels`);
    }
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return new Split(name, images, labels, idx);
  }

  get size(): number {
    return this.indices.length;
  }

  /** Examples per class, in class order. */
  classCounts(): number[] {
    const c = new Array(NUM_CLASSES).fill(0);
    for (const i of this.indices) c[this.labels[i]]++;
    return c;
  }

  /**
   * `perClass` examples of every class, drawn with `seed`, returned in a seeded
   * shuffled order (classes interleaved).
   */
  stratified(perClass: number, seed: number): Split {
    if (!Number.isInteger(perClass) || perClass <= 0) {
      throw new RangeError(`stratified: perClass must be a positive integer, got ${perClass}`);
    }
    const counts = this.classCounts();
    const short = counts.findIndex((c) => c < perClass);
    if (short >= 0) {
      throw new RangeError(
        `stratified: ${this.name} has only ${counts[short]} examples of class ${short}, ${perClass} asked`,
      );
    }
    const order = permutation(this.size, mixSeed(seed, 1));
    const taken = new Array(NUM_CLASSES).fill(0);
    const out: number[] = [];
    for (const k of order) {
      const i = this.indices[k];
      const l = this.labels[i];
      if (taken[l] < perClass) {
        taken[l]++;
        out.push(i);
      }
    }
    return new Split(`${this.name}[${perClass}/class]`, this.images, this.labels, new Uint32Array(out));
  }

  /**
   * Split off `perClass` examples of every class (drawn with `seed`, as `stratified` does)
   * as `held`; `rest` keeps every other example, in this split's order.
   */
  holdout(perClass: number, seed: number): { held: Split; rest: Split } {
    const held = this.stratified(perClass, seed);
    const taken = new Set(held.indices);
    const rest = this.indices.filter((i) => !taken.has(i));
    return {
      held: new Split(`${this.name}[validation ${perClass}/class]`, this.images, this.labels, held.indices),
      rest: new Split(`${this.name}[without validation]`, this.images, this.labels, rest),
    };
  }

  /** Mean and standard deviation of pixel values scaled to [0, 1]. */
  pixelStats(): { mean: number; std: number } {
    let s = 0;
    let s2 = 0;
    for (const i of this.indices) {
      const off = i * PIXELS;
      let a = 0;
      let b = 0;
      for (let p = 0; p < PIXELS; p++) {
        const v = this.images[off + p];
        a += v;
        b += v * v;
      }
      s += a;
      s2 += b;
    }
    const n = this.size * PIXELS;
    const mean = s / n / 255;
    const variance = s2 / n / (255 * 255) - mean * mean;
    return { mean, std: Math.sqrt(Math.max(variance, 0)) };
  }
}

export interface Dataset {
  dir: string;
  train: Split;
  test: Split;
}

/** Load (and verify) Fashion-MNIST as two Splits. */
export async function fashionMnist(opts: LocateOptions & { verify?: boolean } = {}): Promise<
  Dataset
> {
  const raw = await loadFashionMnist(opts);
  return {
    dir: raw.dir,
    train: Split.whole("train", raw.train.images, raw.train.labels),
    test: Split.whole("test", raw.test.images, raw.test.labels),
  };
}

export interface Augment {
  /** Random horizontal flip with probability 0.5. */
  flip?: boolean;
  /** Random crop of the original size after zero padding by this many pixels per side. */
  cropPad?: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Side length fed to the network (bilinear resize per batch); default 28. */
  size?: number;
  /** Shuffle order (seeded by seed and epoch); default false. */
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Subtract mean and divide by std after scaling to [0,1]. */
  normalize?: { mean: number; std: number };
  augment?: Augment;
  /** Drop a final incomplete batch; default false. */
  dropLast?: boolean;
  /** Skip this many batches (resuming mid-epoch); default 0. */
  skipBatches?: number;
}

export interface Batch {
  /** [b, size, size, 1] float32 */
  x: tf.Tensor4D;
  /** [b] int32 class indices */
  y: tf.Tensor1D;
  /** Number of examples. */
  n: number;
}

/** Number of batches `batches()` yields for these options. */
export function batchCount(split: Split, opts: Pick<BatchOptions, "batchSize" | "dropLast">): number {
  return opts.dropLast ? Math.floor(split.size / opts.batchSize) : Math.ceil(split.size / opts.batchSize);
}

/**
 * Iterate over a split in batches. The caller owns (and must dispose) each batch's tensors.
 * Pixel work (scaling, flips, crops) happens on the 28×28 bytes in JS; only the final
 * resize runs as a tfjs op, per batch.
 */
export function* batches(split: Split, opts: BatchOptions): Generator<Batch> {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const size = opts.size ?? SIDE;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`size must be a positive integer, got ${size}`);
  }
  const seed = opts.seed ?? 0;
  const epoch = opts.epoch ?? 0;
  const order = opts.shuffle ? permutation(split.size, mixSeed(seed, 1000 + epoch)) : null;
  const rng = new Rng(mixSeed(seed, 2000 + epoch));
  const nBatches = batchCount(split, opts);
  const mean = opts.normalize?.mean ?? 0;
  const scale = 1 / (255 * (opts.normalize?.std ?? 1));
  const off = mean / (opts.normalize?.std ?? 1);
  const flip = opts.augment?.flip ?? false;
  const pad = opts.augment?.cropPad ?? 0;
  // Draw augmentation parameters for skipped batches too, so resumed runs see the same stream.
  for (let b = 0; b < nBatches; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, split.size - start);
    const px = new Float32Array(n * PIXELS);
    const ys = new Int32Array(n);
    const skip = b < (opts.skipBatches ?? 0);
    for (let k = 0; k < n; k++) {
      const i = split.indices[order ? order[start + k] : start + k];
      ys[k] = split.labels[i];
      const doFlip = flip && rng.next() < 0.5;
      const dy = pad ? rng.int(2 * pad + 1) - pad : 0;
      const dx = pad ? rng.int(2 * pad + 1) - pad : 0;
      if (skip) continue;
      const src = i * PIXELS;
      const dst = k * PIXELS;
      if (!doFlip && dy === 0 && dx === 0) {
        // The image as it is (every image without augmentation): one pass, no bounds checks,
        // the same arithmetic: 0.27 ms for a batch of 128 where the bounds-checked path took
        // 0.33 (LeNet's step takes 13).
        for (let p = 0; p < PIXELS; p++) px[dst + p] = split.images[src + p] * scale - off;
        continue;
      }
      for (let r = 0; r < SIDE; r++) {
        const sr = r + dy;
        for (let c = 0; c < SIDE; c++) {
          const cc = doFlip ? SIDE - 1 - c : c;
          const sc = cc + dx;
          const v = sr >= 0 && sr < SIDE && sc >= 0 && sc < SIDE ? split.images[src + sr * SIDE + sc] : 0;
          px[dst + r * SIDE + c] = v * scale - off;
        }
      }
    }
    if (skip) continue;
    const x = tf.tidy(() => {
      const t = tf.tensor4d(px, [n, SIDE, SIDE, 1]);
      return size === SIDE ? t : tf.image.resizeBilinear(t, [size, size]);
    });
    yield { x, y: tf.tensor1d(ys, "int32"), n };
  }
}
