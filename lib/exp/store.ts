/**
 * The results store: one JSON record per (experiment, preset, config hash, seed) run under
 * `outputs/results/`, written atomically, and polars loaders for the notebooks.
 */
import pl from "nodejs-polars";
import { resolve, sep } from "node:path";
import { exists, layerTimingsDir, outputsDir, writeFileAtomic } from "../util/fs.ts";
import type { EpochMetrics, RunStatus, TrainConfig } from "../train/trainer.ts";
import { type Preset, PRESETS, type Question } from "./experiments.ts";
import type { LayerPlanSummary } from "../backend/native.ts";

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
  /** In bf16 (native): layers computed in each precision, as the machine's layer timings chose. */
  layerPlan?: LayerPlanSummary;
  /** Gradient-accumulation slice when the batch did not fit the GPU (= batch size otherwise). */
  microBatch?: number;
  params: number;
  macs: number;
  /** Most other runs seen training on this machine (its store's live locks) at the run's start and end; absent in older records. */
  othersTraining?: number;
  /** Sum over epochs of training wall time (evaluation excluded). */
  trainSeconds: number;
  evalSeconds: number;
  /** Test accuracy after the last completed epoch (NaN if none completed, and in tuning runs). */
  testAcc: number;
  /** Test images behind testAcc (0 in tuning runs; absent in records that predate it). */
  testImages?: number;
  /** Validation accuracy after the last epoch (tuning runs, config.validation set). */
  valAcc?: number;
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

/** Root of all outputs (CNNLAB_OUTPUTS), and where layer timings are kept: lib/util/fs.ts. */
export { layerTimingsDir, outputsDir };

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

export class RecordError extends Error {
  override name = "RecordError";
}

const STATUSES = ["ok", "diverged", "interrupted"];

/**
 * An experiment's name: a group, '/', and a name without '/', '\\' or spaces (a variant's
 * `~overrides` included). Its file is one folder, `<group>__<name>`, so it never climbs out.
 */
export const EXPERIMENT_NAME = /^[a-z][a-z0-9-]*\/(?![.]{1,2}$)[^\s/\\]+$/;
/** A configuration hash: the first 12 hex digits of a SHA-256 (experiments.ts: configHash). */
const CONFIG_HASH = /^[0-9a-f]{12}$/;

/** The numeric fields of an epoch entry (EpochMetrics) that pages and tables read. */
const EPOCH_NUMBERS = [
  "trainLoss",
  "trainAcc",
  "trainEvalLoss",
  "trainEvalAcc",
  "testLoss",
  "testAcc",
  "valLoss",
  "valAcc",
  "trainSeconds",
  "evalSeconds",
  "imagesPerSecond",
  "lr",
  "peakRssMB",
] as const satisfies readonly (keyof EpochMetrics)[];
const OPTIONAL_EPOCH_NUMBERS = new Set<string>(["valLoss", "valAcc"]);

/**
 * Check a parsed JSON value against the record schema (the fields every reader relies on) and
 * turn stored nulls back into NaN. Throws RecordError naming the file and the first bad field.
 */
export function validateRecord(v: unknown, path: string): RunRecord {
  const bad = (why: string): never => {
    throw new RecordError(`${path}: not a cnnlab run record (${why})`);
  };
  if (!v || typeof v !== "object" || Array.isArray(v)) bad(Array.isArray(v) ? "an array" : `a ${typeof v}`);
  const r = v as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === "string" || bad(`field '${k}' missing or not a string`);
  const num = (k: string) => typeof r[k] === "number" || r[k] === null || bad(`field '${k}' missing or not a number`);
  for (const k of ["experiment", "question", "label", "preset", "configHash", "backend", "device"]) str(k);
  for (const k of ["params", "macs", "trainSeconds", "evalSeconds", "testAcc", "imagesPerSecond", "peakRssMB"]) num(k);
  // The fields that name the record's file: each within its grammar, so no record can name a path outside the store.
  if (!EXPERIMENT_NAME.test(r.experiment as string)) {
    bad(`experiment ${JSON.stringify(r.experiment)} is not a name like q1a/relu or q1a/relu~epochs=3`);
  }
  if (!(PRESETS as readonly unknown[]).includes(r.preset)) {
    bad(`preset ${JSON.stringify(r.preset)} is not one of ${PRESETS.join(", ")}`);
  }
  if (!CONFIG_HASH.test(r.configHash as string)) bad(`configHash ${JSON.stringify(r.configHash)} is not 12 hex digits`);
  if (!Number.isInteger(r.seed) || (r.seed as number) < 0) bad("field 'seed' missing or not an integer ≥ 0");
  if (!STATUSES.includes(r.status as string)) bad(`status '${r.status}' is not one of ${STATUSES.join(", ")}`);
  if (!Array.isArray(r.epochs)) bad("field 'epochs' missing or not a list");
  if (!r.config || typeof r.config !== "object") bad("field 'config' missing");
  const cfg = r.config as Record<string, unknown>;
  if (typeof cfg.model !== "string" || typeof cfg.inputSize !== "number" || typeof cfg.epochs !== "number") {
    bad("config lacks model, inputSize or epochs");
  }
  for (const k of ["testAcc", "trainSeconds", "evalSeconds", "imagesPerSecond", "valAcc"]) {
    if (r[k] === null) r[k] = NaN;
  }
  (r.epochs as Record<string, unknown>[]).forEach((e, i) => {
    if (!e || typeof e !== "object" || Array.isArray(e)) bad(`epoch entry ${i + 1} is not an object`);
    if (e.epoch !== i + 1) bad(`epoch entry ${i + 1} says epoch ${JSON.stringify(e.epoch)}`);
    for (const k of EPOCH_NUMBERS) {
      const x = e[k];
      if (x === undefined && OPTIONAL_EPOCH_NUMBERS.has(k)) continue;
      if (typeof x !== "number" && x !== null) {
        bad(`epoch ${i + 1}: field '${k}' is ${JSON.stringify(x)}, not a number`);
      }
    }
    for (const [k, x] of Object.entries(e)) if (x === null) e[k] = NaN;
  });
  return r as unknown as RunRecord;
}

/**
 * A stored JSON file checked by `validate`, or null when there is none; an unreadable, damaged or
 * invalid file throws RecordError naming it (runs and measurements alike).
 */
export async function readStoredJson<T>(path: string, validate: (v: unknown, path: string) => T): Promise<T | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new RecordError(`${path}: unreadable (${(e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RecordError(`${path}: not valid JSON (${(e as Error).message}); truncated or damaged`);
  }
  return validate(v, path);
}

/** A stored record, or null when there is none. A bad file throws RecordError naming it. */
export function readRecord(path: string): Promise<RunRecord | null> {
  return readStoredJson(path, validateRecord);
}

const reported = new Set<string>();

/** Say once per process that a file in the store was skipped, with its path and why. */
export function reportBadFile(message: string, log: (line: string) => void = (l) => console.error(l)): void {
  if (reported.has(message)) return;
  reported.add(message);
  log(`results: skipped ${message}`);
}

/** Every stored record, optionally filtered; unreadable files are reported, not fatal. */
export async function loadRecords(
  filter: { experiment?: string; preset?: string; question?: string } = {},
): Promise<RunRecord[]> {
  const root = `${outputsDir()}/results`;
  const out: RunRecord[] = [];
  if (!(await exists(root))) return out;
  const dirs = async (path: string) => {
    const names: { name: string; isDirectory: boolean; isFile: boolean }[] = [];
    try {
      for await (const e of Deno.readDir(path)) names.push(e);
    } catch (e) {
      reportBadFile(`${path}: unreadable folder (${(e as Error).message})`);
    }
    return names;
  };
  for (const exp of await dirs(root)) {
    if (!exp.isDirectory) continue;
    for (const pre of await dirs(`${root}/${exp.name}`)) {
      if (!pre.isDirectory || (filter.preset && pre.name !== filter.preset)) continue;
      for (const f of await dirs(`${root}/${exp.name}/${pre.name}`)) {
        if (!f.name.endsWith(".json")) continue;
        const path = `${root}/${exp.name}/${pre.name}/${f.name}`;
        try {
          const r = await readRecord(path);
          if (!r) continue;
          if (filter.experiment && r.experiment !== filter.experiment) continue;
          if (filter.question && r.question !== filter.question) continue;
          out.push(r);
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
          reportBadFile(e.message);
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
    /** Inference-mode train accuracy after the last epoch. */
    trainAcc: records.map((r) => r.epochs.at(-1)?.trainEvalAcc ?? NaN),
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

/** What `mergeStores` did. */
export interface MergeResult {
  copied: number;
  /** Records already present with the same results. */
  same: number;
  /** "<path>: ..." for each record present in both with different results (not copied). */
  conflicts: string[];
  /** Unreadable or invalid files skipped (each reported once). */
  bad: number;
}

/** The parts of a record that must agree for two copies of one run to be the same: what a page shows of it. */
function resultKey(r: RunRecord): string {
  return JSON.stringify(
    [r.label, r.status, r.testAcc, r.epochs.map((e) => [e.trainLoss, e.testAcc, e.testLoss])],
    (_k, v) => typeof v === "number" && !Number.isFinite(v) ? null : v,
  );
}

/** How two copies of one run differ (for the conflict line). */
function difference(mine: RunRecord, theirs: RunRecord): string {
  if (mine.label !== theirs.label) return `labels ${JSON.stringify(mine.label)} and ${JSON.stringify(theirs.label)}`;
  return `test acc ${mine.testAcc} and ${theirs.testAcc}`;
}

/** Whether `path` lies inside folder `root` (both resolved). */
export function isInside(path: string, root: string): boolean {
  const r = resolve(root);
  return resolve(path).startsWith(r.endsWith(sep) ? r : r + sep);
}

/**
 * Copy every record of other stores (their `results/` folders) into this one (`outputsDir()`).
 * One rule for a run present in both (this store, or a store listed earlier, first): the same
 * label and results → left alone; any difference there (label, status, accuracy or a curve) → a
 * conflict, reported naming both files, and the copy already in this store is kept. A record
 * whose path fields fall outside their grammar is a bad file, never written; every path written
 * is checked to lie under this store's results/. Written atomically, record by record.
 */
export async function mergeStores(stores: string[]): Promise<MergeResult> {
  const res: MergeResult = { copied: 0, same: 0, conflicts: [], bad: 0 };
  const walk = async function* (dir: string): AsyncGenerator<string> {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory) yield* walk(`${dir}/${e.name}`);
      else if (e.isFile && e.name.endsWith(".json")) yield `${dir}/${e.name}`;
    }
  };
  for (const store of stores) {
    const root = `${store.replace(/\/$/, "")}/results`;
    if (!(await exists(root))) throw new RecordError(`${store}: no results/ folder: not a cnnlab outputs folder`);
    for await (const path of walk(root)) {
      let r: RunRecord | null;
      try {
        r = await readRecord(path);
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        reportBadFile(e.message);
        res.bad++;
        continue;
      }
      if (!r) continue;
      const target = recordPath(r.experiment, r.preset, r.configHash, r.seed);
      if (!isInside(target, `${outputsDir()}/results`)) {
        reportBadFile(`${path}: names a path outside the store (${target})`);
        res.bad++;
        continue;
      }
      let mine: RunRecord | null = null;
      try {
        mine = await readRecord(target);
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        reportBadFile(`${e.message}; replaced by ${path}`);
      }
      if (!mine) {
        await writeRecord(r);
        res.copied++;
      } else if (resultKey(mine) === resultKey(r)) res.same++;
      else {
        res.conflicts.push(
          `${target} and ${path} are the same run with different ${difference(mine, r)}; kept ${target}`,
        );
      }
    }
  }
  return res;
}

/**
 * Publish records into a file of published records (`outputs/published/results/<preset>.json`, or
 * `measurements-<preset>.json`): the published records `drop` accepts give way to `records`; all
 * others stay, so publishing one question, one seed or one reference run never drops another's.
 * Written atomically.
 */
export async function publishRecords<T extends object>(
  file: string,
  records: T[],
  drop: (published: Record<string, unknown>) => boolean,
): Promise<{ written: number; kept: number }> {
  let kept: Record<string, unknown>[] = [];
  try {
    kept = (JSON.parse(await Deno.readTextFile(file)) as Record<string, unknown>[]).filter((r) => !drop(r));
  } catch {
    kept = [];
  }
  // NaN is written as null.
  await writeFileAtomic(file, JSON.stringify([...kept, ...records], null, 1) + "\n");
  return { written: records.length, kept: kept.length };
}

/**
 * What new run records replace when published: the same experiment's run with the same seed, and
 * its runs of another configuration (stale). The experiment's other seeds stay — a seed trained on
 * another machine, published earlier, is not lost.
 */
export function replacedBy(records: RunRecord[]): (published: Record<string, unknown>) => boolean {
  const hashOf = new Map(records.map((r) => [r.experiment, r.configHash]));
  const seeds = new Set(records.map((r) => `${r.experiment}|${r.seed}`));
  return (p) => {
    const hash = hashOf.get(String(p.experiment));
    return hash !== undefined && (p.configHash !== hash || seeds.has(`${p.experiment}|${p.seed}`));
  };
}

/** Where variants are declared so that every process (the CLI, workers, notebooks) knows them by name. */
export function variantsDir(): string {
  return `${outputsDir()}/variants`;
}

const variantFile = (name: string) => `${variantsDir()}/${slug(name).replaceAll("~", "--")}.json`;

/** Declare a variant (base experiment + overrides) in the store, atomically; the same name always maps to the same file. */
export async function saveVariant(v: { name: string; base?: string; overrides?: unknown }): Promise<void> {
  if (!v.base || !v.overrides) return;
  await writeFileAtomic(
    variantFile(v.name),
    JSON.stringify({ name: v.name, base: v.base, overrides: v.overrides }, null, 1) + "\n",
  );
}

/** Every variant declared in the store, registered in this process; bad files are reported once and skipped. */
export async function loadVariants(
  register: (base: string, overrides: Record<string, unknown>, name: string) => unknown,
): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(variantsDir()));
  } catch {
    return out;
  }
  for (
    const e of entries.filter((e) => e.isFile && e.name.endsWith(".json")).sort((a, b) => a.name.localeCompare(b.name))
  ) {
    const path = `${variantsDir()}/${e.name}`;
    try {
      const v = JSON.parse(await Deno.readTextFile(path));
      if (
        typeof v?.base !== "string" || typeof v?.name !== "string" || !v.overrides || typeof v.overrides !== "object"
      ) {
        throw new Error("not a variant declaration");
      }
      const key = v.name.slice(v.base.length + 1);
      register(v.base, v.overrides, key);
      out.push(v.name);
    } catch (err) {
      reportBadFile(`${path}: ${(err as Error).message}`);
    }
  }
  return out;
}
