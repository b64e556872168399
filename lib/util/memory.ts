/**
 * This process's peak resident memory. getrusage's maxRSS (what `process.resourceUsage()`
 * returns) is not the process's own on Linux: execve keeps the larger of it and the image it
 * replaces, and a child started by posix_spawn replaces its parent's memory image, so every
 * child reports at least its parent's peak (a `deno task bench` child measuring LeNet said
 * 374 MB, the parent's figure, for ~150 MB of its own). /proc's VmHWM is the high-water mark
 * of the process's own memory map, which starts empty at exec.
 */
import process from "node:process";

/** VmHWM from a /proc/<pid>/status text, in MB; null where the line is missing. */
export function vmHwmMB(status: string): number | null {
  const m = status.match(/^VmHWM:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) / 1024 : null;
}

/** Peak RSS of this process alone, in MB: VmHWM where /proc is readable, else getrusage's figure (which may include a parent's). */
export function peakRssMB(): number {
  try {
    const hwm = vmHwmMB(Deno.readTextFileSync("/proc/self/status"));
    if (hwm !== null) return hwm;
  } catch {
    // no /proc (macOS, Windows) or no read permission
  }
  return process.resourceUsage().maxRSS / 1024;
}
