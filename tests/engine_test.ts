import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { buildModel } from "../lib/models/registry.ts";
import { adjustGradients, learningRateAt, makeOptimizer } from "../lib/train/optim.ts";
import type { Progress, ProgressState } from "../lib/train/progress.ts";
import { createProgress } from "../lib/train/progress.ts";
import { train, type TrainCallback, type TrainConfig } from "../lib/train/trainer.ts";
import {
  configHash,
  customExperiment,
  type Experiment,
  experiment,
  EXPERIMENTS,
  matchExperiments,
  PRESETS,
  resolveConfig,
} from "../lib/exp/experiments.ts";
import { runExperiment } from "../lib/exp/runner.ts";
import { epochsFrame, loadRecords, readRecord, recordPath, runsFrame, writeRecord } from "../lib/exp/store.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { SMALL_RUN } from "./helpers.ts";

await initBackend({ backend: "wasm", log: null });
const data = await fashionMnist();
const outputs = await Deno.makeTempDir({ prefix: "cnnlab-outputs-" });
Deno.env.set("CNNLAB_OUTPUTS", outputs);
const silent = createProgress("silent");

const SMALL = SMALL_RUN;

Deno.test("trainer: loss decreases over epochs and every metric is recorded; a caller's callback sees each step and epoch", async () => {
  const seen = { steps: [] as string[], epochs: [] as number[], end: [] as string[] };
  const callback: TrainCallback = {
    onStep: (s) => void seen.steps.push(`${s.epoch}:${s.step}`),
    onEpochEnd: (epochs) => void seen.epochs.push(epochs.length),
    onTrainEnd: (line) => void seen.end.push(line),
  };
  const r = await train(SMALL, 1, data, { progress: silent, callbacks: [callback] });
  assert.equal(r.status, "ok");
  const steps = Math.ceil(10 * SMALL.trainPerClass! / SMALL.batchSize);
  assert.equal(seen.steps.length, 3 * steps);
  assert.deepEqual(seen.steps.slice(steps - 1, steps + 1), [`1:${steps}`, "2:1"]);
  assert.deepEqual(seen.epochs, [1, 2, 3]);
  assert.equal(seen.end.length, 1);
  assert.match(seen.end[0], /^done, test acc 0\.\d{4} after 3 epoch\(s\), \d+ s$/);
  assert.equal(r.epochs.length, 3);
  assert.ok(r.epochs[2].trainLoss < r.epochs[0].trainLoss, `${r.epochs.map((e) => e.trainLoss)}`);
  for (const e of r.epochs) {
    for (
      const k of [
        "trainLoss",
        "trainAcc",
        "testLoss",
        "testAcc",
        "trainSeconds",
        "evalSeconds",
        "imagesPerSecond",
        "lr",
        "peakRssMB",
      ] as const
    ) {
      assert.ok(Number.isFinite(e[k]) && e[k] >= 0, `${k} = ${e[k]}`);
    }
  }
  assert.equal(r.params, 61_706);
  assert.ok(r.macs > 0);
});

Deno.test("determinism: same seed, same backend → identical metrics (dropout and augmentation on)", async () => {
  const a = await train(SMALL, 7, data, { progress: silent });
  const b = await train(SMALL, 7, data, { progress: silent });
  const c = await train(SMALL, 8, data, { progress: silent });
  const strip = (r: typeof a) =>
    r.epochs.map(({ trainLoss, trainAcc, testLoss, testAcc }) => [trainLoss, trainAcc, testLoss, testAcc]);
  assert.deepEqual(strip(a), strip(b));
  assert.notDeepEqual(strip(a), strip(c));
});

/** A progress renderer that requests a stop at a given epoch and step. */
function stopAt(epoch: number, step: number, stop: { requested: boolean }): Progress {
  return {
    mode: "silent",
    update(s: ProgressState) {
      if (s.epoch === epoch && s.step === step) stop.requested = true;
      return Promise.resolve();
    },
    epochEnd: () => Promise.resolve(),
    finish: () => Promise.resolve(),
  };
}

Deno.test("resume: an interrupted run resumed from its checkpoint ends with the same metrics", async () => {
  const dir = `${outputs}/ck-resume`;
  const full = await train(SMALL, 3, data, { progress: silent, checkpointDir: `${dir}-full` });
  const stop = { requested: false };
  const cut = await train(SMALL, 3, data, { progress: stopAt(2, 2, stop), checkpointDir: dir, stop });
  assert.equal(cut.status, "interrupted");
  assert.equal(cut.epochs.length, 1);
  const resumed = await train(SMALL, 3, data, { progress: silent, checkpointDir: dir, resume: true });
  assert.equal(resumed.status, "ok");
  assert.equal(resumed.resumedFrom, 1);
  assert.deepEqual(
    resumed.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAcc]),
    full.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAcc]),
  );
  // Only the newest checkpoint is kept.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["epoch-0003.ckpt"]);
});

Deno.test("a NaN loss stops the run with a clear message and status 'diverged'", async () => {
  const cfg: TrainConfig = {
    ...SMALL,
    modelOptions: { activation: "relu" },
    optim: { optimizer: "sgd", lr: 1e20 },
    epochs: 2,
    augment: null,
  };
  const r = await train(cfg, 1, data, { progress: silent });
  assert.equal(r.status, "diverged");
  assert.match(r.message!, /loss became (NaN|Infinity|-Infinity) at epoch \d, step \d+; the run diverged/);
});

Deno.test("optimizers, schedules, weight decay and clipping", async () => {
  const c = { optimizer: "sgd" as const, lr: 0.1 };
  assert.equal(learningRateAt(c, 5, 10), 0.1);
  assert.ok(Math.abs(learningRateAt({ ...c, schedule: "step", stepEpochs: 2, gamma: 0.5 }, 4.5, 10) - 0.025) < 1e-12);
  assert.ok(Math.abs(learningRateAt({ ...c, schedule: "cosine" }, 5, 10) - 0.05) < 1e-12);
  assert.ok(learningRateAt({ ...c, schedule: "cosine" }, 10, 10) < 1e-12);
  assert.ok(Math.abs(learningRateAt({ ...c, warmupEpochs: 2 }, 1, 10) - 0.05) < 1e-6);
  assert.throws(
    () => makeOptimizer({ optimizer: "adagrad" as "sgd", lr: 1 }),
    /unknown optimizer 'adagrad'; valid: sgd, momentum, adam, rmsprop/,
  );
  assert.throws(() => makeOptimizer({ optimizer: "sgd", lr: -1 }), /learning rate must be a positive number, got -1/);
  const v = tf.variable(tf.tensor1d([3, 4]), true, "wd_test_v");
  const grads = { [v.name]: tf.tensor1d([30, 40]) };
  const norm = await adjustGradients(grads, { [v.name]: v }, { weightDecay: 0.5, clipNorm: 5 });
  // g + 0.5·w = [31.5, 42] (norm 52.5), clipped to norm 5.
  assert.ok(Math.abs(norm - 52.5) < 1e-4);
  const g = grads[v.name].dataSync();
  assert.ok(Math.abs(Math.hypot(g[0], g[1]) - 5) < 1e-4);
  assert.ok(Math.abs(g[0] / g[1] - 31.5 / 42) < 1e-5);
  tf.dispose([v, grads[v.name]]);
});

Deno.test("registry: every experiment resolves and builds its model at every preset; names are unique and matchable", async () => {
  const hashes = new Set<string>();
  for (const e of EXPERIMENTS.values()) {
    for (const p of PRESETS) {
      const cfg = resolveConfig(e, p);
      hashes.add(`${e.name}|${p}|${await configHash(cfg)}`);
      if (p === "full" && (cfg.model === "alexnet" || cfg.inputSize >= 224)) continue; // built at laptop size; full is 200 MB of weights
      const m = buildModel(cfg.model, { ...cfg.modelOptions, inputSize: cfg.inputSize });
      m.dispose();
    }
  }
  assert.equal(hashes.size, EXPERIMENTS.size * PRESETS.length);
  assert.deepEqual(matchExperiments("q2b").map((e) => e.name), ["q2b/vgg11-r8@224", "q2b/vgg11-r8@96"]);
  assert.throws(() => experiment("q1b/drop-fc3"), /unknown experiment 'q1b\/drop-fc3'; closest: q1b\/drop-fc2/);
  // The 224-vs-96 comparison keeps its input sizes on laptop.
  assert.equal(resolveConfig(experiment("q2b/vgg11-r8@224"), "laptop").inputSize, 224);
  assert.notEqual(
    await configHash(resolveConfig(experiment("q1b/lr-0.004"), "laptop")),
    await configHash(resolveConfig(experiment("q1b/lr-0.002"), "laptop")),
  );
});

Deno.test("runner: records carry the required fields, are reused, and --force retrains", async () => {
  const e: Experiment = experiment("q1a/relu");
  const logs: string[] = [];
  const [first] = await runExperiment(e, { preset: "smoke", data, progress: silent, log: (l) => logs.push(l) });
  assert.equal(first.reused, false);
  const r = first.record;
  for (
    const k of [
      "experiment",
      "preset",
      "seed",
      "configHash",
      "status",
      "backend",
      "device",
      "params",
      "trainSeconds",
      "testAcc",
      "epochs",
      "config",
      "versions",
      "startedAt",
      "endedAt",
    ]
  ) {
    assert.ok(k in r, `missing ${k}`);
  }
  assert.equal(r.backend, "wasm");
  assert.deepEqual(Object.keys(r.epochs[0]).sort(), [
    "epoch",
    "evalSeconds",
    "imagesPerSecond",
    "lr",
    "peakRssMB",
    "testAcc",
    "testLoss",
    "trainAcc",
    "trainEvalAcc",
    "trainEvalLoss",
    "trainLoss",
    "trainSeconds",
  ]);
  const [again] = await runExperiment(e, { preset: "smoke", data, progress: silent, log: (l) => logs.push(l) });
  assert.equal(again.reused, true);
  assert.match(logs.at(-1)!, /reusing stored result/);
  const [forced] = await runExperiment(e, { preset: "smoke", data, progress: silent, force: true, log: () => {} });
  assert.equal(forced.reused, false);
  assert.equal(forced.record.testAcc, r.testAcc); // same seed, same result
  const recs = await loadRecords({ experiment: "q1a/relu" });
  assert.equal(recs.length, 1);
  const df = runsFrame(recs);
  assert.equal(df.height, 1);
  assert.equal(df.getColumn("experiment").get(0), "q1a/relu");
  assert.equal(epochsFrame(recs).height, recs[0].epochs.length);
});

Deno.test("atomic writes: a crash mid-write leaves the previous record intact", async () => {
  const [{ record }] = await runExperiment(experiment("q1a/relu"), {
    preset: "smoke",
    data,
    progress: silent,
    log: () => {},
  });
  const path = recordPath(record.experiment, record.preset, record.configHash, record.seed);
  const before = await Deno.readTextFile(path);
  const realWrite = Deno.writeTextFile;
  (Deno as { writeTextFile: unknown }).writeTextFile = async (p: string, text: string) => {
    await realWrite(p, text.slice(0, 100)); // half a file, then the "crash"
    throw new Error("simulated crash");
  };
  try {
    await assert.rejects(writeRecord({ ...record, testAcc: 0.123 }), /simulated crash/);
    await assert.rejects(writeFileAtomic(path, "{}"), /simulated crash/);
  } finally {
    (Deno as { writeTextFile: unknown }).writeTextFile = realWrite;
  }
  assert.equal(await Deno.readTextFile(path), before);
  assert.equal((await readRecord(path))!.testAcc, record.testAcc);
  const dir = path.slice(0, path.lastIndexOf("/"));
  assert.deepEqual([...Deno.readDirSync(dir)].filter((f) => f.name.includes(".tmp-")), []);
});

async function exp(...args: string[]) {
  return await expEnv({}, ...args);
}

async function expEnv(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      new URL("../scripts/exp.ts", import.meta.url).pathname,
      ...args,
    ],
    env: { CNNLAB_OUTPUTS: outputs, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout), err: new TextDecoder().decode(out.stderr) };
}

Deno.test("exp CLI: usage errors exit 2 with the valid choices; list and show work", async () => {
  let r = await exp("run", "q1b/drop-fc3");
  assert.equal(r.code, 2);
  assert.match(r.err, /no experiment matches 'q1b\/drop-fc3'; closest: q1b\/drop-fc2/);
  r = await exp("run", "q1a/relu", "--preset", "huge");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown preset 'huge'; valid: smoke, laptop, full/);
  r = await exp("run", "q1a/relu", "--fast");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '--fast'/);
  r = await exp("run", "q1a/relu", "--backend", "tpu");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown backend 'tpu'; valid: webgpu, tensorflow, native, wasm, cpu/);
  r = await exp("frobnicate");
  assert.equal(r.code, 2);
  // A reference-tier experiment named at a preset that does not train it: refused with the presets that do.
  r = await exp("run", "q3b/inception-v3@small-stem", "--preset", "laptop");
  assert.equal(r.code, 2);
  assert.match(r.err, /q3b\/inception-v3@small-stem trains only at --preset smoke or full/);
  // A run that cannot proceed (no data where the user pointed) exits 1 with the fix.
  const empty = await Deno.makeTempDir();
  r = await expEnv({ CNNLAB_DATA_DIR: empty }, "run", "q1a/lenet", "--preset", "smoke", "--force");
  assert.equal(r.code, 1);
  assert.match(r.err, /does not hold the four Fashion-MNIST files/);
  r = await exp("list", "q3b");
  assert.equal(r.code, 0);
  assert.match(r.out, /q3b\/inception-v3/);
  r = await exp("run", "q1a/relu", "--preset", "smoke");
  assert.equal(r.code, 0, r.err);
  r = await exp("show", "q1a/relu", "--preset", "smoke");
  assert.equal(r.code, 0);
  assert.match(r.out, /q1a\/relu\s+smoke\s+wasm\s+1\s+ok/);
});

Deno.test("a diverged run is stored with status 'diverged' and NaN accuracy (JSON null)", async () => {
  const [res] = await runExperiment(
    { ...experiment("q1a/relu"), name: "q1a/relu-diverge", optim: { optimizer: "sgd", lr: 1e20 } },
    { preset: "smoke", data, progress: silent, log: () => {} },
  );
  assert.equal(res.record.status, "diverged");
  assert.ok(Number.isNaN(res.record.testAcc));
  const back = await readRecord(res.path);
  assert.equal(back!.status, "diverged");
  assert.ok(Number.isNaN(back!.testAcc));
});

Deno.test("validation split: tuning runs train beside a held-out split and never read the test set", async () => {
  const { held, rest } = data.train.holdout(500, 20_171_128);
  assert.equal(held.size, 5000);
  assert.equal(rest.size, 55_000);
  assert.deepEqual(held.classCounts(), new Array(10).fill(500));
  const heldSet = new Set(held.indices);
  assert.ok(rest.indices.every((i) => !heldSet.has(i)), "held-out images are not trained on");
  const cfg: TrainConfig = { ...SMALL, epochs: 1, validation: 50, trainEvalPerClass: 20 };
  const r = await train(cfg, 1, data, { progress: silent });
  assert.equal(r.evalImages, 500, "evaluated on the 500 validation images");
  const e = r.epochs[0];
  assert.ok(Number.isNaN(e.testAcc) && Number.isNaN(e.testLoss), "no test metric in a tuning run");
  assert.ok(e.valAcc! >= 0 && e.valAcc! <= 1);
  // Train accuracy in inference mode, on a fixed training subset, is measured every epoch.
  assert.ok(e.trainEvalAcc >= 0 && e.trainEvalAcc <= 1);
});

Deno.test("a model built in a notebook cell trains through the same path: stored, reused, a new hash when edited", async () => {
  const build = (units: number) => ({ inputSize }: { inputSize: number; seed: number }) => {
    const input = tf.input({ shape: [inputSize, inputSize, 1] });
    const x = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const h = tf.layers.dense({ units, activation: "relu" }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 10 }).apply(h) as tf.SymbolicTensor });
  };
  const a = await customExperiment("mlp", build(32), { question: "1a", group: "lenet", inputSize: 28, epochs: 1 });
  const [first] = await runExperiment(a, { preset: "smoke", data, progress: silent, log: () => {} });
  assert.equal(first.reused, false);
  assert.equal(first.record.experiment, "custom/mlp");
  assert.equal(first.record.params, 28 * 28 * 32 + 32 + 32 * 10 + 10);
  const [again] = await runExperiment(a, { preset: "smoke", data, progress: silent, log: () => {} });
  assert.equal(again.reused, true);
  const b = await customExperiment("mlp", build(64), { question: "1a", group: "lenet", inputSize: 28, epochs: 1 });
  assert.notEqual(
    await configHash(resolveConfig(a, "smoke")),
    await configHash(resolveConfig(b, "smoke")),
    "another architecture is another experiment",
  );
});
