import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { BackendError, currentBackend, initBackend, parseBackendName } from "../lib/backend/mod.ts";
import { batches, fashionMnist } from "../lib/data/dataset.ts";
import { lenet } from "../lib/models/lenet.ts";
import { alexnet } from "../lib/models/alexnet.ts";
import { evaluate, trainStep } from "../lib/train/step.ts";

await initBackend({ backend: "wasm", log: null });

Deno.test("backend selection: explicit choice, env, unknown and unavailable names", async () => {
  assert.equal((await initBackend({ backend: "wasm", log: null })).name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.throws(() => parseBackendName("tpu"), /unknown backend 'tpu'; valid: webgpu, tensorflow, native, wasm, cpu/);
  await assert.rejects(initBackend({ backend: "tensorflow", log: null }), (e: Error) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /tfjs-node.*fix: /);
    return true;
  });
  Deno.env.set("CNNLAB_BACKEND", "cpu");
  try {
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    assert.equal(info.name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.match(info.reason, /CNNLAB_BACKEND/);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^cnnlab: backend cpu \(fp32\) on /);
  } finally {
    Deno.env.delete("CNNLAB_BACKEND");
  }
  const auto = await initBackend({ log: null });
  assert.ok(["webgpu", "native", "wasm"].includes(auto.name), auto.name);
  await initBackend({ backend: "wasm", log: null });
  assert.equal(currentBackend()?.name, "wasm");
});

Deno.test("no tensor leaks: 200 training steps keep tf.memory().numTensors flat", async () => {
  const ds = await fashionMnist();
  const train = ds.train.stratified(20, 2); // 200 images
  const m = lenet({ activation: "relu", pooling: "max", batchNorm: true, dropout: 0.3, seed: 3 });
  const opt = tf.train.adam(1e-3);
  let steps = 0;
  let after10 = -1;
  for (let epoch = 0; steps < 200; epoch++) {
    for (
      const b of batches(train, { batchSize: 20, shuffle: true, seed: 1, epoch, augment: { flip: true, cropPad: 2 } })
    ) {
      await trainStep(m, opt, b.x, b.y, { labelSmoothing: 0.1 });
      tf.dispose([b.x, b.y]);
      if (++steps === 10) after10 = tf.memory().numTensors;
      if (steps === 200) break;
    }
  }
  await evaluate(m, ds.test.stratified(5, 1), { batchSize: 16 });
  assert.equal(tf.memory().numTensors, after10);
  const before = tf.memory().numTensors;
  opt.dispose();
  m.dispose();
  assert.ok(tf.memory().numTensors < before);
});

async function trainLeNet(seed: number): Promise<{ acc: number; loss: number }> {
  const ds = await fashionMnist();
  const train = ds.train.stratified(1000, 11); // 10,000 images
  const test = ds.test.stratified(200, 11); // 2,000 images
  const m = lenet({ activation: "relu", seed });
  const opt = tf.train.adam(0.01);
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const b of batches(train, { batchSize: 128, shuffle: true, seed, epoch })) {
      await trainStep(m, opt, b.x, b.y);
      tf.dispose([b.x, b.y]);
    }
  }
  const r = await evaluate(m, test, { batchSize: 500 });
  opt.dispose();
  m.dispose();
  return r;
}

Deno.test("LeNet (ReLU) on 10,000 images, 2 epochs, wasm: ≥ 75% on 2,000 test images; same seed, same result", async () => {
  const a = await trainLeNet(5);
  assert.ok(a.acc >= 0.75, `test accuracy ${a.acc}`);
  const b = await trainLeNet(5);
  assert.equal(b.acc, a.acc);
  assert.equal(b.loss, a.loss);
});

Deno.test("an AlexNet training step on wasm at 96×96 runs and lowers the loss on a repeated batch", async () => {
  const ds = await fashionMnist();
  const m = alexnet({ inputSize: 96, denseWidth: 256, widthMultiplier: 0.25, seed: 1 });
  const opt = tf.train.adam(1e-3);
  const b = batches(ds.train.stratified(2, 1), { batchSize: 20, size: 96 }).next().value!;
  const first = (await trainStep(m, opt, b.x, b.y)).loss;
  let last = first;
  for (let i = 0; i < 5; i++) last = (await trainStep(m, opt, b.x, b.y)).loss;
  assert.ok(last < first, `loss ${first} → ${last}`);
  tf.dispose([b.x, b.y]);
  opt.dispose();
  m.dispose();
});
