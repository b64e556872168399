/**
 * What every notebook starts with: the backend, the preset (CNNLAB_PRESET, default laptop),
 * a banner stating both, and `ensure()` to reuse stored results or run only the missing
 * experiments with the live progress bar.
 */
import { type BackendInfo, initBackend } from "../backend/mod.ts";
import { type Dataset, fashionMnist } from "../data/dataset.ts";
import { experiment, parsePreset, type Preset } from "../exp/experiments.ts";
import { CNNLAB_VERSION, gitCommit, runExperiment } from "../exp/runner.ts";
import type { RunRecord } from "../exp/store.ts";
import { createProgress } from "../train/progress.ts";
import { showHtml } from "./display.ts";
import { esc } from "./render.ts";

export interface NotebookContext {
  id: string;
  preset: Preset;
  backend: BackendInfo;
  data: Dataset;
  startedAt: Date;
}

export async function setupNotebook(id: string): Promise<NotebookContext> {
  const preset = parsePreset(Deno.env.get("CNNLAB_PRESET") ?? "laptop");
  const backend = await initBackend({ log: null });
  const data = await fashionMnist();
  const ctx = { id, preset, backend, data, startedAt: new Date() };
  const commit = (await gitCommit())?.slice(0, 10) ?? "no git";
  await showHtml(
    `<div class="cnnlab-banner" data-preset="${esc(preset)}" data-backend="${esc(backend.name)}"><b>preset</b> ${
      esc(preset)
    } · <b>backend</b> ${esc(backend.name)} · <b>device</b> ${esc(backend.device)} · <b>run</b> ${
      ctx.startedAt.toISOString().slice(0, 16).replace("T", " ")
    } UTC · cnnlab ${CNNLAB_VERSION} (${esc(commit)})</div>`,
    `preset ${preset} · backend ${backend.name} · device ${backend.device}`,
  );
  return ctx;
}

/** Records for the named experiments at the notebook's preset: stored ones reused, missing ones trained now. */
export async function ensure(ctx: NotebookContext, names: string[]): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  const progress = createProgress();
  for (const name of names) {
    const results = await runExperiment(experiment(name), {
      preset: ctx.preset,
      data: ctx.data,
      progress,
      log: () => {},
    });
    out.push(...results.map((r) => r.record));
  }
  return out;
}
