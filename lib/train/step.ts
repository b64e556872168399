/**
 * The smallest pieces of training: one optimisation step and batched evaluation.
 * Both are leak-free (everything inside tf.tidy) and read back only two scalars.
 */
import * as tf from "@tensorflow/tfjs";
import { batches, type BatchOptions, NUM_CLASSES, type Split } from "../data/dataset.ts";
import { adjustGradients } from "./optim.ts";

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
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/** One optimisation step on one batch (training mode: dropout on, BN batch statistics). */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor1D,
  opts: StepOptions = {},
): StepResult {
  let correct: tf.Scalar | null = null;
  const lossFn = () => {
    const out = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
    correct = tf.keep(correctCount(mainOutput(out), y));
    return trainingLoss(out, y, opts);
  };
  const vars = trainableVariables(model);
  let loss: tf.Scalar;
  if (!opts.weightDecay && !opts.clipNorm) {
    loss = optimizer.minimize(lossFn, true, vars)!;
  } else {
    const r = tf.variableGrads(lossFn, vars);
    loss = r.value;
    adjustGradients(r.grads, Object.fromEntries(vars.map((v) => [v.name, v])), opts);
    optimizer.applyGradients(r.grads);
    tf.dispose(Object.values(r.grads));
  }
  const out = { loss: loss.dataSync()[0], correct: correct!.dataSync()[0] };
  loss.dispose();
  (correct as tf.Scalar | null)?.dispose();
  return out;
}

export interface EvalResult {
  loss: number;
  acc: number;
  n: number;
}

/** Loss and accuracy over a whole split, in inference mode, batch by batch. */
export function evaluate(
  model: tf.LayersModel,
  split: Split,
  opts: Omit<BatchOptions, "shuffle" | "augment" | "dropLast">,
): EvalResult {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for (const b of batches(split, opts)) {
    const [l, c] = tf.tidy(() => {
      const logits = mainOutput(model.apply(b.x, { training: false }) as tf.Tensor | tf.Tensor[]);
      return [crossEntropy(logits, b.y).mul(b.n), correctCount(logits, b.y)];
    });
    lossSum += l.dataSync()[0];
    correct += c.dataSync()[0];
    n += b.n;
    tf.dispose([l, c, b.x, b.y]);
  }
  return { loss: lossSum / n, acc: correct / n, n };
}
