/**
 * Fault injection for the robustness tests: `CNNLAB_FAILPOINTS="train.step=2:3,train.checkpoint=2"`
 * makes a process stop at the named points, announce it on stderr and wait there, so that a
 * test can SIGKILL it at an exact place (after which no cleanup code may run, as in a real
 * crash) or signal it and then let it go on: it resumes when the file named by
 * CNNLAB_FAILPOINT_RELEASE exists. `name=block:MS` instead blocks the thread synchronously for MS
 * milliseconds every time the point is passed, announcing `failpoint <name> blocking` — a step as
 * long as a slow machine's, without its cost. `name=throw` makes the point throw: a test's proof
 * that a path (training, timing, profiling, restoring a checkpoint) is never taken. Unset — the normal case — a failpoint costs one lookup.
 */
import { setting } from "./settings.ts";
let points: Set<string> | null = null;

function active(): Set<string> {
  if (points) return points;
  const spec = setting("CNNLAB_FAILPOINTS") ?? "";
  points = new Set(spec.split(",").map((s) => s.trim()).filter(Boolean));
  return points;
}

/** Wait here (announcing `failpoint <name>=<at> reached`) when CNNLAB_FAILPOINTS lists `name=at`. */
export async function failpoint(name: string, at: string | number): Promise<void> {
  const p = active();
  if (p.size === 0 || !p.has(`${name}=${at}`)) return;
  Deno.stderr.writeSync(new TextEncoder().encode(`failpoint ${name}=${at} reached\n`));
  const release = setting("CNNLAB_FAILPOINT_RELEASE");
  while (true) {
    await new Promise((r) => setTimeout(r, 50));
    if (release && (await Deno.stat(release).then(() => true, () => false))) return;
  }
}

/** Throw (a FailpointError naming the point) when CNNLAB_FAILPOINTS lists `name=throw`. */
export function failpointThrow(name: string): void {
  const p = active();
  if (p.size === 0 || !p.has(`${name}=throw`)) return;
  throw new FailpointError(`failpoint ${name}: this path must not run here`);
}

export class FailpointError extends Error {
  override name = "FailpointError";
}

/** Block synchronously (like a long native call) when CNNLAB_FAILPOINTS lists `name=block:MS`. */
export function failpointBlock(name: string): void {
  const p = active();
  if (p.size === 0) return;
  for (const spec of p) {
    if (!spec.startsWith(`${name}=block:`)) continue;
    Deno.stderr.writeSync(new TextEncoder().encode(`failpoint ${name} blocking\n`));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(spec.slice(name.length + 7)));
  }
}
