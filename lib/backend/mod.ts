/**
 * Backend selection. `CNNLAB_BACKEND` or an explicit option wins; otherwise the fastest
 * backend that starts on this machine. tfjs silently falls back to another backend when
 * one fails to start, so every start is checked with `tf.getBackend()`.
 */
import { setting } from "../util/settings.ts";
import * as tf from "@tensorflow/tfjs";
import { quietFirstUse } from "../util/tfjs_internals.ts";
import os from "node:os";
import "@tensorflow/tfjs-backend-wasm";
import { installWasmKernels } from "./wasm_kernels.ts";
import {
  isaHasBf16,
  type LayerPlan,
  LayerTimings,
  makeLayerPlan,
  NATIVE,
  NativeError,
  nativeSettings,
  parsePrecision,
  type Precision,
  prepareNative,
  releaseNativeMemory,
  setNativePrecision,
} from "./native.ts";
import { sourceHash } from "./native_build.ts";
import { probeAdapter, registerWebGpu, webgpuAdapter } from "./webgpu.ts";
import { sha256Hex } from "../util/hash.ts";

/** The packages that provide backend 'tensorflow', GPU build first. */
export const TFJS_NODE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/** Map a failed tfjs-node import to the one-line fix. */
export function tensorflowFix(messages: string[]): string {
  const all = messages.join(" | ");
  if (/libcudart|libcudnn|libcublas|libcufft|libcurand|libcusolver|libcusparse/.test(all)) {
    return "backend 'tensorflow': @tensorflow/tfjs-node-gpu loads libtensorflow 2.9.1, which needs CUDA 11.2 and cuDNN 8.1 libraries (CUDA 12 ones do not load); fix: install the CUDA 11.2 runtime and cuDNN 8.1 and add them to LD_LIBRARY_PATH, or use --backend webgpu";
  }
  if (/tfjs_binding\.node|napi-v\d|binding/i.test(all)) {
    return "backend 'tensorflow': the native binding of tfjs-node is missing (its install script did not run); fix: deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu (or npm:@tensorflow/tfjs-node), with network access to download libtensorflow";
  }
  return "backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, which is not installed; fix: deno add npm:@tensorflow/tfjs-node-gpu@4.22.0 && deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu (needs network; see README, Backends), or use --backend webgpu / wasm";
}

async function startTensorflow(): Promise<Omit<BackendInfo, "reason" | "precision">> {
  const errors: string[] = [];
  for (const pkg of TFJS_NODE_PACKAGES) {
    try {
      const spec: string = pkg; // not analysable: Deno must not try to install it
      await import(spec);
      if (await trySet("tensorflow")) {
        return { name: "tensorflow", device: `${cpuDescription()} via libtensorflow (${pkg})` };
      }
      errors.push(`${pkg} imported but backend 'tensorflow' did not start`);
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message}`);
    }
  }
  throw new BackendError(tensorflowFix(errors));
}

export const BACKENDS = ["webgpu", "tensorflow", "native", "wasm", "cpu"] as const;
export type BackendName = typeof BACKENDS[number];

export class BackendError extends Error {
  override name = "BackendError";
}

export interface BackendInfo {
  name: BackendName;
  /** Why this backend was chosen. */
  reason: string;
  /** Human-readable description of the hardware it runs on. */
  device: string;
  /** Arithmetic of convolutions and matmuls: bf16 only on backend native, by request. */
  precision: Precision;
}

let current: BackendInfo | null = null;

/** The backend chosen by the last `initBackend`, or null. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/** Whether this machine's native backend can compute in bf16 (AVX512_BF16 or AMX). */
export function cpuHasBf16(): boolean {
  return current?.name === "native" && isaHasBf16();
}

/** Switch the running backend's precision (native only; fp32 everywhere else). */
export function setPrecision(p: Precision): void {
  if (!current) throw new BackendError("no backend started: call initBackend() first");
  if (current.precision === p) return;
  if (current.name !== "native") {
    throw new BackendError(`precision ${p} is only available on backend native (this run uses ${current.name})`);
  }
  try {
    setNativePrecision(p);
  } catch (e) {
    if (e instanceof NativeError) throw new BackendError(e.message);
    throw e;
  }
  current = { ...current, precision: p };
}

/**
 * Whether runs choose bf16 per layer (native/precision_plan.ts): on backend native computing in
 * bf16, unless CNNLAB_BF16_LAYERS=all asks for every layer in bf16 (as before plans, to compare).
 */
export function layerPlanWanted(): boolean {
  return current?.name === "native" && current.precision === "bf16" && setting("CNNLAB_BF16_LAYERS") !== "all";
}

/**
 * The plan of the model whose training step `step` runs (in fp32, while the layers are noted),
 * from this machine's layer timings in `dir` (a file per CPU, thread count and library build;
 * missing layers are measured and added; null: measured, not kept). Not yet in use: pass it to
 * `setLayerPlan` (native.ts).
 */
export async function planLayers(
  step: () => void,
  dir: string | null,
  log: (line: string) => void = () => {},
): Promise<{ plan: LayerPlan; measured: number; path: string | null }> {
  if (!current) throw new BackendError("no backend started: call initBackend() first");
  const machine = `${current.device}, library ${(await sourceHash()).slice(0, 12)}`;
  const path = dir ? `${dir}/${(await sha256Hex(machine)).slice(0, 16)}.json` : null;
  const r = await makeLayerPlan(step, LayerTimings.load(path, machine, log));
  return { ...r, path };
}

/**
 * Give back what the backend keeps for the model that just finished (native: pooled output
 * buffers, cached primitives); a no-op elsewhere. Call after disposing the model.
 */
export function releaseBackendMemory(): void {
  if (tf.getBackend() === NATIVE) releaseNativeMemory();
}

/** CPU model and core count (node:os; needs --allow-sys, else the model reads "unknown CPU"). */
export function cpuDescription(): string {
  let model = "unknown CPU";
  try {
    model = os.cpus()[0]?.model?.trim() || model;
  } catch {
    // no --allow-sys: keep the generic name
  }
  return `${model}, ${navigator.hardwareConcurrency} cores`;
}

async function trySet(name: string): Promise<boolean> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch {
    ok = false;
  }
  return ok && tf.getBackend() === name;
}

function quietCpuBanner(): void {
  // tfjs-backend-cpu prints an advert for tfjs-node on first use under Deno; silence it.
  quietFirstUse(tf.findBackend("cpu"));
}

/** Start one named backend or throw a one-line BackendError naming the fix. */
async function start(name: BackendName, opts: { precision?: string } = {}): Promise<Omit<BackendInfo, "reason">> {
  let precision: Precision;
  try {
    precision = parsePrecision(opts.precision ?? setting("CNNLAB_PRECISION") ?? "fp32");
  } catch (e) {
    throw new BackendError((e as Error).message);
  }
  if (name !== "native" && precision !== "fp32") {
    throw new BackendError(
      `precision ${precision} is only available on backend native (this run uses ${name}); fix: use --precision fp32 or --backend native`,
    );
  }
  const info = await startBackend(name, opts);
  return { precision: "fp32", ...info };
}

async function startBackend(
  name: BackendName,
  opts: { precision?: string },
): Promise<Omit<BackendInfo, "reason" | "precision"> & { precision?: Precision }> {
  switch (name) {
    case "wasm": {
      installWasmKernels();
      if (!(await trySet("wasm"))) {
        throw new BackendError(
          "backend 'wasm' failed to start (its .wasm file could not be loaded); fix: run `deno task setup` to install npm dependencies, and grant --allow-read",
        );
      }
      return { name, device: `${cpuDescription()} (wasm SIMD, 1 thread)` };
    }
    case "cpu": {
      if (!(await trySet("cpu"))) throw new BackendError("backend 'cpu' failed to start");
      quietCpuBanner();
      return { name, device: `${cpuDescription()} (pure JS, 1 thread)` };
    }
    case "webgpu": {
      const a = await probeAdapter();
      if (!a) {
        throw new BackendError(
          "backend 'webgpu' needs a WebGPU adapter and none was found; fix: install the GPU's Vulkan/Metal/D3D12 driver (on Linux without a GPU: apt-get install mesa-vulkan-drivers), or use --backend wasm",
        );
      }
      await registerWebGpu();
      if (!(await trySet("webgpu"))) {
        throw new BackendError(`backend 'webgpu' failed to start on ${a.description}; fix: use --backend wasm`);
      }
      const s = webgpuAdapter()!;
      return {
        name,
        device: `${s.description}${s.isFallback ? " (software fallback adapter)" : ""}, max binding ${
          (s.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)
        } MiB, max buffer ${(s.maxBufferSize / 2 ** 20).toFixed(0)} MiB`,
      };
    }
    case "tensorflow":
      return await startTensorflow();
    case "native": {
      try {
        await prepareNative({ precision: opts.precision });
      } catch (e) {
        if (e instanceof NativeError) throw new BackendError(e.message);
        throw e;
      }
      if (!(await trySet(NATIVE))) throw new BackendError("backend 'native' failed to start; fix: use --backend wasm");
      const s = nativeSettings();
      return {
        name,
        device: `${cpuDescription()} (oneDNN ${s.isa}, ${s.threads} thread${s.threads > 1 ? "s" : ""})`,
        precision: s.precision,
      };
    }
  }
}

export function parseBackendName(s: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(s)) return s as BackendName;
  throw new BackendError(`unknown backend '${s}'; valid: ${BACKENDS.join(", ")}`);
}

/**
 * Choose and start the backend. Explicit choice (option, then CNNLAB_BACKEND) must
 * start or this throws; otherwise the first of webgpu (real GPU only), wasm, cpu that
 * starts is used. Prints the choice once (pass `log: null` to stay silent).
 */
export async function initBackend(
  opts: { backend?: string; precision?: string; log?: ((line: string) => void) | null } = {},
): Promise<BackendInfo> {
  const log = opts.log === undefined ? (l: string) => console.error(l) : opts.log;
  const requested = opts.backend ?? setting("CNNLAB_BACKEND") ?? "";
  const p = { precision: opts.precision };
  let info: BackendInfo;
  if (requested) {
    const name = parseBackendName(requested);
    const why = opts.backend ? "requested" : "requested by CNNLAB_BACKEND";
    info = { ...(await start(name, p)), reason: why };
  } else {
    const a = await probeAdapter();
    const gpu = a ? " (GPU adapter is a software fallback)" : " (no GPU adapter)";
    if (a && !a.isFallback) {
      info = { ...(await start("webgpu", p)), reason: `real GPU adapter found (${a.description})` };
    } else {
      const why: string[] = [];
      let found: BackendInfo | null = null;
      for (const name of ["native", "wasm"] as const) {
        try {
          found = { ...(await start(name, p)), reason: `fastest CPU backend available${gpu}` };
          break;
        } catch (e) {
          if (!(e instanceof BackendError) || (name === "native" && /precision/.test(e.message))) throw e;
          why.push(e.message);
        }
      }
      if (found && why.length) found.reason += `; ${why.join("; ")}`;
      info = found ?? { ...(await start("cpu", p)), reason: `no faster backend started (${why.join("; ")})` };
    }
  }
  if ((current?.name !== info.name || current?.precision !== info.precision) && log) {
    log(`cnnlab: backend ${info.name} (${info.precision}) on ${info.device} — ${info.reason}`);
  }
  current = info;
  return info;
}
