/**
 * `deno task exp`: list, run and show the experiments behind the notebooks; merge stores.
 *
 *   deno task exp list [pattern] [--preset P]
 *   deno task exp run --tier reference [--resume]   (the reference tier's missing runs, at the full preset)
  deno task exp run <name|pattern> [--preset smoke|laptop|full] [--seeds 1,2,3] [--backend B]
 *                     [--precision fp32|bf16|auto] [--data-dir DIR] [--force] [--resume] [--shard k/n] [--wait]
 *   deno task exp show <name|pattern> [--preset P]
 *   deno task exp merge <store> [<store> …]   (into CNNLAB_OUTPUTS / outputs/)
 *   deno task exp publish <name|pattern> [--preset P]   (finished records into outputs/published/results/P.json,
 *                                                     measurements into measurements-P.json)
 *   deno task exp measure <name|pattern> [--preset P] [--backend B] [--force]   (timings, profiles, probes)
 *
 * Many workers can fill one store: each run (experiment, seed) is locked while it trains, a run
 * another live worker holds is skipped with a message (`--wait`: waited for), and `--shard k/n`
 * takes the k-th of n disjoint slices of the runs.
 *
 * Exit codes: 0 ok, 1 a run failed or diverged (or a merge conflicted), 2 usage error, 130 / 143 stopped by
 * SIGINT / SIGTERM (the run stored as interrupted, its checkpoint kept).
 */
import { BackendError, initBackend } from "../lib/backend/mod.ts";
import { DataError } from "../lib/data/fashion_mnist.ts";
import { fashionMnist } from "../lib/data/dataset.ts";
import {
  configHash,
  type ConfigOverrides,
  type Experiment,
  ExperimentError,
  EXPERIMENTS,
  knobsFor,
  parsePreset,
  type Preset,
  presetSeeds,
  REFERENCE_TIER,
  registerVariant,
  resolveConfig,
  selectExperiments,
  trainsAt,
  variants,
} from "../lib/exp/experiments.ts";
import { currentRecords, RunError, runExperiment } from "../lib/exp/runner.ts";
import { publishedReference } from "../lib/exp/records.ts";
import {
  loadMeasurements,
  matchMeasurements,
  measurementHash,
  MEASUREMENTS,
  publishedMeasurementsFile,
  storedMeasurement,
} from "../lib/exp/measurements.ts";
import { MeasureError, runMeasurement } from "../lib/exp/measure.ts";
import { onStopSignals, stopExitCode, type StopSignal } from "../lib/exp/workers.ts";
import { loadRecords, loadVariants, mergeStores, outputsDir, publishRecords, replacedBy } from "../lib/exp/store.ts";
import { CheckpointError } from "../lib/train/checkpoint.ts";
import { textTable, thousands } from "../lib/util/table.ts";
import { meanSd } from "../lib/util/stats.ts";
import { parseCli, seedsFlag, shardFlag } from "../lib/util/cli.ts";

const USAGE = `usage:
  deno task exp list [pattern] [--preset P] [--variants]
  deno task exp run --tier reference [--resume]   (the reference tier's missing runs, at the full preset)
  deno task exp run <name|pattern> [--preset smoke|laptop|full] [--seeds 1,2,3] [--backend B] [--precision fp32|bf16|auto] [--data-dir DIR] [--force] [--resume] [--shard k/n] [--wait] [--queue FILE]
  deno task exp show <name|pattern> [--preset smoke|laptop|full]
  deno task exp merge <store> [<store> ...]
  deno task exp publish <name|pattern> [--preset P]
  deno task exp measure <name|pattern> [--preset P] [--backend B] [--force]   (${
  MEASUREMENTS.map((m) => m.name).join(", ")
})`;

function usage(msg: string): never {
  console.error(`exp: ${msg}`);
  console.error(USAGE);
  Deno.exit(2);
}

function fail(msg: string): never {
  console.error(`exp: ${msg}`);
  Deno.exit(1);
}

const SPEC = {
  preset: { type: "string" },
  seeds: { type: "string" },
  backend: { type: "string" },
  precision: { type: "string" },
  "data-dir": { type: "string" },
  shard: { type: "string" },
  queue: { type: "string" },
  force: { type: "boolean" },
  resume: { type: "boolean" },
  wait: { type: "boolean" },
  variants: { type: "boolean" },
  tier: { type: "string" },
} as const;

let parsed: ReturnType<typeof parseCli<typeof SPEC>>;
try {
  parsed = parseCli(Deno.args, SPEC);
} catch (e) {
  usage((e as Error).message);
}
const flags = parsed.values;
const [cmd, pattern, ...rest] = parsed.positionals;
if (!cmd) usage("missing command (list, run, show, merge, publish or measure)");
if (rest.length && cmd !== "merge") usage(`unexpected argument '${rest[0]}'`);
let preset: Preset = "laptop";
let seeds: number[] | undefined;
let shard: { k: number; n: number } | undefined;
try {
  if (flags.preset) preset = parsePreset(flags.preset);
  if (flags.seeds !== undefined) seeds = seedsFlag(flags.seeds);
  if (flags.shard !== undefined) shard = shardFlag(flags.shard);
} catch (e) {
  usage((e as Error).message);
}

/** A worker's queue: [{experiment, seed}, …] in the order to try them. */
async function readQueue(path: string): Promise<{ e: Experiment; seed: number }[]> {
  let items: { experiment: string; seed: number }[];
  try {
    items = JSON.parse(await Deno.readTextFile(path));
    if (!Array.isArray(items)) throw new Error("not a list");
  } catch (e) {
    usage(`--queue ${path}: ${(e as Error).message}`);
  }
  return items.map((it) => ({ e: select(it.experiment)[0], seed: seedsFlag(String(it.seed))[0] }));
}

// Variants declared in the store (by notebooks, `deno task tune` or other workers) are runnable by name.
await loadVariants((base, overrides, name) => registerVariant(base, overrides as ConfigOverrides, name));

/** Experiments matching a pattern; none is a usage error unless `orNone` (the pattern may name only measurements). */
function select(p: string, orNone = false): Experiment[] {
  try {
    return selectExperiments(p);
  } catch (e) {
    if (e instanceof ExperimentError) {
      if (orNone) return [];
      usage(e.message);
    }
    throw e;
  }
}

/**
 * The selected experiments this preset trains: one named outright that it does not is refused with the
 * presets that do; a pattern passes over it.
 */
function trainedAt(list: Experiment[], pattern: string, preset: Preset): Experiment[] {
  const named = list.length === 1 && list[0].name === pattern ? list[0] : null;
  if (named && !trainsAt(named, preset)) {
    usage(`${named.name} trains only at --preset ${named.only!.join(" or ")} (the report reads its published records)`);
  }
  return list.filter((e) => trainsAt(e, preset));
}

switch (cmd) {
  case "list": {
    const list = flags.variants
      ? variants().filter((v) => !pattern || v.name.startsWith(pattern))
      : pattern
      ? select(pattern)
      : [...EXPERIMENTS.values()];
    if (flags.variants && list.length === 0) {
      console.log("no variants declared yet (make one with variant() in a notebook or deno task tune)");
      break;
    }
    console.log(textTable(
      ["experiment", "q", "model", "what", `${preset}: input / train per class / epochs / seeds`],
      list.map((e) => {
        const k = knobsFor(e, preset);
        return [
          e.name,
          e.question,
          e.model,
          e.label.en,
          `${k.inputSize ?? e.inputSize} / ${k.trainPerClass ?? "all"} / ${k.epochs ?? e.epochs} / ${
            presetSeeds(e, preset).join(",")
          }`,
        ];
      }),
    ));
    break;
  }
  case "run": {
    if (!pattern && !flags.queue && !flags.tier) {
      usage("run needs an experiment name or pattern (or --queue FILE, or --tier reference)");
    }
    if (flags.tier !== undefined) {
      if (flags.tier !== "reference") usage(`--tier ${flags.tier}: the one tier is 'reference'`);
      if (pattern || flags.queue || flags.seeds) usage("--tier reference names its own runs and seeds");
      if (flags.preset && flags.preset !== "full") usage("--tier reference is at the full preset");
      preset = "full";
    }
    // The (experiment, seed) runs in a stable order; a shard takes every n-th from its k-th.
    // A queue file (written by `deno task report` for its workers) lists them explicitly, longest first.
    // The tier's runs already published (full.json) are not trained again.
    const published = flags.tier ? await publishedReference() : new Set<string>();
    const tierRuns = flags.tier
      ? await Promise.all(REFERENCE_TIER.flatMap((r) =>
        r.seeds.map(async (seed) => {
          const e = select(r.experiment)[0];
          return { e, seed, done: published.has(`${e.name}|${await configHash(resolveConfig(e, "full"))}|${seed}`) };
        })
      ))
      : [];
    const runs =
      (flags.tier
        ? tierRuns.filter((r) => !r.done).map(({ e, seed }) => ({ e, seed }))
        : flags.queue
        ? await readQueue(flags.queue)
        : trainedAt(select(pattern), pattern, preset).flatMap((e) =>
          (seeds ?? presetSeeds(e, preset)).map((seed) => ({ e, seed }))
        )).filter((
          _,
          i,
        ) => !shard || i % shard.n === shard.k - 1);
    if (runs.length === 0) {
      console.error(`exp: shard ${flags.shard} of ${pattern} has no runs`);
      Deno.exit(0);
    }
    const auto = flags.precision === "auto";
    try {
      await initBackend({ backend: flags.backend, precision: auto ? undefined : flags.precision });
    } catch (e) {
      if (e instanceof BackendError) usage(e.message);
      throw e;
    }
    const stop = { requested: false };
    // Ctrl-C, and SIGTERM (what a batch scheduler sends at its time limit): stop after the current
    // step, record the run as interrupted, release its lock; the checkpoint stays for --resume.
    let stoppedBy: StopSignal | null = null;
    const removeListeners = onStopSignals((sig) => {
      stoppedBy = sig;
      stop.requested = true;
      console.error(
        `\nexp: ${sig}: stopping after this step (${sig} again aborts at once); the last complete epoch is checkpointed`,
      );
    });
    let failed = 0;
    const skipped: { experiment: string; seed: number; why: string }[] = [];
    try {
      const data = await fashionMnist({ dataDir: flags["data-dir"] });
      for (const { e, seed } of runs) {
        const results = await runExperiment(e, {
          preset,
          seeds: [seed],
          data,
          force: flags.force,
          resume: flags.resume || Boolean(flags.queue),
          stop,
          // Queue workers share one queue: a run another worker holds is its, not news.
          busy: flags.wait ? "wait" : flags.queue ? "pass" : "skip",
          skipped,
          ...(auto ? { precision: "auto" as const } : {}),
        });
        for (const r of results) {
          if (r.record.status !== "ok") {
            failed++;
            console.error(`exp: ${e.name} seed ${r.seed}: ${r.record.status}: ${r.record.message ?? ""}`);
          }
        }
        if (stop.requested) break;
      }
    } catch (e) {
      if (
        e instanceof DataError || e instanceof ExperimentError || e instanceof RunError ||
        e instanceof CheckpointError
      ) {
        fail((e as Error).message);
      }
      throw e;
    } finally {
      removeListeners();
    }
    if (skipped.length && !flags.queue) {
      console.error(`exp: ${skipped.length} run(s) skipped: another worker is training them (--wait waits for them)`);
    }
    Deno.exit(stoppedBy ? stopExitCode(stoppedBy) : failed ? 1 : 0);
    break;
  }
  case "show": {
    if (!pattern) usage("show needs an experiment or measurement name or pattern");
    const measured = matchMeasurements(pattern);
    const list = select(pattern, measured.length > 0);
    const names = new Set(list.map((e) => e.name));
    const records = (await loadRecords(flags.preset ? { preset } : {})).filter((r) => names.has(r.experiment));
    const measures = (await loadMeasurements(flags.preset ? preset : undefined)).filter((r) =>
      measured.some((m) => m.name === r.measurement)
    );
    if (records.length === 0 && measures.length === 0) {
      console.log(
        `no stored results for ${pattern}${flags.preset ? ` at preset ${preset}` : ""}; run: deno task exp ${
          list.length ? "run" : "measure"
        } ${pattern}`,
      );
      break;
    }
    const groups = new Map<string, typeof records>();
    for (const r of records) {
      const k = `${r.experiment}|${r.preset}|${r.configHash}|${r.backend}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    if (records.length) {
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
    }
    if (measures.length) {
      const current = new Set(
        await Promise.all(measures.map(async (r) =>
          `${r.measurement}|${r.preset}|${await measurementHash(
            measured.find((m) => m.name === r.measurement)!,
            r.preset,
          )}`
        )),
      );
      console.log(textTable(
        ["measurement", "preset", "hash", "current", "backend", "device", "others training", "seconds", "measured"],
        measures.map((r) => [
          r.measurement,
          r.preset,
          r.configHash,
          current.has(`${r.measurement}|${r.preset}|${r.configHash}`) ? "yes" : "no (stale)",
          r.backend,
          r.device,
          String(r.othersTraining),
          r.seconds.toFixed(0),
          r.endedAt.slice(0, 16).replace("T", " "),
        ]),
      ));
    }
    break;
  }
  case "measure": {
    if (!pattern) usage(`measure needs a measurement name or pattern (${MEASUREMENTS.map((m) => m.name).join(", ")})`);
    const specs = matchMeasurements(pattern);
    if (specs.length === 0) {
      usage(`no measurement matches '${pattern}'; have: ${MEASUREMENTS.map((m) => m.name).join(", ")}`);
    }
    try {
      await initBackend({ backend: flags.backend, precision: flags.precision });
    } catch (e) {
      if (e instanceof BackendError) usage(e.message);
      throw e;
    }
    const data = await fashionMnist({ dataDir: flags["data-dir"] });
    for (const spec of specs) {
      try {
        await runMeasurement(spec, { preset, data, force: flags.force });
      } catch (e) {
        if (e instanceof MeasureError || e instanceof CheckpointError) fail((e as Error).message);
        throw e;
      }
    }
    break;
  }
  case "publish": {
    // Records finished on this machine into the published ones (e.g. a reference tier as each run finishes).
    if (!pattern) usage("publish needs an experiment or measurement name or pattern");
    const measured = matchMeasurements(pattern);
    const names = select(pattern, measured.length > 0).map((e) => e.name);
    const records = (await currentRecords(preset, names)).filter((r) => r.status !== "interrupted");
    const measures = (await Promise.all(measured.map((m) => storedMeasurement(m, preset)))).filter((r) => r !== null);
    if (records.length === 0 && measures.length === 0) {
      fail(`no finished ${preset} record or measurement of ${pattern} is stored here; train or measure it first`);
    }
    const dir = `${outputsDir()}/published/results`;
    await Deno.mkdir(dir, { recursive: true });
    if (records.length) {
      const file = `${dir}/${preset}.json`;
      const r = await publishRecords(file, records, replacedBy(records));
      console.log(`exp: published ${r.written} ${preset} record(s) to ${file} (${r.kept} other record(s) kept)`);
    }
    if (measures.length) {
      const file = publishedMeasurementsFile(dir, preset);
      const names = new Set(measures.map((x) => x.measurement));
      const r = await publishRecords(file, measures, (x) => names.has(String(x.measurement)));
      console.log(`exp: published ${r.written} ${preset} measurement(s) to ${file} (${r.kept} other(s) kept)`);
    }
    break;
  }
  case "merge": {
    const stores = [pattern, ...rest].filter(Boolean);
    if (stores.length === 0) usage("merge needs at least one store folder (an outputs/ folder of another worker)");
    const r = await mergeStores(stores);
    console.log(
      `exp: merged ${r.copied} record(s), ${r.same} already present, ${r.conflicts.length} conflict(s), ${r.bad} bad file(s) skipped`,
    );
    for (const c of r.conflicts) console.error(`exp: conflict: ${c}`);
    if (r.conflicts.length) {
      fail(
        "conflicting records were not copied (same run, different label or results): the store's copy is kept; to take the other, delete the store's copy and merge again",
      );
    }
    break;
  }
  default:
    usage(`unknown command '${cmd}'`);
}
