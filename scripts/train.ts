/**
 * `deno task train`: train one model on Fashion-MNIST and print per-epoch metrics.
 * The stand-in main job until the report lands; the experiment runner will supersede it.
 *
 *   deno task train [--model NAME (see deno task models)] [--size N] [--epochs N] [--batch N] [--lr X]
 *                   [--train-per-class N] [--test-per-class N] [--seed N] [--backend B]
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { batchCount, batches, fashionMnist } from "../lib/data/dataset.ts";
import { buildModel, modelEntry } from "../lib/models/registry.ts";
import { ModelError } from "../lib/models/common.ts";
import { evaluate, trainStep } from "../lib/train/step.ts";

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
const train = int("train-per-class") === 6000 ? ds.train : ds.train.stratified(int("train-per-class"), seed);
const test = int("test-per-class") === 1000 ? ds.test : ds.test.stratified(int("test-per-class"), seed);
let model: tf.LayersModel;
try {
  model = buildModel(o.model, { inputSize: o.size ? int("size") : undefined, seed });
} catch (e) {
  if (e instanceof ModelError) usage(e.message);
  throw e;
}
const size = model.inputs[0].shape[1] as number;
const batchSize = int("batch");
const opt = tf.train.adam(lr);
console.log(
  `model ${o.model}@${size}, ${train.size} train / ${test.size} test images, batch ${batchSize}, Adam lr ${lr}, seed ${seed}, backend ${backend.name} (${backend.device})`,
);
for (let epoch = 0; epoch < int("epochs"); epoch++) {
  const t0 = performance.now();
  let loss = 0, correct = 0, seen = 0, step = 0;
  const steps = batchCount(train, { batchSize });
  for (const b of batches(train, { batchSize, size, shuffle: true, seed, epoch })) {
    const r = await trainStep(model, opt, b.x, b.y);
    loss += r.loss * b.n;
    correct += r.correct;
    seen += b.n;
    tf.dispose([b.x, b.y]);
    if (Deno.stderr.isTerminal()) {
      const ips = seen / ((performance.now() - t0) / 1000);
      Deno.stderr.writeSync(
        new TextEncoder().encode(
          `\repoch ${epoch + 1} step ${++step}/${steps} loss ${(loss / seen).toFixed(4)} ${ips.toFixed(0)} img/s`,
        ),
      );
    }
  }
  const trainSec = (performance.now() - t0) / 1000;
  const ev = await evaluate(model, test, { batchSize: 500, size });
  if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  console.log(
    `epoch ${epoch + 1}: train loss ${(loss / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)} | test loss ${
      ev.loss.toFixed(4)
    } acc ${ev.acc.toFixed(4)} | ${trainSec.toFixed(1)} s, ${(seen / trainSec).toFixed(0)} img/s`,
  );
}
