/**
 * Convolution + bias + activation as one kernel in training too, with lazy gradients.
 *
 * tfjs runs `tf.fused.conv2d` unfused whenever gradients are being recorded (its
 * `shouldFuse`): Conv2D, then Add (bias), then the activation, and for ReLU Step ×
 * Multiply backward: extra passes over an activation-sized array per layer and step,
 * which on the native backend cost as much as the convolutions of VGG@96 or GoogLeNet@96.
 * Its linear fused path is a customGrad that computes every gradient eagerly, the input
 * gradient of a network's first layer included (a quarter of a LeNet step).
 *
 * `convBiasAct` records at most two nodes instead:
 *   1. kernel `CnnlabConv2D`: the backend's own FusedConv2D with the activation applied
 *      (one pass; oneDNN applies bias and activation as post-ops). Its registered gradient
 *      is that of the *linear* conv + bias: dx = Conv2DBackpropInput(dy'), dW =
 *      Conv2DBackpropFilter(x, dy'), db = Σ dy', each evaluated only when asked for.
 *   2. for ReLU or sigmoid, kernel `CnnlabActivationGate`: the identity forward (no copy)
 *      whose gradient turns dy into dy' from the activation's output y: dy where y > 0
 *      (ReLU), dy · y · (1 − y) (sigmoid); one native pass (`CnnlabActivationBackprop`)
 *      where the backend has it, tfjs ops elsewhere.
 * Together: the exact gradient of act(conv(x, W) + b). ReLU: y > 0 exactly where the
 * pre-activation is > 0, tfjs's own mask (step(0) = 0); sigmoid: tfjs's own formula.
 * `relu` (kernel `CnnlabRelu`, for ReLU layers after batch norm) is the backend's Relu with
 * the same one-pass gradient.
 *
 * The kernels are registered for a backend on first use there, delegating to that
 * backend's FusedConv2D, Identity and Relu; a backend without them gets tfjs's ops.
 */
import * as tf from "@tensorflow/tfjs";
import { asKernelFunc, kernelFuncOf } from "../util/tfjs_internals.ts";

export const CONV_KERNEL = "CnnlabConv2D";
export const GATE_KERNEL = "CnnlabActivationGate";
/** The backend's own Relu, with the one-pass masking gradient (`relu` below). */
export const RELU_KERNEL = "CnnlabRelu";
/**
 * Optional per-backend kernel {dy, y} with attr activation ('relu' | 'sigmoid'): the
 * activation's input gradient from its output (the native backend has it).
 */
export const ACTIVATION_BACKPROP_KERNEL = "CnnlabActivationBackprop";

export type ConvActivation = "linear" | "relu" | "sigmoid";

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, Info>; backend: unknown; attrs: Attrs };

const ready = new Map<string, boolean>();

/** Register the kernels for `backend` (once); false when it lacks one they delegate to. */
function prepare(backend: string): boolean {
  let ok = ready.get(backend);
  if (ok !== undefined) return ok;
  const pairs = [[CONV_KERNEL, "FusedConv2D"], [GATE_KERNEL, "Identity"], [RELU_KERNEL, "Relu"]] as const;
  ok = pairs.every(([, to]) => tf.getKernel(to, backend));
  if (ok) {
    for (const [kernelName, to] of pairs) {
      if (tf.getKernel(kernelName, backend)) continue;
      const f = kernelFuncOf<(a: KernelArgs) => Info>(tf.getKernel(to, backend)!);
      tf.registerKernel({ kernelName, backendName: backend, kernelFunc: asKernelFunc(f) });
    }
  }
  ready.set(backend, ok);
  return ok;
}

/** dy' from dy and the activation's output y. */
function activationBackprop(dy: tf.Tensor, y: tf.Tensor, activation: string): tf.Tensor {
  if (tf.getKernel(ACTIVATION_BACKPROP_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(ACTIVATION_BACKPROP_KERNEL, { dy, y }, { activation }) as tf.Tensor;
  }
  return activation === "relu" ? tf.mul(dy, tf.step(y)) : tf.mul(dy, tf.mul(y, tf.sub(1, y)));
}

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: CONV_KERNEL,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const g = dy as tf.Tensor4D;
      const a = { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", dimRoundingMode: attrs.dimRoundingMode };
      const e = tf.engine();
      const grads: Record<string, () => tf.Tensor> = {
        x: () => e.runKernel("Conv2DBackpropInput", { dy: g, filter }, { ...a, inputShape: x.shape }) as tf.Tensor,
        filter: () =>
          e.runKernel("Conv2DBackpropFilter", { x, dy: g }, { ...a, filterShape: filter.shape }) as tf.Tensor,
      };
      if (attrs.hasBias) grads.bias = () => tf.sum(g, [0, 1, 2]);
      return grads;
    },
  });
  const gate: tf.GradFunc = (dy, saved, attrs) => {
    const [y] = saved;
    return { x: () => activationBackprop(dy as tf.Tensor, y, String(attrs.activation ?? "relu")) };
  };
  tf.registerGradient({ kernelName: GATE_KERNEL, outputsToSave: [true], gradFunc: gate });
  tf.registerGradient({ kernelName: RELU_KERNEL, outputsToSave: [true], gradFunc: gate });
  gradientsRegistered = true;
}

/**
 * activation(conv2d(x, filter) + bias) for NHWC input, undilated: one kernel forward; one
 * activation-gradient pass (none for linear), the two convolution gradients (the input's
 * only when needed) and a bias sum backward. Falls back to `tf.fused.conv2d` on a backend
 * without FusedConv2D.
 */
export function convBiasAct(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  strides: [number, number],
  pad: "same" | "valid",
  activation: ConvActivation,
): tf.Tensor4D {
  if (!prepare(tf.getBackend())) {
    return tf.fused.conv2d({ x, filter, bias: bias ?? undefined, strides, pad, activation });
  }
  registerGradients();
  const e = tf.engine();
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  const attrs = { strides, pad, dataFormat: "NHWC", dilations: [1, 1], activation, hasBias: Boolean(bias) };
  return tf.tidy(() => {
    const y = e.runKernel(CONV_KERNEL, inputs, attrs) as tf.Tensor4D;
    return activation === "linear" ? y : e.runKernel(GATE_KERNEL, { x: y }, { activation }) as tf.Tensor4D;
  });
}

/**
 * relu(x) whose gradient is one masking pass over (dy, y) where the backend has
 * `CnnlabActivationBackprop` (tfjs's own: step(x), then a multiply). Used by ReLU layers.
 */
export function relu<T extends tf.Tensor>(x: T): T {
  if (!prepare(tf.getBackend())) return tf.relu(x);
  registerGradients();
  return tf.engine().runKernel(RELU_KERNEL, { x }, { activation: "relu" }) as T;
}
