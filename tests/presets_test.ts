/**
 * Presets resolve to the data size, width and input size each question group intends; the
 * Inception comparison shares one width and input size at every preset; a preset knob a model
 * cannot take is an error naming both; every experiment's recipe carries its reasons.
 */
import assert from "node:assert/strict";
import {
  configHash,
  type Experiment,
  experiment,
  ExperimentError,
  EXPERIMENTS,
  GROUPS,
  LAPTOP_WHY,
  notebookExperiments,
  type Preset,
  PRESETS,
  Q3B_MODELS,
  REFERENCE_LEFT_OUT,
  REFERENCE_TIER,
  resolveConfig,
  STEM_TUNING,
  variant,
  variants,
} from "../lib/exp/experiments.ts";
import { buildModel, checkModelOptions, MODELS } from "../lib/models/registry.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { hours, makePlan, recordedCost } from "../lib/exp/plan.ts";
import type { RunRecord } from "../lib/exp/store.ts";
import { folderSource, missingRecords, referenceMeasurement } from "../lib/exp/records.ts";
import { measurementHash, measurementSpec } from "../lib/exp/measurements.ts";

// Models are built here only to count parameters: the cpu backend (importing the backends registers wasm first).
await initBackend({ backend: "cpu", log: null });
import { trainableParams } from "../lib/models/inspect.ts";
import { Q3B } from "../lib/report/q3b.ts";
import { bf16Safe, loadBf16Checks, precisionFor } from "../lib/exp/bf16.ts";

const laptop = (name: string) => resolveConfig(experiment(name), "laptop");

Deno.test("laptop preset: each question group trains the data, width and input size it declares", () => {
  for (const n of ["q1a/lenet", "q1a/relu", "q1a/alexnet-style", "q1a/sgd", "q3a/lenet-gap"]) {
    const c = laptop(n);
    assert.equal(c.trainPerClass, null, `${n}: all 60,000 training images`);
    assert.equal(c.testPerClass, null, `${n}: the full test set`);
    assert.equal(c.inputSize, 28);
  }
  for (const n of [...EXPERIMENTS.keys()].filter((k) => k.startsWith("q1b/"))) {
    const c = laptop(n);
    assert.equal(c.trainPerClass, null);
    assert.equal(c.inputSize, 67);
    const full = resolveConfig(experiment(n), "full");
    const mult = (full.modelOptions.widthMultiplier ?? 1) / 4;
    assert.equal(c.modelOptions.widthMultiplier, mult, `${n}: a quarter of the full model's width`);
    assert.equal(c.modelOptions.denseWidth, Math.round((full.modelOptions.denseWidth ?? 4096) / 4));
  }
  assert.equal(laptop("q2b/vgg11-r8@224").inputSize, 224);
  assert.equal(laptop("q2b/vgg11-r8@96").inputSize, 96);
  assert.equal(laptop("q2b/vgg11-r8@224").trainPerClass, laptop("q2b/vgg11-r8@96").trainPerClass);
  for (const n of ["q2a/alexnet@96", "q2a/lenet@96"]) assert.equal(laptop(n).inputSize, 96);
  for (const n of Q3B) {
    const c = laptop(n);
    assert.equal(c.inputSize, 48);
    assert.equal(c.modelOptions.width, 0.25);
    assert.equal(c.trainPerClass, null, `${n}: all 60,000 training images`);
    assert.equal(c.testPerClass, null);
  }
});

Deno.test("Q3b: all five models share one width, input size, data and budget at every preset", () => {
  for (const p of PRESETS) {
    const cfgs = Q3B.map((n) => resolveConfig(experiment(n), p));
    for (const key of ["inputSize", "trainPerClass", "testPerClass", "epochs", "batchSize"] as const) {
      assert.equal(new Set(cfgs.map((c) => c[key])).size, 1, `${p}: ${key} differs`);
    }
    assert.equal(new Set(cfgs.map((c) => c.modelOptions.width ?? 1)).size, 1, `${p}: width differs`);
    assert.equal(new Set(cfgs.map((c) => JSON.stringify({ ...c.optim }))).size, 1, `${p}: recipe differs`);
  }
  // The width really reaches every model: a quarter width has fewer parameters than full width.
  for (const n of Q3B) {
    const model = resolveConfig(experiment(n), "laptop").model;
    const [quarter, full] = [0.25, 1].map((w) => {
      const m = buildModel(model, { inputSize: 48, width: w });
      const p = trainableParams(m);
      m.dispose();
      return p;
    });
    assert.ok(quarter < full / 8, `${n}: width ¼ gives ${quarter} parameters vs ${full}`);
  }
});

Deno.test("a preset knob a model cannot take is an error naming the model and the knob", () => {
  const bad: Experiment = { ...experiment("q1b/alexnet"), name: "q1b/nin", model: "nin", modelOptions: {} };
  assert.throws(
    () => resolveConfig(bad, "laptop"),
    (e: Error) =>
      e instanceof ExperimentError &&
      /sets widthScale for q1b\/nin, but model nin cannot take widthScale/.test(e.message),
  );
  // Every model declares what it takes; GoogLeNet and ResNet-18 take the width knob like the rest of their family.
  for (const n of ["googlenet", "bn-inception", "inception-v3", "inception-resnet", "resnet18"]) {
    assert.ok(MODELS.get(n)!.scale.widthScale, n);
  }
});

Deno.test("a model option no builder reads is refused, naming the model's options: in code, in a notebook's variant() and from the CLI", async () => {
  assert.throws(
    () => buildModel("lenet", { widthMultipler: 2 } as never),
    /model lenet has no option 'widthMultipler'; its options: inputSize, seed, activation, pooling, batchNorm, dropout, widthMultiplier, extraConvs, head/,
  );
  // Every option a family declares is accepted (the list is complete: the compiler checks it against the type).
  for (const m of MODELS.values()) {
    assert.doesNotThrow(() => checkModelOptions(m.name, Object.fromEntries(m.options.map((k) => [k, undefined]))));
  }
  assert.throws(
    () => variant(experiment("q1b/lr-0.002"), { modelOptions: { widthMultiplier: 0.125, denseWidt: 512 } as never }),
    (e: Error) =>
      e instanceof ExperimentError &&
      /model alexnet has no option 'denseWidt'; its options: .*denseWidth/.test(e.message),
  );
  assert.ok(!variants().some((v) => v.name.includes("denseWidt=")), "a refused variant is not registered");
  const cli = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../bench/tune.ts", import.meta.url).pathname,
      "q1a/relu",
      "--preset",
      "smoke",
      "--set",
      "modelOptions.widthMultipler=2",
    ],
    env: { CNNLAB_OUTPUTS: await Deno.makeTempDir(), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(cli.code, 2);
  assert.match(new TextDecoder().decode(cli.stderr), /model lenet has no option 'widthMultipler'; its options: /);
});

Deno.test("every experiment and laptop knob carries a reason in both languages", () => {
  for (const e of EXPERIMENTS.values()) {
    assert.ok(e.why.optim?.en && e.why.optim?.zh, `${e.name}: no reason for its optimiser`);
    for (const [k, v] of Object.entries(e.why)) assert.ok(v?.en && v?.zh, `${e.name}.${k}`);
  }
  for (const [g, reasons] of Object.entries(LAPTOP_WHY)) {
    assert.ok(Object.keys(reasons).length > 0, g);
    for (const [k, v] of Object.entries(reasons)) assert.ok(v?.en && v?.zh, `${g}.${k}`);
    assert.ok(g in GROUPS);
  }
});

Deno.test("bf16 under --precision auto: only on a bf16 CPU, only for a family whose stored checks all pass", () => {
  const vgg = experiment("q2b/vgg11-r8@96"), lenet = experiment("q1a/relu");
  const pass = { family: "LeNet", experiment: "q1a/relu", preset: "laptop", fp32: [0.9, 0.902], bf16: [0.899, 0.9] };
  const fail = {
    family: "VGG",
    experiment: "q2b/vgg11-r8@96",
    preset: "laptop",
    fp32: [0.674, 0.683],
    bf16: [0.592, 0.678],
  };
  const checks = [pass, fail].map((c) => ({ ...c, device: "test", date: "2026-11-30" }));
  assert.deepEqual(precisionFor(lenet, "auto", true, checks).precision, "bf16");
  assert.equal(precisionFor(lenet, "auto", false, checks).precision, "fp32", "no bf16 on this CPU");
  const v = precisionFor(vgg, "auto", true, checks);
  assert.equal(v.precision, "fp32");
  assert.match(v.why, /q2b\/vgg11-r8@96 \(laptop\): bf16 −?-?4\.4 points from fp32, beyond ±0\.5/);
  assert.match(
    precisionFor(experiment("q3b/googlenet"), "auto", true, checks).why,
    /no stored bf16 check for the Inception family/,
  );
  assert.equal(
    precisionFor(vgg, "bf16", false, checks).precision,
    "bf16",
    "an explicit request is obeyed (and refused later if impossible)",
  );
  // The checks stored in the project: VGG fails at 96 px, so the report trains VGG in fp32 everywhere.
  assert.equal(bf16Safe(loadBf16Checks(), "VGG").safe, false);
});

Deno.test("the reference tier: every run a registered experiment at the full preset; published runs count as stored; the CLIs refuse other tiers and presets", async () => {
  for (const r of REFERENCE_TIER) {
    assert.ok(EXPERIMENTS.has(r.experiment), r.experiment);
    assert.ok(r.seeds.length > 0 && r.why.en && r.why.zh, r.experiment);
  }
  assert.ok(REFERENCE_LEFT_OUT.en.includes("Q3b") && REFERENCE_LEFT_OUT.zh.includes("问题 3b"));
  // A run published elsewhere is stored for the plan: nothing to calibrate, nothing to train.
  const e = experiment("q1a/lenet");
  const hash = await configHash(resolveConfig(e, "smoke"));
  const outputs = await Deno.makeTempDir();
  Deno.env.set("CNNLAB_OUTPUTS", outputs);
  try {
    const plan = await makePlan([e], "smoke", {
      seeds: () => [1, 2],
      published: new Set([`${e.name}|${hash}|1`, `${e.name}|${hash}|2`]),
    });
    assert.deepEqual(plan.runs.map((r) => [r.seed, r.stored]), [[1, true], [2, true]]);
    assert.equal(plan.workSeconds, 0);
    assert.equal(plan.whole, null);
    // Priced as the tier is: still nothing to train, but the whole set's cost from scratch.
    const priced = await makePlan([e], "smoke", {
      seeds: () => [1, 2],
      published: new Set([`${e.name}|${hash}|1`, `${e.name}|${hash}|2`]),
      priceStored: true,
      calibrationSeconds: 0.1,
    });
    assert.equal(priced.workSeconds, 0);
    assert.ok(priced.runs.every((r) => r.stored && r.seconds === 0 && r.predicted > 0));
    assert.ok(Math.abs(priced.whole!.workSeconds - priced.runs[0].predicted * 2) < 1e-9);
  } finally {
    Deno.env.delete("CNNLAB_OUTPUTS");
  }
  const run = async (script: string, args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(`../scripts/${script}`, import.meta.url).pathname, ...args],
      env: { CNNLAB_OUTPUTS: outputs, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, err: new TextDecoder().decode(out.stderr) };
  };
  const a = await run("plan.ts", ["--tier", "quick"]);
  assert.equal(a.code, 2);
  assert.match(a.err, /--tier quick: the one tier is 'reference'/);
  const b = await run("plan.ts", ["--tier", "reference", "--preset", "laptop"]);
  assert.match(b.err, /--tier reference is at the full preset/);
  const c = await run("exp.ts", ["run", "--tier", "reference", "--preset", "laptop"]);
  assert.equal(c.code, 2);
  assert.match(c.err, /--tier reference is at the full preset/);
});

Deno.test("the experiments trained only in the reference tier are neither trained nor awaited by the default report", async () => {
  const names = ["googlenet", "bn-inception", "inception-v3", "inception-resnet", "resnet18"].flatMap((m) => [
    `q3b/${m}@small-stem`,
    `q3b/${m}@96`,
  ]);
  const empty = await Deno.makeTempDir();
  const missing = await missingRecords(folderSource(empty), "laptop", ["05"]);
  assert.ok(missing.runs.length > 0, "the laptop's own runs are awaited");
  assert.ok(missing.fix.every((f) => !f.includes("@small-stem") && !f.includes("@96")));
  for (const name of names) {
    const e = experiment(name);
    assert.deepEqual(e.only, ["smoke", "full"]);
    assert.ok(!notebookExperiments(["05"], "laptop").some((x) => x.name === name));
    assert.ok(notebookExperiments(["05"], "full").some((x) => x.name === name));
    assert.ok(REFERENCE_TIER.some((r) => r.experiment === name));
    assert.ok(!missing.runs.some((r) => r.startsWith(name)), missing.runs.join(", "));
    // It differs from the laptop's run of the same model in the stem and the input alone (at 96 px, the input alone).
    const laptop = resolveConfig(experiment(name.split("@")[0]), "laptop"), full = resolveConfig(e, "full");
    assert.deepEqual({ ...full, inputSize: 48, modelOptions: { width: full.modelOptions.width } }, laptop, name);
    assert.equal(full.inputSize, name.endsWith("@96") ? 96 : 28, name);
  }
});

Deno.test("a reference measurement is read only where one is published with today's identity; the probes read seed 2 at the full preset", async () => {
  const dir = await Deno.makeTempDir();
  const spec = measurementSpec("q2a/probes");
  const record = (preset: Preset, configHash: string) => ({
    kind: "measurement",
    measurement: spec.name,
    preset,
    configHash,
    backend: "native",
    device: "test",
    startedAt: "2026-12-06T00:00:00Z",
    othersTraining: 0,
    sources: spec.sources(preset).map((s) => ({ ...s, configHash: "0".repeat(12), testAcc: 0.9, device: "test" })),
    data: { rows: [] },
  });
  // At the full preset the probes read seed 2's checkpoints, elsewhere seed 1's.
  assert.deepEqual([...new Set(spec.sources("full").map((s) => s.seed))], [2]);
  assert.deepEqual([...new Set(spec.sources("laptop").map((s) => s.seed))], [1]);
  const source = folderSource(dir);
  assert.equal(await referenceMeasurement(source, spec.name), null, "none published: null (a read-only source)");
  // A full-preset record of another identity (a stale hash) is not the reference.
  await Deno.writeTextFile(`${dir}/measurements-full.json`, JSON.stringify([record("full", "abcdefabcdef")]));
  assert.equal(await referenceMeasurement(folderSource(dir), spec.name), null);
  const hash = await measurementHash(spec, "full");
  await Deno.writeTextFile(`${dir}/measurements-full.json`, JSON.stringify([record("full", hash)]));
  const ref = await referenceMeasurement(folderSource(dir), spec.name);
  assert.equal(ref?.preset, "full");
  assert.equal(ref?.configHash, hash);
});

Deno.test("each Q3b model's stem tuning, quoted in its small-stem experiment's reasons, is the tuning file's last validation accuracy", async () => {
  const lines = (await Deno.readTextFile(new URL(`../${STEM_TUNING}`, import.meta.url))).trim().split("\n")
    .map((l) => JSON.parse(l) as { experiment: string; variant: string; valAcc: number[] });
  for (const m of Q3B_MODELS) {
    const rows = lines.filter((r) => r.experiment === `q3b/${m.model}`);
    const last = (small: boolean) =>
      rows.find((r) => r.variant.includes("stem=small") === small)!.valAcc.at(-1)!.toFixed(3);
    assert.deepEqual(m.stemTuning.map((x) => x.toFixed(3)), [last(false), last(true)], m.model);
    const why = experiment(`q3b/${m.model}@small-stem`).why?.model;
    for (const lang of ["en", "zh"] as const) {
      assert.ok(why?.[lang].includes(last(true)) && why[lang].includes(last(false)), `${m.model} ${lang}`);
    }
  }
});

Deno.test("the recorded cost of finished runs: per device, training and evaluation seconds, loaded runs counted, interrupted ones left out", () => {
  const run = (device: string, status: string, othersTraining?: number) =>
    ({ device, status, trainSeconds: 3000, evalSeconds: 600, othersTraining }) as unknown as RunRecord;
  assert.deepEqual(
    recordedCost([
      run("a", "ok", 1),
      run("a", "ok"),
      run("b", "ok", 0),
      run("a", "interrupted", 1),
      run("b", "diverged"),
    ]),
    [{ device: "a", runs: 2, seconds: 7200, loaded: 1 }, { device: "b", runs: 2, seconds: 7200, loaded: 0 }],
  );
  assert.deepEqual(recordedCost([]), []);
  assert.equal(hours(7200), "2.0 h");
});
