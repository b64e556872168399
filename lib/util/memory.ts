/**
 * This process's peak resident memory. getrusage's maxRSS (what `process.resourceUsage()`
 * returns) is not the process's own on Linux: execve keeps the larger of it and the image it
 * replaces, and a child started by posix_spawn replaces its parent's memory image, so every
 * child reports at least its parent's peak (a `deno task bench` child measuring LeNet said
 * 374 MB, the parent's figure, for ~150 MB of its own). /proc's VmHWM is the high-water mark
 * of the process's own memory map, which starts empty at exec.
 *
 * Deno lets only --allow-all read /proc/self, and no training process runs with that; every
 * one has --allow-ffi (which Deno does not sandbox either), so the file is read through libc.
 */
import process from "node:process";

/** VmHWM from a /proc/<pid>/status text, in MB; null where the line is missing. */
export function vmHwmMB(status: string): number | null {
  const m = status.match(/^VmHWM:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) / 1024 : null;
}

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"] | null | undefined;

/** /proc/self/status read through libc, or null (not Linux, no --allow-ffi, no libc.so.6). */
function procStatusViaLibc(): string | null {
  if (libc === undefined) {
    libc = null;
    if (Deno.build.os === "linux" && Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
      try {
        libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS).symbols;
      } catch {
        // another C library (musl): getrusage below
      }
    }
  }
  if (!libc) return null;
  const fd = libc.open(new TextEncoder().encode("/proc/self/status\0"), 0);
  if (fd < 0) return null;
  try {
    const buf = new Uint8Array(1 << 16);
    const n = Number(libc.read(fd, buf, BigInt(buf.length)));
    return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : null;
  } finally {
    libc.close(fd);
  }
}

/** Where `peakRssMB` took its figure: the process's own high-water mark, or getrusage's (which may include a parent's). */
export type PeakSource = "VmHWM" | "getrusage";

/** Peak RSS of this process in MB, and where it came from. */
export function peakRss(): { mb: number; source: PeakSource } {
  const status = procStatusViaLibc();
  const hwm = status === null ? null : vmHwmMB(status);
  return hwm !== null
    ? { mb: hwm, source: "VmHWM" }
    : { mb: process.resourceUsage().maxRSS / 1024, source: "getrusage" };
}

/** Peak RSS of this process alone, in MB, where Linux and the permissions allow (see `peakRss`). */
export function peakRssMB(): number {
  return peakRss().mb;
}
