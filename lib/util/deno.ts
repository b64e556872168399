/** How cnnlab starts its own scripts as child processes (report workers, the planner, tests). */

/** The permissions a training process needs: files, environment, CPU facts, and FFI for the native backend. */
export const RUN_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"];

/**
 * V8's young generation capped at 4 MB per semi-space (Deno's default lets it grow to 16+): a
 * training step makes thousands of short-lived JS objects (tensor handles, closures, tape
 * nodes), and the default let the heap grow by 50-100 MB of garbage between collections. Peak
 * RSS on the AMD EPYC (AVX2), laptop configurations, batch 128: q3b/inception-v3 549 -> 479 MB,
 * q3b/googlenet 420 -> 349, q3b/inception-resnet 460 -> 422, q1a/lenet 284 -> 228, at the same
 * speed or better (50-400 steps: -1% to +18%).
 *
 * The old generation capped at 1 GB (the default on this 24 GB machine is several): V8 lets
 * the old generation grow to a multiple of what survived the last full collection, a larger
 * one when the cap is large, and a step promotes ~0.6 MB of tape objects that die at its end,
 * so a training process's heap swung between ~25 and ~80 MB. Measured on the AMD EPYC: full
 * collections in 60 steps of q3b/inception-v3 rose from 2 to 5-6 (pauses 11-12 -> 29-45 ms
 * in all, of ~12 s), peak RSS fell 466/514 -> 419/420 MB there, and in `deno task bench`
 * GoogLeNet@32 batch 32 341/372 -> 342/311, q3b/inception-v3 386/414 -> 353/352,
 * q3b/googlenet 304/333 -> 270/271 (alternating runs; speed level within the VM's noise).
 * A training process's live heap is tens of MB (tensor values live outside it), and the
 * report's own process finished a smoke report with the cap at 64 MB, so 1 GB is far from
 * binding; optimize-for-size, tried too, saved more (GoogLeNet@32 ~300 MB) but
 * trained q3b/inception-resnet 10-25% slower.
 *
 * Every `deno run` that trains carries these flags: the tasks in deno.json
 * (tests/deno_flags_test.ts holds them to this constant) and the child processes started
 * through denoRunArgs and the bench.
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=4,--max-old-space-size=1024";

/** `deno run` arguments for a script with those permissions and V8 flags. */
export function denoRunArgs(script: string, args: string[] = []): string[] {
  return ["run", V8_FLAGS, ...RUN_PERMISSIONS, script, ...args];
}
