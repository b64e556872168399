/**
 * Kernels that make tfjs-backend-wasm 4.22 able to train CNNs, fast and correctly.
 *
 * Stock wasm lacks Conv2DBackpropFilter (tfjs issue 8474), runs Conv2DBackpropInput as a
 * naive loop, computes wrong MaxPoolGrad values for windows whose maximum is <= 0, gives
 * wrong Conv2D output for 'same' padding with stride > kernel, and falls back to a naive
 * loop in BatchMatMul whenever an operand is transposed. Every replacement below keeps
 * the heavy arithmetic in XNNPACK by re-expressing it as a forward convolution or an
 * untransposed matmul; only O(size) data movement happens in JS.
 *
 * - Filter gradient: a convolution over the batch dimension. x [N,H,W,Ci] becomes
 *   [Ci,H,W,N] (Ci as batch, N as channels); dy [N,OH,OW,Co] becomes a filter
 *   [OH,OW,N,Co] dilated by the forward stride. The output [Ci,KH,KW,Co] is transposed to
 *   [KH,KW,Ci,Co].
 * - Input gradient: a polyphase split. For every output phase (r_h, r_w) of the stride,
 *   one stride-1 convolution of dy with the matching rotated sub-filter, then interleave.
 *   No zero-dilated dy, so no s² wasted work.
 */
import * as tf from "@tensorflow/tfjs";
import { asKernelFunc, kernelFuncOf } from "../util/tfjs_internals.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Info = tf.TensorInfo;
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
type KernelArgs = { inputs: Record<string, Info>; backend: BackendWasm; attrs: Record<string, unknown> };
type KFunc = (args: KernelArgs) => Info;

const BACKEND = "wasm";
/** The stock kernel functions we call into (captured before any override). */
const stock = new Map<string, KFunc>();

function stockKernel(name: string): KFunc {
  let f = stock.get(name);
  if (!f) {
    const k = tf.getKernel(name, BACKEND);
    if (!k) throw new Error(`tfjs-backend-wasm has no kernel ${name}`);
    f = kernelFuncOf<KFunc>(k);
    stock.set(name, f);
  }
  return f;
}

function call(
  name: string,
  backend: BackendWasm,
  inputs: Record<string, Info>,
  attrs: Record<string, unknown> = {},
): Info {
  return stockKernel(name)({ inputs, backend, attrs });
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return call("Transpose", backend, { x }, { perm });
}

function heap(backend: BackendWasm, t: Info): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * Stride-1-or-more conv with explicit, possibly negative pads (negative = crop the input).
 * x: [N,H,W,C] info; filter [KH,KW,C,Co]; returns [N,OH,OW,Co].
 */
function convExplicit(
  backend: BackendWasm,
  x: Info,
  filter: Info,
  pads: [number, number, number, number],
  strides: [number, number],
  dilations: [number, number],
): Info {
  let [pt, pb, pl, pr] = pads;
  let input = x;
  const crop = [Math.max(-pt, 0), Math.max(-pb, 0), Math.max(-pl, 0), Math.max(-pr, 0)];
  if (crop.some((c) => c > 0)) {
    const [n, h, w, c] = x.shape;
    input = call("Slice", backend, { x }, {
      begin: [0, crop[0], crop[2], 0],
      size: [n, h - crop[0] - crop[1], w - crop[2] - crop[3], c],
    });
    pt = Math.max(pt, 0);
    pb = Math.max(pb, 0);
    pl = Math.max(pl, 0);
    pr = Math.max(pr, 0);
  }
  const pad: Pad4 = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
  const out = call("Conv2D", backend, { x: input, filter }, {
    strides,
    pad,
    dilations,
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
  });
  if (input !== x) backend.disposeData(input.dataId);
  return out;
}

function convInfoOf(xShape: number[], filterShape: number[], attrs: Record<string, unknown>) {
  if (attrs.dataFormat && attrs.dataFormat !== "NHWC") {
    throw new Error(`cnnlab wasm kernels support NHWC only, got ${attrs.dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "valid" | "same" | number | Pad4,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
}

/** dW = conv over the batch dimension (see file comment). */
function conv2DBackpropFilter(args: KernelArgs): Info {
  const { backend, attrs } = args;
  const { x, dy } = args.inputs;
  const info = convInfoOf(x.shape, attrs.filterShape as number[], attrs);
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = info;
  const { top: pt, left: pl } = info.padInfo;
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [Ci,H,W,N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH,OW,N,Co]
  const pb = KH - H - pt + (OH - 1) * sh;
  const pr = KW - W - pl + (OW - 1) * sw;
  const g = convExplicit(backend, xT, dyT, [pt, pb, pl, pr], [1, 1], [sh, sw]); // [Ci,KH,KW,Co]
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  const out = transpose(backend, g, [1, 2, 0, 3]);
  backend.disposeData(g.dataId);
  return out;
}

interface Phase {
  /** first filter tap of this phase, number of taps */
  k0: number;
  taps: number;
  /** output positions of this phase, and the conv's pads over dy */
  count: number;
  padBefore: number;
  padAfter: number;
}

/** Polyphase decomposition of one spatial dimension of a transposed convolution. */
function phases(K: number, s: number, p: number, inLen: number, outLen: number): Phase[] {
  const out: Phase[] = [];
  for (let r = 0; r < s; r++) {
    const k0 = (r + p) % s;
    const c = Math.floor((r + p) / s);
    const taps = k0 < K ? Math.ceil((K - k0) / s) : 0;
    const count = r < inLen ? Math.ceil((inLen - r) / s) : 0;
    const padBefore = taps - 1 - c;
    const padAfter = count + taps - 1 - outLen - padBefore;
    out.push({ k0, taps, count, padBefore, padAfter });
  }
  return out;
}

/** dx = Σ over stride phases of a stride-1 conv of dy with a rotated sub-filter. */
function conv2DBackpropInput(args: KernelArgs): Info {
  const { backend, attrs } = args;
  const { dy, filter } = args.inputs;
  const inShape = attrs.inputShape as number[];
  const info = convInfoOf(inShape, filter.shape, attrs);
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, inChannels: Ci, outChannels: Co } = info;
  const N = inShape[0];
  const ph = phases(KH, sh, info.padInfo.top, H, OH);
  const pw = phases(KW, sw, info.padInfo.left, W, OW);
  const single = sh === 1 && sw === 1;
  let dx: Info | null = single ? null : backend.makeOutput([N, H, W, Ci], "float32");
  if (dx) heap(backend, dx).fill(0);
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const a = ph[rh];
      const b = pw[rw];
      if (a.taps === 0 || b.taps === 0 || a.count === 0 || b.count === 0) continue;
      // Rotated sub-filter [taps_h, taps_w, Co, Ci].
      const src = heap(backend, filter);
      const sub = new Float32Array(a.taps * b.taps * Co * Ci);
      for (let jh = 0; jh < a.taps; jh++) {
        const kh = a.k0 + sh * (a.taps - 1 - jh);
        for (let jw = 0; jw < b.taps; jw++) {
          const kw = b.k0 + sw * (b.taps - 1 - jw);
          const sBase = (kh * KW + kw) * Ci * Co;
          const dBase = (jh * b.taps + jw) * Co * Ci;
          for (let ci = 0; ci < Ci; ci++) {
            const s0 = sBase + ci * Co;
            for (let co = 0; co < Co; co++) sub[dBase + co * Ci + ci] = src[s0 + co];
          }
        }
      }
      const f = backend.makeOutput([a.taps, b.taps, Co, Ci], "float32", undefined, sub);
      const r = convExplicit(backend, dy, f, [a.padBefore, a.padAfter, b.padBefore, b.padAfter], [1, 1], [1, 1]);
      backend.disposeData(f.dataId);
      if (single) {
        dx = r;
        continue;
      }
      const rv = heap(backend, r);
      const dv = heap(backend, dx!);
      const Qh = a.count;
      const Qw = b.count;
      for (let n = 0; n < N; n++) {
        for (let qh = 0; qh < Qh; qh++) {
          const rowSrc = ((n * Qh + qh) * Qw) * Ci;
          const rowDst = ((n * H + sh * qh + rh) * W + rw) * Ci;
          for (let qw = 0; qw < Qw; qw++) {
            const s0 = rowSrc + qw * Ci;
            const d0 = rowDst + sw * qw * Ci;
            for (let ci = 0; ci < Ci; ci++) dv[d0 + ci] = rv[s0 + ci];
          }
        }
      }
      backend.disposeData(r.dataId);
    }
  }
  if (!dx) {
    // No phase had taps (kernel smaller than stride everywhere): gradient is zero.
    dx = backend.makeOutput([N, H, W, Ci], "float32");
    heap(backend, dx).fill(0);
  }
  return dx;
}

/** Max-pool gradient routed to the first maximum of each window (the cpu backend's rule). */
function maxPoolGrad(args: KernelArgs): Info {
  const { backend, attrs } = args;
  const { dy, input } = args.inputs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as "valid" | "same" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top: pt, left: pl } = info.padInfo;
  const dx = backend.makeOutput(input.shape, "float32");
  const xv = heap(backend, input);
  const gv = heap(backend, dy);
  const dv = heap(backend, dx);
  dv.fill(0);
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - pl;
        best.fill(-Infinity);
        where.fill(-1);
        for (let i = Math.max(h0, 0); i < Math.min(h0 + fh, H); i++) {
          for (let j = Math.max(w0, 0); j < Math.min(w0 + fw, W); j++) {
            const base = ((n * H + i) * W + j) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[base + c];
              if (v > best[c]) {
                best[c] = v;
                where[c] = base + c;
              }
            }
          }
        }
        const g0 = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (where[c] >= 0) dv[where[c]] += gv[g0 + c];
      }
    }
  }
  return dx;
}

/** Conv2D / FusedConv2D with 'same' padding turned into explicit pads (XNNPACK bug). */
function explicitSame(name: string): KFunc {
  return (args) => {
    const { attrs } = args;
    if (attrs.pad === "same") {
      const { x, filter } = args.inputs;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        attrs.strides as number | [number, number],
        attrs.dilations as number | [number, number],
        "same",
        attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
      );
      const p = info.padInfo;
      const pad: Pad4 = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
      return stockKernel(name)({ ...args, attrs: { ...attrs, pad } });
    }
    return stockKernel(name)(args);
  };
}

/** BatchMatMul with transposed operands materialised first, so XNNPACK's GEMM runs. */
function batchMatMul(args: KernelArgs): Info {
  const { backend, attrs } = args;
  let { a, b } = args.inputs;
  const tA = attrs.transposeA as boolean;
  const tB = attrs.transposeB as boolean;
  if (!tA && !tB) return stockKernel("BatchMatMul")(args);
  const swapLast = (t: Info) => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transpose(backend, t, perm);
  };
  const owned: Info[] = [];
  if (tA) owned.push(a = swapLast(a));
  if (tB) owned.push(b = swapLast(b));
  const out = stockKernel("BatchMatMul")({
    inputs: { a, b },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false },
  });
  for (const t of owned) backend.disposeData(t.dataId);
  return out;
}

const OVERRIDES: Record<string, KFunc> = {
  Conv2D: explicitSame("Conv2D"),
  FusedConv2D: explicitSame("FusedConv2D"),
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  MaxPoolGrad: maxPoolGrad,
  BatchMatMul: batchMatMul,
};

let installed = false;

/**
 * Register cnnlab's wasm kernels. Must run after `@tensorflow/tfjs-backend-wasm` is
 * imported and before `tf.setBackend("wasm")` (so the stock setup functions still run).
 */
export function installWasmKernels(): void {
  if (installed) return;
  for (const [name, fn] of Object.entries(OVERRIDES)) {
    const existing = tf.getKernel(name, BACKEND);
    if (existing) {
      stockKernel(name); // capture before replacing
      tf.unregisterKernel(name, BACKEND);
    }
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      setupFunc: existing?.setupFunc,
      kernelFunc: asKernelFunc(fn),
    });
  }
  // Make sure the helpers we call are there (Slice, Transpose, Conv2D originals).
  for (const name of ["Slice", "Transpose"]) stockKernel(name);
  installed = true;
}
