/**
 * What a model family registers beside its builder (timm's `@register_model` and `default_cfgs` in
 * spirit): the name, the builder with its typed options, every option the builder reads, its default
 * and minimum input sizes, the preset knobs it takes and a recommended training recipe. The registry
 * (registry.ts) only gathers the families' entries.
 */
import type * as tf from "@tensorflow/tfjs";

export interface TrainingRecipe {
  optimizer: "sgd" | "momentum" | "adam" | "rmsprop";
  lr: number;
  batchSize: number;
  epochs: number;
  momentum?: number;
  labelSmoothing?: number;
  clipNorm?: number;
  /** Where the recipe comes from. */
  source: string;
}

/** The size knobs an experiment preset may turn (see lib/exp/experiments.ts). */
export type ScaleKnob = "widthScale" | "denseWidth";
export const SCALE_KNOBS: readonly ScaleKnob[] = ["widthScale", "denseWidth"];

/** How each knob this model accepts changes its options; a knob a model lacks cannot be applied to it. */
export type Scaling<O> = Partial<Record<ScaleKnob, (o: O, value: number) => O>>;

export interface ModelEntry<O> {
  name: string;
  /** Every option its builder reads (an option outside this list is refused, never hashed into a run). */
  options: readonly string[];
  family: string;
  description: string;
  defaultSize: number;
  /** Preset options the entry applies before the caller's (e.g. VGG's ratio 8). */
  defaults: O;
  build: (opts: O) => tf.LayersModel;
  /** Smallest input side accepted with these options. */
  minSize: (opts: O) => number;
  recipe: TrainingRecipe;
  /** The preset knobs this model takes (input size it always takes, down to minSize). */
  scale: Scaling<O>;
}

/** A list of an options type's every key: the compiler refuses one that misses a key or names another. */
type AllKeys<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never] ? K : never;
export function optionList<T>() {
  return <const K extends readonly (keyof T & string)[]>(keys: AllKeys<T, K>): readonly string[] => keys;
}

/** A family's entries: what its models share, then each one's name, description, defaults and recipe. */
export function family<O>(
  shared: Omit<ModelEntry<O>, "name" | "description" | "defaults" | "recipe">,
  models: Pick<ModelEntry<O>, "name" | "description" | "defaults" | "recipe">[],
): ModelEntry<O>[] {
  return models.map((m) => ({ ...shared, ...m }));
}

/** widthScale multiplies one numeric option (default 1). */
export function widthBy<O, K extends keyof O>(key: K): NonNullable<Scaling<O>["widthScale"]> {
  return (o, s) => ({ ...o, [key]: ((o[key] as number | undefined) ?? 1) * s });
}

/** d2l's recipe (plain SGD, 10 epochs) at a learning rate and batch size. */
export const D2L_SGD = (lr: number, batchSize = 128): TrainingRecipe => ({
  optimizer: "sgd",
  lr,
  batchSize,
  epochs: 10,
  source: "d2l (Dive into Deep Learning, ch. 7–8)",
});
