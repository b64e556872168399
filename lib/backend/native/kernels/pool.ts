/** Pooling (NHWC, the library's own loops): max and average, forward and gradient. */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { type Attrs, cpu, f32, type Info, isF32, type KernelArgs, type NativeKernel, out, size } from "../backend.ts";
import { pack, POOL, POOL_PARAMS } from "../codes.ts";

type PoolInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

function poolParams(c: PoolInfo): Int32Array {
  return pack(POOL_PARAMS, {
    PN: c.batchSize,
    PH: c.inHeight,
    PW: c.inWidth,
    PC: c.inChannels,
    PKH: c.filterHeight,
    PKW: c.filterWidth,
    PSH: c.strideHeight,
    PSW: c.strideWidth,
    PPT: c.padInfo.top,
    PPL: c.padInfo.left,
    POH: c.outHeight,
    POW: c.outWidth,
  });
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

function poolFwd(kind: keyof typeof POOL) {
  const name = kind === "max" ? "MaxPool" : "AvgPool";
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    if (!isF32(x) || x.shape.length !== 4) return cpu(name, args);
    const c = poolInfo(x, args.attrs);
    const y = alloc(size(c.outShape));
    check(lib().cn_pool_fwd(poolParams(c), POOL[kind], f32(args.backend, x), y), name);
    return out(args.backend, c.outShape, y);
  };
}

function maxPoolGrad(args: KernelArgs): Info | Info[] {
  const { dy, input } = args.inputs;
  if (!isF32(dy, input)) return cpu("MaxPoolGrad", args);
  const c = poolInfo(input!, args.attrs);
  const dx = alloc(size(input!.shape));
  check(lib().cn_max_pool_bwd(poolParams(c), f32(args.backend, input!), f32(args.backend, dy!), dx), "MaxPoolGrad");
  return out(args.backend, input!.shape, dx);
}

function avgPoolGrad(args: KernelArgs): Info | Info[] {
  const { dy, input } = args.inputs;
  if (!isF32(dy)) return cpu("AvgPoolGrad", args);
  const c = poolInfo(input!, args.attrs);
  const dx = alloc(size(input!.shape));
  check(lib().cn_avg_pool_bwd(poolParams(c), f32(args.backend, dy!), dx), "AvgPoolGrad");
  return out(args.backend, input!.shape, dx);
}

export const poolKernels: NativeKernel[] = [
  { kernelName: "MaxPool", kernelFunc: poolFwd("max") },
  { kernelName: "AvgPool", kernelFunc: poolFwd("avg") },
  { kernelName: "MaxPoolGrad", kernelFunc: maxPoolGrad },
  { kernelName: "AvgPoolGrad", kernelFunc: avgPoolGrad },
];
