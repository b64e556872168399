/**
 * The native library through Deno FFI: its symbol table, loading it (with a one-line error
 * naming the fix), the error check every call goes through, and the settings every call uses
 * (threads, precision). Kernels call `lib()`.
 */
import { NATIVE_LIB, nativeLibState } from "../native_build.ts";

export const NATIVE = "native";
export type Precision = "fp32" | "bf16";
export const PRECISIONS: readonly Precision[] = ["fp32", "bf16"];

const SYMBOLS = {
  cn_set_threads: { parameters: ["i32"], result: "i32" },
  cn_release: { parameters: [], result: "i32" },
  cn_verbose: { parameters: ["i32"], result: "i32" },
  cn_error: { parameters: ["buffer", "i32"], result: "i32" },
  cn_isa: { parameters: ["buffer", "i32"], result: "i32" },
  cn_conv_fwd: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_conv_bwd_data: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_conv_bwd_weights: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_matmul: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_pool_fwd: { parameters: ["buffer", "i32", "buffer", "buffer"], result: "i32" },
  cn_max_pool_bwd: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_avg_pool_bwd: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  cn_pad4: { parameters: ["buffer", "buffer", "buffer", "buffer", "f32"], result: "i32" },
  cn_unary: { parameters: ["i32", "buffer", "buffer", "i64", "f32"], result: "i32" },
  cn_binary: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  cn_reduce_rows: { parameters: ["buffer", "i64", "i64", "i64", "buffer", "i32"], result: "i32" },
  cn_copy_block: { parameters: ["buffer", "i64", "buffer", "i64", "i64", "i64"], result: "i32" },
  cn_tile4: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cn_resize_bilinear: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  cn_batch_norm: {
    parameters: ["buffer", "i64", "i64", "buffer", "buffer", "buffer", "buffer", "f32", "buffer"],
    result: "i32",
  },
  cn_bn_train_fwd: {
    parameters: ["buffer", "i64", "i64", "buffer", "buffer", "f32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  cn_bn_train_bwd: {
    parameters: [
      "buffer",
      "buffer",
      "i64",
      "i64",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "f32",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  cn_adam: {
    parameters: [
      "i64",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "f32",
      "f32",
      "f32",
      "f32",
      "f32",
      "f32",
    ],
    result: "i32",
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export class NativeError extends Error {
  override name = "NativeError";
}

let loaded: Lib | null = null;
let isa = "unknown";
/** Applied to every call: threads (cn_set_threads) and the precision convolutions and matmuls compute in. */
export const settings = { threads: 1, precision: "fp32" as Precision };

/** The loaded library's symbols (kernels run only on a registered, hence loaded, backend). */
export function lib(): Lib {
  if (!loaded) throw new NativeError("the native library is not loaded");
  return loaded;
}

/** Throw the library's message when a call returned non-zero. */
export function check(rc: number, what: string): void {
  if (rc === 0) return;
  const buf = new Uint8Array(1024);
  const n = lib().cn_error(buf, buf.length);
  throw new NativeError(`native ${what} failed: ${new TextDecoder().decode(buf.subarray(0, Math.max(n, 0)))}`);
}

/** Load the library (once). Throws a one-line NativeError naming the fix. */
export async function loadNative(): Promise<void> {
  if (loaded) return;
  const state = await nativeLibState();
  if (!state.ok) {
    throw new NativeError(
      `backend 'native': ${state.why}; fix: apt-get install g++ libdnnl-dev, then deno task setup (it builds the library), or use --backend wasm`,
    );
  }
  try {
    loaded = Deno.dlopen(NATIVE_LIB, SYMBOLS).symbols;
  } catch (e) {
    throw new NativeError(
      `backend 'native': cannot load ${NATIVE_LIB} (${
        (e as Error).message.split("\n")[0]
      }); fix: grant --allow-ffi, or rebuild with deno task setup`,
    );
  }
  const b = new Uint8Array(64);
  const n = loaded.cn_isa(b, b.length);
  isa = new TextDecoder().decode(b.subarray(0, n));
}

/** Threads used by every native call (default: all cores; CNNLAB_THREADS overrides). */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new NativeError(`threads must be a positive integer, got ${n}`);
  settings.threads = n;
  loaded?.cn_set_threads(n);
}

export function parsePrecision(s: string): Precision {
  if ((PRECISIONS as readonly string[]).includes(s)) return s as Precision;
  throw new NativeError(`unknown precision '${s}'; valid: ${PRECISIONS.join(", ")}`);
}

/** Whether oneDNN's ISA on this CPU computes in bf16 (AVX512_BF16 or AMX). */
export function isaHasBf16(): boolean {
  return /bf16|amx/.test(isa);
}

/** bf16 convolutions/matmuls (fp32 weights and accumulation) need AVX512_BF16 or AMX. */
export function setNativePrecision(p: Precision): void {
  if (p === "bf16" && !isaHasBf16()) {
    throw new NativeError(
      `precision bf16 needs a CPU with AVX512_BF16 or AMX (oneDNN reports ${isa}); fix: use --precision fp32`,
    );
  }
  settings.precision = p;
}

export function nativeSettings(): { threads: number; precision: Precision; isa: string } {
  return { ...settings, isa };
}

/** Free the library's cached primitives, scratchpad and reorder arena (when loaded). */
export function releaseLibraryMemory(): void {
  if (loaded) check(loaded.cn_release(), "release");
}

/**
 * oneDNN's execution log on stdout (level 2: one `onednn_verbose,exec,…,ms` line per primitive
 * run; 0: off), for `deno task bench --profile`. Needs the library loaded.
 */
export function setNativeVerbose(level: 0 | 2): void {
  check(lib().cn_verbose(level), "verbose");
}
