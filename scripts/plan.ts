/**
 * `deno task plan [--preset P] [--only 03[,05]] [--workers N] [--backend B] [--json FILE]`
 * `deno task plan --tier reference [--workers N]`: the reference tier (lib/exp/experiments.ts) at the
 * full preset, with its own seeds: what the stored runs took as they trained (per device), what the
 * whole tier would cost on this machine from scratch, what is left to train, and what it leaves out.
 *
 * Calibrates each experiment the report would train at this preset on this machine (a few
 * timed steps) and prints the runs stored vs. to train and the predicted minutes per question
 * and in total, with the workers `deno task report` would use.
 */
import { BackendError, initBackend } from "../lib/backend/mod.ts";
import {
  experiment,
  NOTEBOOK_QUESTIONS,
  notebookExperiments,
  parsePreset,
  type Preset,
  REFERENCE_LEFT_OUT,
  REFERENCE_TIER,
} from "../lib/exp/experiments.ts";
import { defaultWorkers, hours, makePlan, minutes, type Plan, recordedCost } from "../lib/exp/plan.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { folderSource, PUBLISHED_RESULTS, publishedReference, storeSource } from "../lib/exp/records.ts";
import { textTable } from "../lib/util/table.ts";
import { intFlag, parseCli, UsageError } from "../lib/util/cli.ts";

function usage(msg: string): never {
  console.error(`plan: ${msg}`);
  console.error(
    "usage: deno task plan [--preset smoke|laptop|full] [--only 03] [--tier reference] [--workers N] [--backend B] [--json FILE]",
  );
  Deno.exit(2);
}

/** The plan as a table and a closing line. */
export function planText(p: Plan): string {
  const rows = p.questions.map((q) => [q.question, String(q.stored), String(q.toTrain), minutes(q.seconds)]);
  return [
    `plan: preset ${p.preset}, ${p.workers} worker(s) × ${p.threadsPerWorker} thread(s), backend ${p.backend} on ${p.device}`,
    textTable(["question", "runs stored", "runs to train", "predicted work"], rows),
    `plan: ${p.runs.filter((r) => !r.stored).length} of ${p.runs.length} runs to train: ${
      minutes(p.workSeconds)
    } of work, about ${minutes(p.wallSeconds)} with ${p.workers} worker(s) (calibrated in ${
      p.calibrationSeconds.toFixed(0)
    } s)`,
  ].join("\n");
}

if (import.meta.main) {
  let preset: Preset = "laptop";
  let only: string[] | undefined, workers: number | undefined, backend: string | undefined, json: string | undefined;
  let tier = false;
  try {
    const { values, positionals } = parseCli(Deno.args, {
      preset: { type: "string" },
      only: { type: "string" },
      workers: { type: "string" },
      backend: { type: "string" },
      json: { type: "string" },
      tier: { type: "string" },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    preset = parsePreset(values.preset ?? "laptop");
    if (values.tier !== undefined) {
      if (values.tier !== "reference") throw new UsageError(`--tier ${values.tier}: the one tier is 'reference'`);
      if (values.preset && values.preset !== "full") throw new UsageError("--tier reference is at the full preset");
      if (values.only) throw new UsageError("--tier reference names its own runs; leave out --only");
      tier = true;
      preset = "full";
    }
    only = values.only?.split(",").filter(Boolean);
    for (const id of only ?? []) {
      if (!NOTEBOOK_QUESTIONS[id]) {
        throw new UsageError(`--only ${id} names no notebook; valid: ${Object.keys(NOTEBOOK_QUESTIONS).join(", ")}`);
      }
    }
    workers = values.workers === undefined ? undefined : intFlag("workers", values.workers, 1, 64);
    backend = values.backend;
    json = values.json;
  } catch (e) {
    usage((e as Error).message);
  }
  let info;
  try {
    info = await initBackend({ backend, log: null });
  } catch (e) {
    if (e instanceof BackendError) usage(e.message);
    throw e;
  }
  const tierSeeds = new Map(REFERENCE_TIER.map((r) => [r.experiment, r.seeds]));
  // The tier's runs already published (outputs/published/results/full.json) count as stored.
  const published = tier ? await publishedReference() : undefined;
  const plan = await makePlan(
    tier ? REFERENCE_TIER.map((r) => experiment(r.experiment)) : notebookExperiments(only, preset),
    preset,
    {
      workers: workers ?? defaultWorkers(info.name),
      log: (l) => console.error(l),
      ...(tier ? { seeds: (e: { name: string }) => tierSeeds.get(e.name) ?? [], published, priceStored: true } : {}),
    },
  );
  console.log(planText(plan));
  let recorded;
  if (tier) {
    // The tier's finished runs, published or in this store (one per experiment and seed), as they trained.
    const names = REFERENCE_TIER.map((r) => r.experiment);
    const mine = [
      ...await folderSource(PUBLISHED_RESULTS).runs("full", names),
      ...await storeSource().runs("full", names),
    ]
      .filter((r, i, all) =>
        tierSeeds.get(r.experiment)?.includes(r.seed) &&
        all.findIndex((x) => x.experiment === r.experiment && x.seed === r.seed) === i
      );
    recorded = recordedCost(mine);
    console.log(
      `plan: the stored runs took, as they trained: ${
        recorded.map((c) =>
          `${c.runs} run(s), ${hours(c.seconds)} on ${c.device}${c.loaded ? ` (${c.loaded} beside other runs)` : ""}`
        ).join("; ") || "nothing yet"
      }`,
    );
    console.log(
      `plan: the whole tier from scratch on this machine: ${hours(plan.whole!.workSeconds)} of work, about ${
        hours(plan.whole!.wallSeconds)
      } with ${plan.workers} worker(s)`,
    );
    for (const r of plan.runs.filter((x) => !x.stored)) {
      console.log(`plan: to train: ${r.experiment} seed ${r.seed}, ${minutes(r.seconds)}`);
    }
    console.log(`plan: the tier leaves out ${REFERENCE_LEFT_OUT.en}`);
  }
  if (json) await writeFileAtomic(json, JSON.stringify({ ...plan, ...(recorded ? { recorded } : {}) }, null, 2) + "\n");
}
