/**
 * Batch norm in training as two kernels, where the backend has them (native).
 *
 * tfjs-layers' BatchNormalization computes batch statistics with tf.moments (Mean, Sub,
 * Square, Mean) and normalises with FusedBatchNorm; its gradient is tfjs's generic one
 * for batchNorm *plus* the gradient back through the moments: about twenty element-wise
 * passes and reductions per layer and step (ResNet-18@96: a third of a training step).
 *
 * Kernel `CnnlabBatchNormTrain` {x, scale, offset} returns [y, mean, variance] in two
 * passes (per-channel sums of x and x² in double, then the normalisation); its registered
 * gradient uses `CnnlabBatchNormGrad`: the textbook closed form, dx = γ/σ · (dy − mean(dy)
 * − x̂ · mean(dy · x̂)) plus whatever reaches the mean and variance outputs, one reduction
 * pass and one element-wise pass. The statistics are the ones tf.moments gives (biased
 * variance), and the moving averages are updated exactly as tfjs-layers does.
 *
 * `fuseBatchNorm(layer)` routes a BatchNormalization layer's training-mode call through
 * these kernels when the current backend registers them; otherwise (and in inference)
 * the layer runs its own code.
 */
import * as tf from "@tensorflow/tfjs";
import { batchNormInternals } from "../util/tfjs_internals.ts";

export const BN_TRAIN_KERNEL = "CnnlabBatchNormTrain";
export const BN_GRAD_KERNEL = "CnnlabBatchNormGrad";

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  tf.registerGradient({
    kernelName: BN_TRAIN_KERNEL,
    inputsToSave: ["x", "scale"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dmean, dvariance] = dys as tf.Tensor[];
      const [x, scale, mean, variance] = saved;
      const inputs: tf.NamedTensorMap = { x, dy, mean, variance, scale };
      if (dmean) inputs.dmean = dmean;
      if (dvariance) inputs.dvariance = dvariance;
      const grad = (paramsOnly: boolean) => {
        const r = tf.engine().runKernel(BN_GRAD_KERNEL, inputs, { varianceEpsilon: attrs.varianceEpsilon, paramsOnly });
        return Array.isArray(r) ? r : [r];
      };
      // The input gradient's kernel computes the scale gradient on the way (the same sums, the
      // same bits); kept as plain values, it spares the scale closure a second pass over x and
      // dy, and nothing is left to dispose when no one asks for it.
      let dscaleValues: tf.TypedArray | null = null;
      return {
        x: () => {
          const [dx, dscale, doffset] = grad(false);
          dscaleValues = dscale.dataSync();
          tf.dispose([dscale, doffset]);
          return dx;
        },
        scale: () => {
          if (dscaleValues) return tf.tensor(dscaleValues, scale.shape, "float32");
          const [dscale, doffset] = grad(true);
          doffset.dispose();
          return dscale;
        },
        offset: () => tf.sum(dy, [...Array(dy.rank - 1).keys()]),
      };
    },
  });
  gradientRegistered = true;
}

/**
 * Batch statistics and normalisation of `x` over every axis but the last, in training
 * mode: [y, mean, variance]. Needs a backend with `CnnlabBatchNormTrain`.
 */
export function batchNormTrain(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  varianceEpsilon: number,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  registerGradient();
  return tf.engine().runKernel(BN_TRAIN_KERNEL, { x, scale, offset }, { varianceEpsilon }) as [
    tf.Tensor,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
}

/**
 * tfjs-layers' moving-average update, v ← v − (v − batch value) · (1 − momentum), with the
 * float32 rounding of its three tensor ops (Sub, Mul, Sub) after each step: the same bits,
 * computed in one JS loop over a few hundred channels instead of six kernel calls and two
 * scalar tensors per layer and step (5% of an Inception v3 step). The kernels run only on
 * the native backend, whose tensors live in JS memory, so reading them back is free.
 */
export function movingAverage(orig: Float32Array, value: Float32Array, momentum: number): Float32Array {
  const decay = Math.fround(1 - momentum);
  const out = new Float32Array(orig.length);
  for (let i = 0; i < orig.length; i++) out[i] = orig[i] - Math.fround(Math.fround(orig[i] - value[i]) * decay);
  return out;
}

/** See the module comment. The layer stays a tfjs BatchNormalization layer. */
export function fuseBatchNorm(layer: tf.layers.Layer): void {
  const bn = batchNormInternals(layer);
  const own = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const lastAxis = bn.axis === -1 || bn.axis === x.rank - 1;
    if (
      !kwargs?.training || !lastAxis || !bn.gamma || !bn.beta || x.dtype !== "float32" ||
      !tf.getKernel(BN_TRAIN_KERNEL, tf.getBackend())
    ) {
      return own(inputs, kwargs);
    }
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormTrain(
        x,
        bn.gamma!.read() as tf.Tensor1D,
        bn.beta!.read() as tf.Tensor1D,
        bn.epsilon,
      );
      for (const [v, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
        const orig = v.read();
        const next = movingAverage(orig.dataSync() as Float32Array, value.dataSync() as Float32Array, bn.momentum);
        v.write(tf.tensor(next, orig.shape, "float32"));
      }
      return y;
    });
  };
}
