/**
 * The one way cnnlab times training steps (the planner's calibration, the measurements the pages
 * show, the benches): untimed warm-up steps (the first calls per shape allocate buffers and build
 * primitives), then timed rounds of a few steps each, until a minimum number of rounds is done
 * and the time budget or the maximum number of rounds is reached. Each round gives the mean
 * seconds of its steps, so a caller has its spread as well as its median.
 */
import { failpointThrow } from "../util/failpoint.ts";

export interface TimingOptions {
  /** Untimed steps first (default 2). */
  warmup?: number;
  /** ... and at least this many seconds of them (default 0). */
  warmupSeconds?: number;
  /** Steps per timed round (default 1). */
  stepsPerRound?: number;
  /** ... or more, so that a round lasts about this many seconds (judged from the last warm-up step; default 0). */
  roundSeconds?: number;
  /** Rounds at least (default 3). */
  minRounds?: number;
  /** Rounds at most (default 50). */
  maxRounds?: number;
  /** Stop starting rounds after this many seconds once minRounds are done (default 3). */
  budgetSeconds?: number;
}

/** Seconds per step, one value per timed round, in the order measured. */
export async function timeSteps(step: () => Promise<unknown>, opts: TimingOptions = {}): Promise<number[]> {
  failpointThrow("timing.steps");
  const min = Math.max(1, opts.minRounds ?? 3);
  const max = Math.max(min, opts.maxRounds ?? 50), budget = (opts.budgetSeconds ?? 3) * 1000;
  let last = 0;
  const w0 = performance.now();
  for (let i = 0; i < (opts.warmup ?? 2) || performance.now() - w0 < (opts.warmupSeconds ?? 0) * 1000; i++) {
    const s0 = performance.now();
    await step();
    last = (performance.now() - s0) / 1000;
  }
  const per = Math.max(1, opts.stepsPerRound ?? 1, last > 0 ? Math.ceil((opts.roundSeconds ?? 0) / last) : 1);
  const rounds: number[] = [];
  const t0 = performance.now();
  while (rounds.length < min || (rounds.length < max && performance.now() - t0 < budget)) {
    const s0 = performance.now();
    for (let i = 0; i < per; i++) await step();
    rounds.push((performance.now() - s0) / 1000 / per);
  }
  return rounds;
}

/**
 * A tfjs op wrapper (`op()`, named `…__op`, e.g. fusedMatMul__op): tf.profile times it around the
 * kernels it calls and lists those too, so counting it would count them twice.
 */
export const isOpWrapper = (name: string): boolean => name.endsWith("__op");
