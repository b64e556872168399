/**
 * Training throughput benchmark: images/s of full training steps (forward, backward,
 * Adam update) at a fixed batch size, per model and backend, with GFLOP/s of useful work
 * (3 × forward MACs × 2 per image) and each run's peak RSS.
 *
 *   deno task bench [--models lenet@28,alexnet@96] [--backends native,wasm] [--batch 128]
 *                   [--seconds 10] [--rounds 1] [--precision fp32,bf16,bf16-all|both] [--no-torch] [--json FILE]
 *   deno task bench --experiments 'q1a/*,q3b/*' [--preset laptop] [--backends native] [--json FILE]
 *   deno task bench --profile googlenet@32 [--batch 32] [--backends native] [--steps 8] [--json FILE]
 *
 * --experiments benchmarks the report's own configurations: each experiment's model, width
 * options, input size and batch at the preset (PyTorch builds the same network from its layer
 * graph, bench/model_graph.ts); --batch overrides the preset's batch.
 *
 * --profile prints where one model's training step goes instead (bench/profile.ts): per
 * kernel, per oneDNN primitive (reorders included), JS self time, allocation.
 *
 * Every (model, backend) pair runs in its own child process so that peak RSS belongs to
 * that pair alone. Backends that cannot start here are listed and skipped. When python3
 * can import torch, the same models run in PyTorch too (bench/torch_bench.py, all cores,
 * OPENBLAS_NUM_THREADS=1, one process per model) and the table gains our/PyTorch ratios.
 * A model's PyTorch and our measurements run back to back; --rounds N repeats them N times,
 * the order alternating, and folds them into medians and same-round ratios (bench/rounds.ts).
 *
 * --precision lists what the native backend runs each model in: fp32; bf16 as training runs it
 * (each layer in the precision this machine measured faster for it); bf16-all (every layer in
 * bf16, as before per-layer plans); both = fp32,bf16. Rows in bf16 gain a ratio to fp32 of the
 * same round. Other backends run fp32 only.
 */
import { type BackendName, BACKENDS, cpuDescription, initBackend, parseBackendName } from "../lib/backend/mod.ts";
import { createModel, type ModelOptions, MODELS } from "../lib/models/registry.ts";
import { timeSteps } from "../lib/train/timing.ts";
import {
  type Experiment,
  experiment,
  parsePreset,
  type Preset,
  resolveConfig,
  selectExperiments,
} from "../lib/exp/experiments.ts";
import { type ModelGraph, modelGraph } from "./model_graph.ts";
import { summarize } from "../lib/models/inspect.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { V8_FLAGS } from "../lib/util/deno.ts";
import { textTable } from "../lib/util/table.ts";
import { peakRssMB } from "../lib/util/memory.ts";
import { formatProfile, parseChild, profileOne } from "./profile.ts";
import { type Spec, stepFixture } from "./fixture.ts";
import type { LayerPlanSummary } from "../lib/backend/native.ts";
import { foldRounds, type RoundRow, sameRoundFp32, sameRoundPytorch } from "./rounds.ts";

/** The models and sizes the native backend's targets are stated for (issue: CPU training). */
const DEFAULT_MODELS = [
  "lenet@28",
  "alexnet@224",
  "alexnet-simplified@224",
  "vgg11-r8@224",
  "vgg11-r8@96",
  "nin@224",
  "googlenet@96",
  "resnet18@96",
];

/** What `--precision` can list: bf16 with this machine's per-layer plan, or with every layer in bf16. */
export const PRECISION_VARIANTS = ["fp32", "bf16", "bf16-all"] as const;
export type PrecisionVariant = typeof PRECISION_VARIANTS[number];

/** `--precision`'s value: a comma list of PRECISION_VARIANTS, or `both` (fp32,bf16); throws naming the valid ones. */
export function parsePrecisions(arg: string): PrecisionVariant[] {
  const names = arg === "both" ? ["fp32", "bf16"] : arg.split(",");
  const bad = names.find((n) => !(PRECISION_VARIANTS as readonly string[]).includes(n));
  if (bad !== undefined) {
    throw new Error(`unknown precision '${bad}'; valid: ${PRECISION_VARIANTS.join(", ")} (a comma list), or both`);
  }
  return [...new Set(names)] as PrecisionVariant[];
}

/**
 * A child's environment for a precision variant: bf16-all asks for every layer in bf16
 * (CNNLAB_BF16_LAYERS=all); fp32 and bf16 run without that variable, whatever this shell has.
 */
export function variantEnv(variant: PrecisionVariant, env: Record<string, string>): Record<string, string> {
  const { CNNLAB_BF16_LAYERS: _, ...rest } = env;
  return variant === "bf16-all" ? { ...rest, CNNLAB_BF16_LAYERS: "all" } : rest;
}

/** The backend precision a variant starts with. */
const basePrecision = (v: PrecisionVariant) => v === "bf16-all" ? "bf16" : v;

/** One measurement, or with --rounds the fold of a pair's rounds (bench/rounds.ts has the common fields). */
export interface BenchResult extends RoundRow {
  /** For an experiment: its architecture and model options. */
  architecture?: string;
  options?: ModelOptions;
  device: string;
  /** In bf16: the layers computed in each precision and their measured step time (bench/fixture.ts). */
  layers?: LayerPlanSummary;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  console.error(
    "usage: deno task bench [--models lenet@28,alexnet@96] [--backends native,wasm] [--batch 128] [--seconds 10] [--rounds 1] [--precision fp32,bf16,bf16-all|both] [--no-torch] [--json FILE]",
  );
  console.error(
    "       deno task bench --experiments 'q1a/*,q3b/*' [--preset laptop] [--batch N] [--backends native] [--json FILE]",
  );
  console.error(
    "       deno task bench --profile MODEL@SIZE [--batch 32] [--backends native] [--precision fp32] [--steps 8] [--json FILE]",
  );
  Deno.exit(2);
}

function parseModel(s: string): { name: string; size: number } {
  const m = s.match(/^([a-z0-9-]+)@(\d+)$/);
  if (!m) usage(`bad model '${s}': expected name@size, e.g. alexnet@96`);
  if (!MODELS.has(m[1])) usage(`unknown model '${m[1]}'; valid: ${[...MODELS.keys()].join(", ")}`);
  return { name: m[1], size: Number(m[2]) };
}

/** A zoo model at a size (`name@size`), measured at `batch`. */
function modelSpec(s: string, batch: number): Spec {
  const { name, size } = parseModel(s);
  return { label: name, model: name, size, batch, options: {}, graph: false };
}

/** An experiment's configuration at a preset; `batch` (when given) overrides the preset's. */
function experimentSpec(e: Experiment, preset: Preset, batch: number | null): Spec {
  const c = resolveConfig(e, preset);
  const b = batch ?? c.batchSize;
  return { label: e.name, model: c.model, size: c.inputSize, batch: b, options: c.modelOptions, graph: true };
}

/** Child: measure one (model, backend) pair and print one JSON line. */
async function measureOne(spec: Spec, backend: BackendName, precision: string, seconds: number) {
  const { model, size, batch } = spec;
  const { info, model: m, step, layers } = await stepFixture(spec, backend, precision);
  const macs = summarize(m).macs;
  // Warm-up: first steps compile shaders / allocate / pack weights (a second one unless the first is long).
  const warm = performance.now();
  await step();
  const firstStep = (performance.now() - warm) / 1000;
  const rounds = await timeSteps(step, {
    warmup: firstStep < seconds / 4 ? 1 : 0,
    minRounds: 3,
    maxRounds: 1000,
    budgetSeconds: seconds,
  });
  const steps = rounds.length, dt = rounds.reduce((a, x) => a + x, 0);
  const r: BenchResult = {
    model: spec.label,
    ...(spec.graph ? { architecture: model, options: spec.options } : {}),
    size,
    batch,
    backend: info.name,
    precision: info.precision,
    ...(layers ? { layers } : {}),
    device: info.device,
    steps,
    seconds: dt,
    trainImagesPerSecond: (steps * batch) / dt,
    gflops: (6 * macs * steps * batch) / dt / 1e9,
    peakRssMB: peakRssMB(),
  };
  console.log(JSON.stringify(r));
}

/** The results table; with rounds, each pair's images/s per round and its ratios' range beside the medians. */
function table(rows: BenchResult[]): string {
  const perRound = rows.some((r) => r.perRound), toFp32 = rows.some((r) => r.vsFp32 !== undefined);
  const ips = (v: number) => v.toFixed(v < 100 ? 1 : 0);
  const span = (xs: number[] | undefined) =>
    xs?.length ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}×` : "";
  return textTable(
    [
      "model",
      "size",
      "batch",
      "backend",
      "precision",
      perRound ? "img/s (median)" : "img/s",
      "GFLOP/s",
      "vs PyTorch",
      ...(toFp32 ? ["vs fp32"] : []),
      ...(perRound ? ["per round img/s", "rounds' ratios"] : []),
      "steps",
      "peak RSS MB",
    ],
    rows.map((r) => [
      r.model,
      String(r.size),
      String(r.batch),
      r.backend,
      precisionLabel(r),
      ips(r.trainImagesPerSecond),
      r.gflops.toFixed(1),
      r.vsPytorch === undefined ? "" : `${r.vsPytorch.toFixed(2)}×`,
      ...(toFp32 ? [r.vsFp32 === undefined ? "" : `${r.vsFp32.toFixed(2)}×`] : []),
      ...(perRound ? [(r.perRound ?? []).map(ips).join(", "), span(r.vsPytorchPerRound)] : []),
      String(r.steps),
      r.peakRssMB.toFixed(0),
    ]),
  );
}

/** A row's precision as the table shows it: bf16's layers each way under a plan, or every layer. */
export function precisionLabel(r: Pick<BenchResult, "precision" | "layers">): string {
  if (r.precision === "bf16-all") return "bf16 (every layer)";
  return r.layers ? `${r.precision} (${r.layers.bf16}/${r.layers.bf16 + r.layers.fp32} in bf16)` : r.precision;
}

/** The python3 that can import torch (pyenv's python3 often cannot; Debian's can), or null. */
async function torchPython(): Promise<string | null> {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const r = await new Deno.Command(py, { args: ["-c", "import torch"], stdout: "null", stderr: "null" }).output();
      if (r.success) return py;
    } catch {
      // not installed
    }
  }
  return null;
}

/**
 * PyTorch's rows for one spec (its best setting on this CPU: all cores, 1 BLAS thread), in a
 * python process of its own so that the row's peak RSS is its own.
 */
async function runTorch(
  py: string,
  m: Spec,
  seconds: number,
  macsOf: Map<string, number>,
  graphOf: Map<string, ModelGraph>,
): Promise<BenchResult[]> {
  const script = new URL("./torch_bench.py", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "cnnlab-bench-" });
  try {
    const what = m.graph
      ? ["--graph", `${dir}/graph.json`, "--label", m.label, "--size", String(m.size)]
      : ["--models", `${m.model}@${m.size}`];
    if (m.graph) await Deno.writeTextFile(`${dir}/graph.json`, JSON.stringify(graphOf.get(`${m.label}@${m.size}`)));
    const cmd = new Deno.Command(py, {
      args: [script, ...what, "--batch", String(m.batch), "--seconds", String(seconds)],
      env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: String(navigator.hardwareConcurrency) },
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
      console.error(`bench: ${m.label}@${m.size} on PyTorch failed: ${why}`);
    }
    return torchRows(out.stdout, m, macsOf);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The rows torch_bench.py printed for one spec. */
function torchRows(stdout: Uint8Array, m: Spec, macsOf: Map<string, number>): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const line of new TextDecoder().decode(stdout).trim().split("\n").filter(Boolean)) {
    const r = JSON.parse(line);
    if (r.error) {
      console.error(`bench: ${m.label}@${m.size} on PyTorch: ${r.error}`);
      continue;
    }
    rows.push({
      model: m.label,
      ...(m.graph ? { architecture: m.model, options: m.options } : {}),
      size: r.size,
      batch: r.batch,
      backend: "pytorch",
      precision: "fp32",
      device: `${cpuDescription()} (PyTorch ${r.torch}, ${r.threads} threads)`,
      steps: r.steps,
      seconds: r.seconds,
      trainImagesPerSecond: r.trainImagesPerSecond,
      gflops: (6 * (macsOf.get(`${m.label}@${m.size}`) ?? 0) * r.trainImagesPerSecond) / 1e9,
      peakRssMB: r.peakRssMB,
    });
  }
  return rows;
}

/** The error message a failed child printed (its first line naming an Error, less the prefix), or "failed". */
function childError(stderr: Uint8Array): string {
  const line = new TextDecoder().decode(stderr).trim().split("\n").find((l) => /Error/.test(l));
  return line?.replace(/^.*?Error: /, "") ?? "failed";
}

/** One measurement of ours: a child process for the (spec, backend, precision); null if it failed or was skipped. */
async function runOurs(spec: Spec, backend: BackendName, precision: PrecisionVariant, seconds: number) {
  const { label: name, size } = spec;
  // The pure-JS backend is ~100× slower: give it the minimum (3 steps) on LeNet only.
  if (backend === "cpu" && spec.model !== "lenet") {
    console.error(`bench: skipping ${name}@${size} on cpu (hours per measurement)`);
    return null;
  }
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      ...childArgs("--one", backend, spec),
      "--precision",
      basePrecision(precision),
      "--seconds",
      backend === "cpu" ? "1" : String(seconds),
    ],
    env: variantEnv(precision, Deno.env.toObject()),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  if (!out.success) {
    console.error(`bench: ${name}@${size} on ${backend} (${precision}): ${childError(out.stderr)}`);
    return null;
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!) as BenchResult;
  return { ...r, precision };
}

/** `deno run` of this script as the child that measures (`--one`) or profiles (`--profile-one`) one spec. */
function childArgs(role: "--one" | "--profile-one", backend: BackendName, spec: Spec): string[] {
  const perms = ["--allow-read", "--allow-env", "--allow-sys", "--allow-ffi"];
  return ["run", V8_FLAGS, ...perms, import.meta.filename!, role, `${backend}:${JSON.stringify(spec)}`];
}

/** `--profile`: one (model, backend) pair, profiled in a child whose stdout carries oneDNN's log. */
async function runProfile(spec: Spec, backendArg: string, precision: string, steps: number, jsonFile: string) {
  let backend: BackendName;
  try {
    backend = parseBackendName(backendArg);
  } catch (e) {
    usage((e as Error).message);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...childArgs("--profile-one", backend, spec),
      "--precision",
      precision,
      "--steps",
      String(steps),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    console.error(`bench: profiling ${spec.label}@${spec.size} on ${backend}: ${childError(out.stderr)}`);
    Deno.exit(1);
  }
  const p = parseChild(new TextDecoder().decode(out.stdout), steps);
  console.log(formatProfile(p));
  if (jsonFile) await writeFileAtomic(jsonFile, JSON.stringify(p, null, 2) + "\n");
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
  const profileOneArg = opt("profile-one", "");
  const profile = opt("profile", "");
  const steps = Number(opt("steps", "8"));
  if (!Number.isInteger(steps) || steps <= 0) usage(`--steps must be a positive integer`);
  const precisionArg = opt("precision", "fp32");
  let precisions: PrecisionVariant[];
  try {
    precisions = parsePrecisions(precisionArg);
  } catch (e) {
    usage((e as Error).message);
  }
  const noTorch = args.includes("--no-torch");
  if (noTorch) args.splice(args.indexOf("--no-torch"), 1);
  const batchArg = opt("batch", "");
  const batch = Number(batchArg || "128");
  const seconds = Number(opt("seconds", "10"));
  const rounds = Number(opt("rounds", "1"));
  if (!Number.isInteger(rounds) || rounds <= 0) usage(`--rounds must be a positive integer`);
  if (!Number.isInteger(batch) || batch <= 0) usage(`--batch must be a positive integer`);
  if (!(seconds > 0)) usage(`--seconds must be positive`);
  if (one) {
    const [backend, ...json] = one.split(":");
    await measureOne(JSON.parse(json.join(":")) as Spec, parseBackendName(backend), precisionArg, seconds);
    return;
  }
  if (profileOneArg) {
    const [backend, ...json] = profileOneArg.split(":");
    await profileOne(JSON.parse(json.join(":")) as Spec, parseBackendName(backend), precisionArg, steps);
    return;
  }
  if (profile) {
    const backendArg = opt("backends", "native");
    const jsonFile = opt("json", "");
    const preset = opt("preset", "laptop");
    if (precisions.length > 1 || precisions[0] === "bf16-all") {
      usage("--profile takes one --precision, fp32 or bf16 (CNNLAB_BF16_LAYERS=all: every layer in bf16)");
    }
    let spec: Spec;
    try {
      spec = profile.includes("/")
        ? experimentSpec(experiment(profile), parsePreset(preset), batchArg ? batch : null)
        : modelSpec(profile, batch);
    } catch (e) {
      usage((e as Error).message);
    }
    if (args.length) usage(`unexpected argument '${args[0]}'`);
    await runProfile(spec, backendArg, precisionArg, steps, jsonFile);
    return;
  }
  const experimentsArg = opt("experiments", "");
  const presetArg = opt("preset", "laptop");
  const modelsArg = opt("models", experimentsArg ? "" : DEFAULT_MODELS.join(","));
  const specs: Spec[] = modelsArg.split(",").filter(Boolean).map((m) => modelSpec(m, batch));
  if (experimentsArg) {
    try {
      const preset = parsePreset(presetArg);
      for (const pattern of experimentsArg.split(",")) {
        for (const e of selectExperiments(pattern)) specs.push(experimentSpec(e, preset, batchArg ? batch : null));
      }
    } catch (e) {
      usage((e as Error).message);
    }
  }
  const backendsArg = opt("backends", "");
  const jsonFile = opt("json", "");
  if (args.length) usage(`unexpected argument '${args[0]}'`);
  let backends: BackendName[];
  try {
    backends = backendsArg ? backendsArg.split(",").map(parseBackendName) : [...BACKENDS];
  } catch (e) {
    usage((e as Error).message);
  }
  const batches = [...new Set(specs.map((s) => s.batch))].join(", ");
  const each = rounds > 1 ? `, ${rounds} rounds of PyTorch and ours in turn` : "";
  console.error(`bench: ${cpuDescription()}; batch ${batches}; ≥${seconds} s per measurement${each}`);
  // Each model built once, here, on the cpu backend: its MACs, and for PyTorch its layer graph.
  await initBackend({ backend: "cpu", log: null });
  const macsOf = new Map<string, number>(), graphOf = new Map<string, ModelGraph>();
  for (const m of specs) {
    const model = createModel({ model: m.model, modelOptions: m.options, inputSize: m.size });
    macsOf.set(`${m.label}@${m.size}`, summarize(model).macs);
    if (m.graph) graphOf.set(`${m.label}@${m.size}`, modelGraph(model));
    model.dispose();
  }
  const py = noTorch ? null : await torchPython();
  if (!noTorch && !py) {
    console.error("bench: PyTorch not importable; for the comparison: apt-get install python3-torch libopenblas0");
  }
  const runs: [BackendName, PrecisionVariant][] = backends.flatMap((b): [BackendName, PrecisionVariant][] =>
    b !== "native" ? [[b, "fp32"]] : precisions.map((p): [BackendName, PrecisionVariant] => [b, p])
  );
  const raw: BenchResult[] = [];
  for (const spec of specs) {
    for (let round = 1; round <= rounds; round++) {
      const of = rounds > 1 ? ` (round ${round} of ${rounds})` : "";
      const sides: (() => Promise<void>)[] = runs.map(([backend, precision]) => async () => {
        const r = await runOurs(spec, backend, precision, seconds);
        if (!r) return;
        const mine = { ...r, round };
        raw.push(mine);
        const ratio = (t: BenchResult | undefined, of: string) =>
          t ? `, ${(r.trainImagesPerSecond / t.trainImagesPerSecond).toFixed(2)}× ${of}` : "";
        const vs = ratio(sameRoundPytorch(raw, mine), "PyTorch") + ratio(sameRoundFp32(raw, mine), "fp32");
        console.error(
          `bench: ${spec.label}@${spec.size} on ${backend} (${precisionLabel(mine)}): ${
            r.trainImagesPerSecond.toFixed(1)
          } img/s, ${r.gflops.toFixed(1)} GFLOP/s, peak RSS ${r.peakRssMB.toFixed(0)} MB${vs}${of}`,
        );
      });
      if (py) {
        sides.unshift(async () => {
          for (const r of await runTorch(py, spec, seconds, macsOf, graphOf)) {
            raw.push({ ...r, round });
            console.error(`bench: ${spec.label}@${r.size} on PyTorch: ${r.trainImagesPerSecond.toFixed(1)} img/s${of}`);
          }
        });
      }
      // PyTorch first in odd rounds, last in even ones: neither side always gets the later minute.
      if (round % 2 === 0) sides.reverse();
      for (const side of sides) await side();
    }
  }
  const folded = foldRounds(raw);
  const results = [...folded.filter((r) => r.backend !== "pytorch"), ...folded.filter((r) => r.backend === "pytorch")];
  console.log(table(results));
  if (jsonFile) await writeFileAtomic(jsonFile, JSON.stringify(results, null, 2) + "\n");
}

if (import.meta.main) await main();
