/**
 * cnnlab's wasm training kernels against the pure-JS cpu backend.
 * Bound: relative RMS error ≤ 1e-5 (float32 summation-order noise measures ~1e-7).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { COVERAGE_MODELS, kernelSuite } from "./kernel_cases.ts";
import { trainStep } from "../lib/train/step.ts";

await initBackend({ backend: "wasm", log: null });
kernelSuite("wasm");

/**
 * Run a forward+backward+Adam step and an inference pass on wasm under tf.profile.
 * Returns the kernels used, or the missing kernel's name when wasm lacks one.
 */
async function walkKernels(build: () => tf.LayersModel, size: number): Promise<{ used: string[]; missing?: string }> {
  await tf.setBackend("wasm");
  const m = build();
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([2, size, size, 1], 0, 1, "float32", 1);
  const y = tf.tensor1d([1, 2], "int32");
  try {
    const info = await tf.profile(async () => {
      await trainStep(m, opt, x, y, { labelSmoothing: 0.1 });
      tf.tidy(() => m.apply(x, { training: false }) as tf.Tensor);
    });
    // Composite ops with custom gradients (e.g. fusedConv2d__op) show up too; keep real kernels.
    return { used: info.kernelNames.filter((k) => tf.getKernel(k, "cpu")) };
  } catch (e) {
    const k = (e as Error).message.match(/Kernel '(\w+)' not registered for backend 'wasm'/);
    if (k) return { used: [], missing: k[1] };
    throw e;
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    m.dispose();
  }
}

Deno.test("every kernel the models' training steps use exists on wasm", async () => {
  const missing: string[] = [];
  const used = new Set<string>();
  for (const [name, build, size] of COVERAGE_MODELS) {
    const r = await walkKernels(build, size);
    if (r.missing) missing.push(`${name}: ${r.missing}`);
    r.used.forEach((k) => used.add(k));
  }
  assert.deepEqual(missing, []);
  // The walk really went through the training kernels cnnlab provides.
  for (
    const k of ["Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPoolGrad", "AvgPoolGrad", "FusedBatchNorm", "Concat"]
  ) {
    assert.ok(used.has(k), `${k} was not used by any model`);
  }
});
