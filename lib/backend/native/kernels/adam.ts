/** Adam: kernel `CnnlabAdam` (allocating) and the in-place update FusedAdam uses (lib/train/optim.ts). */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { alloc, wasSeen } from "../buffers.ts";
import { f32, type Info, isF32, type KernelArgs, NativeBackend, type NativeKernel, out, size } from "../backend.ts";

/** Kernel `CnnlabAdam`: one fused Adam step; returns [w', m', v']. */
function adam(args: KernelArgs): Info[] {
  const { w, g, m, v } = args.inputs as Record<string, Info>;
  const a = args.attrs as Record<string, number>;
  const b = args.backend;
  const n = size(w.shape);
  const [w2, m2, v2] = [alloc(n), alloc(n), alloc(n)];
  check(
    lib().cn_adam(
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
  if (entries.some((e) => !e || e.refCount !== 1 || !(e.values instanceof Float32Array) || wasSeen(e.values))) {
    return false;
  }
  const [wv, mv, vv] = entries.map((e) => e!.values as Float32Array);
  check(
    lib().cn_adam(BigInt(wv.length), wv, f32(b, g), mv, vv, wv, mv, vv, a.lr, a.beta1, a.beta2, a.c1, a.c2, a.eps),
    "Adam",
  );
  return true;
}

export const adamKernels: NativeKernel[] = [{ kernelName: ADAM_KERNEL, kernelFunc: adam }];
