/**
 * Every tfjs internal cnnlab reaches past the public API, behind one small typed module (as tfjs's
 * own kernel_names.ts names its kernels): each accessor says what it reaches and why, so a tfjs
 * upgrade is checked here and in tests/tfjs_internals_test.ts, not across the code base.
 * Pinned tfjs: 4.22 (deno.json).
 */
import * as tf from "@tensorflow/tfjs";

// ---------------------------------------------------------------- kernels

/**
 * A kernel function with typed arguments, registered as tfjs's loosely typed KernelFunc (which
 * types inputs and attrs as bags): the backends' kernels take their own typed `{inputs, backend, attrs}`.
 */
export function asKernelFunc<A>(f: (args: A) => unknown): tf.KernelFunc {
  return f as unknown as tf.KernelFunc;
}

/** A registered kernel's function, typed as the caller calls it (to wrap or reuse a stock kernel). */
export function kernelFuncOf<F>(kernel: tf.KernelConfig): F {
  return kernel.kernelFunc as unknown as F;
}

// ---------------------------------------------------------------- engine

/** The engine's parts the WebGPU kernel guard and early release wrap. */
export interface EngineInternals {
  runKernel(name: string, inputs: Record<string, tf.TensorInfo>, attrs: unknown): tf.TensorInfo | tf.TensorInfo[];
  addTapeNode(...args: unknown[]): void;
  state: { activeTape: TapeNode[] | null };
}

/** A node of the gradient tape, as tfjs records it (the gradient closures and the tensors it saved). */
export interface TapeNode {
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

export function engineInternals(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

/**
 * Silence a CPU backend's first-use advert for tfjs-node (printed under Deno): its `firstUse`
 * flag is internal to tfjs-backend-cpu.
 */
export function quietFirstUse(backend: object | null): void {
  if (backend) (backend as { firstUse?: boolean }).firstUse = false;
}

// ---------------------------------------------------------------- layers and variables

/** The tf.Variable behind a layer's weight (`LayerVariable.val`), which gradients and optimizers need. */
export function weightVariable(w: tf.LayerVariable): tf.Variable {
  return (w as unknown as { val: tf.Variable }).val;
}

/** The layers feeding `layer` in its (first) call (`inboundNodes`, internal to tfjs-layers). */
export function inboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  const nodes = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
  return nodes[0]?.inboundLayers ?? [];
}

/** A Conv2D layer's configuration and weights as its `call` reads them. */
export interface Conv2DInternals {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  strides: [number, number];
  padding: string;
  dilationRate: number[];
  dataFormat: string;
  activation: { getClassName(): string };
}

export function conv2dInternals(layer: tf.layers.Layer): Conv2DInternals {
  return layer as unknown as Conv2DInternals;
}

/** A BatchNormalization layer's configuration and weights as its `call` reads them. */
export interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export function batchNormInternals(layer: tf.layers.Layer): BatchNormInternals {
  return layer as unknown as BatchNormInternals;
}

// ---------------------------------------------------------------- optimizers

/** A tfjs variable slot of an optimizer (`{originalName, variable}`). */
export interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** Adam's moments, bias-correction accumulators and epsilon, as its `applyGradients` keeps them. */
export interface AdamInternals {
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  epsilon: number;
}

export function adamInternals(opt: tf.AdamOptimizer): AdamInternals {
  return opt as unknown as AdamInternals;
}

/** Set an optimizer's learning rate in place: SGD caches it as a tensor behind `setLearningRate`, others read `learningRate`. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  else o.learningRate = lr;
}
