/**
 * Model inspection: per-layer summary (output shape, parameters, multiply-adds) as data,
 * named blocks, their activations for a batch, and their receptive fields.
 */
import * as tf from "@tensorflow/tfjs";
import { inboundLayers } from "../util/tfjs_internals.ts";
import { ModelError } from "./common.ts";

const BLOCKS = new WeakMap<tf.LayersModel, string[]>();

/** Record the names of a model's block-output layers (in order); returns the model. */
export function markBlocks(model: tf.LayersModel, names: string[]): tf.LayersModel {
  for (const n of names) model.getLayer(n); // throws on a typo
  BLOCKS.set(model, names);
  return model;
}

/** Named blocks of a model built by the zoo (e.g. vgg_block_1..5, inception_3a). */
export function blockNames(model: tf.LayersModel): string[] {
  return BLOCKS.get(model) ?? [];
}

export interface LayerSummary {
  name: string;
  type: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  trainable: number;
  nonTrainable: number;
  /** Multiply-accumulates per image (convolutions and dense layers; others count 0). */
  macs: number;
  /** Receptive field side in input pixels of one output position. */
  receptiveField: number;
}

export interface ModelSummary {
  name: string;
  inputSize: number;
  layers: LayerSummary[];
  trainable: number;
  nonTrainable: number;
  macs: number;
}

const count = (ws: tf.LayerVariable[]) =>
  ws.reduce((a, w) => a + (w.shape as number[]).reduce((x: number, y: number) => x * y, 1), 0);

function shapeOf(layer: tf.layers.Layer): number[] {
  const s = layer.outputShape;
  const one = (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
  return one.slice(1).map((d) => d ?? -1);
}

function pair(v: unknown): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1] ?? v[0])];
  return [Number(v), Number(v)];
}

function layerMacs(layer: tf.layers.Layer): number {
  const cls = layer.getClassName();
  const out = shapeOf(layer);
  const kernel = layer.weights[0]?.shape as number[] | undefined;
  if (!kernel) return 0;
  const k = kernel.reduce((a, b) => a * b, 1);
  // Conv2D kernel [kh,kw,cin,cout]: one MAC per kernel element per output position.
  if (cls === "Conv2D") return out[0] * out[1] * k;
  // Dense kernel [in,out], applied at every position of any leading dimensions.
  if (cls === "Dense") return k * out.slice(0, -1).reduce((a, b) => a * b, 1);
  return 0;
}

const inbound = inboundLayers;

/**
 * Receptive field (side, in input pixels) and jump (input pixels between neighbouring
 * outputs) of every layer, by the usual recurrence r' = r + (k − 1)·j, j' = j·s.
 * Where branches join, the largest field wins; global pooling and dense layers see
 * the whole input.
 */
export function receptiveFields(model: tf.LayersModel): Map<string, { rf: number; jump: number }> {
  const size = model.inputs[0].shape[1] as number;
  const out = new Map<string, { rf: number; jump: number }>();
  for (const layer of model.layers) {
    const ins = inbound(layer).map((l) => out.get(l.name)!).filter(Boolean);
    let rf = ins.length ? Math.max(...ins.map((i) => i.rf)) : 1;
    let jump = ins.length ? Math.max(...ins.map((i) => i.jump)) : 1;
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    if (cls === "Conv2D" || cls === "MaxPooling2D" || cls === "AveragePooling2D") {
      const k = pair(cls === "Conv2D" ? cfg.kernelSize : cfg.poolSize)[0];
      const s = pair(cfg.strides ?? k)[0];
      rf += (k - 1) * jump;
      jump *= s;
    } else if (/^Global|^Dense$|^Flatten$/.test(cls)) {
      rf = size;
    }
    out.set(layer.name, { rf: Math.min(rf, Number.MAX_SAFE_INTEGER), jump });
  }
  return out;
}

/** Per-layer summary with totals, as plain data. */
export function summarize(model: tf.LayersModel): ModelSummary {
  const rfs = receptiveFields(model);
  const layers: LayerSummary[] = model.layers.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: shapeOf(l),
    trainable: count(l.trainableWeights),
    nonTrainable: count(l.nonTrainableWeights),
    macs: layerMacs(l),
    receptiveField: rfs.get(l.name)!.rf,
  }));
  return {
    name: model.name,
    inputSize: model.inputs[0].shape[1] as number,
    layers,
    trainable: layers.reduce((a, l) => a + l.trainable, 0),
    nonTrainable: layers.reduce((a, l) => a + l.nonTrainable, 0),
    macs: layers.reduce((a, l) => a + l.macs, 0),
  };
}

/** Trainable parameter count (weights + biases; BN's γ and β only). */
export function trainableParams(model: tf.LayersModel): number {
  return count(model.trainableWeights);
}

/**
 * Activations of named layers (blocks by default) for a batch, in inference mode.
 * Returns name → tensor; the caller disposes them.
 */
export function blockActivations(
  model: tf.LayersModel,
  x: tf.Tensor,
  names: string[] = blockNames(model),
): Map<string, tf.Tensor> {
  if (names.length === 0) throw new ModelError(`${model.name} has no named blocks; pass layer names`);
  const known = new Set(model.layers.map((l) => l.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new ModelError(`${model.name} has no layer ${unknown.join(", ")}; blocks: ${blockNames(model).join(", ")}`);
  }
  const probe = tf.model({
    inputs: model.inputs,
    outputs: names.map((n) => model.getLayer(n).output as tf.SymbolicTensor),
  });
  const outs = probe.predict(x) as tf.Tensor | tf.Tensor[];
  const arr = Array.isArray(outs) ? outs : [outs];
  return new Map(names.map((n, i) => [n, arr[i]]));
}

/**
 * Rough peak memory of training `model` at `batch` on a CPU backend: every layer's output is
 * kept for the backward pass and gets a gradient of the same size (×2, plus one more for the
 * buffers in flight), and each parameter has a gradient and two Adam moments (×4).
 */
export function trainingMemoryBytes(s: ModelSummary, batch: number): number {
  const perImage = s.layers.reduce((a, l) => a + l.outputShape.reduce((x, y) => x * y, 1), 0);
  return 4 * (3 * batch * perImage + 4 * (s.trainable + s.nonTrainable));
}
