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

Deno.test({
  name: "a child of a process holding 400 MB reports its own peak, not its parent's",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const held = new Uint8Array(400 << 20).fill(1); // resident in this (the parent) process
    assert.ok(peakRssMB() >= 400);
    const url = new URL("../lib/util/memory.ts", import.meta.url).href;
    const code = `import { peakRssMB } from "${url}"; import process from "node:process";
      console.log(JSON.stringify({ own: peakRssMB(), maxRSS: process.resourceUsage().maxRSS / 1024 }));`;
    const out = await new Deno.Command(Deno.execPath(), { args: ["eval", "--ext=ts", code] }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { own, maxRSS } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.ok(own > 10 && own < 300, `the child's own peak: ${own} MB`);
    // What the bench and the trainer read before: the parent's peak carried across exec.
    assert.ok(maxRSS >= 400, `getrusage in the child: ${maxRSS} MB`);
    assert.equal(held[held.length - 1], 1);
  },
});
