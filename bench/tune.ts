/**
 * `deno task tune <experiment> [--preset laptop] [--set key=value …] [--grid key=v1,v2 …]
 *                  [--seeds 1] [--validation 500] [--backend B] [--out FILE]`
 *
 * Chooses recipes the honest way: every combination of the --grid values (on top of --set)
 * trains as a variant of the experiment at the preset, on the training set minus a held-out
 * validation split (`--validation` images per class, the same split for every run), and is
 * judged on that split; the test set is never read. Keys are dotted paths into the resolved
 * configuration: `epochs`, `batchSize`, `inputSize`, `optim.lr`, `optim.schedule`,
 * `modelOptions.width`, `labelSmoothing`, … Values are JSON (numbers, true/false, "strings").
 * Each run is stored like any experiment (reused when repeated) and one JSON line per run is
 * appended to --out (default bench/results/tuning-<date>.jsonl): validation and inference-mode train
 * accuracy per epoch, time, images/s, the machine.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import {
  type ConfigOverrides,
  experiment,
  parsePreset,
  type Preset,
  resolveConfig,
  VALIDATION_PER_CLASS,
  variant,
} from "../lib/exp/experiments.ts";
import { runExperiment } from "../lib/exp/runner.ts";
import { intFlag, parseCli, seedsFlag, UsageError } from "../lib/util/cli.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";

function usage(msg: string): never {
  console.error(`tune: ${msg}`);
  console.error(
    "usage: deno task tune <experiment> [--preset laptop] [--set key=value ...] [--grid key=v1,v2 ...] [--seeds 1] [--validation 500] [--backend B] [--out FILE]",
  );
  Deno.exit(2);
}

/** "optim.lr=0.003" → ["optim.lr", 0.003]. */
export function parseAssignment(s: string): [string, unknown[]] {
  const i = s.indexOf("=");
  if (i <= 0) throw new UsageError(`expected key=value, got '${s}'`);
  const parse = (v: string): unknown => {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  };
  return [s.slice(0, i), s.slice(i + 1).split(",").map(parse)];
}

/** Set a dotted path in an overrides object. */
export function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split(".");
  let at = o;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  at[keys.at(-1)!] = v;
}

/** Every combination of the grid's values. */
export function combinations(grid: [string, unknown[]][]): [string, unknown][][] {
  return grid.reduce<[string, unknown][][]>(
    (acc, [k, vs]) => acc.flatMap((c) => vs.map((v) => [...c, [k, v] as [string, unknown]])),
    [[]],
  );
}

if (import.meta.main) {
  let name = "", preset: Preset = "laptop", seeds = [1], validation = VALIDATION_PER_CLASS;
  let out = `${PROJECT_ROOT}/bench/results/tuning-${new Date().toISOString().slice(0, 10)}.jsonl`,
    backend: string | undefined;
  const fixed: [string, unknown[]][] = [], grid: [string, unknown[]][] = [];
  try {
    const { values, positionals } = parseCli(Deno.args, {
      preset: { type: "string" },
      set: { type: "string", multiple: true },
      grid: { type: "string", multiple: true },
      seeds: { type: "string" },
      validation: { type: "string" },
      backend: { type: "string" },
      out: { type: "string" },
    });
    if (positionals.length !== 1) throw new UsageError("name exactly one experiment to tune");
    name = positionals[0];
    experiment(name);
    preset = parsePreset(values.preset ?? "laptop");
    if (values.seeds) seeds = seedsFlag(values.seeds);
    if (values.validation) validation = intFlag("validation", values.validation, 1, 3000);
    for (const s of (values.set ?? []) as string[]) fixed.push(parseAssignment(s));
    for (const s of (values.grid ?? []) as string[]) grid.push(parseAssignment(s));
    if (fixed.some(([, v]) => v.length !== 1)) throw new UsageError("--set takes one value; use --grid for several");
    if (values.out) out = values.out;
    backend = values.backend;
  } catch (e) {
    usage((e as Error).message);
  }
  const info = await initBackend({ backend });
  const data = await fashionMnist();
  for (const combo of combinations(grid)) {
    const o: Record<string, unknown> = { validation };
    for (const [k, [v]] of fixed) setPath(o, k, v);
    for (const [k, v] of combo) setPath(o, k, v);
    let v;
    try {
      v = variant(experiment(name), o as ConfigOverrides);
    } catch (e) {
      usage((e as Error).message);
    }
    for (const r of await runExperiment(v, { preset, seeds, data, busy: "wait" })) {
      const rec = r.record;
      const line = {
        experiment: name,
        variant: v.name,
        preset,
        seed: r.seed,
        status: rec.status,
        validation,
        valAcc: rec.epochs.map((e) => e.valAcc ?? NaN),
        trainEvalAcc: rec.epochs.map((e) => e.trainEvalAcc),
        trainSeconds: rec.trainSeconds,
        evalSeconds: rec.evalSeconds,
        imagesPerSecond: rec.epochs.map((e) => Math.round(e.imagesPerSecond)),
        params: rec.params,
        backend: info.name,
        device: info.device,
        config: resolveConfig(v, preset),
        at: rec.endedAt,
      };
      console.log(
        `tune: ${v.name} seed ${r.seed}: validation acc ${line.valAcc.map((a) => a.toFixed(4)).join(" → ")} (${
          rec.trainSeconds.toFixed(0)
        } s)`,
      );
      await Deno.writeTextFile(
        out,
        JSON.stringify(line, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? null : x)) + "\n",
        { append: true },
      );
    }
  }
}
