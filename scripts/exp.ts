/**
 * `deno task exp`: list, run and show the experiments behind the notebooks.
 *
 *   deno task exp list [pattern]
 *   deno task exp run <name|pattern> [--preset smoke|laptop|full] [--seeds 1,2,3] [--backend B] [--precision fp32|bf16] [--force] [--resume]
 *   deno task exp show <name|pattern> [--preset P]
 *
 * Exit codes: 0 ok, 1 a run failed, diverged or was interrupted, 2 usage error.
 */
import { BackendError, initBackend } from "../lib/backend/mod.ts";
import { DataError } from "../lib/data/fashion_mnist.ts";
import {
  experiment,
  ExperimentError,
  EXPERIMENTS,
  knobsFor,
  matchExperiments,
  parsePreset,
  type Preset,
  presetSeeds,
} from "../lib/exp/experiments.ts";
import { runExperiment } from "../lib/exp/runner.ts";
import { loadRecords } from "../lib/exp/store.ts";
import { closest } from "../lib/models/registry.ts";
import { textTable, thousands } from "../lib/util/table.ts";
import { meanSd } from "../lib/util/stats.ts";

const USAGE = `usage:
  deno task exp list [pattern]
  deno task exp run <name|pattern> [--preset smoke|laptop|full] [--seeds 1,2,3] [--backend B] [--precision fp32|bf16] [--force] [--resume]
  deno task exp show <name|pattern> [--preset smoke|laptop|full]`;

function usage(msg: string): never {
  console.error(`exp: ${msg}`);
  console.error(USAGE);
  Deno.exit(2);
}

const FLAGS: Record<string, "value" | "bool"> = {
  preset: "value",
  seeds: "value",
  backend: "value",
  precision: "value",
  force: "bool",
  resume: "bool",
};

function parseArgs(argv: string[]) {
  const pos: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      pos.push(a);
      continue;
    }
    const k = a.slice(2);
    if (!FLAGS[k]) usage(`unknown option '${a}'; valid: ${Object.keys(FLAGS).map((f) => `--${f}`).join(", ")}`);
    if (FLAGS[k] === "bool") flags[k] = true;
    else {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) usage(`${a} needs a value`);
      flags[k] = v;
    }
  }
  return { pos, flags };
}

function select(pattern: string) {
  if (EXPERIMENTS.has(pattern)) return [experiment(pattern)];
  const m = matchExperiments(pattern);
  if (m.length === 0) {
    usage(`no experiment matches '${pattern}'; closest: ${closest(pattern, EXPERIMENTS.keys()).join(", ")}`);
  }
  return m;
}

const { pos, flags } = parseArgs(Deno.args);
const [cmd, pattern, ...rest] = pos;
if (!cmd) usage("missing command (list, run or show)");
if (rest.length) usage(`unexpected argument '${rest[0]}'`);
let preset: Preset = "laptop";
try {
  if (flags.preset) preset = parsePreset(String(flags.preset));
} catch (e) {
  usage((e as Error).message);
}

switch (cmd) {
  case "list": {
    const list = pattern ? select(pattern) : [...EXPERIMENTS.values()];
    console.log(textTable(
      ["experiment", "q", "model", "what", `${preset}: input / train per class / epochs / seeds`],
      list.map((e) => {
        const k = knobsFor(e, preset);
        return [
          e.name,
          e.question,
          e.model,
          e.label,
          `${k.inputSize ?? e.inputSize} / ${k.trainPerClass ?? "all"} / ${k.epochs ?? e.epochs} / ${
            presetSeeds(e, preset).join(",")
          }`,
        ];
      }),
    ));
    break;
  }
  case "run": {
    if (!pattern) usage("run needs an experiment name or pattern");
    const list = select(pattern);
    let seeds: number[] | undefined;
    if (flags.seeds) {
      seeds = String(flags.seeds).split(",").map(Number);
      if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
        usage(`--seeds must be non-negative integers, e.g. 1,2,3; got '${flags.seeds}'`);
      }
    }
    try {
      await initBackend({
        backend: flags.backend ? String(flags.backend) : undefined,
        precision: flags.precision ? String(flags.precision) : undefined,
      });
    } catch (e) {
      if (e instanceof BackendError) usage(e.message);
      throw e;
    }
    const stop = { requested: false };
    const onSigint = () => {
      if (stop.requested) Deno.exit(130);
      stop.requested = true;
      console.error(
        "\nexp: stopping after this step (Ctrl-C again to abort at once); the last complete epoch is checkpointed",
      );
    };
    Deno.addSignalListener("SIGINT", onSigint);
    let failed = 0;
    try {
      for (const e of list) {
        const results = await runExperiment(e, {
          preset,
          seeds,
          force: Boolean(flags.force),
          resume: Boolean(flags.resume),
          stop,
        });
        for (const r of results) {
          if (r.record.status !== "ok") {
            failed++;
            console.error(`exp: ${e.name} seed ${r.record.seed}: ${r.record.status}: ${r.record.message ?? ""}`);
          }
        }
        if (stop.requested) break;
      }
    } catch (e) {
      if (e instanceof DataError || e instanceof ExperimentError) {
        console.error(`exp: ${(e as Error).message}`);
        Deno.exit(1);
      }
      throw e;
    } finally {
      Deno.removeSignalListener("SIGINT", onSigint);
    }
    Deno.exit(failed ? 1 : 0);
    break;
  }
  case "show": {
    if (!pattern) usage("show needs an experiment name or pattern");
    const list = select(pattern);
    const names = new Set(list.map((e) => e.name));
    const records = (await loadRecords(flags.preset ? { preset } : {})).filter((r) => names.has(r.experiment));
    if (records.length === 0) {
      console.log(
        `no stored results for ${pattern}${
          flags.preset ? ` at preset ${preset}` : ""
        }; run: deno task exp run ${pattern}`,
      );
      break;
    }
    const groups = new Map<string, typeof records>();
    for (const r of records) {
      const k = `${r.experiment}|${r.preset}|${r.configHash}|${r.backend}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    console.log(textTable(
      ["experiment", "preset", "backend", "seeds", "status", "params", "train s", "img/s", "test acc (mean ± sd)"],
      [...groups.values()].map((rs) => [
        rs[0].experiment,
        rs[0].preset,
        rs[0].backend,
        rs.map((r) => r.seed).join(","),
        [...new Set(rs.map((r) => r.status))].join(","),
        thousands(rs[0].params),
        meanSd(rs.map((r) => r.trainSeconds), 1),
        meanSd(rs.map((r) => r.imagesPerSecond), 0),
        meanSd(rs.map((r) => r.testAcc), 4),
      ]),
    ));
    break;
  }
  default:
    usage(`unknown command '${cmd}'`);
}
