/**
 * The tfjs internals cnnlab reaches (lib/util/tfjs_internals.ts) are where the pinned tfjs keeps
 * them: a tfjs upgrade that moves one fails here, by name, not deep inside training.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import {
  adamInternals,
  batchNormInternals,
  conv2dInternals,
  engineInternals,
  inboundLayers,
  kernelFuncOf,
  setLearningRate,
  weightVariable,
} from "../lib/util/tfjs_internals.ts";

Deno.test("tfjs internals: engine, kernels, layers' weights and wiring, Adam's state, learning rates", async () => {
  await initBackend({ backend: "cpu", log: null });
  const e = engineInternals();
  assert.equal(typeof e.runKernel, "function");
  assert.equal(typeof e.addTapeNode, "function");
  let tape: unknown = null;
  tf.grad((x: tf.Tensor) => {
    tape = e.state.activeTape;
    return x.square();
  })(tf.scalar(1)).dispose();
  assert.ok(Array.isArray(tape), "the engine keeps its gradient tape in state.activeTape");
  assert.equal(typeof kernelFuncOf<() => unknown>(tf.getKernel("Relu", "cpu")!), "function");

  const input = tf.input({ shape: [4, 4, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: "relu" });
  const bn = tf.layers.batchNormalization();
  const out = tf.layers.flatten().apply(bn.apply(conv.apply(input))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const c = conv2dInternals(conv);
  assert.deepEqual(c.kernel.read().shape, [3, 3, 1, 2]);
  assert.equal(c.activation.getClassName(), "relu");
  assert.deepEqual([c.strides, c.padding, c.dataFormat], [[1, 1], "valid", "channelsLast"]);
  const b = batchNormInternals(bn);
  assert.ok(b.movingMean && b.movingVariance && b.axis === -1 && b.epsilon > 0);
  assert.deepEqual(inboundLayers(bn), [conv]);
  for (const w of model.trainableWeights) assert.ok(weightVariable(w) instanceof tf.Variable, w.name);

  const opt = tf.train.adam(0.1);
  const v = weightVariable(model.trainableWeights[0]);
  opt.minimize(() => v.square().sum() as tf.Scalar, false, [v]);
  const a = adamInternals(opt);
  assert.ok(a.accBeta1 instanceof tf.Variable && a.accumulatedFirstMoment.length === 1 && a.epsilon > 0);
  setLearningRate(opt, 0.01);
  assert.equal((opt as unknown as { learningRate: number }).learningRate, 0.01);
  const sgd = tf.train.sgd(0.1);
  setLearningRate(sgd, 0.02);
  assert.equal((sgd as unknown as { learningRate: number }).learningRate, 0.02);
  opt.dispose();
  sgd.dispose();
  model.dispose();
});
