/**
 * The few process facts Deno keeps behind --allow-all, read through the C library instead:
 * every cnnlab process that trains has --allow-ffi (which Deno does not sandbox either), so
 * /proc files are read with open/read, and whether another process lives is `kill(pid, 0)`.
 * Each function returns null where Linux, glibc or the FFI permission is missing; callers then
 * fall back to what needs none (getrusage, a lock's heartbeat).
 */
const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null | undefined;

function lib(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null {
  if (libc === undefined) {
    libc = null;
    try {
      if (Deno.build.os === "linux" && Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
        libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
      }
    } catch {
      // another C library (musl)
    }
  }
  return libc;
}

/** A small text file (at most 64 KiB: /proc entries) read through libc, or null. */
export function readSmallFile(path: string): string | null {
  const c = lib();
  if (!c) return null;
  const fd = c.open(new TextEncoder().encode(`${path}\0`), 0);
  if (fd < 0) return null;
  try {
    const buf = new Uint8Array(1 << 16);
    const n = Number(c.read(fd, buf, BigInt(buf.length)));
    return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : null;
  } finally {
    c.close(fd);
  }
}

const ESRCH = 3;

/** Whether process `pid` exists on this machine (true for another user's too), or null when it cannot be told. */
export function processAlive(pid: number): boolean | null {
  const c = lib();
  if (!c || !Number.isInteger(pid) || pid <= 0) return null;
  if (c.kill(pid, 0) === 0) return true;
  const errno = new Deno.UnsafePointerView(c.__errno_location()!).getInt32();
  return errno === ESRCH ? false : true; // EPERM: it exists, owned by someone else
}

/**
 * When process `pid` started, in clock ticks since boot (/proc/<pid>/stat's 22nd field), or null:
 * with the pid it names one process within a boot, even after the pid is reused.
 */
export function processStart(pid: number | "self"): string | null {
  const stat = readSmallFile(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields && fields.length > 19 ? fields[19] : null;
}

/** This boot of the machine (a pid names the same process only within one boot), or null. */
export function bootId(): string | null {
  return readSmallFile("/proc/sys/kernel/random/boot_id")?.trim() || null;
}
