/** Data movement: PadV2, SplitV (every Inception concat's gradient), Concat, Tile; ZerosLike. */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, isF32, type KernelArgs, type NativeKernel, out, size, SMALL } from "../backend.ts";

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
    lib().cn_pad4(
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
    check(lib().cn_copy_block(xv.subarray(off), BigInt(row), y, BigInt(len), BigInt(outer), BigInt(len)), "SplitV");
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
      lib().cn_copy_block(f32(args.backend, t), BigInt(len), y.subarray(off), BigInt(row), BigInt(outer), BigInt(len)),
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
    lib().cn_tile4(new Int32Array(pad(x.shape)), new Int32Array(pad(reps)), f32(args.backend, x), y),
    "Tile",
  );
  return out(args.backend, outShape, y);
}

/**
 * ZerosLike in an output buffer of ours. Adam's moments start as zerosLike of every weight;
 * tfjs's JavaScript kernel made them, which first moved the weight out of the arena (a
 * JavaScript kernel may keep what it reads), so Adam's first step could not update in
 * place: it allocated new weights and moments and left the old ones as garbage that V8 can
 * keep for many steps (AlexNet-simplified@224, batch 128: peak RSS 1,549 -> 1,246 MB).
 */
function zerosLike(args: KernelArgs): Info {
  const x = args.inputs.x!;
  if (x.dtype !== "float32" || size(x.shape) < SMALL) return cpu("ZerosLike", args) as Info;
  return out(args.backend, [...x.shape], alloc(size(x.shape)).fill(0));
}

export const shapeKernels: NativeKernel[] = [
  { kernelName: "ZerosLike", kernelFunc: zerosLike },
  { kernelName: "PadV2", kernelFunc: padV2 },
  { kernelName: "SplitV", kernelFunc: splitV },
  { kernelName: "Concat", kernelFunc: concat },
  { kernelName: "Tile", kernelFunc: tile },
];
