/**
 * The results store: one JSON record per (experiment, preset, config hash, seed) run under
 * `outputs/results/`, written atomically, and polars loaders for the notebooks.
 */
import pl from "nodejs-polars";
import { exists, PROJECT_ROOT, writeFileAtomic } from "../util/fs.ts";
import type { EpochMetrics, RunStatus, TrainConfig } from "../train/trainer.ts";
import type { Preset, Question } from "./experiments.ts";

export interface RunRecord {
  experiment: string;
  question: Question;
  label: string;
  preset: Preset;
  seed: number;
  configHash: string;
  status: RunStatus;
  message?: string;
  backend: string;
  device: string;
  precision: string;
  /** Gradient-accumulation slice when the batch did not fit the GPU (= batch size otherwise). */
  microBatch?: number;
  params: number;
  macs: number;
  /** Sum over epochs of training wall time (evaluation excluded). */
  trainSeconds: number;
  evalSeconds: number;
  /** Test accuracy after the last completed epoch (NaN if none completed). */
  testAcc: number;
  imagesPerSecond: number;
  peakRssMB: number;
  epochs: EpochMetrics[];
  config: TrainConfig;
  resumedFrom: number;
  versions: { cnnlab: string; deno: string; tfjs: string };
  gitCommit: string | null;
  startedAt: string;
  endedAt: string;
}

/** Root of all outputs (override with CNNLAB_OUTPUTS, e.g. in tests). */
export function outputsDir(): string {
  return Deno.env.get("CNNLAB_OUTPUTS") ?? `${PROJECT_ROOT}/outputs`;
}

const slug = (experiment: string) => experiment.replaceAll("/", "__").replaceAll("@", "_at_");

export function recordPath(experiment: string, preset: string, hash: string, seed: number): string {
  return `${outputsDir()}/results/${slug(experiment)}/${preset}/${hash}-seed${seed}.json`;
}

export function checkpointDir(experiment: string, preset: string, hash: string, seed: number): string {
  return `${outputsDir()}/checkpoints/${slug(experiment)}/${preset}/${hash}-seed${seed}`;
}

export async function writeRecord(r: RunRecord): Promise<string> {
  const path = recordPath(r.experiment, r.preset, r.configHash, r.seed);
  // NaN is not JSON: store it as null and read it back as NaN.
  await writeFileAtomic(
    path,
    JSON.stringify(r, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n",
  );
  return path;
}

function revive(r: RunRecord): RunRecord {
  if (r.testAcc === null) r.testAcc = NaN;
  return r;
}

export async function readRecord(path: string): Promise<RunRecord | null> {
  if (!(await exists(path))) return null;
  return revive(JSON.parse(await Deno.readTextFile(path)));
}

/** Every stored record, optionally filtered; unreadable files are reported, not fatal. */
export async function loadRecords(
  filter: { experiment?: string; preset?: string; question?: string } = {},
): Promise<RunRecord[]> {
  const root = `${outputsDir()}/results`;
  const out: RunRecord[] = [];
  if (!(await exists(root))) return out;
  for await (const exp of Deno.readDir(root)) {
    if (!exp.isDirectory) continue;
    for await (const pre of Deno.readDir(`${root}/${exp.name}`)) {
      if (!pre.isDirectory || (filter.preset && pre.name !== filter.preset)) continue;
      for await (const f of Deno.readDir(`${root}/${exp.name}/${pre.name}`)) {
        if (!f.name.endsWith(".json")) continue;
        const path = `${root}/${exp.name}/${pre.name}/${f.name}`;
        try {
          const r = revive(JSON.parse(await Deno.readTextFile(path)));
          if (filter.experiment && r.experiment !== filter.experiment) continue;
          if (filter.question && r.question !== filter.question) continue;
          out.push(r);
        } catch (e) {
          console.error(`results: skipping unreadable ${path}: ${(e as Error).message}`);
        }
      }
    }
  }
  return out.sort((a, b) =>
    a.experiment.localeCompare(b.experiment) || a.preset.localeCompare(b.preset) || a.seed - b.seed
  );
}

/** One row per run: the flat fields of every record. */
export function runsFrame(records: RunRecord[]): pl.DataFrame {
  return pl.DataFrame({
    experiment: records.map((r) => r.experiment),
    label: records.map((r) => r.label),
    preset: records.map((r) => r.preset),
    seed: records.map((r) => r.seed),
    configHash: records.map((r) => r.configHash),
    status: records.map((r) => r.status),
    backend: records.map((r) => r.backend),
    device: records.map((r) => r.device),
    params: records.map((r) => r.params),
    macs: records.map((r) => r.macs),
    inputSize: records.map((r) => r.config.inputSize),
    epochs: records.map((r) => r.epochs.length),
    trainSeconds: records.map((r) => r.trainSeconds),
    imagesPerSecond: records.map((r) => r.imagesPerSecond),
    testAcc: records.map((r) => r.testAcc),
    trainAcc: records.map((r) => r.epochs.at(-1)?.trainAcc ?? NaN),
  });
}

/** One row per (run, epoch): learning curves. */
export function epochsFrame(records: RunRecord[]): pl.DataFrame {
  const rows = records.flatMap((r) =>
    r.epochs.map((e) => ({ experiment: r.experiment, label: r.label, preset: r.preset, seed: r.seed, ...e }))
  );
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  return pl.DataFrame({
    experiment: col("experiment"),
    label: col("label"),
    preset: col("preset"),
    seed: col("seed"),
    epoch: col("epoch"),
    trainLoss: col("trainLoss"),
    trainAcc: col("trainAcc"),
    testLoss: col("testLoss"),
    testAcc: col("testAcc"),
    trainSeconds: col("trainSeconds"),
    evalSeconds: col("evalSeconds"),
    imagesPerSecond: col("imagesPerSecond"),
  });
}
