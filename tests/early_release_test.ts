/**
 * withEarlyRelease: the backward pass frees each node's saved tensors and output gradients
 * when it is done with them, computes the same gradients, leaks nothing, and keeps a
 * gradient that a node passes through unchanged.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { earlyReleasedCount, withEarlyRelease } from "../lib/train/early_release.ts";

await tf.setBackend("cpu");

/**
 * A chain of `depth` ReLU-and-scale layers over a [64, 256] input, whose first node (the last
 * one the backward pass reaches) records the bytes alive when its gradient runs.
 */
function chain(depth: number) {
  const probe = { bytes: 0 };
  const first = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor]);
    return {
      value: (x as tf.Tensor).mul(2),
      gradFunc: (dy) => {
        probe.bytes = tf.memory().numBytes;
        return [(dy as tf.Tensor).mul(2)];
      },
    };
  });
  const f = (w: tf.Variable) => () => {
    let h = first(tf.ones([64, 256]).mul(w)) as tf.Tensor;
    for (let i = 0; i < depth; i++) h = tf.relu(h.mul(w).sub(0.5));
    return h.sum() as tf.Scalar;
  };
  return { probe, f };
}

Deno.test("early release: same gradients, no leak, and the deepest node's gradient runs with the chain's tensors freed", () => {
  const w = tf.variable(tf.fill([256], 1.01));
  const depth = 12;
  const run = (early: boolean) => {
    const { probe, f } = chain(depth);
    const before = tf.memory().numTensors;
    const r = early ? withEarlyRelease(() => tf.variableGrads(f(w), [w])) : tf.variableGrads(f(w), [w]);
    const g = r.grads[w.name].dataSync().slice();
    const value = r.value.dataSync()[0];
    tf.dispose([r.value, ...Object.values(r.grads)]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    return { g, value, bytes: probe.bytes };
  };
  const released = earlyReleasedCount();
  const late = run(false);
  assert.equal(earlyReleasedCount(), released, "outside withEarlyRelease nothing is released early");
  const early = run(true);
  assert.ok(earlyReleasedCount() > released + depth, `released ${earlyReleasedCount() - released}`);
  assert.deepEqual(early.g, late.g);
  assert.equal(early.value, late.value);
  // Without early release every layer's activation (saved) and gradient are alive at the
  // bottom of the chain: ~2 × 12 × 64 KiB; with it, a few.
  const act = 64 * 256 * 4;
  assert.ok(late.bytes > 2 * depth * act * 0.9, `without: ${late.bytes} bytes alive`);
  assert.ok(early.bytes < late.bytes / 4, `with: ${early.bytes} bytes alive, without: ${late.bytes}`);
  w.dispose();
});

Deno.test("early release keeps a gradient that a node passes through as its input's gradient", () => {
  const w = tf.variable(tf.tensor1d([0.5, -1, 2]));
  const passThrough = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([]);
    return { value: (x as tf.Tensor).mul(1), gradFunc: (dy) => [dy as tf.Tensor] };
  });
  const f = () => tf.relu(passThrough(tf.ones([4, 3]).mul(w)) as tf.Tensor).square().sum() as tf.Scalar;
  const late = tf.variableGrads(f, [w]);
  const early = withEarlyRelease(() => tf.variableGrads(f, [w]));
  assert.deepEqual(early.grads[w.name].arraySync(), late.grads[w.name].arraySync());
  tf.dispose([late.value, early.value, ...Object.values(late.grads), ...Object.values(early.grads), w]);
});
