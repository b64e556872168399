/**
 * convBiasRelu and relu (lib/backend/conv_relu.ts), the paths every conv layer with ReLU
 * and bias and every ReLU layer take: exact agreement with the unfused ops on the cpu backend (including pre-activations
 * of exactly 0), no input gradient where none is needed, no leaked tensors, and layers that
 * stay ordinary tfjs Conv2D layers. Its agreement with cpu on wasm and native is in the
 * shared kernel suite (kernel_cases.ts).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { convBiasRelu, relu, RELU_KERNEL } from "../lib/backend/conv_relu.ts";
import { Builder } from "../lib/models/common.ts";
import { summarize } from "../lib/models/inspect.ts";
import { rand } from "./helpers.ts";

await initBackend({ backend: "cpu", log: null });

function unfused(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, s: number, pad: "same" | "valid") {
  return tf.relu(tf.conv2d(x, w, s, pad).add(b));
}

Deno.test("convBiasRelu equals relu(conv + bias) and its gradients, zero pre-activations included", () => {
  // Half the images are all zero and half the biases are zero: many pre-activations are
  // exactly 0, where the ReLU's gradient must be 0 on both paths.
  const xv = rand([4, 9, 9, 3], 1);
  xv.fill(0, xv.length / 2);
  const bv = rand([6], 3).map((v, i) => (i % 2 ? 0 : v));
  const [x, w, b] = [tf.tensor4d(xv, [4, 9, 9, 3]), tf.tensor4d(rand([3, 3, 3, 6], 2), [3, 3, 3, 6]), tf.tensor1d(bv)];
  for (const [s, pad] of [[1, "same"], [2, "valid"], [2, "same"]] as const) {
    const weights = tf.tidy(() => tf.randomUniform(unfused(x, w, b, s, pad).shape, -1, 1, "float32", 4));
    const loss = (f: typeof unfused) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      f(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, s, pad).mul(weights).sum();
    const want = tf.grads(loss(unfused))([x, w, b]);
    const got = tf.grads(loss((x, w, b, s, pad) => convBiasRelu(x, w, b, [s, s], pad)))([x, w, b]);
    assert.deepEqual(
      convBiasRelu(x, w, b, [s, s], pad).arraySync(),
      unfused(x, w, b, s, pad).arraySync(),
      `forward s${s} ${pad}`,
    );
    want.forEach((g, i) => assert.deepEqual(got[i].arraySync(), g.arraySync(), `gradient ${i} s${s} ${pad}`));
    tf.dispose([weights, ...want, ...got]);
  }
  tf.dispose([x, w, b]);
});

Deno.test("convBiasRelu computes no input gradient when only weights need one, and leaks nothing", async () => {
  const x = tf.tensor4d(rand([2, 8, 8, 1], 5), [2, 8, 8, 1]);
  const w = tf.variable(tf.tensor4d(rand([3, 3, 1, 4], 6), [3, 3, 1, 4]));
  const b = tf.variable(tf.zeros([4]));
  const before = tf.memory().numTensors;
  const prof = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => convBiasRelu(x, w, b as tf.Tensor1D, [1, 1], "same").sum());
    tf.dispose([value, ...Object.values(grads)]);
  });
  const names = prof.kernels.map((k) => k.name);
  assert.ok(names.includes("Conv2DBackpropFilter"), names.join(","));
  assert.ok(!names.includes("Conv2DBackpropInput"), names.join(","));
  assert.ok(!names.includes("Add") && !names.includes("Relu"), `unfused forward ops ran: ${names.join(",")}`);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, b]);
});

Deno.test("conv layers with ReLU train through convBiasRelu and remain plain Conv2D layers", () => {
  const fused = new Builder(7).conv(5, 3, { padding: "same", activation: "relu", name: "c" });
  const x = tf.tensor4d(rand([2, 6, 6, 2], 8), [2, 6, 6, 2]);
  const y = fused.apply(x) as tf.Tensor4D;
  const [k, bias] = fused.getWeights() as [tf.Tensor4D, tf.Tensor1D];
  assert.deepEqual(y.arraySync(), unfused(x, k, bias, 1, "same").arraySync());
  assert.equal(fused.getClassName(), "Conv2D");
  assert.equal(fused.getConfig().activation, "relu");
  // Summaries count its multiply-accumulates as before: 6×6 outputs × 5 filters × 3×3×2 taps.
  const input = tf.input({ shape: [6, 6, 2] });
  const m = tf.model({ inputs: input, outputs: fused.apply(input) as tf.SymbolicTensor });
  assert.equal(summarize(m).macs, 6 * 6 * 5 * 3 * 3 * 2);
  tf.dispose([x, y]);
});

Deno.test("relu equals tf.relu, gradient included (zeros too), and ReLU layers use it", async () => {
  const x = tf.tensor2d([[-1, 0, 2, 0.5], [3, -0.25, 0, -4]]);
  const w = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]);
  const f = (op: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => op(t).mul(w).sum();
  assert.deepEqual(relu(x).arraySync(), tf.relu(x).arraySync());
  assert.deepEqual(tf.grad(f(relu))(x).arraySync(), tf.grad(f(tf.relu))(x).arraySync());
  const b = new Builder(1);
  for (const layer of [b.relu("r"), b.activation("relu", "a")]) {
    const g = tf.grad((t: tf.Tensor) => (layer.apply(t) as tf.Tensor).mul(w).sum())(x);
    assert.deepEqual(g.arraySync(), tf.grad(f(tf.relu))(x).arraySync());
    const prof = await tf.profile(() => tf.tidy(() => layer.apply(x) as tf.Tensor));
    assert.deepEqual(prof.kernels.map((k) => k.name), [RELU_KERNEL], layer.name);
  }
  assert.equal(b.activation("sigmoid", "s").getConfig().activation, "sigmoid");
  tf.dispose([x, w]);
});
