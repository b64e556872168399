/**
 * `deno task bench --profile MODEL@SIZE [--batch 32] [--backends native] [--steps 8]`: where
 * one training step's time goes, for one model, on one backend:
 *
 *   - the step itself (median of plain steps, forward + backward + Adam on a fixed batch);
 *   - per kernel (tfjs's `tf.profile`: calls and milliseconds per step), and the time outside
 *     every kernel: JS dispatch, the gradient tape, the engine's bookkeeping;
 *   - per oneDNN primitive, reorders included (native backend: oneDNN's own execution log);
 *   - JavaScript self time per function (V8's sampling profiler);
 *   - allocation: tensors made, minor page faults and fresh native output buffers per step.
 *
 * The measurement runs in a child process (the parent reads oneDNN's log from its stdout);
 * each section runs its own steps, so profiling one part does not slow the others.
 */
import { isOpWrapper } from "../lib/train/timing.ts";
import process from "node:process";
import { Session } from "node:inspector";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../lib/backend/mod.ts";
import { freshBufferCount, NATIVE, setNativeVerbose } from "../lib/backend/native.ts";
import { textTable } from "../lib/util/table.ts";
import { peakRssMB } from "../lib/util/memory.ts";
import { type Spec, stepFixture } from "./fixture.ts";

const RESULT = "@@profile ";
const VERBOSE_BEGIN = "@@onednn-begin";
const VERBOSE_END = "@@onednn-end";

export interface Row {
  name: string;
  callsPerStep: number;
  msPerStep: number;
}

export interface StepProfile {
  model: string;
  size: number;
  batch: number;
  backend: string;
  precision: string;
  device: string;
  /** Median of plain (unprofiled) steps. */
  stepMs: number;
  /** The optimizer's update (Adam), mean per plain step: in place, outside tfjs's kernels, on native. */
  optimizerMs: number;
  /** Per tfjs kernel, most expensive first. */
  kernels: Row[];
  /** Sum of the kernels' times; a profiled step's wall time minus it is spent outside kernels. */
  kernelMs: number;
  profiledStepMs: number;
  /** Per function, JavaScript self time; native code reached through FFI is one row. */
  js: Row[];
  /** Tensors a step leaves behind (tf.profile's newTensors): 0 unless something leaks. */
  leakedTensorsPerStep: number;
  minorFaultsPerStep: number;
  /** Native backend: output buffers allocated fresh rather than taken from its pool. */
  freshBuffersPerStep: number | null;
  peakRssMB: number;
  /** Native backend: per oneDNN primitive kind, implementation and propagation. */
  onednn: Row[] | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function addRow(m: Map<string, Row>, name: string, calls: number, ms: number) {
  const r = m.get(name) ?? { name, callsPerStep: 0, msPerStep: 0 };
  r.callsPerStep += calls;
  r.msPerStep += ms;
  m.set(name, r);
}

const sorted = (m: Map<string, Row>) => [...m.values()].sort((a, b) => b.msPerStep - a.msPerStep);

/** V8 sampling profile of `steps` calls of `step`: self milliseconds per function and step. */
async function jsProfile(step: () => Promise<void>, steps: number): Promise<Row[]> {
  const s = new Session();
  s.connect();
  type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
  type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const post = (m: string, p: object = {}) =>
    new Promise<{ profile?: Profile }>((ok, fail) =>
      s.post(m, p, (e: unknown, r: unknown) => e ? fail(e) : ok(r as { profile?: Profile }))
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  for (let i = 0; i < steps; i++) await step();
  const profile = (await post("Profiler.stop")).profile!;
  s.disconnect();
  const byId = new Map<number, Node>(profile.nodes.map((n) => [n.id, n]));
  const rows = new Map<string, Row>();
  const samples = profile.samples, deltas = profile.timeDeltas;
  samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.url.includes("inspector")) return; // this profiler's own messages
    const name = !f.url && !f.functionName
      ? "(native code: the kernels through FFI, V8 internals)"
      : f.url
      ? `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`
      : f.functionName;
    addRow(rows, name, 0, (deltas[i] ?? 0) / 1000 / steps);
  });
  return sorted(rows);
}

/** Child: profile one (model, backend) pair; print oneDNN's log between markers, then the result. */
export async function profileOne(spec: Spec, backend: BackendName, precision: string, steps: number): Promise<void> {
  const { size, batch } = spec;
  const { info, opt, step } = await stepFixture(spec, backend, precision);
  for (let i = 0; i < 3; i++) await step(); // primitives, buffers, the pool

  // The optimizer's update runs outside tfjs kernels on the native backend (Adam in place).
  let optimizerMs = 0;
  const apply = opt.applyGradients.bind(opt);
  opt.applyGradients = (g) => {
    const t = performance.now();
    apply(g);
    optimizerMs += performance.now() - t;
  };
  const times: number[] = [];
  const ru0 = process.resourceUsage(), fresh0 = freshBufferCount();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  const ru1 = process.resourceUsage(), fresh1 = freshBufferCount();
  opt.applyGradients = apply;
  optimizerMs /= steps;

  const kernels = new Map<string, Row>();
  let profiled = 0, tensors = 0;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    const p = await tf.profile(step);
    profiled += (performance.now() - t) / steps;
    tensors += p.newTensors / steps;
    for (const k of p.kernels) addRow(kernels, k.name, 1 / steps, (k.kernelTimeMs as number) / steps);
  }
  const js = await jsProfile(step, steps);

  if (info.name === NATIVE) {
    console.log(VERBOSE_BEGIN);
    setNativeVerbose(2);
    for (let i = 0; i < steps; i++) await step();
    setNativeVerbose(0);
    console.log(VERBOSE_END);
  }
  const k = sorted(kernels);
  const r: StepProfile = {
    model: spec.label,
    size,
    batch,
    backend: info.name,
    precision: info.precision,
    device: info.device,
    stepMs: median(times),
    optimizerMs,
    kernels: k,
    // An op wrapper (tfjs's `op()`, named `…__op`) is timed around the kernels it calls, which are
    // listed too: counting both made "kernels" exceed the step it was part of.
    kernelMs: k.filter((r) => !isOpWrapper(r.name)).reduce((s, r) => s + r.msPerStep, 0),
    profiledStepMs: profiled,
    js,
    leakedTensorsPerStep: tensors,
    minorFaultsPerStep: (ru1.minorPageFault - ru0.minorPageFault) / steps,
    freshBuffersPerStep: info.name === NATIVE ? (fresh1 - fresh0) / steps : null,
    peakRssMB: peakRssMB(),
    onednn: null,
  };
  console.log(RESULT + JSON.stringify(r));
}

/**
 * oneDNN's execution log (`onednn_verbose,exec,cpu,<primitive>,<impl>,<prop>,…,<ms>`) summed
 * per primitive kind, implementation and propagation kind, per step.
 */
export function parseOnednnLog(lines: string[], steps: number): Row[] {
  const rows = new Map<string, Row>();
  for (const l of lines) {
    if (!l.startsWith("onednn_verbose,exec,") && !l.startsWith("dnnl_verbose,exec,")) continue;
    const f = l.split(",");
    const ms = Number(f[f.length - 1]);
    if (!Number.isFinite(ms)) continue;
    const prop = f[5] === "undef" ? "" : ` ${f[5]}`;
    addRow(rows, `${f[3]} ${f[4]}${prop}`, 1 / steps, ms / steps);
  }
  return sorted(rows);
}

/** Split a child's stdout into its result and oneDNN's log. */
export function parseChild(stdout: string, steps: number): StepProfile {
  const lines = stdout.split("\n");
  const result = lines.find((l) => l.startsWith(RESULT));
  if (!result) throw new Error("the profiling child printed no result");
  const r = JSON.parse(result.slice(RESULT.length)) as StepProfile;
  const b = lines.indexOf(VERBOSE_BEGIN), e = lines.indexOf(VERBOSE_END);
  if (b >= 0 && e > b) r.onednn = parseOnednnLog(lines.slice(b + 1, e), steps);
  return r;
}

const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1);
const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(1)}%`;

function rowsTable(rows: Row[], of: number, top: number, calls = true): string {
  const shown = rows.slice(0, top);
  const rest = rows.slice(top);
  const body = shown.map((
    r,
  ) => [r.name, ...(calls ? [r.callsPerStep.toFixed(0)] : []), ms(r.msPerStep), pct(r.msPerStep, of)]);
  if (rest.length) {
    const restMs = rest.reduce((s, r) => s + r.msPerStep, 0);
    body.push([
      `(${rest.length} more)`,
      ...(calls ? [rest.reduce((s, r) => s + r.callsPerStep, 0).toFixed(0)] : []),
      ms(restMs),
      pct(restMs, of),
    ]);
  }
  return textTable(["", ...(calls ? ["calls/step"] : []), "ms/step", "share"], body);
}

/** The human-readable report of one profile. */
export function formatProfile(p: StepProfile, top = 15): string {
  const out: string[] = [];
  // On native, Adam updates in place outside tfjs's kernels; elsewhere its ops are kernels.
  const inPlace = p.backend === NATIVE ? p.optimizerMs : 0;
  const outside = p.profiledStepMs - p.kernelMs - inPlace;
  out.push(
    `${p.model}@${p.size}, batch ${p.batch}, ${p.backend} (${p.precision}) on ${p.device}`,
    `step ${ms(p.stepMs)} ms (median), ${(p.batch / p.stepMs * 1000).toFixed(0)} img/s, of which the optimizer update ${
      ms(p.optimizerMs)
    } ms`,
    `profiled step ${ms(p.profiledStepMs)} ms = kernels ${ms(p.kernelMs)}${
      inPlace ? ` + Adam in place ${ms(inPlace)}` : ""
    } + the rest (JS dispatch, gradient tape, engine) ${ms(outside)} (${pct(outside, p.profiledStepMs)})`,
    `per step: ${p.kernels.reduce((s, r) => s + r.callsPerStep, 0).toFixed(0)} kernel calls, ${
      p.leakedTensorsPerStep.toFixed(0)
    } tensors leaked, ${p.minorFaultsPerStep.toFixed(0)} minor page faults${
      p.freshBuffersPerStep === null ? "" : `, ${p.freshBuffersPerStep.toFixed(1)} fresh output buffers (pool misses)`
    }; peak RSS ${p.peakRssMB.toFixed(0)} MB`,
    "",
    "kernels (tf.profile) — an op ending in __op includes the kernels it calls, which are not counted twice:",
    rowsTable(p.kernels, p.kernelMs, top),
  );
  if (p.onednn) {
    const total = p.onednn.reduce((s, r) => s + r.msPerStep, 0);
    const reorders = p.onednn.filter((r) => r.name.startsWith("reorder")).reduce((s, r) => s + r.msPerStep, 0);
    out.push(
      "",
      `oneDNN primitives (its execution log): ${ms(total)} ms/step, of which reorders ${ms(reorders)} (${
        pct(reorders, total)
      })`,
      rowsTable(p.onednn, total, top),
    );
  }
  const jsTotal = p.js.reduce((s, r) => s + r.msPerStep, 0);
  out.push("", "JavaScript self time (V8 sampling profiler):", rowsTable(p.js, jsTotal, top, false));
  return out.join("\n");
}
