/**
 * Batch norm: inference (FusedBatchNorm), and the training pair the zoo's batch-norm layers
 * use (lib/ops/batch_norm.ts): `CnnlabBatchNormTrain` (batch statistics and normalisation,
 * two passes) and `CnnlabBatchNormGrad` (the closed-form gradient).
 */
import { check, lib, NativeError } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, isF32, type KernelArgs, type NativeKernel, out, size, SMALL } from "../backend.ts";
import { BN_GRAD_KERNEL, BN_TRAIN_KERNEL } from "../../../ops/batch_norm.ts";

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
    lib().cn_batch_norm(
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
    lib().cn_bn_train_fwd(
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
 * Kernel `CnnlabBatchNormGrad` {x, dy, mean, variance, scale, dmean, dvariance}: [dx, dscale,
 * doffset], or [dscale, doffset] with attr paramsOnly (one pass over x and dy instead of two).
 */
function batchNormGrad(args: KernelArgs): Info[] {
  const { x, dy, mean, variance, scale, dmean, dvariance } = args.inputs as Record<string, Info>;
  const C = x.shape[x.shape.length - 1];
  const b = args.backend;
  const paramsOnly = Boolean(args.attrs.paramsOnly);
  const dx = paramsOnly ? null : alloc(size(x.shape));
  const dscale = new Float32Array(C), doffset = new Float32Array(C);
  check(
    lib().cn_bn_train_bwd(
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
  const params = [out(b, [C], dscale), out(b, [C], doffset)];
  return dx ? [out(b, x.shape, dx), ...params] : params;
}

export const batchNormKernels: NativeKernel[] = [
  { kernelName: "FusedBatchNorm", kernelFunc: batchNorm },
  { kernelName: BN_TRAIN_KERNEL, kernelFunc: batchNormTrain },
  { kernelName: BN_GRAD_KERNEL, kernelFunc: batchNormGrad },
];
