/** Batched and fused matmuls (oneDNN matmul; transposes are strides, not copies). */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { bf16Flag } from "../precision_plan.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, isF32, type KernelArgs, type NativeKernel, out, size } from "../backend.ts";
import { MATMUL_PARAMS, pack } from "../codes.ts";
import { actCode } from "./conv.ts";

function matmul(args: KernelArgs, fused: boolean): Info | Info[] {
  const name = fused ? "_FusedMatMul" : "BatchMatMul";
  const { a: A, b: B, bias, preluActivationWeights } = args.inputs;
  const at = args.attrs;
  const act = fused ? String(at.activation ?? "linear") : "linear";
  const ta = Boolean(at.transposeA), tb = Boolean(at.transposeB);
  if (
    !isF32(A, B, bias) || preluActivationWeights || actCode(act) === undefined || A!.shape.length < 2 ||
    B!.shape.length < 2
  ) {
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
  const p = pack(MATMUL_PARAMS, {
    MBA: batchA,
    MBB: batchB,
    MM: M,
    MK: K,
    MN: N,
    MTA: ta ? 1 : 0,
    MTB: tb ? 1 : 0,
    MACT: actCode(act)!,
    MBF16: 0,
  });
  p[MATMUL_PARAMS.indexOf("MBF16")] = bf16Flag("matmul", p);
  const b = args.backend;
  const c = alloc(batch * M * N);
  check(
    lib().cn_matmul(p, f32(b, A!), f32(b, B!), bias ? f32(b, bias) : null, c, Number(at.leakyreluAlpha ?? 0.2)),
    name,
  );
  return out(b, [...batchShape, M, N], c);
}

export const matmulKernels: NativeKernel[] = [
  { kernelName: "BatchMatMul", kernelFunc: (a) => matmul(a, false) },
  { kernelName: "_FusedMatMul", kernelFunc: (a) => matmul(a, true) },
];
