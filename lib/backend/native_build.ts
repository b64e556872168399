/**
 * Building and locating the native library (lib/backend/native/cnnlab_native.cpp over
 * oneDNN). `deno task setup` builds it when a C++ compiler and oneDNN's headers are
 * present; the backend refuses a library built from other sources than the current ones.
 */
import { exists, PROJECT_ROOT } from "../util/fs.ts";
import { cppHeader } from "./native/codes.ts";
import { sha256Hex } from "../util/hash.ts";

export const NATIVE_SOURCE = `${PROJECT_ROOT}/lib/backend/native/cnnlab_native.cpp`;
export const NATIVE_DIR = `${PROJECT_ROOT}/build/native`;
export const NATIVE_LIB = `${NATIVE_DIR}/libcnnlab_native.so`;
/** The op codes and parameter orders of native/codes.ts as C++, written before each build. */
export const NATIVE_CODES_HEADER = `${NATIVE_DIR}/cnnlab_codes.h`;
/** Beside the library: SHA-256 of the source it was built from. */
export const NATIVE_STAMP = `${NATIVE_LIB}.sha256`;

/** oneDNN header locations tried, in order (Debian/Ubuntu, Homebrew, /usr/local). */
const DNNL_INCLUDES = ["/usr/include", "/opt/homebrew/include", "/usr/local/include"];

/**
 * Link flags beyond the defaults. `-z nodelete`: the library (and with it libgomp and oneDNN) stays
 * mapped when Deno closes it at exit; unmapping libgomp under its idle worker threads crashed
 * the process with SIGSEGV after successful runs (gdb: the fault in a libgomp thread).
 */
const LINK_FLAGS = ["-Wl,-z,nodelete"];

/**
 * Compile flags. `-fno-math-errno`: with errno to set, g++ cannot vectorise a loop that calls
 * std::sqrt (each call checks its argument and may call libm), and Adam's update, one square
 * root per parameter, ran at 16 ms per step for GoogLeNet's 6M parameters (2-core AMD EPYC)
 * against 3.7 without; nothing here reads errno, and the square root is the same correctly
 * rounded instruction either way, so no value changes (the weight hashes in tests/native_test.ts).
 */
const COMPILE_FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fopenmp", "-std=c++17", "-shared", "-fPIC"];

/** Hash of the source, the generated codes header and the build flags: a change to any rebuilds the library. */
export async function sourceHash(): Promise<string> {
  const src = await Deno.readFile(NATIVE_SOURCE);
  const flags = new TextEncoder().encode(`\n${cppHeader()}\n${COMPILE_FLAGS.join(" ")}\n${LINK_FLAGS.join(" ")}`);
  const bytes = new Uint8Array(src.length + flags.length);
  bytes.set(src);
  bytes.set(flags, src.length);
  return await sha256Hex(bytes);
}

export type NativeState = { ok: true } | { ok: false; why: string };

/** Whether the built library exists and matches the current source. */
export async function nativeLibState(): Promise<NativeState> {
  if (!(await exists(NATIVE_LIB))) {
    return { ok: false, why: "the native library is not built" };
  }
  const stamp = (await exists(NATIVE_STAMP)) ? (await Deno.readTextFile(NATIVE_STAMP)).trim() : "";
  if (stamp !== (await sourceHash())) return { ok: false, why: "the native library is older than its source" };
  return { ok: true };
}

async function which(cmd: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

export interface BuildResult {
  built: boolean;
  /** One line: what happened, or why the native backend is unavailable and the fix. */
  message: string;
}

/**
 * Build the library if it is missing or stale. Never throws for a missing toolchain or
 * oneDNN: returns built=false with a one-line notice (the wasm backend remains).
 */
export async function buildNative(opts: { force?: boolean } = {}): Promise<BuildResult> {
  if (!opts.force && (await nativeLibState()).ok) return { built: true, message: "native library up to date" };
  const cxx = Deno.env.get("CXX") ?? "g++";
  if (!(await which(cxx))) {
    return {
      built: false,
      message:
        `no C++ compiler (${cxx}): native backend not built; fix: apt-get install g++ libdnnl-dev, then deno task setup`,
    };
  }
  let include = "";
  for (const dir of DNNL_INCLUDES) {
    if (await exists(`${dir}/oneapi/dnnl/dnnl.hpp`) || await exists(`${dir}/dnnl.hpp`)) {
      include = dir;
      break;
    }
  }
  if (!include) {
    return {
      built: false,
      message:
        "oneDNN headers not found: native backend not built; fix: apt-get install libdnnl-dev (macOS: brew install onednn), then deno task setup",
    };
  }
  await Deno.mkdir(NATIVE_DIR, { recursive: true });
  await Deno.writeTextFile(NATIVE_CODES_HEADER, cppHeader());
  const tmp = `${NATIVE_LIB}.tmp-${Deno.pid}`;
  const lib = include === "/usr/include" ? [] : [`-L${include.replace(/include$/, "lib")}`];
  const args = [
    ...COMPILE_FLAGS,
    `-I${include}`,
    `-I${NATIVE_DIR}`,
    "-o",
    tmp,
    NATIVE_SOURCE,
    ...lib,
    "-ldnnl",
    ...LINK_FLAGS,
  ];
  const t0 = performance.now();
  const out = await new Deno.Command(cxx, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    await Deno.remove(tmp).catch(() => {});
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) => /error/.test(l)).slice(0, 2);
    return {
      built: false,
      message: `native library failed to compile (${
        err.join(" | ") || "see the compiler output"
      }); the wasm backend remains`,
    };
  }
  await Deno.rename(tmp, NATIVE_LIB);
  await Deno.writeTextFile(NATIVE_STAMP, (await sourceHash()) + "\n");
  return { built: true, message: `built ${NATIVE_LIB} in ${((performance.now() - t0) / 1000).toFixed(1)} s` };
}
