/**
 * Running experiments: resolve the configuration for a preset, reuse a stored result with
 * the same configuration hash, otherwise train (with checkpoints) and store the record.
 */
import * as tf from "@tensorflow/tfjs";
import { currentBackend } from "../backend/mod.ts";
import { type Dataset, fashionMnist } from "../data/dataset.ts";
import { exists, PROJECT_ROOT } from "../util/fs.ts";
import { train, type TrainHooks } from "../train/trainer.ts";
import type { Progress } from "../train/progress.ts";
import { configHash, type Experiment, EXPERIMENTS, type Preset, presetSeeds, resolveConfig } from "./experiments.ts";
import { checkpointDir, loadRecords, readRecord, recordPath, type RunRecord, writeRecord } from "./store.ts";

export const CNNLAB_VERSION = "0.1.0";

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
  onModel?: TrainHooks["onModel"];
}

export interface RunResult {
  record: RunRecord;
  /** True when an existing record was reused instead of training. */
  reused: boolean;
  path: string;
}

/** Stored records of a preset that match the experiments' current configurations (stale ones left out). */
export async function currentRecords(preset: Preset): Promise<RunRecord[]> {
  const hashes = new Map<string, string>();
  for (const e of EXPERIMENTS.values()) hashes.set(e.name, await configHash(resolveConfig(e, preset)));
  return (await loadRecords({ preset })).filter((r) => hashes.get(r.experiment) === r.configHash);
}

/** Run (or reuse) every seed of one experiment at a preset. */
export async function runExperiment(e: Experiment, opts: RunOptions): Promise<RunResult[]> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const cfg = resolveConfig(e, opts.preset);
  const hash = await configHash(cfg);
  const out: RunResult[] = [];
  for (const seed of opts.seeds ?? presetSeeds(e, opts.preset)) {
    const path = recordPath(e.name, opts.preset, hash, seed);
    const old = await readRecord(path);
    // A bf16 result does not stand in for an fp32 one, nor the reverse.
    const precision = currentBackend()?.precision ?? "fp32";
    if (old && old.status !== "interrupted" && !opts.force && (old.precision ?? "fp32") === precision) {
      log(
        `${e.name} [${opts.preset}, seed ${seed}]: reusing stored result (${old.status}, test acc ${
          old.testAcc.toFixed(4)
        })`,
      );
      out.push({ record: old, reused: true, path });
      continue;
    }
    const backend = currentBackend();
    if (!backend) throw new Error("no backend started: call initBackend() first");
    const data = opts.data ?? await fashionMnist();
    const ckdir = checkpointDir(e.name, opts.preset, hash, seed);
    if (!opts.resume) await Deno.remove(ckdir, { recursive: true }).catch(() => {});
    const startedAt = new Date().toISOString();
    const r = await train(cfg, seed, data, {
      checkpointDir: ckdir,
      resume: opts.resume,
      progress: opts.progress,
      title: `${e.name} [${opts.preset}, seed ${seed}]`,
      stop: opts.stop,
      onModel: opts.onModel,
    });
    const last = r.epochs.at(-1);
    const record: RunRecord = {
      experiment: e.name,
      question: e.question,
      label: e.label,
      preset: opts.preset,
      seed,
      configHash: hash,
      status: r.status,
      ...(r.message ? { message: r.message } : {}),
      backend: backend.name,
      device: backend.device,
      precision: backend.precision,
      microBatch: r.microBatch,
      params: r.params,
      macs: r.macs,
      trainSeconds: r.epochs.reduce((a, m) => a + m.trainSeconds, 0),
      evalSeconds: r.epochs.reduce((a, m) => a + m.evalSeconds, 0),
      testAcc: last?.testAcc ?? NaN,
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
    await writeRecord(record);
    out.push({ record, reused: false, path });
    if (r.status === "interrupted") break;
  }
  return out;
}
