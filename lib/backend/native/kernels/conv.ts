/** Convolutions: forward (plain and fused with bias + activation), input gradient, filter gradient. */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { bf16Flag, type Pass } from "../precision_plan.ts";
import { alloc } from "../buffers.ts";
import {
  type Attrs,
  cpu,
  f32,
  type Info,
  isF32,
  type KernelArgs,
  type NativeKernel,
  nhwc,
  out,
  size,
} from "../backend.ts";
import { ACT, CONV_PARAMS, pack } from "../codes.ts";

/** An activation's post-op code, or undefined for one the library lacks (then the cpu kernel runs). */
export const actCode = (name: string): number | undefined => (ACT as Record<string, number>)[name];

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

/** The call's parameter block; its bf16 flag is the layer's (precision_plan.ts). */
function convParams(c: ConvInfo, pass: Pass, act = 0): Int32Array {
  const p = pack(CONV_PARAMS, {
    N_: c.batchSize,
    H_: c.inHeight,
    W_: c.inWidth,
    CI: c.inChannels,
    CO: c.outChannels,
    KH: c.filterHeight,
    KW: c.filterWidth,
    SH: c.strideHeight,
    SW: c.strideWidth,
    DH: c.dilationHeight,
    DW: c.dilationWidth,
    PT: c.padInfo.top,
    PL: c.padInfo.left,
    PB: c.padInfo.bottom,
    PR: c.padInfo.right,
    OH: c.outHeight,
    OW: c.outWidth,
    ACT: act,
    BF16: 0,
  });
  p[CONV_PARAMS.indexOf("BF16")] = bf16Flag("conv", p, pass);
  return p;
}

function conv2d(args: KernelArgs, fused: boolean): Info | Info[] {
  const name = fused ? "FusedConv2D" : "Conv2D";
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const a = args.attrs;
  const act = fused ? String(a.activation ?? "linear") : "linear";
  if (
    !nhwc(a) || !isF32(x, filter, bias) || preluActivationWeights || actCode(act) === undefined ||
    (bias && size(bias.shape) !== filter!.shape[3])
  ) return cpu(name, args);
  const c = convInfo(x!.shape, filter!.shape, a);
  const b = args.backend;
  const y = alloc(size(c.outShape));
  check(
    lib().cn_conv_fwd(
      convParams(c, "fwd", actCode(act)),
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
  check(lib().cn_conv_bwd_data(convParams(c, "bwd_data"), f32(b, dy!), f32(b, filter!), dx), "Conv2DBackpropInput");
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
  check(
    lib().cn_conv_bwd_weights(convParams(c, "bwd_weights"), f32(b, x!), f32(b, dy!), dw, null),
    "Conv2DBackpropFilter",
  );
  return out(b, fs, dw);
}

export const convKernels: NativeKernel[] = [
  { kernelName: "Conv2D", kernelFunc: (a) => conv2d(a, false) },
  { kernelName: "FusedConv2D", kernelFunc: (a) => conv2d(a, true) },
  { kernelName: "Conv2DBackpropInput", kernelFunc: conv2dBackpropInput },
  { kernelName: "Conv2DBackpropFilter", kernelFunc: conv2dBackpropFilter },
];
