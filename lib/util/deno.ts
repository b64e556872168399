/** How cnnlab starts its own scripts as child processes (report workers, the planner, tests). */

/** The permissions a training process needs: files, environment, CPU facts, and FFI for the native backend. */
export const RUN_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"];

/** `deno run` arguments for a script with those permissions. */
export function denoRunArgs(script: string, args: string[] = []): string[] {
  return ["run", ...RUN_PERMISSIONS, script, ...args];
}
