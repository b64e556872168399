/**
 * `deno task bf16-check <experiment> [--preset laptop] [--seeds 1,2]`
 *
 * On a CPU with AVX512_BF16 or AMX: trains the experiment's model family check — the same seeds
 * in fp32 and in bf16, on the training set minus the validation split, judged on that split —
 * and appends the result to lib/exp/bf16-checks.json, which `--precision auto` (the report's
 * workers) reads to decide whether that family may train in bf16 (lib/exp/bf16.ts).
 */
import { cpuHasBf16, currentBackend, initBackend, setPrecision } from "../lib/backend/mod.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import { experiment, parsePreset, type Preset, VALIDATION_PER_CLASS, variant } from "../lib/exp/experiments.ts";
import { runExperiment } from "../lib/exp/runner.ts";
import { BF16_CHECKS, type Bf16Check, bf16Safe, loadBf16Checks } from "../lib/exp/bf16.ts";
import { modelEntry } from "../lib/models/registry.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { parseCli, seedsFlag, UsageError } from "../lib/util/cli.ts";

function usage(msg: string): never {
  console.error(`bf16-check: ${msg}`);
  console.error("usage: deno task bf16-check <experiment> [--preset laptop] [--seeds 1,2]");
  Deno.exit(2);
}

let name = "", preset: Preset = "laptop", seeds = [1, 2];
try {
  const { values, positionals } = parseCli(Deno.args, { preset: { type: "string" }, seeds: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError("name exactly one experiment");
  name = positionals[0];
  experiment(name);
  preset = parsePreset(values.preset ?? "laptop");
  if (values.seeds) seeds = seedsFlag(values.seeds);
} catch (e) {
  usage((e as Error).message);
}
await initBackend({ backend: "native" });
if (!cpuHasBf16()) {
  console.error(
    "bf16-check: this CPU has no AVX512_BF16 or AMX, so it cannot compute in bf16; fix: run it on a machine that has (lscpu | grep -o 'avx512_bf16\\|amx')",
  );
  Deno.exit(1);
}
const data = await fashionMnist();
const v = variant(experiment(name), { validation: VALIDATION_PER_CLASS });
const acc: Record<string, number[]> = {};
for (const p of ["fp32", "bf16"] as const) {
  setPrecision(p);
  const runs = await runExperiment(v, { preset, seeds, data, busy: "wait" });
  acc[p] = runs.map((r) => r.record.valAcc ?? NaN);
}
const check: Bf16Check = {
  family: modelEntry(v.model).family,
  experiment: name,
  preset,
  fp32: acc.fp32,
  bf16: acc.bf16,
  device: currentBackend()!.device,
  date: new Date().toISOString().slice(0, 10),
};
const checks = [...loadBf16Checks(), check];
await writeFileAtomic(BF16_CHECKS, JSON.stringify(checks, null, 1) + "\n");
const verdict = bf16Safe(checks, check.family);
console.log(
  `bf16-check: ${name}: fp32 ${acc.fp32.map((a) => a.toFixed(4)).join(", ")} vs bf16 ${
    acc.bf16.map((a) => a.toFixed(4)).join(", ")
  }; the ${check.family} family ${verdict.safe ? "may" : "may not"} train in bf16 (${verdict.why})`,
);
