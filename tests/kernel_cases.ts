/**
 * Random kernel cases shared by the wasm and native kernel tests: every case runs on the
 * pure-JS cpu backend and on the backend under test, with the same inputs.
 * Bound: relative RMS error ≤ 1e-5 (float32 summation-order noise measures ~1e-7).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { rand, relErr } from "./helpers.ts";
import { lenet } from "../lib/models/lenet.ts";
import { type ConvActivation, convBiasAct } from "../lib/ops/fused_conv.ts";
import { buildModel, type ModelOptions, MODELS } from "../lib/models/registry.ts";

export const REL_BOUND = 1e-5;

/** Run fn on cpu and on `backend` with the same inputs; return [cpu outputs, backend outputs]. */
export async function both(
  backend: string,
  inputs: { shape: number[]; data: Float32Array }[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<[Float32Array[], Float32Array[]]> {
  const res: Float32Array[][] = [];
  for (const be of ["cpu", backend]) {
    await tf.setBackend(be);
    const outs = tf.tidy(() => fn(...inputs.map((i) => tf.tensor(i.data, i.shape))));
    res.push(outs.map((o) => o.dataSync() as Float32Array));
    tf.dispose(outs);
  }
  await tf.setBackend(backend);
  return [res[0], res[1]];
}

/** act(conv2d(x, w) + b) with tfjs's own unfused ops: the reference for convBiasAct. */
export function unfusedConvAct(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | null,
  s: number,
  pad: "same" | "valid",
  act: ConvActivation,
): tf.Tensor4D {
  const z = b ? tf.conv2d(x, w, s, pad).add(b) : tf.conv2d(x, w, s, pad);
  return (act === "relu" ? tf.relu(z) : act === "sigmoid" ? tf.sigmoid(z) : z) as tf.Tensor4D;
}

export type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
export const CONV_CASES: { x: number[]; k: number; cin: number; cout: number; s: number; pad: Pad }[] = [
  { x: [2, 9, 9], k: 3, cin: 3, cout: 4, s: 1, pad: "same" },
  { x: [2, 11, 13], k: 5, cin: 1, cout: 6, s: 2, pad: "valid" },
  { x: [3, 27, 27], k: 11, cin: 1, cout: 8, s: 4, pad: "valid" },
  { x: [2, 30, 29], k: 11, cin: 2, cout: 5, s: 4, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { x: [2, 10, 10], k: 3, cin: 2, cout: 3, s: 4, pad: "same" },
  { x: [2, 8, 8], k: 1, cin: 3, cout: 5, s: 2, pad: "same" },
  { x: [2, 7, 9], k: 1, cin: 4, cout: 4, s: 1, pad: "valid" },
  { x: [2, 15, 15], k: 7, cin: 1, cout: 16, s: 2, pad: "same" },
  { x: [2, 13, 11], k: 7, cin: 3, cout: 2, s: 1, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
  { x: [1, 17, 17], k: 5, cin: 6, cout: 16, s: 1, pad: "valid" },
  { x: [2, 9, 7], k: 3, cin: 5, cout: 7, s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 12, 12], k: 5, cin: 4, cout: 3, s: 4, pad: "same" },
  // The native backend's NHWC path (no negative padding): 1×1 and 3×3, odd channel counts.
  { x: [2, 11, 11], k: 1, cin: 13, cout: 22, s: 2, pad: "same" },
  { x: [3, 13, 13], k: 3, cin: 6, cout: 10, s: 2, pad: "same" },
  { x: [2, 6, 6], k: 1, cin: 19, cout: 9, s: 1, pad: "valid" },
  // Kernels larger than their input (taps that only read padding; the native backend cuts them
  // off): 3×3 on 1×1, 3×3/2 from 2×2 to 1×1, 5×5 on 2×3 (rows cut, columns kept), 5×5/2 on 3×1.
  { x: [3, 1, 1], k: 3, cin: 9, cout: 11, s: 1, pad: "same" },
  { x: [2, 2, 2], k: 3, cin: 6, cout: 5, s: 2, pad: "same" },
  { x: [2, 2, 3], k: 5, cin: 4, cout: 7, s: 1, pad: "same" },
  { x: [2, 3, 1], k: 5, cin: 3, cout: 4, s: 2, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
];

/** Every registered model (narrowed where an option allows: kernels do not depend on widths). */
const NARROW: Record<string, ModelOptions> = {
  alexnet: { widthMultiplier: 0.125, denseWidth: 64 },
  "alexnet-simplified": { widthMultiplier: 0.125, denseWidth: 64 },
  vgg11: { ratio: 16 },
  googlenet: { auxHeads: true, inputSize: 80 },
  "bn-inception": { width: 0.25 },
  "inception-v3": { width: 0.25, auxHead: true },
  "inception-resnet": { width: 0.25 },
};
export const COVERAGE_MODELS: [string, () => tf.LayersModel, number][] = [
  [
    "lenet relu/max + BN + dropout",
    () => lenet({ activation: "relu", pooling: "max", batchNorm: true, dropout: 0.5 }),
    28,
  ],
  ...[...MODELS.values()].map((e): [string, () => tf.LayersModel, number] => {
    const size = NARROW[e.name]?.inputSize ?? Math.max(e.minSize(NARROW[e.name] ?? {}), 32);
    return [e.name, () => buildModel(e.name, { ...NARROW[e.name], inputSize: size }), size];
  }),
];

/** Register the shared kernel tests for `backend` (which must already be registered). */
export function kernelSuite(backend: string, opts: { ignore?: boolean } = {}): void {
  for (const c of CONV_CASES) {
    const name = `conv k${c.k} s${c.s} ${JSON.stringify(c.pad)} ${c.cin}→${c.cout} on ${c.x.join("×")}`;
    Deno.test({
      ...opts,
      name: `${backend} ${name}: forward, input and filter gradients match cpu`,
      fn: async () => {
        const xs = [c.x[0], c.x[1], c.x[2], c.cin];
        const ws = [c.k, c.k, c.cin, c.cout];
        const [cpu, got] = await both(
          backend,
          [{ shape: xs, data: rand(xs, 1) }, { shape: ws, data: rand(ws, 2) }],
          (x, w) => {
            const f = (x: tf.Tensor, w: tf.Tensor) =>
              tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad).square().sum();
            const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
            return [y, ...tf.grads(f)([x, w])];
          },
        );
        ["forward", "dx", "dW"].forEach((what, i) => {
          const e = relErr(got[i], cpu[i]);
          assert.ok(e <= REL_BOUND, `${what}: relative error ${e}`);
        });
      },
    });
  }

  Deno.test({
    ...opts,
    name: `${backend} fused conv (bias + relu) gradients match cpu`,
    fn: async () => {
      const xs = [2, 12, 12, 3], ws = [3, 3, 3, 8];
      const [cpu, got] = await both(
        backend,
        [{ shape: xs, data: rand(xs, 3) }, { shape: ws, data: rand(ws, 4) }, { shape: [8], data: rand([8], 5) }],
        (x, w, b) => {
          const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
            tf.fused.conv2d({
              x: x as tf.Tensor4D,
              filter: w as tf.Tensor4D,
              strides: 2,
              pad: "same",
              bias: b,
              activation: "relu",
            }).sum();
          return tf.grads(f)([x, w, b]);
        },
      );
      cpu.forEach((want, i) => assert.ok(relErr(got[i], want) <= REL_BOUND, `grad ${i}`));
    },
  });

  Deno.test({
    ...opts,
    name: `${backend} convBiasAct (the conv layers' training path) matches unfused cpu ops`,
    fn: async () => {
      for (const c of CONV_CASES.filter((c) => typeof c.pad === "string")) {
        for (const act of ["linear", "relu", "sigmoid"] as const) {
          const xs = [c.x[0], c.x[1], c.x[2], c.cin], ws = [c.k, c.k, c.cin, c.cout];
          const pad = c.pad as "same" | "valid";
          const [cpu, got] = await both(
            backend,
            [{ shape: xs, data: rand(xs, 11) }, { shape: ws, data: rand(ws, 12) }, {
              shape: [c.cout],
              data: rand([c.cout], 13),
            }],
            (x, w, b) => {
              const fused = tf.getBackend() !== "cpu";
              const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
                const [x4, w4, b1] = [x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D];
                return fused
                  ? convBiasAct(x4, w4, b1, [c.s, c.s], pad, act)
                  : unfusedConvAct(x4, w4, b1, c.s, pad, act);
              };
              const loss = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
                const y = f(x, w, b); // distinct weight per output, so every gradient path is exercised
                return y.mul(tf.range(1, 1 + y.size).reshape(y.shape).div(y.size)).sum();
              };
              return [f(x, w, b), ...tf.grads(loss)([x, w, b])];
            },
          );
          ["forward", "dx", "dW", "db"].forEach((what, i) => {
            const e = relErr(got[i], cpu[i]);
            assert.ok(e <= REL_BOUND, `${act} k${c.k} s${c.s} ${c.pad} ${what}: relative error ${e}`);
          });
        }
      }
    },
  });

  Deno.test({
    ...opts,
    name: `${backend} max-pool gradient is right for windows whose maximum is <= 0`,
    fn: async () => {
      // 19 channels: a full 8- or 16-lane vector and a remainder in the native kernel's channel loops.
      const cases: [number, number, "valid" | "same", number][] = [
        [3, 2, "valid", 3],
        [2, 2, "valid", 3],
        [3, 1, "same", 19],
        [3, 2, "same", 19],
        [5, 1, "same", 3],
        [2, 3, "valid", 19], // stride > size: some pixels lie in no window
      ];
      for (const [size, stride, pad, channels] of cases) {
        const xs = [2, 9, 9, channels];
        const f = (x: tf.Tensor) => {
          const y = tf.maxPool(x as tf.Tensor4D, size, stride, pad);
          return y.mul(tf.range(1, 1 + y.size).reshape(y.shape)).sum(); // distinct weight per output
        };
        const [cpu, got] = await both(backend, [{ shape: xs, data: rand(xs, 6, -1.5) }], (x) => [tf.grad(f)(x)]);
        assert.ok(cpu[0].some((v) => v !== 0));
        assert.ok(relErr(got[0], cpu[0]) <= REL_BOUND, `pool ${size}/${stride} ${pad}`);
        // Ties (values on a coarse grid): the gradient goes to the first maximum only.
        const ties = rand(xs, 7).map((v) => Math.round(v * 2));
        const [cpuT, gotT] = await both(backend, [{ shape: xs, data: ties }], (x) => [tf.grad(f)(x)]);
        assert.deepEqual(gotT[0], cpuT[0], `pool ${size}/${stride} ${pad} with ties`);
      }
    },
  });

  Deno.test({
    ...opts,
    name: `${backend} average-pool gradient matches cpu`,
    fn: async () => {
      const xs = [2, 10, 10, 4];
      const [cpu, got] = await both(backend, [{ shape: xs, data: rand(xs, 7) }], (x) => {
        const f = (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 3, 2, "same").square().sum();
        return [tf.grad(f)(x)];
      });
      assert.ok(relErr(got[0], cpu[0]) <= REL_BOUND);
    },
  });

  Deno.test({
    ...opts,
    name: `${backend} matmul with transposed operands matches cpu`,
    fn: async () => {
      for (const [ta, tb] of [[true, false], [false, true], [true, true]]) {
        const as = ta ? [37, 19] : [19, 37];
        const bs = tb ? [23, 37] : [37, 23];
        const [cpu, got] = await both(
          backend,
          [{ shape: as, data: rand(as, 8) }, { shape: bs, data: rand(bs, 9) }],
          (a, b) => [tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb)],
        );
        assert.ok(relErr(got[0], cpu[0]) <= REL_BOUND, `transposeA=${ta} transposeB=${tb}`);
      }
    },
  });
}
