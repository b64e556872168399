/**
 * A zoo model as a plain layer graph (bench/torch_bench.py --graph builds the same network in
 * PyTorch from it), so that the report's own configurations — any width, depth or input size —
 * are benchmarked against PyTorch without a hand-written twin per variant.
 *
 * Every layer becomes one node in topological order: its kind, its input nodes, its output
 * shape (NHWC, no batch) and the parameters PyTorch needs, with "same" padding resolved to
 * explicit top/bottom/left/right amounts as TensorFlow computes them.
 */
import * as tf from "@tensorflow/tfjs";

export type Pads = [number, number, number, number]; // top, bottom, left, right

export type GraphNode =
  & { name: string; inputs: string[]; shape: number[] }
  & (
    | { kind: "input" }
    | {
      kind: "conv";
      filters: number;
      kernel: [number, number];
      strides: [number, number];
      pads: Pads;
      bias: boolean;
      activation: string;
    }
    | { kind: "maxpool" | "avgpool"; size: [number, number]; strides: [number, number]; pads: Pads }
    | { kind: "dense"; units: number; bias: boolean; activation: string }
    | { kind: "batchnorm"; epsilon: number; momentum: number }
    | { kind: "relu" | "flatten" | "concat" | "add" | "gap" }
    | { kind: "activation"; activation: string }
    | { kind: "zeropad"; pads: Pads }
    | { kind: "dropout"; rate: number }
    | { kind: "rescaling"; scale: number; offset: number }
  );

export interface ModelGraph {
  nodes: GraphNode[];
  outputs: string[];
}

export class GraphError extends Error {
  override name = "GraphError";
}

type Cfg = Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [Number(v), Number(v)]);

/** TensorFlow's padding for a window of k with stride s over n inputs giving `out` outputs. */
function tfPads(
  padding: unknown,
  n: [number, number],
  out: [number, number],
  k: [number, number],
  s: [number, number],
): Pads {
  if (padding === "valid") return [0, 0, 0, 0];
  const along = (i: 0 | 1) => {
    const total = Math.max((out[i] - 1) * s[i] + k[i] - n[i], 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [t, b] = along(0), [l, r] = along(1);
  return [t, b, l, r];
}

const ACTIVATIONS = new Set(["linear", "relu", "sigmoid"]);

function activation(layer: string, cfg: Cfg): string {
  const a = String(cfg.activation ?? "linear");
  if (!ACTIVATIONS.has(a)) throw new GraphError(`layer ${layer}: activation '${a}' has no PyTorch counterpart here`);
  return a;
}

/** The layer graph of a functional tfjs-layers model built by the zoo. */
export function modelGraph(model: tf.LayersModel): ModelGraph {
  const nodes: GraphNode[] = [];
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as Cfg;
    const name = layer.name;
    const inbound = layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [];
    const inShape = (layer.inboundNodes[0]?.inputShapes as (number | null)[][] | undefined)?.[0]?.slice(1) as
      | number[]
      | undefined;
    const shape = (layer.outputShape as (number | null)[]).slice(1) as number[];
    const base = { name, inputs: inbound, shape };
    const cls = layer.getClassName();
    const spatial = (): [[number, number], [number, number]] => [
      [inShape![0], inShape![1]],
      [shape[0], shape[1]],
    ];
    switch (cls) {
      case "InputLayer":
        nodes.push({ ...base, kind: "input" });
        break;
      case "Conv2D": {
        const [n, out] = spatial();
        const kernel = pair(cfg.kernelSize), strides = pair(cfg.strides);
        if (pair(cfg.dilationRate ?? 1).some((d) => d !== 1)) {
          throw new GraphError(`layer ${name}: dilated convolution`);
        }
        nodes.push({
          ...base,
          kind: "conv",
          filters: Number(cfg.filters),
          kernel,
          strides,
          pads: tfPads(cfg.padding, n, out, kernel, strides),
          bias: Boolean(cfg.useBias),
          activation: activation(name, cfg),
        });
        break;
      }
      case "MaxPooling2D":
      case "AveragePooling2D": {
        const [n, out] = spatial();
        const size = pair(cfg.poolSize), strides = pair(cfg.strides ?? cfg.poolSize);
        const kind = cls === "MaxPooling2D" ? "maxpool" : "avgpool";
        nodes.push({ ...base, kind, size, strides, pads: tfPads(cfg.padding, n, out, size, strides) });
        break;
      }
      case "Dense":
        nodes.push({
          ...base,
          kind: "dense",
          units: Number(cfg.units),
          bias: Boolean(cfg.useBias),
          activation: activation(name, cfg),
        });
        break;
      case "BatchNormalization":
        nodes.push({ ...base, kind: "batchnorm", epsilon: Number(cfg.epsilon), momentum: Number(cfg.momentum) });
        break;
      case "ReLU":
        if (cfg.maxValue != null) throw new GraphError(`layer ${name}: capped ReLU`);
        nodes.push({ ...base, kind: "relu" });
        break;
      case "Activation":
        nodes.push({ ...base, kind: "activation", activation: activation(name, cfg) });
        break;
      case "ZeroPadding2D": {
        const p = cfg.padding;
        const [[t, b], [l, r]] = Array.isArray(p)
          ? (p as unknown[]).map((v) => (Array.isArray(v) ? v : [v, v])) as [[number, number], [number, number]]
          : [[Number(p), Number(p)], [Number(p), Number(p)]];
        nodes.push({ ...base, kind: "zeropad", pads: [t, b, l, r] });
        break;
      }
      case "Flatten":
        nodes.push({ ...base, kind: "flatten" });
        break;
      case "Concatenate":
        if (![-1, 3].includes(Number(cfg.axis ?? -1))) {
          throw new GraphError(`layer ${name}: concatenation off the channel axis`);
        }
        nodes.push({ ...base, kind: "concat" });
        break;
      case "Add":
        nodes.push({ ...base, kind: "add" });
        break;
      case "GlobalAveragePooling2D":
        nodes.push({ ...base, kind: "gap" });
        break;
      case "SeededDropout":
      case "Dropout":
        nodes.push({ ...base, kind: "dropout", rate: Number(cfg.rate) });
        break;
      case "Rescaling":
        nodes.push({ ...base, kind: "rescaling", scale: Number(cfg.scale), offset: Number(cfg.offset ?? 0) });
        break;
      default:
        throw new GraphError(`layer ${name}: ${cls} has no PyTorch counterpart in bench/torch_bench.py`);
    }
  }
  return { nodes, outputs: model.outputLayers.map((l) => l.name) };
}
