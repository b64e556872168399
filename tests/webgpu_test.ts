/**
 * The WebGPU path, tested without a GPU on Mesa's software adapter (llvmpipe / lavapipe):
 * gradients of the zoo's layer types against the cpu backend, short training runs, and the
 * oversize guards (binding-limit checks, batch splitting, the largest batch that fits).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import {
  activationPlan,
  overrideBindingLimit,
  planBatch,
  planRunBatches,
  probeAdapter,
  WebGpuError,
} from "../lib/backend/webgpu.ts";
import { buildModel } from "../lib/models/registry.ts";
import { trainStep } from "../lib/train/step.ts";
import { rand, relErr } from "./helpers.ts";

const adapter = await probeAdapter();
if (!adapter) {
  throw new Error(
    "no WebGPU adapter: the GPU-path tests need one; fix: apt-get install mesa-vulkan-drivers (or run deno task setup)",
  );
}
const GPU = { sanitizeOps: false, sanitizeResources: false };
const REL = 1e-4; // float32 on a different device: summation order differs

async function onBoth(
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<[Float32Array[], Float32Array[]]> {
  const res: Float32Array[][] = [];
  for (const be of ["cpu", "webgpu"]) {
    await initBackend({ backend: be, log: null });
    const outs = tf.tidy(() => f(...shapes.map((s, i) => tf.tensor(rand(s, i + 1), s))));
    res.push(await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array)));
    tf.dispose(outs);
  }
  return [res[0], res[1]];
}

Deno.test({
  name: "webgpu starts on the software adapter and describes it",
  ...GPU,
  fn: async () => {
    const b = await initBackend({ backend: "webgpu", log: null });
    assert.equal(b.name, "webgpu");
    assert.equal(tf.getBackend(), "webgpu");
    assert.match(b.device, /max binding \d+ MiB, max buffer \d+ MiB/);
    if (adapter.isFallback) assert.match(b.device, /software fallback adapter/);
  },
});

Deno.test({
  name: "webgpu gradients of the zoo's layer types match the cpu backend",
  ...GPU,
  fn: async () => {
    const cases: [string, number[][], (...xs: tf.Tensor[]) => tf.Tensor[]][] = [
      [
        "conv 3×3 same",
        [[2, 9, 9, 3], [3, 3, 3, 4]],
        (x, w) =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same").square().sum()
          )([x, w]),
      ],
      [
        "conv 5×5/2 valid",
        [[2, 11, 11, 2], [5, 5, 2, 3]],
        (x, w) =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, "valid").square().sum()
          )([x, w]),
      ],
      [
        "conv 11×11/4",
        [[2, 27, 27, 1], [11, 11, 1, 4]],
        (x, w) =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 4, "valid").square().sum()
          )([x, w]),
      ],
      [
        "max-pool 3/2",
        [[2, 9, 9, 3]],
        (x) => [tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 3, 2, "valid").square().sum())(x)],
      ],
      [
        "avg-pool 2/2",
        [[2, 8, 8, 3]],
        (x) => [tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, "valid").square().sum())(x)],
      ],
      [
        "dense",
        [[4, 12], [12, 5]],
        (a, b) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D).square().sum())([
            a,
            b,
          ]),
      ],
      ["batch norm", [[2, 4, 4, 3]], (x) => [
        tf.grad((x: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          const c = x.shape[3]!;
          return tf.batchNorm(x, mean, variance, tf.fill([c], 0.1), tf.fill([c], 1.5), 1e-5).square().mul(
            tf.range(0, x.size).reshape(x.shape),
          ).sum();
        })(x),
      ]],
    ];
    for (const [name, shapes, f] of cases) {
      const [cpu, gpu] = await onBoth(shapes, f);
      cpu.forEach((c, i) =>
        assert.ok(relErr(gpu[i], c) <= REL, `${name}, output ${i}: relative error ${relErr(gpu[i], c)}`)
      );
    }
  },
});

async function lossesOf(name: string, size: number, batch: number, steps: number, opts: { microBatch?: number } = {}) {
  const m = buildModel(name, { inputSize: size, seed: 1 });
  const opt = tf.train.adam(1e-3);
  const x = tf.tensor(rand([batch, size, size, 1], 9).map((v) => (v + 1) / 2), [batch, size, size, 1]);
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), "int32");
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await trainStep(m, opt, x, y, opts)).loss);
  tf.dispose([x, y]);
  opt.dispose();
  m.dispose();
  return losses;
}

Deno.test({
  name: "short training runs on webgpu: LeNet, and GoogLeNet at 96 with a small batch",
  ...GPU,
  fn: async () => {
    await initBackend({ backend: "webgpu", log: null });
    const l = await lossesOf("lenet", 28, 16, 8);
    assert.ok(l.every(Number.isFinite) && l.at(-1)! < l[0], `LeNet losses ${l}`);
    const g = await lossesOf("googlenet", 96, 2, 2);
    assert.ok(g.every(Number.isFinite), `GoogLeNet losses ${g}`);
  },
});

Deno.test({
  name: "oversize: a kernel whose tensor exceeds the binding limit throws, naming the kernel and the size",
  ...GPU,
  fn: async () => {
    await initBackend({ backend: "webgpu", log: null });
    // The adapter's real limit (128 MiB on Mesa's software adapters): one float more.
    const over = Math.floor(adapter.maxStorageBufferBindingSize / 4) + 1;
    assert.throws(() => tf.tidy(() => tf.ones([over]).add(1)), (e: Error) => {
      assert.ok(e instanceof WebGpuError);
      assert.match(
        e.message,
        /kernel \w+: (output|input \w+) \[\d+\] is [\d.]+ MiB, over this adapter's storage-buffer binding limit of [\d.]+ MiB/,
      );
      return true;
    });
  },
});

Deno.test({
  name: "oversize: the batch is split (gradient accumulation, same loss) or refused with the largest batch that fits",
  ...GPU,
  fn: async () => {
    await initBackend({ backend: "webgpu", log: null });
    const m = buildModel("lenet", { seed: 1 });
    const per = activationPlan(m, Infinity).perExampleBytes; // block1_conv: 28×28×6 floats
    assert.equal(per, 28 * 28 * 6 * 4);
    const limit = per * 20 + 7; // room for 20 examples (and for fc1's 192 KB of weights)
    assert.equal(planBatch(m, 16, "split", limit), 16);
    assert.equal(planBatch(m, 32, "split", limit), 20);
    assert.throws(
      () => planBatch(m, 32, "error", limit),
      /at batch 32: the block1_conv output would be .* the largest batch that fits is 20; fix: --batch 20/,
    );
    assert.throws(
      () => planBatch(m, 1, "split", per - 1),
      /a weight of lenet is 0\.2 MiB, over this adapter's storage-buffer binding limit .* cannot run on this adapter/,
    );
    // The trainer's plan: training and evaluation batches both cut to what fits, and why.
    overrideBindingLimit(limit);
    try {
      const p = planRunBatches(m, 32, 256, "split");
      assert.deepEqual([p.microBatch, p.evalBatch], [20, 20]);
      assert.match(p.note ?? "", /batch 32 exceeds .* accumulating gradients over slices of 20/);
      assert.deepEqual(planRunBatches(m, 16, 16, "split"), { microBatch: 16, evalBatch: 16, note: null });
      assert.throws(() => planRunBatches(m, 32, 256, "error"), /the largest batch that fits is 20/);
      await initBackend({ backend: "cpu", log: null });
      assert.deepEqual(planRunBatches(m, 32, 256, "error"), { microBatch: 32, evalBatch: 256, note: null });
      await initBackend({ backend: "webgpu", log: null });
    } finally {
      overrideBindingLimit(null);
    }
    m.dispose();
    // Split steps give the same losses as whole-batch steps (LeNet has no batch norm).
    const whole = await lossesOf("lenet", 28, 32, 3);
    overrideBindingLimit(limit);
    try {
      const split = await lossesOf("lenet", 28, 32, 3, { microBatch: 20 });
      whole.forEach((w, i) =>
        assert.ok(Math.abs(split[i] - w) <= 1e-4 * Math.abs(w), `step ${i}: ${split[i]} vs ${w}`)
      );
    } finally {
      overrideBindingLimit(null);
    }
  },
});
