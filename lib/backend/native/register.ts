/**
 * Registering backend 'native': every cpu kernel first (so whatever the library lacks still
 * runs), then the native kernels over them; and preparing it (load, threads, precision).
 */
import { asKernelFunc, kernelFuncOf } from "../../util/tfjs_internals.ts";
import { intSetting, setting } from "../../util/settings.ts";
import * as tf from "@tensorflow/tfjs";
import {
  loadNative,
  NATIVE,
  parsePrecision,
  releaseLibraryMemory,
  setNativePrecision,
  setNativeThreads,
} from "./ffi.ts";
import { clearPool } from "./buffers.ts";
import { cpu, cpuKernels, type KernelArgs, type KFunc, NativeBackend, type NativeKernel } from "./backend.ts";
import { convKernels } from "./kernels/conv.ts";
import { matmulKernels } from "./kernels/matmul.ts";
import { poolKernels } from "./kernels/pool.ts";
import { shapeKernels } from "./kernels/shape.ts";
import { imageKernels } from "./kernels/image.ts";
import { elementwiseKernels } from "./kernels/elementwise.ts";
import { reduceKernels } from "./kernels/reduce.ts";
import { batchNormKernels } from "./kernels/batch_norm.ts";
import { adamKernels } from "./kernels/adam.ts";

/** Every kernel the library runs, one list per file under kernels/. */
export const NATIVE_KERNELS: readonly NativeKernel[] = [
  ...convKernels,
  ...matmulKernels,
  ...poolKernels,
  ...shapeKernels,
  ...imageKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...batchNormKernels,
  ...adamKernels,
];

let registered = false;

/** Register backend 'native' (cpu kernels, then the native ones over them). Idempotent. */
export function registerNative(): void {
  if (registered) return;
  tf.registerBackend(NATIVE, () => new NativeBackend(), 1);
  for (const k of tf.getKernelsForBackend("cpu")) {
    cpuKernels.set(k.kernelName, kernelFuncOf<KFunc>(k));
    const kernelFunc = (a: KernelArgs) => cpu(k.kernelName, { ...a, attrs: a.attrs ?? {} });
    tf.registerKernel({ ...k, backendName: NATIVE, kernelFunc: asKernelFunc(kernelFunc) });
  }
  for (const { kernelName, kernelFunc } of NATIVE_KERNELS) {
    if (tf.getKernel(kernelName, NATIVE)) tf.unregisterKernel(kernelName, NATIVE);
    const f = (a: KernelArgs) => kernelFunc({ ...a, attrs: a.attrs ?? {} });
    tf.registerKernel({ kernelName, backendName: NATIVE, kernelFunc: asKernelFunc(f) });
  }
  registered = true;
}

/**
 * Load the library, apply threads (CNNLAB_THREADS or all cores) and precision
 * (CNNLAB_PRECISION or fp32), and register the backend. Throws NativeError with the fix.
 */
export async function prepareNative(opts: { threads?: number; precision?: string } = {}): Promise<void> {
  await loadNative();
  setNativeThreads(opts.threads ?? intSetting("CNNLAB_THREADS") ?? navigator.hardwareConcurrency);
  setNativePrecision(parsePrecision(opts.precision ?? setting("CNNLAB_PRECISION") ?? "fp32"));
  registerNative();
}

/**
 * Drop the pooled output buffers and the library's cached primitives, scratchpad and reorder
 * arena. The trainer calls it when a model is done: its buffer sizes and layer shapes will
 * not come back, and kept, they would fill the pool's cap (later models could then pool
 * nothing) and hold a worker's memory at its peak across every run of a report.
 */
export function releaseNativeMemory(): void {
  clearPool();
  releaseLibraryMemory();
}
