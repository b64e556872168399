/**
 * Element-wise kernels: the unary ops, the binary ops with any broadcast (axes merged, a
 * broadcast operand gets stride 0), AddN, and the activations' gradients from their outputs.
 */
import * as tf from "@tensorflow/tfjs";
import { check, lib, NativeError } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, isF32, type KernelArgs, type NativeKernel, out, size, SMALL } from "../backend.ts";
import { BINARY, UNARY } from "../codes.ts";
import { ACTIVATION_BACKPROP_KERNEL } from "../../../ops/fused_conv.ts";

function unary(name: keyof typeof UNARY) {
  const code = UNARY[name];
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    const n = size(x.shape);
    if (x.dtype !== "float32" || n < SMALL) return cpu(name, args);
    const alpha = Number(args.attrs.alpha ?? (name === "LeakyRelu" ? 0.2 : 0));
    const y = alloc(n);
    check(lib().cn_unary(code, f32(args.backend, x), y, BigInt(n), alpha), name);
    return out(args.backend, x.shape, y);
  };
}

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
  check(lib().cn_binary(op, a, i64(p.as), b, i64(p.bs), out, i64(p.dims), p.dims.length), what);
}

const flat = (n: number): BroadcastPlan => ({ dims: [n], as: [1], bs: [1] });

function binary(name: keyof typeof BINARY) {
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
/** cn_binary codes of the activation gradients from (dy, y): ReLU's mask, sigmoid's y(1 − y). */
const ACTIVATION_BACKPROP: Record<string, number> = { relu: BINARY.ReluBackprop, sigmoid: BINARY.SigmoidBackprop };

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

export const elementwiseKernels: NativeKernel[] = [
  ...Object.keys(UNARY).map((kernelName) => ({ kernelName, kernelFunc: unary(kernelName as keyof typeof UNARY) })),
  ...(["Add", "Sub", "Multiply", "RealDiv", "Maximum", "Minimum", "SquaredDifference"] as const).map((kernelName) => ({
    kernelName,
    kernelFunc: binary(kernelName),
  })),
  { kernelName: "AddN", kernelFunc: addN },
  { kernelName: ACTIVATION_BACKPROP_KERNEL, kernelFunc: activationBackprop },
];
