/** How cnnlab starts its own scripts as child processes (report workers, the planner, tests). */

/** The permissions a training process needs: files, environment, CPU facts, and FFI for the native backend. */
export const RUN_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"];

/**
 * V8's young generation capped at 4 MB per semi-space (Deno's default lets it grow to 16+): a
 * training step makes thousands of short-lived JS objects (tensor handles, closures, tape
 * nodes), and the default let the heap grow by 50-100 MB of garbage between collections. Peak
 * RSS on the AMD EPYC (AVX2), laptop configurations, batch 128: q3b/inception-v3 549 -> 479 MB,
 * q3b/googlenet 420 -> 349, q3b/inception-resnet 460 -> 422, q1a/lenet 284 -> 228, at the same
 * speed or better (50-400 steps: -1% to +18%). Every `deno run` that trains carries it: the
 * tasks in deno.json (tests/deno_flags_test.ts holds them to this constant) and the child
 * processes started through denoRunArgs and the bench.
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=4";

/** `deno run` arguments for a script with those permissions and V8 flags. */
export function denoRunArgs(script: string, args: string[] = []): string[] {
  return ["run", V8_FLAGS, ...RUN_PERMISSIONS, script, ...args];
}
