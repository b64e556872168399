/**
 * Peak RSS is the process's own (lib/util/memory.ts): a child started by a process holding
 * hundreds of MB reports its own peak, where getrusage's maxRSS reports the parent's.
 */
import assert from "node:assert/strict";
import { peakRssMB, vmHwmMB } from "../lib/util/memory.ts";

Deno.test("VmHWM is read from a status text in MB; a text without it gives null", () => {
  assert.equal(vmHwmMB("Name:\tdeno\nVmPeak:\t 999999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1024 kB\n"), 200);
  assert.equal(vmHwmMB("Name:\tdeno\nVmRSS:\t 1024 kB\n"), null);
});

/** A child with `perms` (a bench child's or a training process's, never --allow-all): its peakRss and getrusage's figure. */
async function childPeak(perms: string[]): Promise<{ mb: number; source: string; maxRSS: number }> {
  const url = new URL("../lib/util/memory.ts", import.meta.url).href;
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/peak.ts`;
    await Deno.writeTextFile(
      script,
      `import { peakRss } from "${url}"; import process from "node:process";
      console.log(JSON.stringify({ ...peakRss(), maxRSS: process.resourceUsage().maxRSS / 1024 }));`,
    );
    const out = await new Deno.Command(Deno.execPath(), { args: ["run", ...perms, script] }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "a child of a process holding 400 MB reports its own peak, not its parent's; without FFI it says so",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const held = new Uint8Array(400 << 20).fill(1); // resident in this (the parent) process
    assert.ok(peakRssMB() >= 400);
    // The bench's measuring child's permissions (bench/train_bench.ts childArgs).
    const own = await childPeak(["--allow-read", "--allow-env", "--allow-sys", "--allow-ffi"]);
    assert.equal(own.source, "VmHWM");
    assert.ok(own.mb > 10 && own.mb < 300, `the child's own peak: ${own.mb} MB`);
    // What the bench and the trainer read before: the parent's peak carried across exec.
    assert.ok(own.maxRSS >= 400, `getrusage in the child: ${own.maxRSS} MB`);
    // Without FFI Deno denies /proc/self: getrusage's figure, and the result says where it came from.
    const fallback = await childPeak(["--allow-read"]);
    assert.equal(fallback.source, "getrusage");
    assert.ok(fallback.mb >= 400);
    assert.equal(held[held.length - 1], 1);
  },
});
