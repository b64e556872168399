/**
 * `deno task plan [--preset P] [--only 03[,05]] [--workers N] [--backend B] [--json FILE]`
 *
 * Calibrates each experiment the report would train at this preset on this machine (a few
 * timed steps) and prints the runs stored vs. to train and the predicted minutes per question
 * and in total, with the workers `deno task report` would use.
 */
import { BackendError, initBackend } from "../lib/backend/mod.ts";
import { NOTEBOOK_QUESTIONS, notebookExperiments, parsePreset, type Preset } from "../lib/exp/experiments.ts";
import { defaultWorkers, makePlan, minutes, type Plan } from "../lib/exp/plan.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";
import { textTable } from "../lib/util/table.ts";
import { intFlag, parseCli, UsageError } from "../lib/util/cli.ts";

function usage(msg: string): never {
  console.error(`plan: ${msg}`);
  console.error(
    "usage: deno task plan [--preset smoke|laptop|full] [--only 03] [--workers N] [--backend B] [--json FILE]",
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
  try {
    const { values, positionals } = parseCli(Deno.args, {
      preset: { type: "string" },
      only: { type: "string" },
      workers: { type: "string" },
      backend: { type: "string" },
      json: { type: "string" },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    preset = parsePreset(values.preset ?? "laptop");
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
  const plan = await makePlan(notebookExperiments(only), preset, {
    workers: workers ?? defaultWorkers(info.name),
    log: (l) => console.error(l),
  });
  console.log(planText(plan));
  if (json) await writeFileAtomic(json, JSON.stringify(plan, null, 1) + "\n");
}
