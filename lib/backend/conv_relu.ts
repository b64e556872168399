/**
 * Convolution + bias + ReLU as one kernel in training too.
 *
 * tfjs runs `tf.fused.conv2d` unfused whenever gradients are being recorded (its
 * `shouldFuse`): Conv2D, then Add (bias), then Relu forward, and Step × Multiply for the
 * ReLU's gradient — four extra passes over an activation-sized array per layer and step,
 * which on the native backend cost as much as the convolutions of VGG@96 or GoogLeNet@96.
 *
 * `convBiasRelu` records two nodes instead:
 *   1. kernel `CnnlabConvBiasRelu`: the backend's own FusedConv2D with activation 'relu'
 *      (one pass; oneDNN applies bias and ReLU as post-ops). Its registered gradient is
 *      that of the *linear* conv + bias: dx = Conv2DBackpropInput(dy'), dW =
 *      Conv2DBackpropFilter(x, dy'), db = Σ dy' — evaluated lazily, so the first layer never
 *      computes the input gradient nobody asks for.
 *   2. kernel `CnnlabReluGate`: the identity forward (no copy), whose gradient is
 *      dy' = dy where y > 0, else 0 (one native pass, `CnnlabReluBackprop`, where the
 *      backend has it; Step × Multiply elsewhere).
 * Together: the exact gradient of relu(conv(x, W) + b), since y > 0 exactly where the
 * pre-activation is > 0 (tfjs's ReLU gradient, step(0) = 0, is the same mask).
 * `relu` (kernel `CnnlabRelu`, for ReLU layers after batch norm) is the backend's Relu with
 * that same one-pass gradient.
 *
 * The kernels are registered for a backend on first use there, delegating to that
 * backend's FusedConv2D and Identity; a backend without FusedConv2D gets the unfused ops.
 */
import * as tf from "@tensorflow/tfjs";

export const CONV_BIAS_RELU_KERNEL = "CnnlabConvBiasRelu";
export const RELU_GATE_KERNEL = "CnnlabReluGate";
/** The backend's own Relu, with the one-pass masking gradient (`relu` below). */
export const RELU_KERNEL = "CnnlabRelu";
/** Optional per-backend kernel {dy, y} → dy where y > 0, else 0 (the native backend has it). */
export const RELU_BACKPROP_KERNEL = "CnnlabReluBackprop";

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, Info>; backend: unknown; attrs: Attrs };

function delegate(backend: string, to: string, attrs: Attrs = {}): tf.KernelFunc | null {
  const k = tf.getKernel(to, backend);
  if (!k) return null;
  const f = k.kernelFunc as unknown as (a: KernelArgs) => Info;
  return ((a: KernelArgs) => f({ ...a, attrs: { ...a.attrs, ...attrs } })) as unknown as tf.KernelFunc;
}

const ready = new Map<string, boolean>();

/** Register both kernels for `backend` (once); false when it has no FusedConv2D/Identity. */
function prepare(backend: string): boolean {
  let ok = ready.get(backend);
  if (ok !== undefined) return ok;
  const conv = delegate(backend, "FusedConv2D", { activation: "relu" });
  const gate = delegate(backend, "Identity");
  const relu = delegate(backend, "Relu");
  ok = Boolean(conv && gate && relu);
  if (ok) {
    for (
      const [kernelName, kernelFunc] of [
        [CONV_BIAS_RELU_KERNEL, conv],
        [RELU_GATE_KERNEL, gate],
        [RELU_KERNEL, relu],
      ] as const
    ) {
      if (!tf.getKernel(kernelName, backend)) {
        tf.registerKernel({ kernelName, backendName: backend, kernelFunc: kernelFunc! });
      }
    }
  }
  ready.set(backend, ok);
  return ok;
}

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: CONV_BIAS_RELU_KERNEL,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const g = dy as tf.Tensor4D;
      const a = { strides: attrs.strides, pad: attrs.pad, dataFormat: "NHWC", dimRoundingMode: attrs.dimRoundingMode };
      const e = tf.engine();
      return {
        x: () => e.runKernel("Conv2DBackpropInput", { dy: g, filter }, { ...a, inputShape: x.shape }) as tf.Tensor,
        filter: () =>
          e.runKernel("Conv2DBackpropFilter", { x, dy: g }, { ...a, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    },
  });
  // Both take the ReLU's output y and pass dy where y > 0.
  const mask: tf.GradFunc = (dy, saved) => {
    const [y] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        tf.getKernel(RELU_BACKPROP_KERNEL, tf.getBackend())
          ? tf.engine().runKernel(RELU_BACKPROP_KERNEL, { dy: g, y }) as tf.Tensor
          : tf.mul(g, tf.step(y)),
    };
  };
  tf.registerGradient({ kernelName: RELU_GATE_KERNEL, outputsToSave: [true], gradFunc: mask });
  tf.registerGradient({ kernelName: RELU_KERNEL, outputsToSave: [true], gradFunc: mask });
  gradientsRegistered = true;
}

/**
 * relu(conv2d(x, filter) + bias) for NHWC input, undilated: one kernel forward, one
 * masking pass plus the two convolution gradients and a bias sum backward. Falls back to
 * `tf.fused.conv2d` on a backend without FusedConv2D.
 */
export function convBiasRelu(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  strides: [number, number],
  pad: "same" | "valid",
): tf.Tensor4D {
  if (!prepare(tf.getBackend())) {
    return tf.fused.conv2d({ x, filter, bias, strides, pad, activation: "relu" });
  }
  registerGradients();
  const e = tf.engine();
  const attrs = { strides, pad, dataFormat: "NHWC", dilations: [1, 1], activation: "relu" };
  return tf.tidy(() => {
    const y = e.runKernel(CONV_BIAS_RELU_KERNEL, { x, filter, bias }, attrs) as tf.Tensor4D;
    return e.runKernel(RELU_GATE_KERNEL, { x: y }, {}) as tf.Tensor4D;
  });
}

/**
 * relu(x) whose gradient is one masking pass over (dy, y) where the backend has
 * `CnnlabReluBackprop` (tfjs's own: step(x), then a multiply). Used by ReLU layers.
 */
export function relu<T extends tf.Tensor>(x: T): T {
  if (!prepare(tf.getBackend())) return tf.relu(x);
  registerGradients();
  return tf.engine().runKernel(RELU_KERNEL, { x }) as T;
}
