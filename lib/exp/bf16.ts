/**
 * bf16 where it is safe. On CPUs with AVX512_BF16 or AMX the native backend can train in bf16
 * (bf16 convolutions and matmuls, fp32 weights and accumulation), about twice as fast; but an
 * experiment uses it under `--precision auto` only when a stored check for its model family shows
 * bf16 within half a point of fp32 (the same runs in both precisions). Every check of the family
 * must pass; no check means fp32. The checks live in lib/exp/bf16-checks.json, made by
 * `deno task bf16-check` on such a CPU.
 */
import { PROJECT_ROOT } from "../util/fs.ts";
import { modelEntry } from "../models/registry.ts";
import type { Precision } from "../backend/native.ts";
import type { Experiment } from "./experiments.ts";
import { mean } from "../util/stats.ts";

export const BF16_CHECKS = `${PROJECT_ROOT}/lib/exp/bf16-checks.json`;
/** Largest |mean bf16 − mean fp32| accuracy difference (0.5 points) for a family to train in bf16. */
export const BF16_TOLERANCE = 0.005;

export interface Bf16Check {
  /** Model family (the registry's: LeNet, AlexNet, VGG, NiN, Inception, ResNet). */
  family: string;
  experiment: string;
  preset: string;
  /** Accuracies of the same seeds in each precision. */
  fp32: number[];
  bf16: number[];
  device: string;
  date: string;
}

export function loadBf16Checks(path = BF16_CHECKS): Bf16Check[] {
  try {
    const v = JSON.parse(Deno.readTextFileSync(path));
    return Array.isArray(v) ? v.filter((c) => typeof c?.family === "string" && Array.isArray(c?.fp32)) : [];
  } catch {
    return [];
  }
}

/** Whether a family may train in bf16, and why (which check decided). */
export function bf16Safe(checks: Bf16Check[], family: string): { safe: boolean; why: string } {
  const mine = checks.filter((c) => c.family === family && c.fp32.length && c.bf16.length);
  if (mine.length === 0) return { safe: false, why: `no stored bf16 check for the ${family} family` };
  for (const c of mine) {
    const d = mean(c.bf16) - mean(c.fp32);
    if (!(Math.abs(d) <= BF16_TOLERANCE)) {
      return {
        safe: false,
        why: `${c.experiment} (${c.preset}): bf16 ${(d * 100).toFixed(1)} points from fp32, beyond ±${
          BF16_TOLERANCE * 100
        }`,
      };
    }
  }
  return { safe: true, why: `${mine.length} check(s) of ${family} within ±${BF16_TOLERANCE * 100} points` };
}

/** The precision an experiment trains in: as requested, or under "auto" bf16 only where the CPU has it and the family passed. */
export function precisionFor(
  e: Experiment,
  requested: Precision | "auto",
  cpuHasBf16: boolean,
  checks: Bf16Check[] = loadBf16Checks(),
): { precision: Precision; why: string } {
  if (requested !== "auto") return { precision: requested, why: "requested" };
  if (!cpuHasBf16) return { precision: "fp32", why: "this CPU has no AVX512_BF16 or AMX" };
  const s = bf16Safe(checks, modelEntry(e.model).family);
  return { precision: s.safe ? "bf16" : "fp32", why: s.why };
}
