/** File-system helpers shared by the data loader, results store and report writer. */
import { setting } from "./settings.ts";

/** Absolute path of the project root (the folder holding deno.json). */
export const PROJECT_ROOT: string = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");

/** Root of all outputs (override with CNNLAB_OUTPUTS, e.g. in tests). */
export function outputsDir(): string {
  return setting("CNNLAB_OUTPUTS") ?? `${PROJECT_ROOT}/outputs`;
}

/** Where each machine's layer timings are kept (bf16 per layer: lib/backend/native/precision_plan.ts). */
export const layerTimingsDir = (): string => `${outputsDir()}/layer-timings`;

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Write a file atomically: the bytes go to a temporary file in the same folder, which
 * is then renamed over the target. A crash leaves either the old file or the new one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
