/**
 * What every notebook starts with: the preset and language (a notebook cell's values win over
 * CNNLAB_PRESET / CNNLAB_LANG, which `deno task report` sets), the backend, the dataset, and
 * `ensure()` to reuse stored results or train only the missing experiments with a live bar.
 */
import { type BackendInfo, initBackend } from "../backend/mod.ts";
import { type Dataset, fashionMnist } from "../data/dataset.ts";
import {
  type Experiment,
  experiment,
  parsePreset,
  type Preset,
  presetSeeds,
  resolveConfig,
} from "../exp/experiments.ts";
import { buildModel } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import { runExperiment } from "../exp/runner.ts";
import type { RunRecord } from "../exp/store.ts";
import { createProgress } from "../train/progress.ts";
import type pl from "nodejs-polars";
import { showHtml } from "./display.ts";
import { type Lang, type Messages, messages, parseLang } from "./i18n.ts";
import { deltaCell, pageDf, settingsHtml, summaries, versus } from "./shared.ts";
import { esc, tableHtml } from "./render.ts";
import { labelOf, thousandsOf, withHalf } from "./i18n.ts";
import type { Summary } from "./analysis.ts";

export interface NotebookContext {
  id: string;
  preset: Preset;
  lang: Lang;
  m: Messages;
  backend: BackendInfo;
  data: Dataset;
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

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

export async function setupNotebook(id: string, opts: NotebookOptions = {}): Promise<NotebookContext> {
  const preset = parsePreset(opts.preset ?? env("CNNLAB_PRESET") ?? "laptop");
  const lang = parseLang(opts.lang ?? env("CNNLAB_LANG") ?? "en");
  const backend = await initBackend({ log: null });
  const data = await fashionMnist();
  return { id, preset, lang, m: messages(lang), backend, data, seeds: opts.seeds, startedAt: new Date() };
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
  return env("CNNLAB_REPORT") !== "1" || env("CNNLAB_TRY") === "1";
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
      { label: m.colSecondsPerEpoch, cell: (x) => x.secondsPerEpoch.toFixed(1), numeric: true },
    ]),
    page.map((x) => `${x.label}: ${x.testAcc.toFixed(4)}`).join("\n"),
  );
}

/**
 * The network an experiment trains at the notebook's preset, layer by layer (type, output shape,
 * parameters, multiply-adds), folded under its name so the page stays short.
 */
export async function showModel(ctx: NotebookContext, name: string): Promise<void> {
  const e = experiment(name);
  const cfg = resolveConfig(e, ctx.preset);
  const model = buildModel(cfg.model, { ...cfg.modelOptions, inputSize: cfg.inputSize });
  const s = summarize(model);
  model.dispose();
  const rows = s.layers.filter((l) => l.trainable > 0 || /pool|flatten|concat|add/i.test(l.type));
  const m = ctx.m;
  await showHtml(
    `<details class="model"><summary>${esc(labelOf(ctx.lang, name, e.label))} — ${esc(cfg.model)} @${cfg.inputSize}: ${
      thousandsOf(s.trainable)
    } ${esc(m.colParams)}, ${thousandsOf(s.macs)} ${esc(m.colMacs)}</summary>` +
      tableHtml(rows, [
        { label: m.q2.colLayer, cell: (l) => l.name, numeric: false },
        { label: m.colType, cell: (l) => l.type, numeric: false },
        { label: "h×w×c", cell: (l) => l.outputShape.join("×"), numeric: true },
        { label: m.colParams, cell: (l) => thousandsOf(l.trainable), numeric: true },
        { label: m.colMacs, cell: (l) => thousandsOf(l.macs), numeric: true },
      ]) + `</details>`,
    `${name}: ${s.trainable} parameters`,
  );
}
