/**
 * The native backend's class (tfjs's cpu backend whose disposed buffers return to the pool)
 * and what every native kernel shares: its argument types, the helpers that read inputs and
 * wrap outputs, and the fallback to the cpu backend's JavaScript kernel.
 */
import { quietFirstUse } from "../../util/tfjs_internals.ts";
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { escape, release } from "./buffers.ts";

export type Info = tf.TensorInfo;
export type Attrs = Record<string, unknown>;
export type KernelArgs = { inputs: Record<string, Info | null | undefined>; backend: NativeBackend; attrs: Attrs };
export type KFunc = (args: KernelArgs) => Info | Info[];
/** A native kernel as tfjs's cpu backend declares its own: the kernel's name and its function. */
export interface NativeKernel {
  kernelName: string;
  kernelFunc: KFunc;
}

/** Element count below which element-wise ops and reductions stay in JS. */
export const SMALL = 2048;

export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    quietFirstUse(this); // no tfjs-node advert
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

  /**
   * The tensor's values are about to be visible outside the native kernels: from now on they
   * are an array of their own (moved out of the arena), never recycled nor mutated.
   */
  escape(dataId: object): void {
    const d = this.data.get(dataId);
    if (d) d.values = escape(d.values);
  }
}

/**
 * A float32 tensor's values as a Float32Array. The cpu backend's Cast from bool/int32 to
 * float32 keeps the source's Uint8Array/Int32Array under the new dtype (no encoding loss):
 * those are converted here, or FFI would read their bytes as floats.
 */
export function f32(backend: NativeBackend, t: Info): Float32Array {
  const v = backend.data.get(t.dataId)!.values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

export function out(backend: NativeBackend, shape: number[], values: Float32Array): Info {
  return backend.makeTensorInfo(shape, "float32", values);
}

export const size = (shape: readonly number[]) => tf.util.sizeFromShape(shape as number[]);
export const isF32 = (...ts: (Info | null | undefined)[]) => ts.every((t) => !t || t.dtype === "float32");

export const cpuKernels = new Map<string, KFunc>();
/** cpu kernels that hand back their input's dataId (never a view or a shared array). */
const SHARES_DATA_ID = new Set(["Reshape", "Identity", "Cast"]);

/** Run the cpu backend's JavaScript kernel; its inputs' buffers leave the pool's care. */
export function cpu(name: string, args: KernelArgs): Info | Info[] {
  if (!SHARES_DATA_ID.has(name)) {
    for (const t of Object.values(args.inputs)) if (t) args.backend.escape(t.dataId);
  }
  return cpuKernels.get(name)!(args);
}

/** Whether a conv or pool kernel's data format is NHWC (the only one the native kernels take). */
export const nhwc = (a: Attrs) => (a.dataFormat ?? "NHWC") === "NHWC";
