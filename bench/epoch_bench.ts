/**
 * Time whole epochs of one experiment at a preset on a chosen backend, e.g. a `full`-preset
 * epoch of the simplified AlexNet on a GPU:
 *
 *   deno task epoch-bench --experiment q1b/drop-conv4 --preset full --backend webgpu [--epochs 1] [--json FILE]
 *
 * Prints a progress line every ~10 s (so a run stopped early still gives its rate) and a
 * JSON summary: images/s, seconds per epoch, test accuracy, device.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { experiment, parsePreset, resolveConfig } from "../lib/exp/experiments.ts";
import type { Progress } from "../lib/train/progress.ts";
import { progressLine } from "../lib/train/progress.ts";
import { MAX_EPOCHS, train } from "../lib/train/trainer.ts";
import { intFlag, parseCli, UsageError } from "../lib/util/cli.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";

function usage(msg: string): never {
  console.error(`epoch-bench: ${msg}`);
  console.error(
    "usage: deno task epoch-bench [--experiment q1b/drop-conv4] [--preset full] [--backend B] [--epochs 1] [--json FILE]",
  );
  Deno.exit(2);
}
const opts = (() => {
  try {
    const { values, positionals } = parseCli(Deno.args, {
      experiment: { type: "string" },
      preset: { type: "string" },
      backend: { type: "string" },
      epochs: { type: "string" },
      json: { type: "string" },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    return {
      e: experiment(values.experiment ?? "q1b/drop-conv4"),
      preset: parsePreset(values.preset ?? "full"),
      epochs: intFlag("epochs", values.epochs ?? "1", 1, MAX_EPOCHS),
      backend: values.backend,
      json: values.json,
    };
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const { e, preset, epochs } = opts;
const backend = await initBackend({ backend: opts.backend });
const cfg = { ...resolveConfig(e, preset), epochs };
let last = 0;
const progress: Progress = {
  mode: "plain",
  update(s) {
    if (performance.now() - last > 10_000) {
      last = performance.now();
      console.log(progressLine(s));
    }
    return Promise.resolve();
  },
  epochEnd(l) {
    console.log(l);
    return Promise.resolve();
  },
  finish(l) {
    console.log(l);
    return Promise.resolve();
  },
};
const t0 = performance.now();
const r = await train(cfg, 1, await fashionMnist(), { progress, title: `${e.name} [${preset}]` });
const summary = {
  experiment: e.name,
  preset,
  backend: backend.name,
  device: backend.device,
  inputSize: cfg.inputSize,
  batchSize: cfg.batchSize,
  microBatch: r.microBatch,
  trainImages: r.epochs.length ? Math.round(r.epochs[0].imagesPerSecond * r.epochs[0].trainSeconds) : 0,
  epochs: r.epochs.map((m) => ({
    epoch: m.epoch,
    trainSeconds: m.trainSeconds,
    evalSeconds: m.evalSeconds,
    imagesPerSecond: m.imagesPerSecond,
    testAcc: m.testAcc,
  })),
  status: r.status,
  wallSeconds: (performance.now() - t0) / 1000,
};
console.log(JSON.stringify(summary, null, 2));
const json = opts.json ?? "";
if (json) await writeFileAtomic(json, JSON.stringify(summary, null, 2) + "\n");
