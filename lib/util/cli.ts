/**
 * Command-line parsing shared by the scripts: `node:util`'s parseArgs with cnnlab's error
 * convention (one line naming the problem and the valid choices, then the usage, exit 2),
 * and validators for the values our flags take.
 */
import { parseArgs } from "node:util";

export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

export class UsageError extends Error {
  override name = "UsageError";
}

/** Parse `argv` against `spec`; unknown options and missing values throw UsageError. */
export function parseCli<S extends OptionSpec>(argv: string[], spec: S) {
  try {
    return parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (e) {
    const m = (e as Error).message;
    const unknown = m.match(/Unknown option '([^']+)'/);
    if (unknown) {
      throw new UsageError(
        `unknown option '${unknown[1]}'; valid: ${Object.keys(spec).map((k) => `--${k}`).join(", ")}`,
      );
    }
    const needs = m.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/);
    if (needs) throw new UsageError(`${needs[1]} needs a value`);
    throw new UsageError(m.split("\n")[0]);
  }
}

/** An integer flag within [min, max]. */
export function intFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  }
  return n;
}

/** A finite number flag within (min, max]. */
export function numberFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || !(n > min) || n > max) {
    throw new UsageError(`--${name} must be a number above ${min} and at most ${max}, got '${v}'`);
  }
  return n;
}

/** Largest seed: seeds are mixed as 31-bit integers, so larger ones would alias smaller ones. */
export const MAX_SEED = 2 ** 31 - 1;

/** "1,2,3" → [1, 2, 3]: distinct integers in [0, MAX_SEED]. */
export function seedsFlag(v: string): number[] {
  const parts = v.split(",").map((s) => s.trim());
  // Decimal digits only: Number() would also read 0x10, 1e3 or 0b1 as a seed.
  const seeds = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0 || s > MAX_SEED)) {
    throw new UsageError(
      `--seeds must be a comma-separated list of decimal integers from 0 to ${MAX_SEED}, got '${v}'`,
    );
  }
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds lists a seed twice: '${v}'`);
  return seeds;
}

/** "k/n" → {k, n} with 1 ≤ k ≤ n. */
export function shardFlag(v: string): { k: number; n: number } {
  const m = v.match(/^(\d+)\/(\d+)$/);
  const k = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1) || !(k >= 1) || k > n || n > 10_000) {
    throw new UsageError(`--shard must be k/n with 1 ≤ k ≤ n (e.g. 2/4), got '${v}'`);
  }
  return { k, n };
}
