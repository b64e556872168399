/**
 * The notebooks' one import for what runs in a kernel: the preset and language (a notebook cell's
 * values win over CNNLAB_PRESET / CNNLAB_LANG, which `deno task report` sets), the backend, the
 * dataset, where the records come from, `ensure()` to reuse stored results or train only the
 * missing experiments with a live bar, and `measured()` for a page's measurements. With
 * CNNLAB_RECORDS set (`deno task report --records DIR`) the notebook reads that folder only:
 * nothing is trained or measured, and a missing record stops the cell with one line naming it.
 * The pages themselves are drawn by lib/report/, which only reads records.
 */
import { flagSetting, setting } from "../util/settings.ts";
import { type BackendInfo, initBackend } from "../backend/mod.ts";
import { type Dataset, fashionMnist } from "../data/dataset.ts";
import { type Experiment, experiment, parsePreset, presetSeeds, trainsAt } from "../exp/experiments.ts";
import { runExperiment } from "../exp/runner.ts";
import type { RunRecord } from "../exp/store.ts";
import { type MeasurementData, measurementSpec, type MeasureRecord } from "../exp/measurements.ts";
import { runMeasurement } from "../exp/measure.ts";
import { recordSource, referenceMeasurement } from "../exp/records.ts";
import { createProgress } from "../train/progress.ts";
import type pl from "nodejs-polars";
import { showHtml } from "../report/display.ts";
import { fixed, type Lang, messages, parseLang, withHalf } from "../report/i18n.ts";
import { deltaCell, modelTable, type PageContext, pageDf, settingsHtml, summaries, versus } from "../report/shared.ts";
import { tableHtml } from "../report/render.ts";
import type { Summary } from "../report/analysis.ts";

export interface NotebookContext extends PageContext {
  /** The backend training runs here (null when the notebook only reads records). */
  backend: BackendInfo | null;
  /** Fashion-MNIST, loaded the first time something trains or is measured. */
  data?: Dataset;
  /** Seeds to run (default: each experiment's preset seeds). */
  seeds?: number[];
  startedAt: Date;
}

export interface NotebookOptions {
  /** Overrides CNNLAB_PRESET (default laptop). */
  preset?: string;
  /** Overrides CNNLAB_LANG (default en). */
  lang?: string;
  seeds?: number[];
}

export async function setupNotebook(id: string, opts: NotebookOptions = {}): Promise<NotebookContext> {
  const preset = parsePreset(opts.preset ?? setting("CNNLAB_PRESET") ?? "laptop");
  const lang: Lang = parseLang(opts.lang ?? setting("CNNLAB_LANG") ?? "en");
  const records = recordSource();
  // Reading records needs no fast backend: the pages build models only to count their layers.
  const backend = await initBackend(records.readOnly ? { backend: "cpu", log: null } : { log: null });
  return {
    id,
    preset,
    lang,
    m: messages(lang),
    records,
    backend: records.readOnly ? null : backend,
    seeds: opts.seeds,
    startedAt: new Date(),
  };
}

/** A page's record is not in the folder it is rendered from. */
export class MissingRecordError extends Error {
  override name = "MissingRecord";
}

/** A notebook's training was stopped by the kernel's interrupt (the stop button). */
export class InterruptedError extends Error {
  override name = "Interrupted";
}

/**
 * Records for the experiments at the notebook's preset: stored ones reused silently, missing
 * ones trained now (live progress bar; an interrupted one resumes from its last complete
 * epoch); a run another process is training is waited for, and one whose worker died is taken
 * over, each said in one line. The stop button (SIGINT to the kernel) stops the training after
 * its current step, as Ctrl-C does in a terminal: the run is stored as interrupted, its lock
 * released and its checkpoint kept, and the cell ends with an InterruptedError; the kernel
 * lives, and running the cell again resumes.
 */
export async function ensure(ctx: NotebookContext, names: (string | Experiment)[]): Promise<RunRecord[]> {
  if (ctx.records.readOnly) return await readRuns(ctx, names);
  ctx.data ??= await fashionMnist();
  const out: RunRecord[] = [];
  const progress = createProgress();
  const stop = { requested: false };
  const onInterrupt = () => {
    stop.requested = true;
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    for (const n of names) {
      const e = typeof n === "string" ? experiment(n) : n;
      if (!trainsAt(e, ctx.preset)) continue; // a reference-tier experiment: its page reads the published records
      const results = await runExperiment(e, {
        preset: ctx.preset,
        seeds: ctx.seeds ?? presetSeeds(e, ctx.preset),
        data: ctx.data,
        progress,
        resume: true,
        stop,
        log: (line) => void progress.epochEnd(line),
        logReuse: false,
        busy: "wait",
      });
      out.push(...results.map((r) => r.record));
      if (stop.requested) break;
    }
  } finally {
    // Removed when the cell ends: a listener left behind would swallow the next interrupt.
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  if (stop.requested) {
    throw new InterruptedError(
      "training stopped by the interrupt; the run is stored as interrupted and its last complete epoch is checkpointed: run the cell again to resume",
    );
  }
  return out;
}

/** The runs from a read-only records folder; any missing one stops the cell with one line naming it and the fix. */
async function readRuns(ctx: NotebookContext, names: (string | Experiment)[]): Promise<RunRecord[]> {
  const list = names.map((n) => (typeof n === "string" ? experiment(n) : n)).filter((e) => trainsAt(e, ctx.preset));
  const got = await ctx.records.runs(ctx.preset, list.map((e) => e.name));
  const missing = list.flatMap((e) =>
    (ctx.seeds ?? presetSeeds(e, ctx.preset)).filter((s) => !got.some((r) => r.experiment === e.name && r.seed === s))
      .map((s) => `${e.name} seed ${s}`)
  );
  if (missing.length) {
    throw new MissingRecordError(
      `${ctx.records.where} has no ${ctx.preset} record of ${
        missing.join(", ")
      }; make them with deno task exp run <name> --preset ${ctx.preset} and publish them (deno task exp publish)`,
    );
  }
  return got;
}

/**
 * A measurement a page shows (a timing, a profile, probes): the stored one, else — unless the
 * notebook only reads records — measured now and stored (the report measures before it renders,
 * so under `deno task report` this only reads).
 */
export async function measured<K extends keyof MeasurementData>(
  ctx: NotebookContext,
  name: K,
): Promise<MeasureRecord<MeasurementData[K]>> {
  const found = await ctx.records.measurement(name, ctx.preset);
  if (found) return found as MeasureRecord<MeasurementData[K]>;
  if (ctx.records.readOnly) {
    throw new MissingRecordError(
      `${ctx.records.where} has no ${ctx.preset} measurement ${name}; make it with deno task exp measure ${name} --preset ${ctx.preset} and publish it (deno task exp publish ${name} --preset ${ctx.preset})`,
    );
  }
  ctx.data ??= await fashionMnist();
  const r = await runMeasurement(measurementSpec(name), { preset: ctx.preset, data: ctx.data, log: () => {} });
  return r as MeasureRecord<MeasurementData[K]>;
}

/**
 * A measurement from the best-trained networks stored: the reference tier's (the full preset's)
 * where one is stored, else this preset's (made here if missing, as `measured` does).
 */
export async function measuredBest<K extends keyof MeasurementData>(
  ctx: NotebookContext,
  name: K,
): Promise<MeasureRecord<MeasurementData[K]>> {
  const ref = ctx.preset === "full" ? null : await referenceMeasurement(ctx.records, name);
  return (ref as MeasureRecord<MeasurementData[K]> | null) ?? await measured(ctx, name);
}

/** The page's "Settings and provenance" block for the experiments it shows. */
export async function showSettings(ctx: NotebookContext, names: string[], runs: RunRecord[]): Promise<void> {
  const s = summaries(runs, names, ctx.lang);
  await showHtml(settingsHtml(ctx.m, ctx.preset, names, runs, pageDf(s)), ctx.m.settings);
}

export { customExperiment, experiment, variant } from "../exp/experiments.ts";
export { epochsFrame, runsFrame } from "../exp/store.ts";

/** Any polars DataFrame as a table (every column; numbers to four decimals). */
export async function showFrame(df: pl.DataFrame, caption?: string): Promise<void> {
  const cols = df.columns.map((c) => ({
    label: c,
    cell: (
      r: Record<string, unknown>,
    ) => (typeof r[c] === "number" ? Number((r[c] as number).toFixed(4)).toString() : String(r[c] ?? "")),
    numeric: df.getColumn(c).isNumeric(),
  }));
  await showHtml(tableHtml(df.toRecords() as Record<string, unknown>[], cols, caption), df.toString());
}

/**
 * Whether a notebook's "Try it" cell runs: always in an editor; under `deno task report`
 * (CNNLAB_REPORT=1) only when CNNLAB_TRY=1, so the published pages stay what the report measured.
 */
export function tryIt(): boolean {
  return !flagSetting("CNNLAB_REPORT") || flagSetting("CNNLAB_TRY");
}

/** A small table for a "Try it" cell: test accuracy (95% interval), the difference from the first, seconds per epoch. */
export async function showComparison(ctx: NotebookContext, runs: RunRecord[], names: string[]): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, names, ctx.lang);
  const first = page[0];
  await showHtml(
    tableHtml<Summary>(page, [
      { label: m.experiment, cell: (x) => x.label, numeric: false },
      { label: m.colTestAcc, cell: (x) => withHalf(x.testAcc, x.testAccHalf), numeric: true },
      {
        label: m.colDelta(first?.label ?? ""),
        cell: (x) => (first && x !== first ? deltaCell(versus(first, x, page)) : ""),
        numeric: true,
      },
      { label: m.colSecondsPerEpoch, cell: (x) => fixed(x.secondsPerEpoch), numeric: true },
    ]),
    page.map((x) => `${x.label}: ${x.testAcc.toFixed(4)}`).join("\n"),
  );
}

/**
 * The network an experiment trains at the notebook's preset, layer by layer (type, output shape,
 * parameters, multiply-adds), folded under its name so the page stays short.
 */
export async function showModel(ctx: NotebookContext, name: string): Promise<void> {
  const t = modelTable(ctx.m, ctx.lang, name, ctx.preset);
  await showHtml(t.html, t.text);
}
