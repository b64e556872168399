/**
 * WebGPU on Deno's built-in WebGPU, made safe to train on.
 *
 * - The device is requested with the adapter's maximum buffer limits (tfjs's own factory also
 *   asks for an invalid feature name on adapters that support `bgra8unorm-storage`).
 * - A tensor larger than `maxStorageBufferBindingSize` makes WebGPU compute wrong values with
 *   no exception; only an `uncapturederror` event tells. cnnlab (1) checks every kernel's
 *   inputs and outputs against the limit and throws naming the kernel and the size, and (2)
 *   turns device error events into a thrown error at the next check.
 * - `activationPlan` computes, before training, the largest tensor a model makes at a batch
 *   size, so the trainer can split the batch (gradient accumulation) or stop with the largest
 *   batch that fits.
 */
import * as tf from "@tensorflow/tfjs";
import { engineInternals } from "../util/tfjs_internals.ts";

export class WebGpuError extends Error {
  override name = "WebGpuError";
}

export interface AdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  isFallback: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  features: Set<string>;
  limits: Record<string, number>;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  requestDevice(d: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<DeviceLike>;
}
interface DeviceLike {
  addEventListener(t: string, f: (e: { error?: { message?: string } }) => void): void;
  lost: Promise<{ message?: string }>;
}

let adapterSummary: AdapterSummary | null = null;
let pendingError: string | null = null;
let limitBytes = Infinity;

/** The adapter the webgpu backend runs on (null before it started). */
export function webgpuAdapter(): AdapterSummary | null {
  return adapterSummary;
}

/** For tests: pretend the adapter binds at most this many bytes (null restores the adapter's). */
export function overrideBindingLimit(bytes: number | null): void {
  limitBytes = bytes ?? adapterSummary?.maxStorageBufferBindingSize ?? Infinity;
}

/** Mesa warns on every start without a private XDG_RUNTIME_DIR; give it one. */
function ensureXdgRuntimeDir(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const dir = Deno.makeTempDirSync({ prefix: "cnnlab-xdg-" });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // no permission to create it: Mesa only warns
  }
}

export async function probeAdapter(): Promise<AdapterSummary | null> {
  ensureXdgRuntimeDir();
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return null;
  const a = await gpu.requestAdapter({ powerPreference: "high-performance" }).catch(() => null);
  return a ? summarize(a) : null;
}

function summarize(a: AdapterLike): AdapterSummary {
  const i = a.info ?? {};
  return {
    description: [i.vendor, i.architecture, i.device, i.description].filter((s) => s && s !== "0").join(" ") ||
      "unknown GPU",
    vendor: i.vendor ?? "",
    architecture: i.architecture ?? "",
    isFallback: Boolean(a.isFallbackAdapter ?? i.isFallbackAdapter),
    maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
    maxBufferSize: a.limits.maxBufferSize,
  };
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Throw (and clear) a device error reported since the last check. */
export function checkDeviceErrors(where = ""): void {
  if (pendingError) {
    const msg = pendingError;
    pendingError = null;
    throw new WebGpuError(
      `WebGPU device error${where ? ` ${where}` : ""}: ${msg}; results after it are wrong, the run stops`,
    );
  }
}

let guardInstalled = false;

/** Check every kernel's tensors against the binding limit while webgpu is the backend. */
function installKernelGuard(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  const engine = engineInternals();
  const run = engine.runKernel.bind(engine);
  const bytes = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1) * 4;
  engine.runKernel = (name, inputs, attrs) => {
    if (!onWebGpu()) return run(name, inputs, attrs);
    for (const [k, t] of Object.entries(inputs)) {
      if (t && bytes(t) > limitBytes) {
        throw new WebGpuError(
          `kernel ${name}: input ${k} [${t.shape}] is ${
            mb(bytes(t))
          }, over this adapter's storage-buffer binding limit of ${mb(limitBytes)}; fix: a smaller batch`,
        );
      }
    }
    const out = run(name, inputs, attrs);
    for (const t of Array.isArray(out) ? out : [out]) {
      if (bytes(t) > limitBytes) {
        throw new WebGpuError(
          `kernel ${name}: output [${t.shape}] is ${
            mb(bytes(t))
          }, over this adapter's storage-buffer binding limit of ${mb(limitBytes)}; fix: a smaller batch`,
        );
      }
    }
    checkDeviceErrors(`after kernel ${name}`);
    return out;
  };
}

let registered = false;

/** Register cnnlab's webgpu factory (replacing tfjs's) before `tf.setBackend("webgpu")`. */
export async function registerWebGpu(): Promise<void> {
  if (registered) return;
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
    ensureXdgRuntimeDir();
    const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
    const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) throw new WebGpuError("no WebGPU adapter");
    const L = adapter.limits;
    const requiredLimits: Record<string, number> = {};
    for (
      const k of [
        "maxStorageBufferBindingSize",
        "maxBufferSize",
        "maxComputeWorkgroupStorageSize",
        "maxComputeWorkgroupsPerDimension",
        "maxComputeWorkgroupSizeX",
        "maxComputeWorkgroupSizeY",
        "maxComputeWorkgroupSizeZ",
        "maxComputeInvocationsPerWorkgroup",
        "maxStorageBuffersPerShaderStage",
      ]
    ) if (typeof L[k] === "number") requiredLimits[k] = L[k];
    const requiredFeatures = ["timestamp-query"].filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    device.addEventListener("uncapturederror", (e) => {
      pendingError ??= e.error?.message ?? "unknown device error";
    });
    device.lost.then((i) => {
      pendingError ??= `device lost: ${i.message ?? ""}`;
    });
    adapterSummary = summarize(adapter);
    limitBytes = adapterSummary.maxStorageBufferBindingSize;
    installKernelGuard();
    return new WebGPUBackend(device as unknown as GPUDevice, adapter.info as unknown as GPUAdapterInfo);
  }, 3);
  registered = true;
}

export interface ActivationPlan {
  /** Bytes of the largest activation per example, and the layer that makes it. */
  perExampleBytes: number;
  layer: string;
  /** Bytes of the largest weight (independent of the batch). */
  maxWeightBytes: number;
  /** Largest batch whose biggest tensor fits the limit (0: none). */
  maxBatch: number;
}

/** The largest tensors a model makes per example (forward outputs; gradients have the same shapes). */
export function activationPlan(model: tf.LayersModel, limit: number): ActivationPlan {
  let per = 0, layer = "";
  for (const l of model.layers) {
    const shapes = (Array.isArray(l.outputShape[0]) ? l.outputShape : [l.outputShape]) as (number | null)[][];
    for (const s of shapes) {
      const b = s.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1) * 4;
      if (b > per) {
        per = b;
        layer = l.name;
      }
    }
  }
  // The input batch itself.
  const inp = (model.inputs[0].shape.slice(1) as number[]).reduce((a, d) => a * d, 1) * 4;
  if (inp > per) {
    per = inp;
    layer = "input";
  }
  const maxWeightBytes = Math.max(0, ...model.weights.map((w) => (w.shape as number[]).reduce((a, d) => a * d, 1) * 4));
  const maxBatch = maxWeightBytes > limit ? 0 : Math.floor(limit / per);
  return { perExampleBytes: per, layer, maxWeightBytes, maxBatch };
}

/**
 * How to run `batchSize` on this adapter: the micro-batch to accumulate gradients over, or an
 * error naming the largest batch that fits.
 */
export function planBatch(
  model: tf.LayersModel,
  batchSize: number,
  mode: "split" | "error",
  limit = limitBytes,
): number {
  if (!Number.isFinite(limit)) return batchSize;
  const p = activationPlan(model, limit);
  if (p.maxBatch >= batchSize) return batchSize;
  if (p.maxBatch === 0) {
    throw new WebGpuError(
      p.maxWeightBytes > limit
        ? `a weight of ${model.name} is ${mb(p.maxWeightBytes)}, over this adapter's storage-buffer binding limit of ${
          mb(limit)
        }: it cannot run on this adapter; fix: a smaller model or another backend`
        : `${model.name}: one example's ${p.layer} output is ${mb(p.perExampleBytes)}, over this adapter's limit of ${
          mb(limit)
        }; fix: a smaller input size or another backend`,
    );
  }
  if (mode === "error") {
    throw new WebGpuError(
      `${model.name} at batch ${batchSize}: the ${p.layer} output would be ${
        mb(p.perExampleBytes * batchSize)
      }, over this adapter's storage-buffer binding limit of ${
        mb(limit)
      } (WebGPU would compute wrong values silently); the largest batch that fits is ${p.maxBatch}; fix: --batch ${p.maxBatch}, or let cnnlab split the batch (gradient accumulation)`,
    );
  }
  return p.maxBatch;
}

/** Whether the current backend is WebGPU. */
export const onWebGpu = (): boolean => tf.getBackend() === "webgpu";

/** How a run's batches go on the current backend. */
export interface RunBatches {
  /** The slice each training step accumulates gradients over (the batch itself when it fits). */
  microBatch: number;
  /** Examples per evaluation batch. */
  evalBatch: number;
  /** Why the batch is split, for the run's log (null when it is not). */
  note: string | null;
}

/**
 * The trainer's batches for `batchSize` (evaluation in batches of `evalBatch`): on WebGPU,
 * sliced to fit this adapter's storage-buffer binding limit (or an error, with mode "error");
 * on every other backend, as asked.
 */
export function planRunBatches(
  model: tf.LayersModel,
  batchSize: number,
  evalBatch: number,
  mode: "split" | "error",
): RunBatches {
  if (!onWebGpu()) return { microBatch: batchSize, evalBatch, note: null };
  const microBatch = planBatch(model, batchSize, mode);
  return {
    microBatch,
    evalBatch: Math.max(1, Math.min(evalBatch, activationPlan(model, limitBytes).maxBatch)),
    note: microBatch < batchSize
      ? `batch ${batchSize} exceeds this GPU's storage-buffer binding limit; accumulating gradients over slices of ${microBatch}`
      : null,
  };
}
