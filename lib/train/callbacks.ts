/**
 * What runs beside the training loop (Keras's callbacks): the live progress line and the per-epoch
 * checkpoint, each a `TrainCallback`; a caller adds its own through `TrainHooks.callbacks`.
 */
import type * as tf from "@tensorflow/tfjs";
import type { Progress } from "./progress.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import type { LayerPlan } from "../backend/training.ts";
import { failpoint } from "../util/failpoint.ts";
import type { EpochMetrics, TrainConfig } from "./trainer.ts";

/** What a checkpoint keeps besides the weights: the epochs so far and, in bf16, the run's layer plan. */
export interface CheckpointMeta {
  epochs: EpochMetrics[];
  layerPlan?: LayerPlan;
}

/** What an epoch was evaluated on: the validation split in tuning runs (which carry `valAcc`), else the test set. */
export function evaluated(m: EpochMetrics): { split: "validation" | "test"; loss: number; acc: number } {
  return m.valAcc !== undefined
    ? { split: "validation", loss: m.valLoss!, acc: m.valAcc }
    : { split: "test", loss: m.testLoss, acc: m.testAcc };
}

/** Called as a run goes (Keras's `Callback`). */
export interface TrainCallback {
  /** After every training step. */
  onStep?(s: StepState): void | Promise<void>;
  /** After every epoch's evaluation, with the run's epochs so far (the last one new). */
  onEpochEnd?(epochs: readonly EpochMetrics[]): void | Promise<void>;
  /** Once, with the run's last line (done, diverged or interrupted). */
  onTrainEnd?(line: string): void | Promise<void>;
}

/** Where a run is after a training step. */
export interface StepState {
  epoch: number;
  step: number;
  /** Running mean loss and accuracy over the epoch's steps so far. */
  loss: number;
  acc: number;
  /** Images trained since this process started the run, and since it started in seconds. */
  imagesDone: number;
  elapsedSeconds: number;
  /** Images the run has left to train. */
  imagesLeft: number;
}

/** The run's live progress bar and its per-epoch line (Keras's `ProgbarLogger`); `say` adds a line of its own. */
export function progressLogger(
  progress: Progress,
  title: string,
  cfg: TrainConfig,
  steps: number,
): TrainCallback & { say(line: string): Promise<void> } {
  return {
    say: (line) => progress.epochEnd(`${title}: ${line}`),
    onStep: (s) => {
      const imagesPerSecond = s.imagesDone / s.elapsedSeconds;
      return progress.update({
        title,
        epoch: s.epoch,
        epochs: cfg.epochs,
        step: s.step,
        steps,
        loss: s.loss,
        acc: s.acc,
        imagesPerSecond,
        etaSeconds: s.imagesLeft / imagesPerSecond,
      });
    },
    onEpochEnd: (epochs) => {
      const m = epochs.at(-1)!;
      const { split, loss, acc } = evaluated(m);
      return progress.epochEnd(
        `${title}: epoch ${m.epoch}/${cfg.epochs} train loss ${m.trainLoss.toFixed(4)} acc ${
          m.trainAcc.toFixed(4)
        } | ${split} loss ${loss.toFixed(4)} acc ${acc.toFixed(4)} | ${m.trainSeconds.toFixed(1)} s, ${
          m.imagesPerSecond.toFixed(0)
        } img/s`,
      );
    },
    onTrainEnd: (line) => progress.finish(`${title}: ${line}`),
  };
}

/** A checkpoint after every epoch (weights, optimizer, the epochs so far and, in bf16, the layer plan). */
export function checkpointer(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  layerPlan: LayerPlan | null,
): TrainCallback {
  return {
    onEpochEnd: async (epochs) => {
      const meta: CheckpointMeta = { epochs: [...epochs], ...(layerPlan ? { layerPlan } : {}) };
      await saveCheckpoint(dir, epochs.length, model, optimizer, meta);
      await failpoint("train.checkpoint", epochs.length);
    },
  };
}
