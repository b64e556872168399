/**
 * `deno task bench --profile`: oneDNN's log is summed per primitive and step, the child's
 * output is split into result and log, and a real profile of LeNet accounts for its step.
 */
import assert from "node:assert/strict";
import { parseChild, parseOnednnLog, type StepProfile } from "../bench/profile.ts";
import { isOpWrapper } from "../lib/train/timing.ts";
import { buildNative } from "../lib/backend/native_build.ts";
import { runBench } from "./helpers.ts";

const LOG = [
  "onednn_verbose,info,oneDNN v2.6.0 (commit N/A)",
  "onednn_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32::blocked:acdb:f0,,alg:convolution_direct,mb8_ic1oc6,0.5",
  "onednn_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32::blocked:acdb:f0,,alg:convolution_direct,mb8_ic6oc16,1.5",
  "onednn_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:cdba:f0 dst_f32::blocked:Acdb8a:f0,,,6x1x5x5,0.25",
  "onednn_verbose,exec,cpu,convolution,jit:avx2,backward_weights,src_f32::blocked:acdb:f0,,alg,mb8_ic1oc6,3",
  "onednn_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32::blocked:acdb:f0,,alg,mb8_ic1oc6,not-a-number",
  "a line of someone else's output",
];

Deno.test("oneDNN's execution log is summed per primitive, implementation and propagation, per step", () => {
  const rows = parseOnednnLog(LOG, 2);
  assert.deepEqual(rows, [
    { name: "convolution jit:avx2 backward_weights", callsPerStep: 0.5, msPerStep: 1.5 },
    { name: "convolution jit:avx2 forward_training", callsPerStep: 1, msPerStep: 1 },
    { name: "reorder jit:uni", callsPerStep: 0.5, msPerStep: 0.125 },
  ]);
});

Deno.test("a profiling child's stdout splits into its result and the oneDNN log between the markers", () => {
  const result = { model: "lenet", kernels: [], onednn: null } as unknown as StepProfile;
  const stdout = [LOG[1], "@@onednn-begin", ...LOG.slice(2), "@@onednn-end", `@@profile ${JSON.stringify(result)}`]
    .join("\n");
  const p = parseChild(stdout, 1);
  assert.equal(p.model, "lenet");
  // The line before the begin marker (warm-up steps) is not counted.
  assert.deepEqual(p.onednn!.map((r) => [r.name, r.msPerStep]), [
    ["convolution jit:avx2 backward_weights", 3],
    ["convolution jit:avx2 forward_training", 1.5],
    ["reorder jit:uni", 0.25],
  ]);
  assert.throws(() => parseChild(LOG.join("\n"), 1), /printed no result/);
});

const native = (await buildNative()).built;

Deno.test({
  name: "deno task bench --profile lenet@28 accounts for a native training step",
  ignore: !native,
  fn: async () => {
    const out = await runBench(["--profile", "lenet@28", "--batch", "16", "--steps", "2"]);
    const text = out.stdout;
    assert.ok(out.success, out.stderr);
    for (const section of ["kernels (tf.profile)", "oneDNN primitives", "JavaScript self time"]) {
      assert.ok(text.includes(section), `missing section '${section}':\n${text}`);
    }
    const p = out.json as StepProfile;
    assert.equal(p.backend, "native");
    assert.equal(p.leakedTensorsPerStep, 0);
    assert.ok(p.optimizerMs > 0 && p.optimizerMs < p.stepMs, `Adam ${p.optimizerMs} ms of ${p.stepMs}`);
    const conv = p.kernels.find((k) => k.name === "CnnlabConv2D");
    assert.equal(conv?.callsPerStep, 2, "LeNet's two convolutions, once per step");
    // Op wrappers (…__op) time the kernels they call, also listed: "kernels" counts each once, so it
    // fits inside the profiled step (counted twice it did not, under load).
    assert.ok(p.kernels.some((k) => isOpWrapper(k.name)), "LeNet's dense layers run through fusedMatMul__op");
    const leaves = p.kernels.filter((k) => !isOpWrapper(k.name)).reduce((s, k) => s + k.msPerStep, 0);
    assert.ok(Math.abs(p.kernelMs - leaves) < 1e-9);
    assert.ok(p.kernelMs > 0 && p.kernelMs < p.profiledStepMs, `kernels ${p.kernelMs} ms of ${p.profiledStepMs}`);
    assert.ok(p.onednn!.some((r) => r.name.startsWith("convolution") && r.msPerStep > 0));
    assert.ok(p.js.length > 0);
  },
});
