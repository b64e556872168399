/**
 * What a benchmark measures, and the training step both of its children time: `deno task
 * bench` (bench/train_bench.ts, images/s) and `deno task bench --profile` (bench/profile.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendInfo, type BackendName, initBackend } from "../lib/backend/mod.ts";
import type { LayerPlanSummary } from "../lib/backend/native.ts";
import { layerTimingsDir } from "../lib/util/fs.ts";
import { createModel, type ModelOptions } from "../lib/models/registry.ts";
import { trainStep } from "../lib/train/step.ts";
import { useMachinePlan } from "../lib/train/trainer.ts";
import { FusedAdam } from "../lib/train/optim.ts";

/** One thing to measure: a zoo model at a size, or an experiment's configuration at a preset. */
export interface Spec {
  /** The model's name, or the experiment's (then `model` is its architecture). */
  label: string;
  model: string;
  size: number;
  batch: number;
  options: ModelOptions;
  /** Measured in PyTorch through its layer graph (experiments) instead of a hand-written twin. */
  graph: boolean;
}

/**
 * The backend started, the spec's model, Adam and one fixed random batch; `step` runs one
 * training step (forward, backward, update) on it. In bf16 each layer computes as training's
 * would (this machine's layer timings, measured first where missing; CNNLAB_BF16_LAYERS=all:
 * every layer in bf16); `layers` says how many in each precision.
 */
export async function stepFixture(
  spec: Spec,
  backend: BackendName,
  precision: string,
): Promise<
  {
    info: BackendInfo;
    model: tf.LayersModel;
    opt: FusedAdam;
    step: () => Promise<void>;
    layers: LayerPlanSummary | null;
  }
> {
  const info = await initBackend({ backend, precision, log: null });
  const model = createModel({ model: spec.model, modelOptions: spec.options, inputSize: spec.size });
  const layers = await useMachinePlan(model, spec.batch, {}, layerTimingsDir());
  const opt = new FusedAdam(1e-3);
  const x = tf.randomUniform([spec.batch, spec.size, spec.size, 1], 0, 1, "float32", 1);
  const y = tf.randomUniform([spec.batch], 0, 10, "int32", 2) as tf.Tensor1D;
  return {
    info,
    model,
    opt,
    layers,
    step: async () => {
      await trainStep(model, opt, x, y);
    },
  };
}
