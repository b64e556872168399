/**
 * Optimizers, learning-rate schedules, weight decay and gradient clipping.
 * tfjs optimizers only apply gradients; decay and clipping happen here, between
 * `tf.variableGrads` and `optimizer.applyGradients`, as PyTorch does them.
 */
import * as tf from "@tensorflow/tfjs";
import { adamInternals, setLearningRate } from "../util/tfjs_internals.ts";
import { fusedAdamStep } from "../backend/training.ts";

export type OptimizerName = "sgd" | "momentum" | "adam" | "rmsprop";
export const OPTIMIZERS: readonly OptimizerName[] = ["sgd", "momentum", "adam", "rmsprop"];
export type ScheduleName = "constant" | "step" | "cosine";
export const SCHEDULES: readonly ScheduleName[] = ["constant", "step", "cosine"];

export interface OptimConfig {
  optimizer: OptimizerName;
  lr: number;
  /** SGD momentum (momentum optimizer; default 0.9). */
  momentum?: number;
  /** Coupled L2 weight decay added to every gradient (PyTorch's `weight_decay`). */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm. */
  clipNorm?: number;
  schedule?: ScheduleName;
  /** step schedule: multiply by `gamma` every `stepEpochs` epochs. */
  stepEpochs?: number;
  gamma?: number;
  /** Linear warm-up from 0 over this many epochs (fractional allowed), before the schedule. */
  warmupEpochs?: number;
}

export class OptimError extends Error {
  override name = "OptimError";
}

/** Validate a configuration; one error naming the field and its valid values. */
export function checkOptimConfig(c: OptimConfig): OptimConfig {
  if (!OPTIMIZERS.includes(c.optimizer)) {
    throw new OptimError(`unknown optimizer '${c.optimizer}'; valid: ${OPTIMIZERS.join(", ")}`);
  }
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) {
    throw new OptimError(`learning rate must be a positive number, got ${c.lr}`);
  }
  const sched = c.schedule ?? "constant";
  if (!SCHEDULES.includes(sched)) throw new OptimError(`unknown schedule '${sched}'; valid: ${SCHEDULES.join(", ")}`);
  for (const k of ["weightDecay", "clipNorm", "warmupEpochs", "momentum"] as const) {
    const v = c[k];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) {
      throw new OptimError(`${k} must be a finite number ≥ 0, got ${v}`);
    }
  }
  return c;
}

export function makeOptimizer(c: OptimConfig): tf.Optimizer {
  checkOptimConfig(c);
  switch (c.optimizer) {
    case "sgd":
      return tf.train.sgd(c.lr);
    case "momentum":
      return tf.train.momentum(c.lr, c.momentum ?? 0.9);
    case "adam":
      return new FusedAdam(c.lr);
    case "rmsprop":
      // Inception v3's recipe: decay 0.9, ε = 1.0.
      return tf.train.rmsprop(c.lr, 0.9, 0, 1.0);
  }
}

type NamedTensor = { name: string; tensor: tf.Tensor };

const ACC_BETA1 = "cnnlab/adam/accBeta1";
const ACC_BETA2 = "cnnlab/adam/accBeta2";

/**
 * tfjs's Adam (same defaults, state, checkpoint weights and arithmetic), with the update
 * of each variable done by one fused kernel on backend native: one pass over w, g, m, v
 * instead of ~12 element-wise ops (AlexNet: 47M parameters per step), in place when no
 * other tensor shares the buffers. On every other backend it is tfjs's own `applyGradients`.
 */
export class FusedAdam extends tf.AdamOptimizer {
  constructor(lr: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(lr, beta1, beta2, epsilon as number);
  }

  /**
   * tfjs's Adam state plus its two bias-correction accumulators. tfjs's own `setWeights`
   * recomputes them as β^(t+1), which differs in the last bits from the product accumulated
   * step by step, so a resumed run drifted from an uninterrupted one; saving them makes resume exact.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const self = adamInternals(this);
    return [
      ...(await super.getWeights()),
      { name: ACC_BETA1, tensor: self.accBeta1 },
      { name: ACC_BETA2, tensor: self.accBeta2 },
    ];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const self = adamInternals(this);
    await super.setWeights(weights.filter((w) => w.name !== ACC_BETA1 && w.name !== ACC_BETA2));
    for (const [name, v] of [[ACC_BETA1, self.accBeta1], [ACC_BETA2, self.accBeta2]] as const) {
      const w = weights.find((x) => x.name === name);
      if (w) v.assign(w.tensor.reshape([]));
    }
  }

  override applyGradients(grads: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    const hp = { lr: this.learningRate, beta1: this.beta1, beta2: this.beta2 };
    if (!fusedAdamStep(this, grads, hp)) return super.applyGradients(grads);
    this.incrementIterations();
  }
}

export { setLearningRate };

/** Learning rate at a (fractional) epoch position: warm-up, then the schedule. */
export function learningRateAt(c: OptimConfig, epochPos: number, totalEpochs: number): number {
  const warm = c.warmupEpochs ?? 0;
  if (warm > 0 && epochPos < warm) return c.lr * (epochPos + 1e-9) / warm;
  const t = epochPos - warm;
  switch (c.schedule ?? "constant") {
    case "constant":
      return c.lr;
    case "step":
      return c.lr * (c.gamma ?? 0.1) ** Math.floor(t / (c.stepEpochs ?? 30));
    case "cosine": {
      const span = Math.max(totalEpochs - warm, 1e-9);
      return 0.5 * c.lr * (1 + Math.cos(Math.PI * Math.min(t / span, 1)));
    }
  }
}

/**
 * Add weight decay and clip by global norm, in place of `grads` (disposing replaced tensors).
 * Returns the global norm before clipping (NaN when no clipping was asked for).
 */
export async function adjustGradients(
  grads: Record<string, tf.Tensor>,
  vars: Record<string, tf.Variable>,
  c: Pick<OptimConfig, "weightDecay" | "clipNorm">,
): Promise<number> {
  const wd = c.weightDecay ?? 0;
  if (wd > 0) {
    for (const k of Object.keys(grads)) {
      const g = grads[k];
      grads[k] = tf.tidy(() => g.add(vars[k].mul(wd)));
      g.dispose();
    }
  }
  if (!c.clipNorm) return NaN;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => g.square().sum()))));
  const n = (await norm.data())[0];
  norm.dispose();
  if (n > c.clipNorm) {
    const scale = c.clipNorm / n;
    for (const k of Object.keys(grads)) {
      const g = grads[k];
      grads[k] = tf.tidy(() => g.mul(scale));
      g.dispose();
    }
  }
  return n;
}
