/**
 * `deno task train`: train one model on Fashion-MNIST and print per-epoch metrics.
 * Runs the same trainer as the experiments, outside the experiment registry (no records).
 *
 *   deno task train [--model NAME (see deno task models)] [--size N] [--epochs N] [--batch N] [--lr X]
 *                   [--train-per-class N] [--test-per-class N] [--seed N] [--backend B] [--data-dir DIR]
 *
 * Exit codes: 0 trained, 1 the run diverged or could not proceed (data, memory), 2 usage error.
 */
import { BackendError, initBackend } from "../lib/backend/mod.ts";
import { layerTimingsDir } from "../lib/util/fs.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { DataError } from "../lib/data/fashion_mnist.ts";
import { modelEntry } from "../lib/models/registry.ts";
import { ModelError } from "../lib/models/common.ts";
import { MAX_EPOCHS, MAX_INPUT_SIZE, train, type TrainConfig, TrainError } from "../lib/train/trainer.ts";
import { OptimError } from "../lib/train/optim.ts";
import { createProgress } from "../lib/train/progress.ts";
import { intFlag, MAX_SEED, numberFlag, parseCli, UsageError } from "../lib/util/cli.ts";

const USAGE =
  "usage: deno task train [--model NAME] [--size N] [--epochs N] [--batch N] [--lr X] [--train-per-class N] [--test-per-class N] [--seed N] [--backend B] [--data-dir DIR]";

function usage(msg: string): never {
  console.error(`train: ${msg}`);
  console.error(USAGE);
  Deno.exit(2);
}

let cfg: TrainConfig, seed: number, backendName: string | undefined, dataDir: string | undefined, lr: number;
try {
  const { values: o, positionals } = parseCli(Deno.args, {
    model: { type: "string" },
    size: { type: "string" },
    epochs: { type: "string" },
    batch: { type: "string" },
    lr: { type: "string" },
    "train-per-class": { type: "string" },
    "test-per-class": { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
    "data-dir": { type: "string" },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const model = o.model ?? "lenet";
  const entry = modelEntry(model);
  const trainPerClass = intFlag("train-per-class", o["train-per-class"] ?? "6000", 1, 6000);
  const testPerClass = intFlag("test-per-class", o["test-per-class"] ?? "1000", 1, 1000);
  lr = numberFlag("lr", o.lr ?? "0.01", 0, 10);
  cfg = {
    model,
    modelOptions: {},
    inputSize: o.size ? intFlag("size", o.size, entry.minSize({}), MAX_INPUT_SIZE) : entry.defaultSize,
    trainPerClass: trainPerClass >= 6000 ? null : trainPerClass,
    testPerClass: testPerClass >= 1000 ? null : testPerClass,
    epochs: intFlag("epochs", o.epochs ?? "2", 1, MAX_EPOCHS),
    batchSize: intFlag("batch", o.batch ?? "128", 1, 8192),
    optim: { optimizer: "adam", lr },
    labelSmoothing: 0,
    auxWeight: 0.3,
    augment: null,
    normalize: false,
  };
  seed = intFlag("seed", o.seed ?? "1", 0, MAX_SEED);
  backendName = o.backend;
  dataDir = o["data-dir"];
} catch (e) {
  if (e instanceof UsageError || e instanceof ModelError) usage(e.message);
  throw e;
}

try {
  const backend = await initBackend({ backend: backendName });
  const ds = await fashionMnist({ dataDir });
  console.log(
    `model ${cfg.model}@${cfg.inputSize}, ${cfg.trainPerClass ? cfg.trainPerClass * 10 : 60000} train / ${
      cfg.testPerClass ? cfg.testPerClass * 10 : 10000
    } test images, batch ${cfg.batchSize}, Adam lr ${lr}, seed ${seed}, backend ${backend.name} (${backend.device})`,
  );
  const r = await train(cfg, seed, ds, {
    progress: createProgress(),
    title: cfg.model,
    layerTimingsDir: layerTimingsDir(),
  });
  if (r.status !== "ok") Deno.exit(1);
} catch (e) {
  if (e instanceof BackendError) usage(e.message);
  if (e instanceof DataError || e instanceof TrainError || e instanceof ModelError || e instanceof OptimError) {
    console.error(`train: ${(e as Error).message}`);
    Deno.exit(1);
  }
  throw e;
}
