/**
 * This process's peak resident memory. getrusage's maxRSS (what `process.resourceUsage()`
 * returns) is not the process's own on Linux: execve keeps the larger of it and the image it
 * replaces, and a child started by posix_spawn replaces its parent's memory image, so every
 * child reports at least its parent's peak (a `deno task bench` child measuring LeNet said
 * 374 MB, the parent's figure, for ~150 MB of its own). /proc's VmHWM is the high-water mark
 * of the process's own memory map, which starts empty at exec.
 *
 * Deno lets only --allow-all read /proc/self, and no training process runs with that; every
 * one has --allow-ffi (which Deno does not sandbox either), so the file is read through libc (libc.ts).
 */
import process from "node:process";
import { readSmallFile } from "./libc.ts";

/** VmHWM from a /proc/<pid>/status text, in MB; null where the line is missing. */
export function vmHwmMB(status: string): number | null {
  const m = status.match(/^VmHWM:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) / 1024 : null;
}

/** Where `peakRssMB` took its figure: the process's own high-water mark, or getrusage's (which may include a parent's). */
export type PeakSource = "VmHWM" | "getrusage";

/** Peak RSS of this process in MB, and where it came from. */
export function peakRss(): { mb: number; source: PeakSource } {
  const status = readSmallFile("/proc/self/status");
  const hwm = status === null ? null : vmHwmMB(status);
  return hwm !== null
    ? { mb: hwm, source: "VmHWM" }
    : { mb: process.resourceUsage().maxRSS / 1024, source: "getrusage" };
}

/** Peak RSS of this process alone, in MB, where Linux and the permissions allow (see `peakRss`). */
export function peakRssMB(): number {
  return peakRss().mb;
}
