/**
 * Backend 'native': tfjs's pure-JS cpu backend with its hot kernels replaced by calls into
 * cnnlab's oneDNN library (lib/backend/native/cnnlab_native.cpp) through Deno FFI.
 *
 * Tensor data stays in JS Float32Arrays (the cpu backend's storage), which FFI passes by
 * pointer without copying; so there is no 4 GiB wasm heap limit and every kernel the
 * library lacks still works (the cpu implementation runs). Replaced: Conv2D, FusedConv2D,
 * Conv2DBackpropInput/Filter, BatchMatMul, _FusedMatMul, MaxPool(+Grad), AvgPool(+Grad),
 * FusedBatchNorm, PadV2, SplitV, Concat, Tile, the element-wise ops a training step uses
 * (any broadcast), Sum/Mean over one run of contiguous axes, AddN, and a fused Adam update
 * (in place, or kernel `CnnlabAdam`; used by FusedAdam in optim.ts). Added kernels for the
 * fused training path: `CnnlabActivationBackprop` (fused_conv.ts) and the batch-norm
 * training pair `CnnlabBatchNormTrain`/`CnnlabBatchNormGrad` (batch_norm.ts). Small
 * tensors stay in JS: below ~2k elements an FFI round trip is not worth it.
 */
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { NATIVE_LIB, nativeLibState } from "./native_build.ts";
import { ACTIVATION_BACKPROP_KERNEL } from "./fused_conv.ts";
import { BN_GRAD_KERNEL, BN_TRAIN_KERNEL } from "./batch_norm.ts";

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, Info | null | undefined>; backend: NativeBackend; attrs: Attrs };
type KFunc = (args: KernelArgs) => Info | Info[];

export const NATIVE = "native";
export type Precision = "fp32" | "bf16";
export const PRECISIONS: readonly Precision[] = ["fp32", "bf16"];
/** Element count below which element-wise ops and reductions stay in JS. */
const SMALL = 2048;

const SYMBOLS = {
  cn_set_threads: { parameters: ["i32"], result: "i32" },
  cn_release: { parameters: [], result: "i32" },
  cn_verbose: { parameters: ["i32"], result: "i32" },
  cn_error: { parameters: ["buffer", "i32"], result: "i32" },
  cn_isa: { parameters: ["buffer", "i32"], result: "i32" },
  cn_conv_fwd: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_conv_bwd_data: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_conv_bwd_weights: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_matmul: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_pool_fwd: { parameters: ["buffer", "i32", "buffer", "buffer"], result: "i32" },
  cn_max_pool_bwd: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_avg_pool_bwd: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  cn_pad4: { parameters: ["buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_unary: { parameters: ["i32", "buffer", "buffer", "i64", "f32"], result: "i32" },
  cn_binary: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  cn_reduce_rows: { parameters: ["buffer", "i64", "i64", "i64", "buffer", "i32"], result: "i32" },
  cn_copy_block: { parameters: ["buffer", "i64", "buffer", "i64", "i64", "i64"], result: "i32" },
  cn_tile4: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_batch_norm: {
    parameters: ["buffer", "i64", "i64", "buffer", "buffer", "buffer", "buffer", "f32", "buffer"],
    result: "i32",
  },
  cn_bn_train_fwd: {
    parameters: ["buffer", "i64", "i64", "buffer", "buffer", "f32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  cn_bn_train_bwd: {
    parameters: [
      "buffer",
      "buffer",
      "i64",
      "i64",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "f32",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  cn_adam: {
    parameters: [
      "i64",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "f32",
      "f32",
      "f32",
      "f32",
      "f32",
      "f32",
    ],
    result: "i32",
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export class NativeError extends Error {
  override name = "NativeError";
}

let lib: Lib | null = null;
let isa = "unknown";
const settings = { threads: 1, precision: "fp32" as Precision };

function check(rc: number, what: string): void {
  if (rc === 0) return;
  const buf = new Uint8Array(1024);
  const n = lib!.cn_error(buf, buf.length);
  throw new NativeError(`native ${what} failed: ${new TextDecoder().decode(buf.subarray(0, Math.max(n, 0)))}`);
}

/** Load the library (once). Throws a one-line NativeError naming the fix. */
export async function loadNative(): Promise<void> {
  if (lib) return;
  const state = await nativeLibState();
  if (!state.ok) {
    throw new NativeError(
      `backend 'native': ${state.why}; fix: apt-get install g++ libdnnl-dev, then deno task setup (it builds the library), or use --backend wasm`,
    );
  }
  try {
    lib = Deno.dlopen(NATIVE_LIB, SYMBOLS).symbols;
  } catch (e) {
    throw new NativeError(
      `backend 'native': cannot load ${NATIVE_LIB} (${
        (e as Error).message.split("\n")[0]
      }); fix: grant --allow-ffi, or rebuild with deno task setup`,
    );
  }
  const b = new Uint8Array(64);
  const n = lib.cn_isa(b, b.length);
  isa = new TextDecoder().decode(b.subarray(0, n));
}

/** Threads used by every native call (default: all cores; CNNLAB_THREADS overrides). */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new NativeError(`threads must be a positive integer, got ${n}`);
  settings.threads = n;
  lib?.cn_set_threads(n);
}

export function parsePrecision(s: string): Precision {
  if ((PRECISIONS as readonly string[]).includes(s)) return s as Precision;
  throw new NativeError(`unknown precision '${s}'; valid: ${PRECISIONS.join(", ")}`);
}

/** bf16 convolutions/matmuls (fp32 weights and accumulation) need AVX512_BF16 or AMX. */
export function setNativePrecision(p: Precision): void {
  if (p === "bf16" && !/bf16|amx/.test(isa)) {
    throw new NativeError(
      `precision bf16 needs a CPU with AVX512_BF16 or AMX (oneDNN reports ${isa}); fix: use --precision fp32`,
    );
  }
  settings.precision = p;
}

export function nativeSettings(): { threads: number; precision: Precision; isa: string } {
  return { ...settings, isa };
}

// ---- output buffers ------------------------------------------------------------------
// The first write to a fresh multi-megabyte Float32Array costs ~4 µs per 4 KiB page here
// (a 75 MB activation: 50–85 ms of page faults, against 6 ms to refill a warm one), more
// than most kernels themselves. So native kernels take their outputs from a pool of
// buffers freed by disposed tensors. A buffer is recycled only while nothing else can see
// it: reading it (dataSync/data) or passing it to a JavaScript kernel (which may keep a view
// or share the array under another tensor) removes it from the pool's care for good.

/**
 * Buffers below this many elements (4 KiB) are left to the garbage collector. It was 64 Ki
 * elements; pooling the 4 KiB–256 KiB ones too (an Inception v3@48 step allocates ~600 of
 * them) made two concurrent laptop workers 4–12% faster on the Q3b models (AMD EPYC).
 */
const POOL_MIN = 1 << 10;
const poolCap = Number(Deno.env.get("CNNLAB_POOL_MB") ?? 2048) * 2 ** 20;
const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/** Buffers allocated here that no one outside the native kernels has seen. */
const mine = new WeakSet<Float32Array>();
/** Buffers that were read or given to a JavaScript kernel: never recycled nor updated in place. */
const seen = new WeakSet<object>();

/** Pool-sized output buffers allocated fresh (not taken from the pool) since the process started. */
let fresh = 0;
export function freshBufferCount(): number {
  return fresh;
}

function alloc(n: number): Float32Array {
  if (n < POOL_MIN) return new Float32Array(n);
  const a = pool.get(n)?.pop();
  if (a) pooledBytes -= a.byteLength;
  else fresh++;
  const b = a ?? new Float32Array(n);
  mine.add(b);
  return b;
}

function release(v: unknown): void {
  if (!(v instanceof Float32Array) || !mine.has(v)) return;
  mine.delete(v);
  if (pooledBytes + v.byteLength > poolCap) return;
  const list = pool.get(v.length) ?? [];
  list.push(v);
  pool.set(v.length, list);
  pooledBytes += v.byteLength;
}

/**
 * Drop the pooled output buffers and the library's cached primitives and scratchpad. The
 * trainer calls it when a model is done: its buffer sizes and layer shapes will not come
 * back, and kept, they would fill the pool's cap (later models could then pool nothing)
 * and hold a worker's memory at its peak across every run of a report.
 */
export function releaseNativeMemory(): void {
  pool.clear();
  pooledBytes = 0;
  if (lib) check(lib.cn_release(), "release");
}

/**
 * oneDNN's execution log on stdout (level 2: one `onednn_verbose,exec,…,ms` line per primitive
 * run; 0: off), for `deno task bench --profile`. Needs the library loaded.
 */
export function setNativeVerbose(level: 0 | 2): void {
  if (!lib) throw new NativeError("the native library is not loaded");
  check(lib.cn_verbose(level), "verbose");
}

/** Megabytes of freed output buffers currently held for reuse (at most CNNLAB_POOL_MB, default 2048). */
export function pooledMegabytes(): number {
  return pooledBytes / 2 ** 20;
}

export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false; // no tfjs-node advert
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const done = super.disposeData(dataId, force);
    if (done && !this.data.has(dataId)) release(values);
    return done;
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    this.escape(dataId);
    return super.readSync(dataId);
  }

  /** The tensor's buffer is visible outside the native kernels: never recycle or mutate it. */
  escape(dataId: object): void {
    const v = this.data.get(dataId)?.values;
    if (v instanceof Float32Array) mine.delete(v);
    if (v) seen.add(v);
  }
}

// ---- helpers -------------------------------------------------------------------------

/**
 * A float32 tensor's values as a Float32Array. The cpu backend's Cast from bool/int32 to
 * float32 keeps the source's Uint8Array/Int32Array under the new dtype (no encoding loss):
 * those are converted here, or FFI would read their bytes as floats.
 */
function f32(backend: NativeBackend, t: Info): Float32Array {
  const v = backend.data.get(t.dataId)!.values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

function out(backend: NativeBackend, shape: number[], values: Float32Array): Info {
  return backend.makeTensorInfo(shape, "float32", values);
}

const size = (shape: readonly number[]) => tf.util.sizeFromShape(shape as number[]);
const isF32 = (...ts: (Info | null | undefined)[]) => ts.every((t) => !t || t.dtype === "float32");

const cpuKernels = new Map<string, KFunc>();
/** cpu kernels that hand back their input's dataId (never a view or a shared array). */
const SHARES_DATA_ID = new Set(["Reshape", "Identity", "Cast"]);

/** Run the cpu backend's JavaScript kernel; its inputs' buffers leave the pool's care. */
function cpu(name: string, args: KernelArgs): Info | Info[] {
  if (!SHARES_DATA_ID.has(name)) {
    for (const t of Object.values(args.inputs)) if (t) args.backend.escape(t.dataId);
  }
  return cpuKernels.get(name)!(args);
}

const ACT: Record<string, number> = { linear: 0, relu: 1, sigmoid: 2, elu: 3, relu6: 4, leakyrelu: 5 };

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Shape4 = [number, number, number, number];

/** Geometry of an NHWC convolution from a conv kernel's attributes (the gradients have no dilations). */
function convInfo(xShape: readonly number[], filterShape: readonly number[], a: Attrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    a.strides as [number, number],
    (a.dilations ?? 1) as [number, number],
    a.pad as "valid",
    a.dimRoundingMode as "round",
    false,
    "channelsLast",
  );
}

function convParams(c: ConvInfo, act = 0): Int32Array {
  return new Int32Array([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
    c.padInfo.bottom,
    c.padInfo.right,
    c.outHeight,
    c.outWidth,
    act,
    settings.precision === "bf16" ? 1 : 0,
  ]);
}

type PoolInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

function poolParams(c: PoolInfo): Int32Array {
  return new Int32Array([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
    c.outHeight,
    c.outWidth,
  ]);
}

const nhwc = (a: Attrs) => (a.dataFormat ?? "NHWC") === "NHWC";

// ---- kernels -------------------------------------------------------------------------

function conv2d(args: KernelArgs, fused: boolean): Info | Info[] {
  const name = fused ? "FusedConv2D" : "Conv2D";
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const a = args.attrs;
  const act = fused ? String(a.activation ?? "linear") : "linear";
  if (
    !nhwc(a) || !isF32(x, filter, bias) || preluActivationWeights || !(act in ACT) ||
    (bias && size(bias.shape) !== filter!.shape[3])
  ) return cpu(name, args);
  const c = convInfo(x!.shape, filter!.shape, a);
  const b = args.backend;
  const y = alloc(size(c.outShape));
  check(
    lib!.cn_conv_fwd(
      convParams(c, ACT[act]),
      f32(b, x!),
      f32(b, filter!),
      bias ? f32(b, bias) : null,
      y,
      Number(a.leakyreluAlpha ?? 0.2),
    ),
    name,
  );
  return out(b, c.outShape, y);
}

function conv2dBackpropInput(args: KernelArgs): Info | Info[] {
  const { dy, filter } = args.inputs;
  const a = args.attrs;
  if (!nhwc(a) || !isF32(dy, filter)) return cpu("Conv2DBackpropInput", args);
  const c = convInfo(a.inputShape as number[], filter!.shape, a);
  const b = args.backend;
  const dx = alloc(size(c.inShape));
  check(lib!.cn_conv_bwd_data(convParams(c), f32(b, dy!), f32(b, filter!), dx), "Conv2DBackpropInput");
  return out(b, c.inShape, dx);
}

function conv2dBackpropFilter(args: KernelArgs): Info | Info[] {
  const { x, dy } = args.inputs;
  const a = args.attrs;
  if (!nhwc(a) || !isF32(x, dy)) return cpu("Conv2DBackpropFilter", args);
  const fs = a.filterShape as Shape4;
  const c = convInfo(x!.shape, fs, a);
  const b = args.backend;
  const dw = alloc(size(fs));
  check(lib!.cn_conv_bwd_weights(convParams(c), f32(b, x!), f32(b, dy!), dw, null), "Conv2DBackpropFilter");
  return out(b, fs, dw);
}

function matmul(args: KernelArgs, fused: boolean): Info | Info[] {
  const name = fused ? "_FusedMatMul" : "BatchMatMul";
  const { a: A, b: B, bias, preluActivationWeights } = args.inputs;
  const at = args.attrs;
  const act = fused ? String(at.activation ?? "linear") : "linear";
  const ta = Boolean(at.transposeA), tb = Boolean(at.transposeB);
  if (!isF32(A, B, bias) || preluActivationWeights || !(act in ACT) || A!.shape.length < 2 || B!.shape.length < 2) {
    return cpu(name, args);
  }
  const ra = A!.shape.length, rb = B!.shape.length;
  const M = ta ? A!.shape[ra - 1] : A!.shape[ra - 2];
  const K = ta ? A!.shape[ra - 2] : A!.shape[ra - 1];
  const K2 = tb ? B!.shape[rb - 1] : B!.shape[rb - 2];
  const N = tb ? B!.shape[rb - 2] : B!.shape[rb - 1];
  const batchA = size(A!.shape.slice(0, -2)), batchB = size(B!.shape.slice(0, -2));
  const batchShape = tf.backend_util.assertAndGetBroadcastShape(A!.shape.slice(0, -2), B!.shape.slice(0, -2));
  const batch = size(batchShape);
  // oneDNN broadcasts only the weights' batch; bias must be a length-N vector.
  if (
    K !== K2 || (batchA !== batch) || (batchB !== batch && batchB !== 1) || (bias && size(bias.shape) !== N) ||
    M * N * K < 4096
  ) {
    return cpu(name, args);
  }
  const p = new Int32Array([
    batchA,
    batchB,
    M,
    K,
    N,
    ta ? 1 : 0,
    tb ? 1 : 0,
    ACT[act],
    settings.precision === "bf16" ? 1 : 0,
  ]);
  const b = args.backend;
  const c = alloc(batch * M * N);
  check(
    lib!.cn_matmul(p, f32(b, A!), f32(b, B!), bias ? f32(b, bias) : null, c, Number(at.leakyreluAlpha ?? 0.2)),
    name,
  );
  return out(b, [...batchShape, M, N], c);
}

function poolInfo(x: Info, a: Attrs): PoolInfo {
  return tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize as [number, number],
    a.strides as [number, number],
    1,
    a.pad as "valid",
    a.dimRoundingMode as "round",
  );
}

function poolFwd(kind: 0 | 1) {
  const name = kind === 0 ? "MaxPool" : "AvgPool";
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    if (!isF32(x) || x.shape.length !== 4) return cpu(name, args);
    const c = poolInfo(x, args.attrs);
    const y = alloc(size(c.outShape));
    check(lib!.cn_pool_fwd(poolParams(c), kind, f32(args.backend, x), y), name);
    return out(args.backend, c.outShape, y);
  };
}

function maxPoolGrad(args: KernelArgs): Info | Info[] {
  const { dy, input } = args.inputs;
  if (!isF32(dy, input)) return cpu("MaxPoolGrad", args);
  const c = poolInfo(input!, args.attrs);
  const dx = alloc(size(input!.shape));
  check(lib!.cn_max_pool_bwd(poolParams(c), f32(args.backend, input!), f32(args.backend, dy!), dx), "MaxPoolGrad");
  return out(args.backend, input!.shape, dx);
}

function avgPoolGrad(args: KernelArgs): Info | Info[] {
  const { dy, input } = args.inputs;
  if (!isF32(dy)) return cpu("AvgPoolGrad", args);
  const c = poolInfo(input!, args.attrs);
  const dx = alloc(size(input!.shape));
  check(lib!.cn_avg_pool_bwd(poolParams(c), f32(args.backend, dy!), dx), "AvgPoolGrad");
  return out(args.backend, input!.shape, dx);
}

function padV2(args: KernelArgs): Info | Info[] {
  const x = args.inputs.x!;
  const pads = args.attrs.paddings as [number, number][];
  const r = x.shape.length;
  if (x.dtype !== "float32" || r > 4 || size(x.shape) < SMALL || pads.some(([a, b]) => a < 0 || b < 0)) {
    return cpu("PadV2", args);
  }
  const shape = [...Array(4 - r).fill(1), ...x.shape];
  const p = [...Array(4 - r).fill([0, 0]), ...pads].flat();
  const outShape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const y = alloc(size(outShape));
  check(
    lib!.cn_pad4(
      new Int32Array(shape),
      new Int32Array(p),
      f32(args.backend, x),
      y,
      Number(args.attrs.constantValue ?? 0),
    ),
    "PadV2",
  );
  return out(args.backend, outShape, y);
}

const UNARY: Record<string, number> = {
  Relu: 0,
  Sigmoid: 1,
  Exp: 2,
  Log: 3,
  Sqrt: 4,
  Rsqrt: 5,
  Square: 6,
  Neg: 7,
  Step: 8,
  Abs: 9,
  Tanh: 10,
  Reciprocal: 11,
  Relu6: 12,
  Elu: 13,
  LeakyRelu: 14,
};

function unary(name: string) {
  const code = UNARY[name];
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    const n = size(x.shape);
    if (x.dtype !== "float32" || n < SMALL) return cpu(name, args);
    const alpha = Number(args.attrs.alpha ?? (name === "LeakyRelu" ? 0.2 : 0));
    const y = alloc(n);
    check(lib!.cn_unary(code, f32(args.backend, x), y, BigInt(n), alpha), name);
    return out(args.backend, x.shape, y);
  };
}

const BINARY: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
};

export interface BroadcastPlan {
  /** Output axes after merging (product = output size). */
  dims: number[];
  /** Each operand's element stride along those axes: 0 where it is broadcast. */
  as: number[];
  bs: number[];
}

/**
 * How the operands of a broadcast binary op map onto its output, with adjacent axes merged
 * wherever both operands stay contiguous across them: [128,1,1,1024] × [128,3,3,1024] is
 * 128 × 9 × 1024 with the first operand's middle stride 0; equal shapes are one flat run.
 */
export function broadcastPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): BroadcastPlan {
  const r = outShape.length;
  const strides = (shape: readonly number[]) => {
    const s = [...Array(r - shape.length).fill(1), ...shape];
    const st: number[] = new Array(r);
    for (let i = r - 1, acc = 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const sa = strides(aShape), sb = strides(bShape);
  const plan: BroadcastPlan = { dims: [], as: [], bs: [] };
  for (let i = 0; i < r; i++) {
    const d = outShape[i];
    if (d === 1) continue;
    const k = plan.dims.length - 1;
    if (k >= 0 && plan.as[k] === sa[i] * d && plan.bs[k] === sb[i] * d) {
      plan.dims[k] *= d;
      plan.as[k] = sa[i];
      plan.bs[k] = sb[i];
    } else {
      plan.dims.push(d);
      plan.as.push(sa[i]);
      plan.bs.push(sb[i]);
    }
  }
  return plan.dims.length ? plan : { dims: [1], as: [0], bs: [0] };
}

const i64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));

/** out = a op b on the native side (op: a BINARY or ACTIVATION_BACKPROP code). */
function binaryCall(op: number, a: Float32Array, b: Float32Array, out: Float32Array, p: BroadcastPlan, what: string) {
  check(lib!.cn_binary(op, a, i64(p.as), b, i64(p.bs), out, i64(p.dims), p.dims.length), what);
}

const flat = (n: number): BroadcastPlan => ({ dims: [n], as: [1], bs: [1] });

function binary(name: string) {
  const code = BINARY[name];
  return (args: KernelArgs): Info | Info[] => {
    const { a, b } = args.inputs;
    if (!isF32(a, b)) return cpu(name, args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const n = size(shape);
    if (n < SMALL) return cpu(name, args);
    const z = alloc(n);
    binaryCall(code, f32(args.backend, a!), f32(args.backend, b!), z, broadcastPlan(a!.shape, b!.shape, shape), name);
    return out(args.backend, shape, z);
  };
}

/** cn_binary codes of the activation gradients from (dy, y): ReLU's mask, sigmoid's y(1 − y). */
const ACTIVATION_BACKPROP: Record<string, number> = { relu: 7, sigmoid: 8 };

/** Kernel `CnnlabActivationBackprop` {dy, y}, attr activation: dy' in one pass (see fused_conv.ts). */
function activationBackprop(args: KernelArgs): Info | Info[] {
  const { dy, y } = args.inputs;
  const act = String(args.attrs.activation);
  const n = size(dy!.shape);
  if (!isF32(dy, y) || n !== size(y!.shape) || !(act in ACTIVATION_BACKPROP)) {
    throw new NativeError(`${ACTIVATION_BACKPROP_KERNEL}: float32 dy and y of one shape, relu or sigmoid`);
  }
  const z = alloc(n);
  binaryCall(ACTIVATION_BACKPROP[act], f32(args.backend, dy!), f32(args.backend, y!), z, flat(n), act);
  return out(args.backend, dy!.shape, z);
}

function addN(args: KernelArgs): Info | Info[] {
  const ts = Object.values(args.inputs) as Info[];
  const n = size(ts[0].shape);
  if (!isF32(...ts) || n < SMALL || ts.some((t) => size(t.shape) !== n)) return cpu("AddN", args);
  const z = alloc(n);
  if (ts.length === 1) z.set(f32(args.backend, ts[0]));
  else {
    binaryCall(BINARY.Add, f32(args.backend, ts[0]), f32(args.backend, ts[1]), z, flat(n), "AddN");
    for (const t of ts.slice(2)) binaryCall(BINARY.Add, z, f32(args.backend, t), z, flat(n), "AddN");
  }
  return out(args.backend, ts[0].shape, z);
}

function reduce(name: "Sum" | "Mean") {
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
    const k = axes.length;
    // One contiguous run of axes: [outer, reduced, inner] (leading axes: bias gradients and batch-norm
    // statistics; middle axes: global average pooling).
    if (x.dtype !== "float32" || size(x.shape) < SMALL || k === 0 || axes.some((ax, i) => ax !== axes[0] + i)) {
      return cpu(name, args);
    }
    const a0 = axes[0], a1 = axes[k - 1] + 1;
    const outer = size(x.shape.slice(0, a0)), rows = size(x.shape.slice(a0, a1)), inner = size(x.shape.slice(a1));
    const y = alloc(outer * inner);
    check(
      lib!.cn_reduce_rows(
        f32(args.backend, x),
        BigInt(outer),
        BigInt(rows),
        BigInt(inner),
        y,
        name === "Mean" ? 1 : 0,
      ),
      name,
    );
    const shape = args.attrs.keepDims
      ? x.shape.map((d, i) => (i >= a0 && i < a1 ? 1 : d))
      : x.shape.filter((_, i) => i < a0 || i >= a1);
    return out(args.backend, shape, y);
  };
}

/** SplitV (the gradient of every Inception concat): strided block copies. */
function splitV(args: KernelArgs): Info | Info[] {
  const x = args.inputs.x!;
  if (x.dtype !== "float32" || size(x.shape) < SMALL) return cpu("SplitV", args);
  const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs.numOrSizeSplits as number[], axis);
  const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
  const row = x.shape[axis] * inner;
  const xv = f32(args.backend, x);
  let off = 0;
  return sizes.map((s) => {
    const len = s * inner;
    const y = alloc(outer * len);
    check(lib!.cn_copy_block(xv.subarray(off), BigInt(row), y, BigInt(len), BigInt(outer), BigInt(len)), "SplitV");
    off += len;
    const shape = [...x.shape];
    shape[axis] = s;
    return out(args.backend, shape, y);
  });
}

function concat(args: KernelArgs): Info | Info[] {
  const ts = (Object.values(args.inputs) as Info[]).filter((t) => size(t.shape) > 0);
  if (!ts.length || !isF32(...ts)) return cpu("Concat", args);
  const axis = tf.util.parseAxisParam(args.attrs.axis as number, ts[0].shape)[0];
  const shape = [...ts[0].shape];
  shape[axis] = ts.reduce((a, t) => a + t.shape[axis], 0);
  if (size(shape) < SMALL || ts.some((t) => t.shape.length !== shape.length)) return cpu("Concat", args);
  const outer = size(shape.slice(0, axis)), inner = size(shape.slice(axis + 1));
  const row = shape[axis] * inner;
  const y = alloc(size(shape));
  let off = 0;
  for (const t of ts) {
    const len = t.shape[axis] * inner;
    check(
      lib!.cn_copy_block(f32(args.backend, t), BigInt(len), y.subarray(off), BigInt(row), BigInt(outer), BigInt(len)),
      "Concat",
    );
    off += len;
  }
  return out(args.backend, shape, y);
}

function tile(args: KernelArgs): Info | Info[] {
  const x = args.inputs.x!;
  const reps = args.attrs.reps as number[];
  const r = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  if (x.dtype !== "float32" || r > 4 || size(outShape) < SMALL) return cpu("Tile", args);
  const pad = (a: number[]) => [...Array(4 - r).fill(1), ...a];
  const y = alloc(size(outShape));
  check(
    lib!.cn_tile4(new Int32Array(pad(x.shape)), new Int32Array(pad(reps)), f32(args.backend, x), y),
    "Tile",
  );
  return out(args.backend, outShape, y);
}

function batchNorm(args: KernelArgs): Info | Info[] {
  const { x, mean, variance, offset, scale } = args.inputs;
  const C = x!.shape[x!.shape.length - 1];
  const vecs = [mean, variance, offset, scale].filter((t) => t) as Info[];
  if (!isF32(x, ...vecs) || size(x!.shape) < SMALL || vecs.some((t) => size(t.shape) !== C)) {
    return cpu("FusedBatchNorm", args);
  }
  const b = args.backend;
  const y = alloc(size(x!.shape));
  check(
    lib!.cn_batch_norm(
      f32(b, x!),
      BigInt(size(x!.shape) / C),
      BigInt(C),
      f32(b, mean!),
      f32(b, variance!),
      scale ? f32(b, scale) : null,
      offset ? f32(b, offset) : null,
      Number(args.attrs.varianceEpsilon ?? 1e-3),
      y,
    ),
    "FusedBatchNorm",
  );
  return out(b, x!.shape, y);
}

/** Kernel `CnnlabBatchNormTrain` {x, scale, offset}: [y, batch mean, batch variance] (see batch_norm.ts). */
function batchNormTrain(args: KernelArgs): Info[] {
  const { x, scale, offset } = args.inputs as Record<string, Info>;
  const C = x.shape[x.shape.length - 1];
  if (!isF32(x, scale, offset) || size(scale.shape) !== C || size(offset.shape) !== C) {
    throw new NativeError(`${BN_TRAIN_KERNEL}: x must be float32 with scale and offset of its last axis (${C})`);
  }
  const b = args.backend;
  const y = alloc(size(x.shape)), mean = new Float32Array(C), variance = new Float32Array(C);
  check(
    lib!.cn_bn_train_fwd(
      f32(b, x),
      BigInt(size(x.shape) / C),
      BigInt(C),
      f32(b, scale),
      f32(b, offset),
      Number(args.attrs.varianceEpsilon),
      y,
      mean,
      variance,
    ),
    "BatchNormTrain",
  );
  return [out(b, x.shape, y), out(b, [C], mean), out(b, [C], variance)];
}

/**
 * Kernel `CnnlabBatchNormGrad` {x, dy, mean, variance, scale, dmean, dvariance}: [dx], or
 * [dscale, doffset] with attr paramsOnly (one pass over x and dy instead of two).
 */
function batchNormGrad(args: KernelArgs): Info[] {
  const { x, dy, mean, variance, scale, dmean, dvariance } = args.inputs as Record<string, Info>;
  const C = x.shape[x.shape.length - 1];
  const b = args.backend;
  const paramsOnly = Boolean(args.attrs.paramsOnly);
  const dx = paramsOnly ? null : alloc(size(x.shape));
  const dscale = new Float32Array(C), doffset = new Float32Array(C);
  check(
    lib!.cn_bn_train_bwd(
      f32(b, x),
      f32(b, dy),
      BigInt(size(x.shape) / C),
      BigInt(C),
      f32(b, mean),
      f32(b, variance),
      f32(b, scale),
      dmean ? f32(b, dmean) : null,
      dvariance ? f32(b, dvariance) : null,
      Number(args.attrs.varianceEpsilon),
      dx,
      dscale,
      doffset,
    ),
    "BatchNormGrad",
  );
  return dx ? [out(b, x.shape, dx)] : [out(b, [C], dscale), out(b, [C], doffset)];
}

/** Kernel `CnnlabAdam`: one fused Adam step; returns [w', m', v']. */
function adam(args: KernelArgs): Info[] {
  const { w, g, m, v } = args.inputs as Record<string, Info>;
  const a = args.attrs as Record<string, number>;
  const b = args.backend;
  const n = size(w.shape);
  const [w2, m2, v2] = [alloc(n), alloc(n), alloc(n)];
  check(
    lib!.cn_adam(
      BigInt(n),
      f32(b, w),
      f32(b, g),
      f32(b, m),
      f32(b, v),
      w2,
      m2,
      v2,
      a.lr,
      a.beta1,
      a.beta2,
      a.c1,
      a.c2,
      a.eps,
    ),
    "Adam",
  );
  return [out(b, w.shape, w2), out(b, w.shape, m2), out(b, w.shape, v2)];
}

export const ADAM_KERNEL = "CnnlabAdam";

/**
 * One Adam step written over w, m and v themselves when the backend is native and nothing
 * else holds their buffers (reference count 1, never read out or passed to a JavaScript
 * kernel): no allocation of three parameter-sized arrays per variable and step. Returns
 * false (nothing done) otherwise; the caller then runs the allocating kernel, whose fresh
 * outputs qualify again from the next step on.
 */
export function adamInPlace(
  w: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  a: { lr: number; beta1: number; beta2: number; c1: number; c2: number; eps: number },
): boolean {
  const b = tf.backend();
  if (!(b instanceof NativeBackend) || !isF32(w, g, m, v)) return false;
  const entries = [w, m, v].map((t) => b.data.get(t.dataId));
  if (entries.some((e) => !e || e.refCount !== 1 || !(e.values instanceof Float32Array) || seen.has(e.values))) {
    return false;
  }
  const [wv, mv, vv] = entries.map((e) => e!.values as Float32Array);
  check(
    lib!.cn_adam(BigInt(wv.length), wv, f32(b, g), mv, vv, wv, mv, vv, a.lr, a.beta1, a.beta2, a.c1, a.c2, a.eps),
    "Adam",
  );
  return true;
}

let registered = false;

/** Register backend 'native' (cpu kernels, then the native ones over them). Idempotent. */
export function registerNative(): void {
  if (registered) return;
  tf.registerBackend(NATIVE, () => new NativeBackend(), 1);
  for (const k of tf.getKernelsForBackend("cpu")) {
    cpuKernels.set(k.kernelName, k.kernelFunc as unknown as KFunc);
    const kernelFunc = (a: KernelArgs) => cpu(k.kernelName, { ...a, attrs: a.attrs ?? {} });
    tf.registerKernel({ ...k, backendName: NATIVE, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  const own: Record<string, KFunc> = {
    Conv2D: (a) => conv2d(a, false),
    FusedConv2D: (a) => conv2d(a, true),
    Conv2DBackpropInput: conv2dBackpropInput,
    Conv2DBackpropFilter: conv2dBackpropFilter,
    BatchMatMul: (a) => matmul(a, false),
    _FusedMatMul: (a) => matmul(a, true),
    MaxPool: poolFwd(0),
    AvgPool: poolFwd(1),
    MaxPoolGrad: maxPoolGrad,
    AvgPoolGrad: avgPoolGrad,
    FusedBatchNorm: batchNorm,
    PadV2: padV2,
    SplitV: splitV,
    Concat: concat,
    Tile: tile,
    AddN: addN,
    Sum: reduce("Sum"),
    Mean: reduce("Mean"),
    [ADAM_KERNEL]: adam,
    [ACTIVATION_BACKPROP_KERNEL]: activationBackprop,
    [BN_TRAIN_KERNEL]: batchNormTrain,
    [BN_GRAD_KERNEL]: batchNormGrad,
  };
  for (const name of Object.keys(UNARY)) own[name] = unary(name);
  for (const name of Object.keys(BINARY)) own[name] = binary(name);
  for (const [kernelName, kernelFunc] of Object.entries(own)) {
    if (tf.getKernel(kernelName, NATIVE)) tf.unregisterKernel(kernelName, NATIVE);
    const f = (a: KernelArgs) => kernelFunc({ ...a, attrs: a.attrs ?? {} });
    tf.registerKernel({ kernelName, backendName: NATIVE, kernelFunc: f as unknown as tf.KernelFunc });
  }
  registered = true;
}

/**
 * Load the library, apply threads (CNNLAB_THREADS or all cores) and precision
 * (CNNLAB_PRECISION or fp32), and register the backend. Throws NativeError with the fix.
 */
export async function prepareNative(opts: { threads?: number; precision?: string } = {}): Promise<void> {
  await loadNative();
  const envThreads = Deno.env.get("CNNLAB_THREADS");
  setNativeThreads(opts.threads ?? (envThreads ? Number(envThreads) : navigator.hardwareConcurrency));
  setNativePrecision(parsePrecision(opts.precision ?? Deno.env.get("CNNLAB_PRECISION") ?? "fp32"));
  registerNative();
}
