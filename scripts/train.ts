/**
 * `deno task train`: train one model on Fashion-MNIST and print per-epoch metrics.
 * Runs the same trainer as the experiments, outside the experiment registry (no records).
 *
 *   deno task train [--model NAME (see deno task models)] [--size N] [--epochs N] [--batch N] [--lr X]
 *                   [--train-per-class N] [--test-per-class N] [--seed N] [--backend B]
 */
import { initBackend } from "../lib/backend/mod.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { modelEntry } from "../lib/models/registry.ts";
import { ModelError } from "../lib/models/common.ts";
import { train, type TrainConfig } from "../lib/train/trainer.ts";
import { createProgress } from "../lib/train/progress.ts";

const DEFAULTS = {
  model: "lenet",
  size: "",
  epochs: "2",
  batch: "128",
  lr: "0.01",
  "train-per-class": "6000",
  "test-per-class": "1000",
  seed: "1",
  backend: "",
  "data-dir": "",
};
type Key = keyof typeof DEFAULTS;

function usage(msg: string): never {
  console.error(`train: ${msg}`);
  console.error(`usage: deno task train ${Object.keys(DEFAULTS).map((k) => `[--${k} X]`).join(" ")}`);
  Deno.exit(2);
}

const o: Record<Key, string> = { ...DEFAULTS };
for (let i = 0; i < Deno.args.length; i += 2) {
  const k = Deno.args[i].replace(/^--/, "") as Key;
  if (!Deno.args[i].startsWith("--") || !(k in DEFAULTS)) usage(`unknown option '${Deno.args[i]}'`);
  if (Deno.args[i + 1] === undefined) usage(`${Deno.args[i]} needs a value`);
  o[k] = Deno.args[i + 1];
}
const int = (k: Key) => {
  const v = Number(o[k]);
  if (!Number.isInteger(v) || v <= 0) usage(`--${k} must be a positive integer, got '${o[k]}'`);
  return v;
};
try {
  modelEntry(o.model);
} catch (e) {
  if (e instanceof ModelError) usage(e.message);
  throw e;
}
const lr = Number(o.lr);
if (!(lr > 0)) usage(`--lr must be a positive number, got '${o.lr}'`);

const backend = await initBackend({ backend: o.backend || undefined });
const ds = await fashionMnist({ dataDir: o["data-dir"] || undefined });
const seed = int("seed");
const cfg: TrainConfig = {
  model: o.model,
  modelOptions: {},
  inputSize: o.size ? int("size") : modelEntry(o.model).defaultSize,
  trainPerClass: int("train-per-class") >= 6000 ? null : int("train-per-class"),
  testPerClass: int("test-per-class") >= 1000 ? null : int("test-per-class"),
  epochs: int("epochs"),
  batchSize: int("batch"),
  optim: { optimizer: "adam", lr },
  labelSmoothing: 0,
  auxWeight: 0.3,
  augment: null,
  normalize: false,
};
console.log(
  `model ${o.model}@${cfg.inputSize}, ${cfg.trainPerClass ? cfg.trainPerClass * 10 : 60000} train / ${
    cfg.testPerClass ? cfg.testPerClass * 10 : 10000
  } test images, batch ${cfg.batchSize}, Adam lr ${lr}, seed ${seed}, backend ${backend.name} (${backend.device})`,
);
try {
  const r = await train(cfg, seed, ds, { progress: createProgress(), title: o.model });
  if (r.status !== "ok") Deno.exit(1);
} catch (e) {
  if (e instanceof ModelError) usage(e.message);
  throw e;
}
