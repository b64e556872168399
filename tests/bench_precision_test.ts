/**
 * `deno task bench --precision fp32,bf16,bf16-all`: the list's parsing, each variant's child
 * environment and table label, and one real invocation measuring LeNet in two variants.
 */
import assert from "node:assert/strict";
import { parsePrecisions, precisionLabel, variantEnv } from "../bench/train_bench.ts";
import { cpuHasBf16 } from "../lib/backend/mod.ts";
import { runBench, startNative } from "./helpers.ts";

Deno.test("--precision: a comma list of fp32, bf16 and bf16-all, or both; anything else named with the valid ones", () => {
  assert.deepEqual(parsePrecisions("fp32"), ["fp32"]);
  assert.deepEqual(parsePrecisions("both"), ["fp32", "bf16"]);
  assert.deepEqual(parsePrecisions("fp32,bf16,bf16-all"), ["fp32", "bf16", "bf16-all"]);
  assert.deepEqual(parsePrecisions("bf16-all,fp32,bf16-all"), ["bf16-all", "fp32"]);
  assert.throws(() => parsePrecisions("fp32,fp16"), /unknown precision 'fp16'; valid: fp32, bf16, bf16-all/);
  assert.throws(() => parsePrecisions(""), /unknown precision ''/);
  assert.throws(() => parsePrecisions("fp32,"), /unknown precision ''/);
});

Deno.test("each variant's child environment: only bf16-all asks for every layer in bf16, whatever the shell says", () => {
  const shell = { PATH: "/usr/bin", CNNLAB_THREADS: "2", CNNLAB_BF16_LAYERS: "all" };
  assert.deepEqual(variantEnv("bf16", shell), { PATH: "/usr/bin", CNNLAB_THREADS: "2" });
  assert.deepEqual(variantEnv("fp32", shell), { PATH: "/usr/bin", CNNLAB_THREADS: "2" });
  assert.deepEqual(variantEnv("bf16-all", { PATH: "/usr/bin" }), { PATH: "/usr/bin", CNNLAB_BF16_LAYERS: "all" });
  assert.equal(shell.CNNLAB_BF16_LAYERS, "all", "the caller's object is left alone");
});

Deno.test("the table's precision: bf16 with its plan's layers each way, every layer, or the precision as is", () => {
  const layers = { bf16: 3, fp32: 9, ms: 1, fp32Ms: 1, bf16Ms: 1 };
  assert.equal(precisionLabel({ precision: "bf16", layers }), "bf16 (3/12 in bf16)");
  assert.equal(precisionLabel({ precision: "bf16-all" }), "bf16 (every layer)");
  assert.equal(precisionLabel({ precision: "fp32" }), "fp32");
});

const native = await startNative();

Deno.test({
  name: "deno task bench --precision fp32,bf16-all: one row per variant, bf16's beside fp32 (or refused with the fix)",
  ignore: !native,
  fn: async () => {
    const { success, stdout, stderr, json } = await runBench([
      ...["--models", "lenet@28", "--backends", "native", "--batch", "16", "--seconds", "0.2"],
      ...["--precision", "fp32,bf16-all", "--no-torch"],
    ]);
    assert.ok(success, stderr);
    const rows = json as { precision: string; vsFp32?: number }[];
    assert.equal(rows.find((r) => r.precision === "fp32")?.vsFp32, undefined);
    const all = rows.find((r) => r.precision === "bf16-all");
    if (cpuHasBf16()) {
      assert.ok(all && all.vsFp32! > 0, stdout);
      assert.match(stdout, /bf16 \(every layer\)/);
      assert.match(stdout, /vs fp32/);
    } else {
      assert.equal(all, undefined);
      assert.match(stderr, /lenet@28 on native \(bf16-all\): .*AVX512_BF16 or AMX.*fix: use --precision fp32/);
      assert.equal(rows.length, 1);
    }
  },
});
