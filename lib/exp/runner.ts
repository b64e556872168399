/**
 * Running experiments: resolve the configuration for a preset, reuse a stored result with
 * the same configuration hash, otherwise claim the run's lock, train (with checkpoints) and
 * store the record. Several workers can share one store: a run another live process holds
 * is waited for or skipped, never trained twice.
 */
import { statfsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { cpuHasBf16, currentBackend, setPrecision } from "../backend/mod.ts";
import type { Precision } from "../backend/native.ts";
import { precisionFor } from "./bf16.ts";
import { type Dataset, fashionMnist } from "../data/dataset.ts";
import { exists, PROJECT_ROOT } from "../util/fs.ts";
import { train, type TrainHooks } from "../train/trainer.ts";
import type { Progress } from "../train/progress.ts";
import { configHash, type Experiment, type Preset, presetSeeds, resolveConfig } from "./experiments.ts";
import { acquireLock, currentOwner, type Lock, LockBusy, lockHolder } from "./lock.ts";
export { currentHashes, currentRecords } from "./records.ts";
import {
  checkpointDir,
  layerTimingsDir,
  outputsDir,
  readRecord,
  RecordError,
  recordPath,
  reportBadFile,
  type RunRecord,
  saveVariant,
  writeRecord,
} from "./store.ts";

export const CNNLAB_VERSION = "0.2.0";

/** The checked-out commit, read from .git without running git (null outside a clone). */
export async function gitCommit(root = PROJECT_ROOT): Promise<string | null> {
  try {
    const head = (await Deno.readTextFile(`${root}/.git/HEAD`)).trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    if (await exists(`${root}/.git/${ref}`)) return (await Deno.readTextFile(`${root}/.git/${ref}`)).trim();
    const packed = await Deno.readTextFile(`${root}/.git/packed-refs`).catch(() => "");
    return packed.split("\n").find((l) => l.endsWith(` ${ref}`))?.split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

export class RunError extends Error {
  override name = "RunError";
}

export interface RunOptions {
  preset: Preset;
  /** Default: the preset's seeds. */
  seeds?: number[];
  force?: boolean;
  resume?: boolean;
  data?: Dataset;
  progress?: Progress;
  stop?: { requested: boolean };
  log?: (line: string) => void;
  /** Log a line for each stored result reused (default true; a notebook reuses dozens silently). */
  logReuse?: boolean;
  onModel?: TrainHooks["onModel"];
  /**
   * A run another live process is training: wait for its record (default), skip it with a line
   * saying who holds it, or pass it silently (a report's queue workers, which share one queue).
   */
  busy?: "wait" | "skip" | "pass";
  /** With busy "skip" or "pass": the skipped runs are added here (seed and who holds them). */
  skipped?: { experiment: string; seed: number; why: string }[];
  /** "auto": bf16 where the CPU has it and the model family passed its stored check (lib/exp/bf16.ts). */
  precision?: Precision | "auto";
}

export interface RunResult {
  record: RunRecord;
  /** True when an existing record was reused instead of training. */
  reused: boolean;
  path: string;
  seed: number;
}

/** The stored record at `path`; a bad file is reported once and treated as absent (the run trains again). */
async function storedRecord(path: string, log: (l: string) => void): Promise<RunRecord | null> {
  try {
    return await readRecord(path);
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    reportBadFile(`${e.message}; it will be replaced when this run trains`, log);
    return null;
  }
}

/** Whether a stored record stands for the run asked: finished, and of the precision this backend computes in. */
function reusable(r: RunRecord | null, precision: string): r is RunRecord {
  return r !== null && r.status !== "interrupted" && (r.precision ?? "fp32") === precision;
}

/** Lock file of one run (beside its checkpoints, which it also guards). */
export function lockPath(experiment: string, preset: string, hash: string, seed: number): string {
  return `${checkpointDir(experiment, preset, hash, seed)}.lock`;
}

/**
 * How many other runs are training on this machine now: the live locks in the store held by
 * another process on this host. A measurement records it, so a timing taken while other
 * runs shared the cores says so.
 */
export function othersTraining(): number {
  const root = `${outputsDir()}/checkpoints`;
  const host = currentOwner().host;
  let n = 0;
  const walk = (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory && depth < 2) walk(`${dir}/${e.name}`, depth + 1);
      else if (e.isFile && e.name.endsWith(".lock")) {
        const o = lockHolder(`${dir}/${e.name}`);
        if (o && o.host === host && o.pid !== Deno.pid) n++;
      }
    }
  };
  walk(root, 0);
  return n;
}

/** The outputs folder takes files (results and checkpoints), or one line naming the fix. */
export async function checkWritable(): Promise<void> {
  const root = outputsDir();
  try {
    await Deno.mkdir(`${root}/results`, { recursive: true });
    await Deno.mkdir(`${root}/checkpoints`, { recursive: true });
    const probe = `${root}/results/.write-probe-${Deno.pid}`;
    await Deno.writeTextFile(probe, "ok");
    await Deno.remove(probe);
  } catch (e) {
    throw new RunError(
      `outputs folder ${root} is not writable (${(e as Error).name}: ${
        (e as Error).message.split("\n")[0]
      }); fix: make it writable, or set CNNLAB_OUTPUTS to a writable folder`,
    );
  }
}

/**
 * Fail before training, not after the first epoch: the outputs folder (already found writable by
 * checkWritable() before the run's lock was taken) must hold at least one checkpoint (weights +
 * optimizer state ≈ 3 × 4 bytes per parameter) and a record.
 */
export function checkOutputs(params: number): void {
  const root = outputsDir();
  const need = 3 * 4 * params + (1 << 20);
  try {
    const fs = statfsSync(root);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < need) {
      throw new RunError(
        `outputs folder ${root} has ${(free / 2 ** 20).toFixed(0)} MiB free, one checkpoint of this model needs ${
          (need / 2 ** 20).toFixed(0)
        } MiB; fix: free space, or set CNNLAB_OUTPUTS to a larger disk`,
      );
    }
  } catch (e) {
    if (e instanceof RunError) throw e; // statfs unavailable (no --allow-sys): the write probe must do
  }
}

const precisionSaid = new Set<string>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run (or reuse) every seed of one experiment at a preset. */
export async function runExperiment(e: Experiment, opts: RunOptions): Promise<RunResult[]> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const cfg = resolveConfig(e, opts.preset);
  const hash = await configHash(cfg);
  const out: RunResult[] = [];
  // A variant made in a notebook or by `deno task tune` becomes runnable by name from the CLI.
  if (e.base) await saveVariant(e);
  if (opts.precision) {
    const p = precisionFor(e, opts.precision, cpuHasBf16());
    setPrecision(p.precision);
    // Said once per process and reason: a queue worker would otherwise repeat it for every run.
    const said = `${p.precision} (${p.why})`;
    if (opts.precision === "auto" && !precisionSaid.has(said)) {
      precisionSaid.add(said);
      log(`${e.name}: ${said}`);
    }
  }
  for (const seed of opts.seeds ?? presetSeeds(e, opts.preset)) {
    const title = `${e.name} [${opts.preset}, seed ${seed}]`;
    const path = recordPath(e.name, opts.preset, hash, seed);
    // A bf16 result does not stand in for an fp32 one, nor the reverse.
    const precision = currentBackend()?.precision ?? "fp32";
    const reuse = (r: RunRecord) => {
      const a = r.valAcc !== undefined ? `validation acc ${r.valAcc.toFixed(4)}` : `test acc ${r.testAcc.toFixed(4)}`;
      if (opts.logReuse !== false) log(`${title}: reusing stored result (${r.status}, ${a})`);
      out.push({ record: r, reused: true, path, seed });
    };
    const old = await storedRecord(path, log);
    if (!opts.force && reusable(old, precision)) {
      reuse(old);
      continue;
    }
    const lp = lockPath(e.name, opts.preset, hash, seed);
    await checkWritable(); // the lock and the record go there: fail now, with the fix
    let lock: Lock | null = null;
    while (!lock) {
      try {
        lock = acquireLock(lp);
        if (lock.takenOver) log(`${title}: taking over the run from a dead worker (${lock.takenOver})`);
      } catch (err) {
        if (!(err instanceof LockBusy)) throw err;
        if (opts.busy === "skip" || opts.busy === "pass") break;
        log(`${title}: pid ${err.owner.pid} on ${err.owner.host} is training this run; waiting for its record`);
        while (lockHolder(lp)) {
          if (opts.stop?.requested) break;
          await sleep(2000);
        }
        if (opts.stop?.requested) break;
        const done = await storedRecord(path, log);
        if (reusable(done, precision)) {
          reuse(done);
          break;
        }
      }
    }
    if (!lock) {
      if (opts.busy === "skip" || opts.busy === "pass") {
        const holder = lockHolder(lp);
        const why = `pid ${holder?.pid ?? "?"} on ${holder?.host ?? "?"} is training it`;
        if (opts.busy === "skip") log(`${title}: skipped, ${why}`);
        opts.skipped?.push({ experiment: e.name, seed, why });
      }
      if (opts.stop?.requested) break;
      continue;
    }
    try {
      // Another worker may have finished this run between our first look and the lock.
      const now = opts.force ? null : await storedRecord(path, log);
      if (reusable(now, precision)) {
        reuse(now);
        continue;
      }
      const r = await trainOne(e, cfg, hash, seed, opts, title);
      // --force never replaces a finished record with an interrupted one.
      if (r.status === "interrupted" && old?.status === "ok") {
        log(`${title}: ${r.status}; the earlier ok record at ${path} is kept`);
        out.push({ record: r, reused: false, path, seed });
      } else {
        await writeRecord(r);
        out.push({ record: r, reused: false, path, seed });
      }
      if (r.status === "interrupted") break;
    } finally {
      lock.release();
    }
  }
  return out;
}

async function trainOne(
  e: Experiment,
  cfg: ReturnType<typeof resolveConfig>,
  hash: string,
  seed: number,
  opts: RunOptions,
  title: string,
): Promise<RunRecord> {
  const backend = currentBackend();
  if (!backend) throw new Error("no backend started: call initBackend() first");
  const data = opts.data ?? await fashionMnist();
  const ckdir = checkpointDir(e.name, opts.preset, hash, seed);
  if (!opts.resume) await Deno.remove(ckdir, { recursive: true }).catch(() => {});
  const startedAt = new Date().toISOString();
  const othersAtStart = othersTraining();
  const r = await train(cfg, seed, data, {
    checkpointDir: ckdir,
    resume: opts.resume,
    progress: opts.progress,
    title,
    stop: opts.stop,
    onModel: opts.onModel,
    beforeTraining: checkOutputs,
    build: e.build,
    layerTimingsDir: layerTimingsDir(),
  });
  const last = r.epochs.at(-1);
  return {
    experiment: e.name,
    question: e.question,
    label: e.label.en,
    preset: opts.preset,
    seed,
    configHash: hash,
    status: r.status,
    ...(r.message ? { message: r.message } : {}),
    backend: backend.name,
    device: backend.device,
    precision: backend.precision,
    ...(r.layerPlan ? { layerPlan: r.layerPlan } : {}),
    microBatch: r.microBatch,
    othersTraining: Math.max(othersAtStart, othersTraining()),
    params: r.params,
    macs: r.macs,
    trainSeconds: r.epochs.reduce((a, m) => a + m.trainSeconds, 0),
    evalSeconds: r.epochs.reduce((a, m) => a + m.evalSeconds, 0),
    testAcc: last?.testAcc ?? NaN,
    testImages: cfg.validation ? 0 : r.evalImages,
    ...(cfg.validation ? { valAcc: last?.valAcc ?? NaN } : {}),
    imagesPerSecond: r.epochs.length ? r.epochs.reduce((a, m) => a + m.imagesPerSecond, 0) / r.epochs.length : NaN,
    peakRssMB: Math.max(0, ...r.epochs.map((m) => m.peakRssMB)),
    epochs: r.epochs,
    config: cfg,
    resumedFrom: r.resumedFrom,
    versions: { cnnlab: CNNLAB_VERSION, deno: Deno.version.deno, tfjs: tf.version.tfjs },
    gitCommit: await gitCommit(),
    startedAt,
    endedAt: new Date().toISOString(),
  };
}
