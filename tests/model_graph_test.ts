/**
 * bench/model_graph.ts: every zoo model (and the report's configurations) becomes a layer graph
 * PyTorch can rebuild: topologically ordered, with paddings that reproduce every output size,
 * the same parameter count, and a clear error for a layer it cannot express.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { GraphError, type GraphNode, modelGraph } from "../bench/model_graph.ts";
import { buildModel, MODELS } from "../lib/models/registry.ts";
import { EXPERIMENTS, resolveConfig } from "../lib/exp/experiments.ts";

await tf.setBackend("cpu");

/** Parameters PyTorch's twin will have (BN's moving statistics are buffers there). */
function torchParams(nodes: GraphNode[]): number {
  const shape = new Map(nodes.map((n) => [n.name, n.shape]));
  let p = 0;
  for (const n of nodes) {
    const cin = n.inputs.length ? shape.get(n.inputs[0])!.at(-1)! : 0;
    if (n.kind === "conv") p += n.kernel[0] * n.kernel[1] * cin * n.filters + (n.bias ? n.filters : 0);
    if (n.kind === "dense") p += cin * n.units + (n.bias ? n.units : 0);
    if (n.kind === "batchnorm") p += 2 * n.shape.at(-1)!;
  }
  return p;
}

function checkGraph(what: string, model: tf.LayersModel) {
  const g = modelGraph(model);
  const seen = new Map<string, GraphNode>();
  for (const n of g.nodes) {
    for (const i of n.inputs) assert.ok(seen.has(i), `${what}: ${n.name} reads ${i} before it exists`);
    if (n.kind === "conv" || n.kind === "maxpool" || n.kind === "avgpool") {
      const [k, s] = n.kind === "conv" ? [n.kernel, n.strides] : [n.size, n.strides];
      const inShape = seen.get(n.inputs[0])!.shape;
      const [t, b, l, r] = n.pads;
      const out = [
        Math.floor((inShape[0] + t + b - k[0]) / s[0]) + 1,
        Math.floor((inShape[1] + l + r - k[1]) / s[1]) + 1,
      ];
      assert.deepEqual(out, n.shape.slice(0, 2), `${what}: ${n.name}'s padding gives ${out}`);
      assert.ok(Math.abs(t - b) <= 1 && Math.abs(l - r) <= 1 && t <= b && l <= r, `${what}: ${n.name} pads ${n.pads}`);
    }
    seen.set(n.name, n);
  }
  for (const o of g.outputs) assert.ok(seen.has(o), `${what}: output ${o}`);
  const trainable = model.trainableWeights.reduce((s, w) => s + tf.util.sizeFromShape(w.shape as number[]), 0);
  assert.equal(torchParams(g.nodes), trainable, `${what}: parameter count`);
}

Deno.test("every zoo model and every laptop configuration of Q1a/Q3b becomes a faithful layer graph", () => {
  for (const e of MODELS.values()) {
    const size = Math.max(e.minSize({}), 48);
    tf.tidy(() => checkGraph(`${e.name}@${size}`, buildModel(e.name, { inputSize: size })));
  }
  for (const e of EXPERIMENTS.values()) {
    if (!/^q1a\/|^q3b\//.test(e.name)) continue;
    const c = resolveConfig(e, "laptop");
    tf.tidy(() => checkGraph(e.name, buildModel(c.model, { ...c.modelOptions, inputSize: c.inputSize })));
  }
});

Deno.test("a layer PyTorch's graph builder cannot express is refused by name", () => {
  const x = tf.input({ shape: [8, 8, 1] });
  const y = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: "tanh", name: "odd" }).apply(
    x,
  ) as tf.SymbolicTensor;
  assert.throws(
    () => modelGraph(tf.model({ inputs: x, outputs: y })),
    (e) => e instanceof GraphError && /layer odd: activation 'tanh'/.test(e.message),
  );
  const z = tf.layers.upSampling2d({ name: "up" }).apply(x) as tf.SymbolicTensor;
  assert.throws(
    () => modelGraph(tf.model({ inputs: x, outputs: z })),
    /layer up: UpSampling2D has no PyTorch counterpart/,
  );
});
