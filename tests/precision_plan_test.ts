/**
 * bf16 per layer (lib/backend/native/precision_plan.ts): layer keys, recording a step's layers,
 * the choice from timings, the per-machine timing table, and the trainer keeping a run's plan.
 * The choice and the wiring are tested on any CPU with made-up timings; timing real layers in
 * bf16 and training with a measured plan run where the CPU has AVX512_BF16 or AMX.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { cpuHasBf16, planLayers, setPrecision } from "../lib/backend/mod.ts";
import {
  bf16Flag,
  choosePlan,
  compareLayer,
  convKey,
  type LayerPlan,
  type LayerTime,
  LayerTimings,
  makeLayerPlan,
  matmulKey,
  NativeError,
  planSummary,
  recordLayers,
  type SeenLayer,
  setLayerPlan,
} from "../lib/backend/native.ts";
import { CONV_PARAMS, MATMUL_PARAMS, pack } from "../lib/backend/native/codes.ts";
import { buildModel } from "../lib/models/registry.ts";
import { probeStep } from "../lib/train/step.ts";
import { train } from "../lib/train/trainer.ts";
import { SMALL_RUN, startNative } from "./helpers.ts";
import { createProgress, type Progress } from "../lib/train/progress.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { latestCheckpoint } from "../lib/train/checkpoint.ts";

const available = await startNative();
const opts = { ignore: !available };

const conv = (g: Partial<Record<typeof CONV_PARAMS[number], number>> = {}) =>
  pack(CONV_PARAMS, {
    N_: 32,
    H_: 14,
    W_: 14,
    CI: 6,
    CO: 16,
    KH: 5,
    KW: 5,
    SH: 1,
    SW: 1,
    DH: 1,
    DW: 1,
    PT: 0,
    PL: 0,
    PB: 0,
    PR: 0,
    OH: 10,
    OW: 10,
    ACT: 0,
    BF16: 0,
    ...g,
  });
const matmul = (g: Partial<Record<typeof MATMUL_PARAMS[number], number>> = {}) =>
  pack(MATMUL_PARAMS, { MBA: 1, MBB: 1, MM: 32, MK: 400, MN: 120, MTA: 0, MTB: 0, MACT: 0, MBF16: 0, ...g });

Deno.test("layer keys: a convolution is one layer at any batch, activation or precision; its geometry tells layers apart", () => {
  const base = convKey(conv());
  assert.equal(convKey(conv({ N_: 256, ACT: 1, BF16: 1 })), base);
  for (const g of [{ H_: 15 }, { CI: 3 }, { CO: 8 }, { KH: 3 }, { SW: 2 }, { DH: 2 }, { PR: 1 }]) {
    assert.notEqual(convKey(conv(g)), base, JSON.stringify(g));
  }
  // A matmul's batch is one of its dimensions (rows forward, the inner dimension for the weights' gradient).
  const m = matmulKey(matmul());
  assert.equal(matmulKey(matmul({ MACT: 1, MBF16: 1 })), m);
  for (const g of [{ MM: 256 }, { MK: 32 }, { MN: 84 }, { MTA: 1 }, { MTB: 1 }, { MBA: 2 }]) {
    assert.notEqual(matmulKey(matmul(g)), m, JSON.stringify(g));
  }
});

const layer = (key: string, op: "conv" | "matmul" = "conv", n = 32): SeenLayer => ({
  key,
  op,
  params: op === "conv" ? [...conv({ N_: n })] : [...matmul()],
  passes: ["fwd"],
  count: 1,
});

Deno.test("the choice: bf16 only for a layer measured faster in it; a tie, a slower and an unmeasured layer stay fp32", () => {
  const layers = [layer("a"), layer("b"), layer("c"), layer("d")];
  const t: Record<string, LayerTime> = {
    "a @32": { fp32: 10, bf16: 6 },
    "b @32": { fp32: 5, bf16: 7 },
    "c @32": { fp32: 4, bf16: 4 },
    "a @64": { fp32: 1, bf16: 9 }, // another batch: not this run's
  };
  layers[0].count = 3; // one geometry, three of the model's layers (ResNet's repeated blocks)
  const p = choosePlan(layers, t);
  assert.deepEqual(p.layers, { a: "bf16", b: "fp32", c: "fp32", d: "fp32" });
  assert.deepEqual(Object.keys(p.timings).sort(), ["a @32", "b @32", "c @32"]);
  // Counted per layer of the model: 3 × a in bf16; b, c, d in fp32; the times weighted alike.
  assert.deepEqual(planSummary(p), {
    bf16: 3,
    fp32: 3,
    ms: 3 * 6 + 5 + 4,
    fp32Ms: 3 * 10 + 5 + 4,
    bf16Ms: 3 * 6 + 7 + 4,
  });
});

Deno.test("the kernels' flag: under a plan each layer as chosen, at any batch; a layer the plan lacks in fp32; without a plan the backend's precision", () => {
  const a = conv(), b = conv({ CO: 32 }), unknown = conv({ CO: 64 });
  const plan: LayerPlan = { layers: { [convKey(a)]: "bf16", [convKey(b)]: "fp32" }, counts: {}, timings: {} };
  try {
    setLayerPlan(plan);
    assert.equal(bf16Flag("conv", a), 1);
    assert.equal(bf16Flag("conv", conv({ N_: 256 })), 1, "evaluation's batch is the same layer");
    assert.equal(bf16Flag("conv", b), 0);
    assert.equal(bf16Flag("conv", unknown), 0);
    assert.equal(bf16Flag("matmul", matmul()), 0);
    // While a step is recorded, every call computes in fp32.
    const seen = recordLayers(() => {
      assert.equal(bf16Flag("conv", a, "fwd"), 0);
      assert.equal(bf16Flag("conv", a, "bwd_weights"), 0);
      assert.equal(bf16Flag("conv", conv({ ACT: 1 }), "fwd"), 0); // a second layer of the same geometry
      assert.equal(bf16Flag("matmul", matmul()), 0);
    });
    assert.deepEqual(seen.map((l) => [l.op, l.passes, l.count]), [["conv", ["fwd", "bwd_weights"], 2], [
      "matmul",
      ["fwd"],
      1,
    ]]);
  } finally {
    setLayerPlan(null);
  }
  assert.equal(bf16Flag("conv", a), 0, "fp32 backend, no plan");
});

Deno.test({
  name:
    "recording a step: LeNet's two convolutions (the first without an input gradient) and dense matmuls; the model is left as it was",
  ...opts,
  fn: () => {
    const model = buildModel("bn-lenet", { inputSize: 28, seed: 1 });
    try {
      const before = model.weights.map((w) => w.read().dataSync().slice());
      const layers = recordLayers(() => probeStep(model, 8));
      const convs = layers.filter((l) => l.op === "conv");
      assert.equal(convs.length, 2);
      assert.deepEqual(convs[0].passes.sort(), ["bwd_weights", "fwd"]);
      assert.deepEqual(convs[1].passes.sort(), ["bwd_data", "bwd_weights", "fwd"]);
      assert.ok(convs.every((l) => l.params[0] === 8), "timed at the step's batch");
      assert.ok(layers.some((l) => l.op === "matmul"), layers.map((l) => l.key).join("; "));
      model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), before[i], w.name));
      // The test can fail: a training-mode pass without the probe's care moves batch norm's statistics.
      tf.tidy(() => {
        model.apply(tf.ones([8, 28, 28, 1]), { training: true });
      });
      assert.ok(model.weights.some((w, i) => w.read().dataSync().some((v, j) => v !== before[i][j])));
    } finally {
      model.dispose();
    }
  },
});

Deno.test("the machine's timing table: measured once, merged with another process's, another machine's or a damaged file measured anew", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cnnlab-timings-" });
  const path = `${dir}/m.json`;
  // A "step" that calls two convolutions and a matmul; the first convolution is faster in bf16.
  const blocks = [["conv", conv({ CO: 8 })], ["conv", conv({ CO: 9 })], ["matmul", matmul()]] as const;
  const real = () => blocks.forEach(([op, p]) => bf16Flag(op, p, "fwd"));
  const step = (f: () => void) => f;
  let calls = 0;
  const measure = (l: SeenLayer): LayerTime => {
    calls++;
    return l.key === convKey(blocks[0][1]) ? { fp32: 3, bf16: 1 } : { fp32: 1, bf16: 3 };
  };
  const a = await makeLayerPlan(step(real), LayerTimings.load(path, "machine A"), measure);
  assert.equal(a.measured, 3);
  assert.deepEqual(Object.values(a.plan.layers), ["bf16", "fp32", "fp32"]);
  const again = await makeLayerPlan(step(real), LayerTimings.load(path, "machine A"), measure);
  assert.equal(again.measured, 0, "kept from the first run");
  assert.deepEqual(again.plan, a.plan);
  assert.equal(calls, 3);
  // Two processes saving: each keeps the other's entries.
  const t1 = LayerTimings.load(path, "machine A");
  const t2 = LayerTimings.load(path, "machine A");
  t1.entries.set("one", { fp32: 1, bf16: 2 });
  t2.entries.set("two", { fp32: 2, bf16: 1 });
  await t1.save();
  await t2.save();
  const both = LayerTimings.load(path, "machine A");
  assert.ok(both.entries.has("one") && both.entries.has("two") && both.entries.size === 5);
  const lines: string[] = [];
  assert.equal(LayerTimings.load(path, "machine B", (l) => lines.push(l)).entries.size, 0);
  assert.match(lines[0], /another machine \(machine A\); measuring anew/);
  await Deno.writeTextFile(path, '{"machine": "machine A", "layers": {"x');
  const bad = await makeLayerPlan(step(real), LayerTimings.load(path, "machine A", (l) => lines.push(l)), measure);
  assert.match(lines[1], /do not parse .*; measuring anew/);
  assert.equal(bad.measured, 3);
  assert.equal(LayerTimings.load(path, "machine A").entries.size, 3, "the damaged file was replaced");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "timing a layer in both precisions: refused with the fix without bf16; where the CPU has it, every pass of LeNet's layers",
  ...opts,
  fn: () => {
    const model = buildModel("lenet", { inputSize: 28, seed: 1 });
    const layers = recordLayers(() => probeStep(model, 16));
    model.dispose();
    if (!cpuHasBf16()) {
      assert.throws(
        () => compareLayer(layers[0]),
        (e) => e instanceof NativeError && /AVX512_BF16 or AMX.*fix/.test(e.message),
      );
      return;
    }
    for (const l of layers) {
      const t = compareLayer(l, 3);
      assert.ok(t.fp32 > 0 && t.bf16 > 0 && Number.isFinite(t.fp32 + t.bf16), `${l.key}: ${JSON.stringify(t)}`);
    }
  },
});

const SMALL = SMALL_RUN;

/** Progress that keeps its lines and stops the run at an epoch's step. */
function watch(lines: string[], stop?: { requested: boolean; at: [number, number] }): Progress {
  return {
    mode: "silent",
    update: (s) => {
      if (stop && s.epoch === stop.at[0] && s.step === stop.at[1]) stop.requested = true;
      return Promise.resolve();
    },
    epochEnd: (l) => (lines.push(l), Promise.resolve()),
    finish: (l) => (lines.push(l), Promise.resolve()),
  };
}

Deno.test({
  name: "a run keeps its layer plan in its checkpoints; resumed, it computes as before without planning again",
  ...opts,
  fn: async () => {
    const data = await fashionMnist();
    const dir = await Deno.makeTempDir({ prefix: "cnnlab-plan-" });
    let planned = 0;
    // Made-up timings in which fp32 wins everywhere, so that this runs on any CPU.
    const table = `${dir}-timings.json`;
    await Deno.writeTextFile(table, "{damaged");
    const layerPlanner = async (step: () => void, log: (l: string) => void) => {
      planned++;
      const r = await makeLayerPlan(step, LayerTimings.load(table, "test", log), () => ({ fp32: 1, bf16: 2 }));
      return { ...r, path: table };
    };
    const lines: string[] = [];
    const full = await train(SMALL, 5, data, { progress: watch(lines), layerPlanner });
    assert.equal(planned, 1);
    assert.deepEqual(full.layerPlan && [full.layerPlan.bf16, full.layerPlan.fp32 > 2], [0, true]);
    const said = lines.join("\n");
    assert.match(said, /: layer timings .*-timings\.json do not parse .*; measuring anew/);
    assert.match(
      said,
      /bf16 in 0 of \d+ convolutions and matmuls, fp32 where bf16 measured slower .*; [1-9]\d* layer\(s\) timed now, kept in /,
    );
    const plain = await train(SMALL, 5, data, { progress: createProgress("silent") });
    assert.equal(plain.layerPlan, undefined, "fp32 without a planner: no plan");
    const metrics = (r: typeof full) => r.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAcc]);
    assert.deepEqual(metrics(full), metrics(plain), "the probe step changed nothing");

    const stop = { requested: false, at: [2, 2] as [number, number] };
    const cut = await train(SMALL, 5, data, { progress: watch([], stop), stop, checkpointDir: dir, layerPlanner });
    assert.equal(cut.status, "interrupted");
    const ck = await latestCheckpoint<{ layerPlan?: LayerPlan }>(dir);
    assert.ok(ck?.meta.layerPlan);
    assert.deepEqual(planSummary(ck.meta.layerPlan), full.layerPlan);
    const resumed = await train(SMALL, 5, data, {
      progress: createProgress("silent"),
      checkpointDir: dir,
      resume: true,
      layerPlanner,
    });
    assert.equal(planned, 2, "the resumed run took its checkpoint's plan");
    assert.deepEqual(resumed.layerPlan, full.layerPlan);
    assert.deepEqual(metrics(resumed), metrics(full));
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(table);
  },
});

Deno.test({
  name: "bf16 where the CPU has it: a run times its layers once per machine and computes each as the timings chose",
  ignore: !available || !cpuHasBf16(),
  fn: async () => {
    const data = await fashionMnist();
    const dir = await Deno.makeTempDir({ prefix: "cnnlab-timings-" });
    setPrecision("bf16");
    try {
      const a: string[] = [], b: string[] = [];
      const r1 = await train({ ...SMALL, epochs: 1 }, 5, data, { progress: watch(a), layerTimingsDir: dir });
      const r2 = await train({ ...SMALL, epochs: 1 }, 5, data, { progress: watch(b), layerTimingsDir: dir });
      assert.equal(r1.status, "ok");
      assert.ok(r1.layerPlan && r1.layerPlan.bf16 + r1.layerPlan.fp32 > 2);
      assert.ok(r1.layerPlan.ms <= Math.min(r1.layerPlan.fp32Ms, r1.layerPlan.bf16Ms) + 1e-9);
      assert.match(a.join("\n"), /[1-9]\d* layer\(s\) timed now, kept in /);
      assert.match(b.join("\n"), / 0 layer\(s\) timed now/);
      assert.deepEqual(r2.layerPlan, r1.layerPlan);
      assert.deepEqual(r2.epochs.map((e) => e.testLoss), r1.epochs.map((e) => e.testLoss));
      // planLayers names the file by machine: one file here.
      assert.equal([...Deno.readDirSync(dir)].length, 1);
      assert.ok((await planLayers(() => {}, dir)).path?.startsWith(dir));
    } finally {
      setPrecision("fp32");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
