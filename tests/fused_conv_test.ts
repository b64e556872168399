/**
 * convBiasAct and relu (lib/ops/fused_conv.ts), the paths every conv layer and every
 * ReLU layer take: agreement with tfjs's unfused ops on the cpu backend for linear, ReLU
 * and sigmoid, with and without bias (pre-activations of exactly 0 included), no input
 * gradient where none is needed, no leaked tensors, and layers that stay ordinary tfjs
 * Conv2D layers. Agreement with cpu on wasm and native is in the shared kernel suite
 * (kernel_cases.ts).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { CONV_KERNEL, type ConvActivation, convBiasAct, relu, RELU_KERNEL } from "../lib/ops/fused_conv.ts";
import { Builder } from "../lib/models/common.ts";
import { summarize } from "../lib/models/inspect.ts";
import { rand, relErr } from "./helpers.ts";
import { unfusedConvAct } from "./kernel_cases.ts";

await initBackend({ backend: "cpu", log: null });

const ACTS: ConvActivation[] = ["linear", "relu", "sigmoid"];

Deno.test("convBiasAct equals act(conv + bias) and its gradients, for every activation, bias or not", () => {
  // Half the images are all zero and half the biases are zero: many pre-activations are
  // exactly 0, where the ReLU's gradient must be 0 on both paths.
  const xv = rand([4, 9, 9, 3], 1);
  xv.fill(0, xv.length / 2);
  const bv = rand([6], 3).map((v, i) => (i % 2 ? 0 : v));
  const [x, w, b] = [tf.tensor4d(xv, [4, 9, 9, 3]), tf.tensor4d(rand([3, 3, 3, 6], 2), [3, 3, 3, 6]), tf.tensor1d(bv)];
  for (const act of ACTS) {
    for (const bias of [b, null]) {
      for (const [s, pad] of [[1, "same"], [2, "valid"], [2, "same"]] as const) {
        const what = `${act}${bias ? "" : " (no bias)"} s${s} ${pad}`;
        const weights = tf.tidy(() =>
          tf.randomUniform(unfusedConvAct(x, w, b, s, pad, act).shape, -1, 1, "float32", 4)
        );
        const fused = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null) => convBiasAct(x, w, b, [s, s], pad, act);
        const plain = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null) => unfusedConvAct(x, w, b, s, pad, act);
        const loss = (f: typeof fused) => (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) =>
          f(x as tf.Tensor4D, w as tf.Tensor4D, (b ?? null) as tf.Tensor1D | null).mul(weights).sum();
        const args = bias ? [x, w, bias] : [x, w];
        const want = tf.grads(loss(plain))(args);
        const got = tf.grads(loss(fused))(args);
        // cpu's fused kernel applies the same float operations: equal but for sigmoid's exp.
        const bound = act === "sigmoid" ? 1e-6 : 0;
        const ey = relErr(fused(x, w, bias).dataSync(), plain(x, w, bias).dataSync());
        assert.ok(ey <= bound, `forward ${what}: ${ey}`);
        want.forEach((g, i) => {
          const e = relErr(got[i].dataSync(), g.dataSync());
          assert.ok(e <= bound, `gradient ${i} ${what}: ${e}`);
        });
        tf.dispose([weights, ...want, ...got]);
      }
    }
  }
  tf.dispose([x, w, b]);
});

Deno.test("convBiasAct computes no input gradient when only weights need one, and leaks nothing", async () => {
  const x = tf.tensor4d(rand([2, 8, 8, 1], 5), [2, 8, 8, 1]);
  const w = tf.variable(tf.tensor4d(rand([3, 3, 1, 4], 6), [3, 3, 1, 4]));
  const b = tf.variable(tf.zeros([4]));
  for (const act of ACTS) {
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() =>
        convBiasAct(x, w as tf.Variable<tf.Rank.R4>, b as tf.Tensor1D, [1, 1], "same", act).sum()
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = prof.kernels.map((k) => k.name);
    assert.ok(names.includes("Conv2DBackpropFilter"), names.join(","));
    assert.ok(!names.includes("Conv2DBackpropInput"), `${act}: ${names.join(",")}`);
    assert.ok(!["Add", "Relu", "Sigmoid"].some((n) => names.includes(n)), `${act}: unfused ops ran: ${names}`);
    assert.equal(tf.memory().numTensors, before);
  }
  tf.dispose([x, w, b]);
});

Deno.test("conv layers train through convBiasAct and remain plain Conv2D layers", async () => {
  const b = new Builder(7);
  for (const act of ACTS) {
    for (const useBias of [true, false]) {
      const layer = b.conv(5, 3, { padding: "same", activation: act, useBias });
      const x = tf.tensor4d(rand([2, 6, 6, 2], 8), [2, 6, 6, 2]);
      const prof = await tf.profile(() => tf.tidy(() => layer.apply(x) as tf.Tensor));
      assert.ok(prof.kernels.some((k) => k.name === CONV_KERNEL), `${act} ${useBias}`);
      const y = layer.apply(x) as tf.Tensor4D;
      const [k, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
      const e = relErr(y.dataSync(), unfusedConvAct(x, k, bias ?? null, 1, "same", act).dataSync());
      assert.ok(e <= 1e-6, `${act} bias ${useBias}: ${e}`);
      assert.equal(layer.getClassName(), "Conv2D");
      assert.equal(layer.getConfig().activation, act);
      tf.dispose([x, y]);
    }
  }
  // Summaries count its multiply-accumulates as before: 6×6 outputs × 5 filters × 3×3×2 taps.
  const layer = b.conv(5, 3, { padding: "same", activation: "relu" });
  const input = tf.input({ shape: [6, 6, 2] });
  const m = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  assert.equal(summarize(m).macs, 6 * 6 * 5 * 3 * 3 * 2);
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
