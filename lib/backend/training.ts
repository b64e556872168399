/**
 * What the current backend does around a training run, so that the trainer (lib/train/trainer.ts)
 * imports no other backend module — Keras's split of a trainer from its backend trainers:
 * - WebGPU: a batch whose tensors exceed the adapter's binding limit is split into micro-batches;
 * - native in bf16: each convolution and matmul computes in the precision this machine's layer
 *   timings chose (a layer plan), kept in the run's checkpoints so a resumed run computes alike;
 * - native: Adam's update runs as one fused kernel per variable;
 * - native: its buffer pools are released when the run ends.
 * Every other backend trains each batch whole, in fp32, and releases nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { layerPlanWanted, planLayers, releaseBackendMemory } from "./mod.ts";
import {
  ADAM_KERNEL,
  adamInPlace,
  type LayerPlan,
  type LayerPlanSummary,
  NATIVE,
  planSummary,
  setLayerPlan,
} from "./native.ts";
import { adamInternals, type Slot } from "../util/tfjs_internals.ts";
import { onWebGpu, planRunBatches } from "./webgpu.ts";

export type { LayerPlan, LayerPlanSummary };

/**
 * Chooses each layer's precision from the layers `step` notes, saying what went wrong with its
 * timings through `log`.
 */
export type LayerPlanner = (
  step: () => void,
  log: (line: string) => void,
) => Promise<{ plan: LayerPlan; measured: number; path: string | null }>;

/** This machine's planner: layer timings in `dir` when runs choose bf16 per layer (native in bf16); else none. */
export function machinePlanner(dir: string | null): LayerPlanner | null {
  return layerPlanWanted() ? (step, log) => planLayers(step, dir, log) : null;
}

/**
 * Whether a run's tensors live in this machine's memory, so that a batch too large for it must be
 * refused before training (not on WebGPU, which splits such a batch to fit the GPU instead).
 */
export const trainsInHostMemory = (): boolean => !onWebGpu();

/** How the backend trains one run: batch sizes, the layer plan in use, and what to release after. */
export interface BackendRun {
  /** Images per forward/backward pass (the batch, or a slice of it where the backend must split). */
  microBatch: number;
  evalBatch: number;
  /** The layer plan in use (null: every layer in the backend's precision). */
  layerPlan: LayerPlan | null;
  /** The record's backend extension: the layer plan's summary where one is in use. */
  extension(): { layerPlan?: LayerPlanSummary };
}

/** Ends a run on the backend, whether or not it got as far as `prepareTraining`: no layer plan in use, pooled memory released. */
export function endTraining(): void {
  setLayerPlan(null);
  releaseBackendMemory();
}

export interface PrepareOptions {
  batchSize: number;
  evalBatch: number;
  /** On WebGPU, an oversized batch is split ("split") or refused ("error"). */
  oversize: "split" | "error";
  /** Chooses the layer plan (default: the machine's planner over `layerTimingsDir`). */
  planner?: LayerPlanner;
  layerTimingsDir?: string | null;
  /** The plan a resumed run's checkpoint carries (undefined: a new run; null: none was in use). */
  resumedPlan?: LayerPlan | null;
  /** One training step of the model at a micro-batch, run while the planner notes the layers. */
  probe: (microBatch: number) => () => void;
  /** A line for the run's progress output. */
  say: (line: string) => Promise<void>;
}

/** Prepare the backend to train `model`: split its batch where needed, choose and put in use its layer plan. */
export async function prepareTraining(model: tf.LayersModel, o: PrepareOptions): Promise<BackendRun> {
  const batches = planRunBatches(model, o.batchSize, o.evalBatch, o.oversize);
  if (batches.note) await o.say(batches.note);
  let layerPlan: LayerPlan | null = null;
  const planner = o.planner ?? machinePlanner(o.layerTimingsDir ?? null);
  if (planner) {
    // A resumed run computes each layer as its checkpoint says (none there: every layer in bf16,
    // as runs did before plans); a new one as this machine's layer timings choose.
    if (o.resumedPlan !== undefined) layerPlan = o.resumedPlan;
    else {
      const notes: string[] = [];
      const r = await planner(o.probe(batches.microBatch), (l) => notes.push(l));
      for (const l of notes) await o.say(l);
      layerPlan = r.plan;
      const s = planSummary(r.plan);
      await o.say(
        `bf16 in ${s.bf16} of ${s.bf16 + s.fp32} convolutions and matmuls, fp32 where bf16 measured slower (${
          s.ms.toFixed(0)
        } ms a step in them; all fp32 ${s.fp32Ms.toFixed(0)}, all bf16 ${
          s.bf16Ms.toFixed(0)
        }; ${r.measured} layer(s) timed now${r.path ? `, kept in ${r.path}` : ""})`,
      );
    }
    setLayerPlan(layerPlan);
  }
  return {
    microBatch: batches.microBatch,
    evalBatch: batches.evalBatch,
    layerPlan,
    extension: () => (layerPlan ? { layerPlan: planSummary(layerPlan) } : {}),
  };
}

/**
 * Put this machine's layer plan for `model` in use as a training run would, for a bench that times
 * steps outside the trainer. Its summary, or null (nothing changed). Undo with `endMachinePlan()`.
 */
export async function useMachinePlan(
  probe: () => void,
  dir: string | null,
): Promise<LayerPlanSummary | null> {
  const planner = machinePlanner(dir);
  if (!planner) return null;
  const { plan } = await planner(probe, () => {});
  setLayerPlan(plan);
  return planSummary(plan);
}

/** No layer plan in use (after `useMachinePlan`). */
export function endMachinePlan(): void {
  setLayerPlan(null);
}

/**
 * One Adam update of every variable in `grads` through the backend's fused kernel, with PyTorch's
 * bias correction from the optimizer's accumulators (which it advances): true when done, false where
 * the backend has no such kernel (the caller then runs tfjs's own update). The caller counts the step.
 */
export function fusedAdamStep(
  opt: tf.AdamOptimizer,
  grads: Parameters<tf.AdamOptimizer["applyGradients"]>[0],
  hp: { lr: number; beta1: number; beta2: number },
): boolean {
  if (tf.getBackend() !== NATIVE) return false;
  const self = adamInternals(opt);
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const c1 = 1 - self.accBeta1.dataSync()[0];
  const c2 = 1 - self.accBeta2.dataSync()[0];
  tf.tidy(() => {
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      const slot = (list: Slot[], suffix: string) =>
        list[i] ??= {
          originalName: `${name}/${suffix}`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      const m = slot(self.accumulatedFirstMoment, "m").variable;
      const v = slot(self.accumulatedSecondMoment, "v").variable;
      const g: tf.Tensor | undefined = Array.isArray(grads) ? grads[i].tensor : grads[name];
      if (g == null) return;
      const attrs = { ...hp, c1, c2, eps: self.epsilon };
      if (adamInPlace(value, g, m, v, attrs)) return;
      const [w2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { w: value, g, m, v }, attrs) as tf.Tensor[];
      m.assign(m2);
      v.assign(v2);
      value.assign(w2);
    });
    self.accBeta1.assign(tf.mul(self.accBeta1, hp.beta1));
    self.accBeta2.assign(tf.mul(self.accBeta2, hp.beta2));
  });
  return true;
}
