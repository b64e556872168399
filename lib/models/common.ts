/**
 * Building blocks shared by every model family: seeded initializers, a dropout layer
 * whose mask stream is seeded (tfjs's own Dropout with a fixed seed reuses one mask on
 * every step), and input-size checking.
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dInternals } from "../util/tfjs_internals.ts";
import seedrandom from "seedrandom";
import { Rng } from "../util/rng.ts";
import { type ConvActivation, convBiasAct, relu } from "../ops/fused_conv.ts";
import { fuseBatchNorm } from "../ops/batch_norm.ts";

export class ModelError extends Error {
  override name = "ModelError";
}

export type Activation = "relu" | "sigmoid";
export const ACTIVATIONS: readonly Activation[] = ["relu", "sigmoid"];
export type Pooling = "max" | "avg";
export const POOLINGS: readonly Pooling[] = ["max", "avg"];

/** Per-model builder context: hands out seeds for initializers and dropout layers. */
export class Builder {
  readonly rng: Rng;
  #count = 0;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }

  /** A unique layer name with a readable prefix. */
  name(prefix: string): string {
    return `${prefix}_${++this.#count}`;
  }

  /** Glorot-uniform kernel initializer (d2l's `init_cnn` uses Xavier uniform). */
  kernel(): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.rng.fork() });
  }

  conv(
    filters: number,
    kernel: number | [number, number],
    opts: {
      strides?: number;
      padding?: "same" | "valid";
      activation?: Activation | "linear";
      name?: string;
      useBias?: boolean;
    } = {},
  ): tf.layers.Layer {
    const layer = tf.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides: opts.strides ?? 1,
      padding: opts.padding ?? "valid",
      activation: opts.activation ?? "linear",
      useBias: opts.useBias ?? true,
      kernelInitializer: this.kernel(),
      biasInitializer: "zeros",
      name: opts.name ?? this.name("conv"),
    });
    fuseConv(layer);
    return layer;
  }

  dense(units: number, activation: Activation | "linear" = "linear", name?: string): tf.layers.Layer {
    return tf.layers.dense({
      units,
      activation,
      kernelInitializer: this.kernel(),
      biasInitializer: "zeros",
      name: name ?? this.name("dense"),
    });
  }

  /**
   * Batch norm with PyTorch's defaults (momentum 0.1 in its convention, eps 1e-5); trains
   * through the native backend's fused kernels where available (lib/ops/batch_norm.ts).
   */
  batchNorm(name?: string): tf.layers.Layer {
    const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: name ?? this.name("bn") });
    fuseBatchNorm(layer);
    return layer;
  }

  /**
   * Keras's conv2d_bn, timm's ConvNormAct: conv → batch norm → ReLU (`relu: null` leaves the
   * ReLU out, as before a residual add), with the three layers' names given.
   */
  convBn(
    x: tf.SymbolicTensor,
    filters: number,
    kernel: number | [number, number],
    o: {
      conv: string;
      bn: string;
      relu: string | null;
      strides?: number;
      padding?: "same" | "valid";
      useBias?: boolean;
    },
  ): tf.SymbolicTensor {
    const c = this.conv(filters, kernel, { strides: o.strides, padding: o.padding, useBias: o.useBias, name: o.conv });
    const y = this.batchNorm(o.bn).apply(c.apply(x)) as tf.SymbolicTensor;
    return o.relu === null ? y : this.relu(o.relu).apply(y) as tf.SymbolicTensor;
  }

  /** A ReLU layer whose gradient is one masking pass (lib/ops/fused_conv.ts). */
  relu(name?: string): tf.layers.Layer {
    return withReluOp(tf.layers.reLU({ name: name ?? this.name("relu") }));
  }

  /** An activation layer; ReLU ones get the one-pass gradient too. */
  activation(activation: Activation, name?: string): tf.layers.Layer {
    const layer = tf.layers.activation({ activation, name: name ?? this.name("act") });
    return activation === "relu" ? withReluOp(layer) : layer;
  }

  dropout(rate: number, name?: string): tf.layers.Layer {
    return new SeededDropout({ rate, seed: this.rng.fork(), name: name ?? this.name("dropout") });
  }

  pool(
    kind: Pooling,
    size: number,
    strides: number,
    padding: "same" | "valid" = "valid",
    name?: string,
  ): tf.layers.Layer {
    const cfg = { poolSize: size, strides, padding, name: name ?? this.name(`${kind}pool`) };
    return kind === "max" ? tf.layers.maxPooling2d(cfg) : tf.layers.averagePooling2d(cfg);
  }

  zeroPad(p: number, name?: string): tf.layers.Layer {
    return tf.layers.zeroPadding2d({ padding: p, name: name ?? this.name("pad") });
  }
}

/**
 * Make a Conv2D layer compute through `convBiasAct`: one fused kernel (bias and
 * activation included) even while gradients are recorded, where tfjs would run conv, bias
 * add and activation separately, and no input gradient for a network's first layer.
 * The layer stays a tfjs Conv2D (same weights, config, serialisation and summaries).
 */
function fuseConv(layer: tf.layers.Layer): void {
  const conv = conv2dInternals(layer);
  const own = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const act = conv.activation.getClassName();
    if (
      conv.dilationRate.some((d) => d !== 1) || conv.dataFormat !== "channelsLast" || x.rank !== 4 ||
      !["linear", "relu", "sigmoid"].includes(act)
    ) {
      return own(inputs, kwargs); // tfjs's own path
    }
    return convBiasAct(
      x,
      conv.kernel.read() as tf.Tensor4D,
      conv.bias ? conv.bias.read() as tf.Tensor1D : null,
      conv.strides,
      conv.padding === "same" ? "same" : "valid",
      act as ConvActivation,
    );
  };
}

/** Make a ReLU (or relu Activation) layer compute through `relu` from fused_conv.ts. */
function withReluOp(layer: tf.layers.Layer): tf.layers.Layer {
  layer.call = (inputs) => relu((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor);
  return layer;
}

/** tfjs-core's generator for `tf.randomUniform` (seedrandom 3.0.5's alea, seeded by the seed's string). */
const alea = (seedrandom as unknown as { alea: (seed: string) => () => number }).alea;

/**
 * Dropout's keep mask: 1 where `tf.randomUniform(shape, 0, 1, "float32", seed).less(keep)` is
 * true — the same draws and the same float32 comparison, made in one JS loop instead of a
 * uniform tensor plus Less and Cast kernels (the cpu Less kernel broadcasting a scalar took
 * 10% of a laptop AlexNet step).
 */
export function keepMask(n: number, keep: number, seed: number): Float32Array {
  const draw = alea(String(seed));
  const k = Math.fround(keep);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = Math.fround(draw()) < k ? 1 : 0;
  return mask;
}

/**
 * Inverted dropout whose masks come from a seeded stream: step k of a run with seed s
 * always draws the same mask, and consecutive steps draw different ones.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "SeededDropout";
  readonly rate: number;
  #rng: Rng;

  constructor(cfg: { rate: number; seed: number; name?: string }) {
    super({ name: cfg.name });
    if (!(cfg.rate >= 0 && cfg.rate < 1)) throw new ModelError(`dropout rate must be in [0, 1), got ${cfg.rate}`);
    this.rate = cfg.rate;
    this.#rng = new Rng(cfg.seed);
  }

  /** Restart the mask stream (used when resuming a run at a known step). */
  reseed(seed: number): void {
    this.#rng = new Rng(seed);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const seed = this.#rng.fork();
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const mask = tf.tensor(keepMask(x.size, keep, seed), x.shape, "float32");
      return x.mul(mask).div(keep);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Channel counts scaled by a width multiplier: round(c × width), at least 1. */
export function widthScaler(width: number): (c: number) => number {
  if (!(width > 0) || !Number.isFinite(width)) throw new ModelError(`width must be a positive number, got ${width}`);
  return (c: number) => Math.max(1, Math.round(c * width));
}

export function checkPositiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new ModelError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * How a network meets its input. "imagenet": the paper's stem, which shrinks the image 4× (GoogLeNet,
 * BN-Inception, ResNet-18) or 8× (Inception v3, Inception-ResNet) before the first module; "small":
 * the same stem without its downsampling (a 7×7/2 first convolution becomes 3×3/1, its other strides
 * become 1, its pools go), as the CIFAR versions of these networks do, so that a 28-pixel image
 * reaches the first module at 28×28.
 */
export type Stem = "imagenet" | "small";
export const STEMS: readonly Stem[] = ["imagenet", "small"];

/** A builder's stem option, checked; "imagenet" when unset. */
export const stemOption = (v: string | undefined): Stem => checkChoice("stem", v ?? "imagenet", STEMS);

export function checkChoice<T extends string>(name: string, v: string, valid: readonly T[]): T {
  if (!(valid as readonly string[]).includes(v)) {
    throw new ModelError(`unknown ${name} '${v}'; valid: ${valid.join(", ")}`);
  }
  return v as T;
}

/** Output side of a conv/pool window: floor((n + 2p - k) / s) + 1. */
export function outSide(n: number, k: number, s = 1, p = 0): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/**
 * Smallest input side in [1, 1024] for which `fits` holds (fits must be monotone).
 * Used to give a too-small input a message naming the minimum.
 */
export function minimumSize(fits: (n: number) => boolean): number {
  for (let n = 1; n <= 1024; n++) if (fits(n)) return n;
  return Infinity;
}

export function checkInputSize(model: string, size: number, fits: (n: number) => boolean): void {
  checkPositiveInt("input size", size);
  if (!fits(size)) {
    throw new ModelError(
      `${model}: input size ${size} is too small for this architecture; the minimum is ${minimumSize(fits)}`,
    );
  }
}
