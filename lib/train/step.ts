/**
 * The smallest pieces of training: one optimisation step and batched evaluation.
 * Both are leak-free (everything inside tf.tidy) and read back only two scalars.
 */
import { eventLoopTurn } from "../util/turn.ts";
import * as tf from "@tensorflow/tfjs";
import { weightVariable } from "../util/tfjs_internals.ts";
import { batches, type BatchOptions, NUM_CLASSES, type Split } from "../data/dataset.ts";
import { adjustGradients } from "./optim.ts";
import { withEarlyRelease } from "./early_release.ts";

/** Mean softmax cross-entropy of logits against integer labels, with optional label smoothing. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D, smoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, NUM_CLASSES).cast("float32");
    return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, smoothing) as tf.Scalar;
  });
}

/** Number of rows whose arg-max equals the label. */
export function correctCount(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => logits.argMax(-1).equal(labels).cast("float32").sum() as tf.Scalar);
}

export interface StepResult {
  loss: number;
  correct: number;
}

/** The main logits of a model's output (the first output when it has auxiliary heads). */
export function mainOutput(out: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(out) ? out[0] : out;
}

export interface StepOptions {
  labelSmoothing?: number;
  /** Weight of each auxiliary head's loss (GoogLeNet's paper: 0.3). */
  auxWeight?: number;
  /** Coupled L2 weight decay. */
  weightDecay?: number;
  /** Clip gradients to this global norm. */
  clipNorm?: number;
}

/**
 * Loss of one forward pass in training mode: cross-entropy of the main output plus
 * `auxWeight` × that of each auxiliary head (tfjs has no lossWeights for custom loops).
 */
export function trainingLoss(out: tf.Tensor | tf.Tensor[], y: tf.Tensor1D, opts: StepOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const outs = Array.isArray(out) ? out : [out];
    let loss = crossEntropy(outs[0], y, opts.labelSmoothing ?? 0);
    for (const aux of outs.slice(1)) {
      loss = loss.add(crossEntropy(aux, y, opts.labelSmoothing ?? 0).mul(opts.auxWeight ?? 0.3));
    }
    return loss;
  });
}

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map(weightVariable);
}

/**
 * One optimisation step on one batch (training mode: dropout on, BN batch statistics).
 * With `microBatch` smaller than the batch, gradients are accumulated over slices of at
 * most that many examples (weighted by slice size) and applied once: the same update as the
 * whole batch for models without batch norm; BN then normalises per slice.
 * Reads back two scalars asynchronously (WebGPU cannot read synchronously under Deno).
 */
export async function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor1D,
  opts: StepOptions & { microBatch?: number } = {},
): Promise<StepResult> {
  const vars = trainableVariables(model);
  const n = x.shape[0];
  const micro = Math.min(opts.microBatch ?? n, n);
  const corrects: tf.Scalar[] = [];
  const lossFn = (xs: tf.Tensor, ys: tf.Tensor1D) => () => {
    const out = model.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
    corrects.push(tf.keep(correctCount(mainOutput(out), ys)));
    return trainingLoss(out, ys, opts);
  };
  let loss: tf.Scalar;
  if (micro >= n && !opts.weightDecay && !opts.clipNorm) {
    loss = withEarlyRelease(() => optimizer.minimize(lossFn(x, y), true, vars)!);
  } else {
    let grads: Record<string, tf.Tensor> | null = null;
    let lossSum: tf.Scalar = tf.scalar(0);
    for (let start = 0; start < n; start += micro) {
      const size = Math.min(micro, n - start);
      const w = size / n;
      const [xs, ys] = micro >= n ? [x, y] : [x.slice(start, size), y.slice(start, size)];
      const r = withEarlyRelease(() => tf.variableGrads(lossFn(xs, ys), vars));
      if (xs !== x) tf.dispose([xs, ys]);
      const prev = grads as Record<string, tf.Tensor> | null;
      grads = Object.fromEntries(
        Object.entries(r.grads).map(([k, g]) => [k, tf.tidy(() => (prev ? prev[k].add(g.mul(w)) : g.mul(w)))]),
      );
      if (prev) tf.dispose(Object.values(prev));
      tf.dispose(Object.values(r.grads));
      const old = lossSum;
      lossSum = tf.tidy(() => old.add(r.value.mul(w)));
      tf.dispose([old, r.value]);
    }
    loss = lossSum;
    await adjustGradients(grads!, Object.fromEntries(vars.map((v) => [v.name, v])), opts);
    optimizer.applyGradients(grads!);
    tf.dispose(Object.values(grads!));
  }
  const correct = corrects.length === 1 ? corrects[0] : tf.tidy(() => tf.addN(corrects) as tf.Scalar);
  const [l, c] = await Promise.all([loss.data(), correct.data()]);
  tf.dispose([loss, correct, ...corrects]);
  return { loss: l[0], correct: c[0] };
}

/**
 * One training step's forward and backward passes on a batch of zeros, leaving the model as it
 * was: nothing is updated, and the non-trainable weights a training-mode pass may move (batch
 * norm's moving statistics) are put back, bit for bit. For `recordLayers`, which notes the layers
 * a step runs; synchronous, so CPU backends only.
 */
export function probeStep(model: tf.LayersModel, batch: number, opts: StepOptions = {}): void {
  const fixed = model.nonTrainableWeights.map(weightVariable);
  const saved = fixed.map((v) => tf.clone(v));
  try {
    tf.tidy(() => {
      const shape = [batch, ...model.inputs[0].shape.slice(1)] as number[];
      const x = tf.zeros(shape);
      const y = tf.zeros([batch], "int32") as tf.Tensor1D;
      const { value, grads } = tf.variableGrads(
        () => trainingLoss(model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[], y, opts),
        trainableVariables(model),
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
  } finally {
    fixed.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}

export interface EvalResult {
  loss: number;
  acc: number;
  n: number;
}

/** Loss and accuracy over a whole split, in inference mode, batch by batch. */
export async function evaluate(
  model: tf.LayersModel,
  split: Split,
  opts: Omit<BatchOptions, "shuffle" | "augment" | "dropLast">,
): Promise<EvalResult> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for (const b of batches(split, opts)) {
    const [l, c] = tf.tidy(() => {
      const logits = mainOutput(model.apply(b.x, { training: false }) as tf.Tensor | tf.Tensor[]);
      return [crossEntropy(logits, b.y).mul(b.n), correctCount(logits, b.y)];
    });
    lossSum += (await l.data())[0];
    correct += (await c.data())[0];
    n += b.n;
    tf.dispose([l, c, b.x, b.y]);
    await eventLoopTurn();
  }
  return { loss: lossSum / n, acc: correct / n, n };
}
