/**
 * Training throughput benchmark: images/s of full training steps (forward, backward,
 * Adam update) at a fixed batch size, per model and backend, plus each run's peak RSS.
 *
 *   deno task bench [--models lenet@28,alexnet@96] [--backends wasm,cpu] [--batch 128]
 *                   [--seconds 10] [--json FILE]
 *
 * Every (model, backend) pair runs in its own child process so that peak RSS belongs to
 * that pair alone. Backends that cannot start here are listed and skipped.
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, BACKENDS, cpuDescription, initBackend, parseBackendName } from "../lib/backend/mod.ts";
import { buildModel, MODELS } from "../lib/models/registry.ts";
import { trainStep } from "../lib/train/step.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { textTable } from "../lib/util/table.ts";

const DEFAULT_MODELS = ["lenet@28", "alexnet@96"];

export interface BenchResult {
  model: string;
  size: number;
  batch: number;
  backend: string;
  device: string;
  steps: number;
  seconds: number;
  trainImagesPerSecond: number;
  peakRssMB: number;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  console.error(
    "usage: deno task bench [--models lenet@28,alexnet@96] [--backends wasm,cpu] [--batch 128] [--seconds 10] [--json FILE]",
  );
  Deno.exit(2);
}

function parseModel(s: string): { name: string; size: number } {
  const m = s.match(/^([a-z0-9-]+)@(\d+)$/);
  if (!m) usage(`bad model '${s}': expected name@size, e.g. alexnet@96`);
  if (!MODELS.has(m[1])) usage(`unknown model '${m[1]}'; valid: ${[...MODELS.keys()].join(", ")}`);
  return { name: m[1], size: Number(m[2]) };
}

/** Child: measure one (model, backend) pair and print one JSON line. */
async function measureOne(model: string, size: number, backend: BackendName, batch: number, seconds: number) {
  const info = await initBackend({ backend, log: null });
  const m = buildModel(model, { inputSize: size });
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, size, size, 1], 0, 1, "float32", 1);
  const y = tf.randomUniform([batch], 0, 10, "int32", 2) as tf.Tensor1D;
  // Warm-up: first steps compile shaders / allocate / pack weights.
  const warm = performance.now();
  await trainStep(m, opt, x, y);
  const firstStep = (performance.now() - warm) / 1000;
  if (firstStep < seconds / 4) await trainStep(m, opt, x, y);
  let steps = 0;
  const t0 = performance.now();
  while (steps < 3 || (performance.now() - t0) / 1000 < seconds) {
    await trainStep(m, opt, x, y);
    steps++;
    if (steps >= 1000) break;
  }
  const dt = (performance.now() - t0) / 1000;
  const r: BenchResult = {
    model,
    size,
    batch,
    backend: info.name,
    device: info.device,
    steps,
    seconds: dt,
    trainImagesPerSecond: (steps * batch) / dt,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(r));
}

function table(rows: BenchResult[]): string {
  return textTable(
    ["model", "size", "batch", "backend", "img/s", "steps", "peak RSS MB"],
    rows.map((r) => [
      r.model,
      String(r.size),
      String(r.batch),
      r.backend,
      r.trainImagesPerSecond.toFixed(r.trainImagesPerSecond < 100 ? 1 : 0),
      String(r.steps),
      r.peakRssMB.toFixed(0),
    ]),
  );
}

async function main() {
  const args = [...Deno.args];
  const opt = (name: string, def: string): string => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) usage(`--${name} needs a value`);
    args.splice(i, 2);
    return v;
  };
  const one = opt("one", "");
  const batch = Number(opt("batch", "128"));
  const seconds = Number(opt("seconds", "10"));
  if (!Number.isInteger(batch) || batch <= 0) usage(`--batch must be a positive integer`);
  if (!(seconds > 0)) usage(`--seconds must be positive`);
  if (one) {
    const [spec, backend] = one.split(":");
    const { name, size } = parseModel(spec);
    await measureOne(name, size, parseBackendName(backend), batch, seconds);
    return;
  }
  const models = opt("models", DEFAULT_MODELS.join(",")).split(",").map(parseModel);
  const backendsArg = opt("backends", "");
  const jsonFile = opt("json", "");
  if (args.length) usage(`unexpected argument '${args[0]}'`);
  let backends: BackendName[];
  try {
    backends = backendsArg ? backendsArg.split(",").map(parseBackendName) : [...BACKENDS];
  } catch (e) {
    usage((e as Error).message);
  }
  console.error(`bench: ${cpuDescription()}; batch ${batch}; ≥${seconds} s per measurement`);
  const results: BenchResult[] = [];
  for (const backend of backends) {
    for (const { name, size } of models) {
      // The pure-JS backend is ~100× slower: give it the minimum (3 steps) on LeNet only.
      if (backend === "cpu" && name !== "lenet") {
        console.error(`bench: skipping ${name}@${size} on cpu (hours per measurement)`);
        continue;
      }
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-sys",
          import.meta.filename!,
          "--one",
          `${name}@${size}:${backend}`,
          "--batch",
          String(batch),
          "--seconds",
          backend === "cpu" ? "1" : String(seconds),
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const out = await cmd.output();
      const text = new TextDecoder().decode(out.stdout).trim();
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr).trim().split("\n").find((l) => /Error/.test(l)) ?? "failed";
        console.error(`bench: ${name}@${size} on ${backend}: ${err.replace(/^.*?Error: /, "")}`);
        continue;
      }
      const r = JSON.parse(text.split("\n").pop()!) as BenchResult;
      console.error(
        `bench: ${name}@${size} on ${backend}: ${r.trainImagesPerSecond.toFixed(1)} img/s, peak RSS ${
          r.peakRssMB.toFixed(0)
        } MB`,
      );
      results.push(r);
    }
  }
  console.log(table(results));
  if (jsonFile) await writeFileAtomic(jsonFile, JSON.stringify(results, null, 2) + "\n");
}

if (import.meta.main) await main();
