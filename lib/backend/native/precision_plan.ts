/**
 * bf16 per layer. A run in bf16 computes each convolution and matmul in bf16 only where this
 * machine ran that layer faster in bf16 than in fp32; elsewhere (and in any layer the plan has
 * not seen) it computes in fp32. Each call is self-contained — fp32 in, fp32 out, oneDNN
 * converting inside — so a layer's time in either precision, all its passes together, is what
 * the choice costs, and a plan never makes a step slower than its parts measured.
 *
 * The kernels ask `bf16Flag()`; `recordLayers()` runs a step with the kernels noting every layer
 * they see (computing in fp32); `compareLayer()` times one layer in both precisions on scratch
 * buffers, the two alternating; `choosePlan()` turns timings into a plan. The timings are kept
 * per machine (CPU, threads, library build) in a table (`LayerTimings`), so a layer is measured
 * once on a machine and every later run there gets the same plan. A run stores its plan in its
 * checkpoints: a resumed run computes each layer as before.
 */
import { check, isaHasBf16, lib, NativeError, nativeSettings, type Precision, settings } from "./ffi.ts";
import { CONV_PARAMS, MATMUL_PARAMS } from "./codes.ts";
import { writeFileAtomic } from "../../util/fs.ts";
import { median } from "../../util/stats.ts";

export type LayerOp = "conv" | "matmul";
/** A convolution's three passes (a layer is timed over the passes its training step ran). */
export type Pass = "fwd" | "bwd_data" | "bwd_weights";

/**
 * One layer as the kernels saw it: its key, its parameter block (at the batch it ran), the passes
 * it ran, and how many of the model's layers have this geometry (ResNet-18's repeated blocks:
 * forward calls, or for a matmul, calls).
 */
export interface SeenLayer {
  key: string;
  op: LayerOp;
  params: number[];
  passes: Pass[];
  count: number;
}

/** A layer's time in each precision, milliseconds for all its passes (the median of the rounds). */
export interface LayerTime {
  fp32: number;
  bf16: number;
}

/** Which precision each layer computes in; layers not listed compute in fp32. */
export interface LayerPlan {
  layers: Record<string, Precision>;
  /** How many of the model's layers each key stands for. */
  counts: Record<string, number>;
  /** The timings the plan was chosen from, by timing key (layer key and batch). */
  timings: Record<string, LayerTime>;
}

const C = Object.fromEntries(CONV_PARAMS.map((n, i) => [n, i])) as Record<typeof CONV_PARAMS[number], number>;
const M = Object.fromEntries(MATMUL_PARAMS.map((n, i) => [n, i])) as Record<typeof MATMUL_PARAMS[number], number>;

/**
 * A convolution's identity: its geometry without the batch, the fused activation and the
 * precision (so training and evaluation batches, fused or not, are one layer).
 */
export function convKey(p: ArrayLike<number>): string {
  return `conv ${p[C.H_]}x${p[C.W_]}x${p[C.CI]}>${p[C.CO]} k${p[C.KH]}x${p[C.KW]} s${p[C.SH]}x${p[C.SW]} d${p[C.DH]}x${
    p[C.DW]
  } p${p[C.PT]},${p[C.PL]},${p[C.PB]},${p[C.PR]}`;
}

/** A matmul's identity: every dimension (the batch is one of them), without activation and precision. */
export function matmulKey(p: ArrayLike<number>): string {
  return `matmul ${p[M.MBA]}/${p[M.MBB]} ${p[M.MM]}x${p[M.MK]}x${p[M.MN]} t${p[M.MTA]}${p[M.MTB]}`;
}

const keyOf = (op: LayerOp, p: ArrayLike<number>) => op === "conv" ? convKey(p) : matmulKey(p);

/** Where a layer's timing is kept: its key and, for convolutions, the batch it was timed at. */
export function timingKey(l: Pick<SeenLayer, "key" | "op" | "params">): string {
  return l.op === "conv" ? `${l.key} @${l.params[C.N_]}` : l.key;
}

let plan: Map<string, Precision> | null = null;
let recording: Map<string, SeenLayer> | null = null;

/** Use a plan from now on (null: every layer in the backend's precision again). */
export function setLayerPlan(p: LayerPlan | null): void {
  plan = p ? new Map(Object.entries(p.layers)) : null;
}

/**
 * The bf16 flag of one call: while recording, 0 (the layer is noted); under a plan, the layer's
 * choice (fp32 for a layer the plan lacks); else the backend's precision.
 */
export function bf16Flag(op: LayerOp, params: Int32Array, pass: Pass = "fwd"): 0 | 1 {
  if (!recording && !plan) return settings.precision === "bf16" ? 1 : 0;
  const key = keyOf(op, params);
  if (recording) {
    const seen = recording.get(key) ?? { key, op, params: [...params], passes: [], count: 0 };
    recording.set(key, seen);
    if (!seen.passes.includes(pass)) seen.passes.push(pass);
    if (pass === "fwd") seen.count++;
    return 0;
  }
  return plan!.get(key) === "bf16" ? 1 : 0;
}

/** Run `fn` (a training step) with every convolution and matmul noted, in fp32; the layers, in the order first seen. */
export function recordLayers(fn: () => void): SeenLayer[] {
  if (recording) throw new Error("recordLayers: already recording");
  recording = new Map();
  try {
    fn();
    return [...recording.values()];
  } finally {
    recording = null;
  }
}

/** Deterministic values in [-1, 1) (the timing does not depend on them, but denormals and NaNs would). */
function scratch(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/**
 * The calls that run one layer's passes, in the precision asked, on scratch buffers of its size
 * (one set for both precisions). The recorded block keeps the forward call's activation: its
 * post-op is part of the layer's time.
 */
function layerRunner(l: SeenLayer): (precision: Precision) => void {
  const p = Int32Array.from(l.params);
  if (l.op === "conv") {
    const n = p[C.N_];
    const x = scratch(n * p[C.H_] * p[C.W_] * p[C.CI], 1);
    const w = scratch(p[C.KH] * p[C.KW] * p[C.CI] * p[C.CO], 2);
    const dy = scratch(n * p[C.OH] * p[C.OW] * p[C.CO], 3);
    const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
    return (precision) => {
      p[C.BF16] = precision === "bf16" ? 1 : 0;
      for (const pass of l.passes) {
        if (pass === "fwd") check(lib().cn_conv_fwd(p, x, w, null, y, 0), "calibration Conv2D");
        else if (pass === "bwd_data") check(lib().cn_conv_bwd_data(p, dy, w, dx), "calibration Conv2DBackpropInput");
        else check(lib().cn_conv_bwd_weights(p, x, dy, dw, null), "calibration Conv2DBackpropFilter");
      }
    };
  }
  const a = scratch(p[M.MBA] * p[M.MM] * p[M.MK], 4);
  const b = scratch(p[M.MBB] * p[M.MK] * p[M.MN], 5);
  const c = new Float32Array(p[M.MBA] * p[M.MM] * p[M.MN]);
  return (precision) => {
    p[M.MBF16] = precision === "bf16" ? 1 : 0;
    check(lib().cn_matmul(p, a, b, null, c, 0), "calibration BatchMatMul");
  };
}

/**
 * One layer's time in fp32 and in bf16: each warmed up once (oneDNN builds and caches its
 * primitives), then `rounds` rounds of both, the order alternating, so that a drifting machine
 * weighs on both alike; the medians.
 */
export function compareLayer(l: SeenLayer, rounds = 5): LayerTime {
  if (!isaHasBf16()) {
    throw new NativeError(
      `timing a layer in bf16 needs a CPU with AVX512_BF16 or AMX (oneDNN reports ${nativeSettings().isa}); fix: train in fp32`,
    );
  }
  const run = layerRunner(l);
  run("fp32");
  run("bf16");
  const t: Record<Precision, number[]> = { fp32: [], bf16: [] };
  for (let r = 0; r < rounds; r++) {
    for (const p of (r % 2 ? ["bf16", "fp32"] : ["fp32", "bf16"]) as Precision[]) {
      const t0 = performance.now();
      run(p);
      t[p].push(performance.now() - t0);
    }
  }
  return { fp32: median(t.fp32), bf16: median(t.bf16) };
}

/** bf16 for a layer only where it was measured faster; fp32 for a tie, a slower or an unmeasured layer. */
export function choosePlan(layers: SeenLayer[], timings: Record<string, LayerTime>): LayerPlan {
  const out: LayerPlan = { layers: {}, counts: {}, timings: {} };
  for (const l of layers) {
    const tk = timingKey(l);
    const t = timings[tk];
    out.layers[l.key] = t && t.bf16 < t.fp32 ? "bf16" : "fp32";
    out.counts[l.key] = Math.max(1, l.count);
    if (t) out.timings[tk] = t;
  }
  return out;
}

/** A plan in a few numbers, as a run's record keeps it. */
export interface LayerPlanSummary {
  /** Convolution layers and matmul calls of a step computing in each precision (a matmul's gradients are calls of their own). */
  bf16: number;
  fp32: number;
  /** Milliseconds a step spends in the timed layers under the plan, all in fp32, all in bf16 (as measured). */
  ms: number;
  fp32Ms: number;
  bf16Ms: number;
}

export function planSummary(p: LayerPlan): LayerPlanSummary {
  const n = (key: string) => p.counts[key] ?? 1;
  const out: LayerPlanSummary = { bf16: 0, fp32: 0, ms: 0, fp32Ms: 0, bf16Ms: 0 };
  for (const [key, c] of Object.entries(p.layers)) out[c] += n(key);
  for (const [tk, t] of Object.entries(p.timings)) {
    const key = tk.replace(/ @\d+$/, "");
    out.ms += n(key) * (p.layers[key] === "bf16" ? t.bf16 : t.fp32);
    out.fp32Ms += n(key) * t.fp32;
    out.bf16Ms += n(key) * t.bf16;
  }
  return out;
}

/**
 * A machine's layer timings, in one JSON file: `machine` names the CPU, threads and library build
 * they hold for; a file of another machine, or one that does not parse, counts as empty (and is
 * replaced at the next save), so one bad file costs a re-measurement, never a run.
 */
export class LayerTimings {
  readonly entries = new Map<string, LayerTime>();
  constructor(readonly path: string | null, readonly machine: string) {}

  static load(path: string | null, machine: string, log: (l: string) => void = () => {}): LayerTimings {
    const t = new LayerTimings(path, machine);
    if (!path) return t;
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) log(`layer timings ${path}: ${(e as Error).message}; measuring anew`);
      return t;
    }
    try {
      const v = JSON.parse(text);
      if (v?.machine !== machine) {
        log(`layer timings ${path} are of another machine (${v?.machine}); measuring anew`);
        return t;
      }
      for (const [k, x] of Object.entries(v.layers ?? {})) {
        const lt = x as LayerTime;
        if (lt.fp32 > 0 && lt.bf16 > 0) t.entries.set(k, { fp32: lt.fp32, bf16: lt.bf16 });
      }
    } catch (e) {
      log(`layer timings ${path} do not parse (${(e as Error).message}); measuring anew`);
    }
    return t;
  }

  /** Written atomically; entries another process saved meanwhile are kept (ours win a clash). */
  async save(): Promise<void> {
    if (!this.path) return;
    const theirs = LayerTimings.load(this.path, this.machine);
    const layers = Object.fromEntries([...theirs.entries, ...this.entries].sort(([a], [b]) => a < b ? -1 : 1));
    const text = JSON.stringify({ machine: this.machine, layers }, null, 1) + "\n";
    await writeFileAtomic(this.path, text);
  }
}

/**
 * The plan for a model: the layers its step runs (`step` runs one training step in fp32 while
 * they are noted), each timed where `table` lacks it (`measure` is `compareLayer` but in tests),
 * the new timings saved. The plan is not yet in use: `setLayerPlan` it.
 */
export async function makeLayerPlan(
  step: () => void,
  table: LayerTimings,
  measure: (l: SeenLayer) => LayerTime = (l) => compareLayer(l),
): Promise<{ plan: LayerPlan; measured: number }> {
  const layers = recordLayers(step);
  let measured = 0;
  for (const l of layers) {
    const tk = timingKey(l);
    if (table.entries.has(tk)) continue;
    table.entries.set(tk, measure(l));
    measured++;
  }
  if (measured) await table.save();
  return { plan: choosePlan(layers, Object.fromEntries(table.entries)), measured };
}
