/**
 * The report's training phase: the runs a plan still has to train go to N worker processes
 * (`exp run --queue`), each with its share of the cores, all filling one store. Every worker
 * takes the queue longest-first and claims a run by its lock, so no run trains twice and the
 * load balances itself. Their progress comes back through the CNNLAB_PROGRESS side channel
 * and is shown as one live line per worker plus an overall ETA (plain lines when stderr is
 * not a terminal). Ctrl-C stops every worker after its current step; the checkpoints stay and
 * the next report resumes them.
 */
import { PROJECT_ROOT } from "../util/fs.ts";
import { denoRunArgs } from "../util/deno.ts";
import { fmtTime, progressLine, type ProgressReport, readProgressReport } from "../train/progress.ts";
import { lockHolder } from "./lock.ts";
import { type Plan, type PlannedRun } from "./plan.ts";
import { outputsDir, readRecord, recordPath } from "./store.ts";
import { currentHashes, lockPath } from "./runner.ts";

export interface WorkerOutcome {
  /** Seconds of wall time the phase took. */
  wallSeconds: number;
  /** Worker exit codes (0 ok, 1 a run failed or was interrupted, 130 stopped). */
  codes: number[];
  /** The signal that stopped the phase (Ctrl-C, or SIGTERM from a scheduler), or null. */
  interrupted: StopSignal | null;
  /** Runs that had to train: how many now have a record. */
  trained: number;
  /** Those still without a record, each with why ("pid 12 on vm is training it", "failed or stopped"). */
  notTrained: { experiment: string; seed: number; why: string }[];
}

/** What stops a long task: Ctrl-C, or SIGTERM (what a batch scheduler sends at its time limit). */
export type StopSignal = "SIGINT" | "SIGTERM";
export const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/** The exit code of a process stopped by `sig`, as a shell reports it (128 + the signal's number). */
export function stopExitCode(sig: StopSignal): number {
  return sig === "SIGINT" ? 130 : 143;
}

/**
 * Call `onStop` on the first SIGINT or SIGTERM; a second one exits at once with its code.
 * Returns a function that removes the listeners.
 */
export function onStopSignals(onStop: (sig: StopSignal) => void): () => void {
  let stopped = false;
  const listeners = STOP_SIGNALS.map((sig) => {
    const f = () => {
      if (stopped) Deno.exit(stopExitCode(sig));
      stopped = true;
      onStop(sig);
    };
    Deno.addSignalListener(sig, f);
    return [sig, f] as const;
  });
  return () => {
    for (const [sig, f] of listeners) Deno.removeSignalListener(sig, f);
  };
}

/** Run the plan's unstored runs on its workers; returns when all have exited. */
export async function trainPlan(
  plan: Plan,
  opts: { backend: string; log?: (line: string) => void; stderr?: { isTerminal(): boolean } },
): Promise<WorkerOutcome> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const todo = plan.runs.filter((r) => !r.stored).sort((a, b) => b.seconds - a.seconds);
  const t0 = performance.now();
  if (todo.length === 0) return { wallSeconds: 0, codes: [], interrupted: null, trained: 0, notTrained: [] };
  const dir = `${outputsDir()}/report/workers`;
  await Deno.mkdir(dir, { recursive: true });
  const queue = `${dir}/queue-${plan.preset}.json`;
  await Deno.writeTextFile(queue, JSON.stringify(todo.map((r) => ({ experiment: r.experiment, seed: r.seed }))));
  const workers = Math.min(plan.workers, todo.length);
  const tty = (opts.stderr ?? Deno.stderr).isTerminal() && !Deno.env.get("CI");
  const paths = Array.from({ length: workers }, (_, k) => `${dir}/progress-${k + 1}.json`);
  for (const p of paths) await Deno.remove(p).catch(() => {});
  const children = paths.map((progress) =>
    new Deno.Command(Deno.execPath(), {
      args: denoRunArgs(`${PROJECT_ROOT}/scripts/exp.ts`, [
        "run",
        "--queue",
        queue,
        "--preset",
        plan.preset,
        "--backend",
        opts.backend,
        ...(opts.backend === "native" ? ["--precision", "auto"] : []),
      ]),
      env: { CNNLAB_THREADS: String(plan.threadsPerWorker), CNNLAB_PROGRESS: progress, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  let interrupted: StopSignal | null = null;
  const removeListeners = onStopSignals((sig) => {
    interrupted = sig;
    log(
      `report: ${sig}: stopping the workers after their current step; rerun deno task report to resume (${sig} again aborts)`,
    );
    for (const c of children) {
      try {
        c.kill(sig); // a worker stops on either, storing an interrupted record
      } catch {
        // already gone
      }
    }
  });
  const enc = new TextEncoder();
  let drawn = 0;
  const clear = () => {
    if (tty && drawn) Deno.stderr.writeSync(enc.encode(`\x1b[${drawn}A\x1b[J`));
    drawn = 0;
  };
  const say = (line: string) => {
    clear();
    log(line);
  };
  // Relay every line the workers print, prefixed with the worker.
  const relay = children.flatMap((c, k) =>
    [c.stdout, c.stderr].map(async (stream) => {
      let buf = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i).replace(/\r/g, "").trimEnd();
          buf = buf.slice(i + 1);
          if (line && !line.startsWith("cnnlab: backend")) say(`[worker ${k + 1}] ${line}`);
        }
      }
      if (buf.trim()) say(`[worker ${k + 1}] ${buf.trim()}`);
    })
  );
  const hashes = await currentHashes(plan.preset, new Set(todo.map((r) => r.experiment)));
  const record = (r: PlannedRun) => recordPath(r.experiment, plan.preset, hashes.get(r.experiment)!, r.seed);
  const holder = (r: PlannedRun) => lockHolder(lockPath(r.experiment, plan.preset, hashes.get(r.experiment)!, r.seed));
  // The live ETA, redrawn every few seconds, only asks whether a record file exists.
  const runState = async (r: PlannedRun): Promise<"done" | "running" | "waiting"> =>
    (await Deno.stat(record(r)).then(() => true, () => false)) ? "done" : holder(r) ? "running" : "waiting";
  // At the end, trained means a finished record (ok or diverged), not an interrupted one.
  const stored = async (r: PlannedRun) => {
    const rec = await readRecord(record(r)).catch(() => null);
    return rec !== null && rec.status !== "interrupted";
  };
  let lastPlain = 0;
  const draw = async () => {
    const reports: (ProgressReport | null)[] = paths.map(readProgressReport);
    let waiting = 0, done = 0;
    for (const r of todo) {
      const s = await runState(r);
      if (s === "waiting") waiting += r.seconds;
      if (s === "done") done++;
    }
    const running = reports.reduce((a, p) => a + (p?.state && !p.done ? p.state.etaSeconds : 0), 0);
    const eta = (waiting + running) / workers;
    const elapsed = (performance.now() - t0) / 1000;
    const head = `report: ${done}/${todo.length} runs trained, ${fmtTime(elapsed)} elapsed, ETA ${
      fmtTime(eta)
    } for the training phase (plan: ${fmtTime(plan.wallSeconds)})`;
    if (tty) {
      const cols = Deno.consoleSize?.().columns ?? 120;
      const lines = [
        head,
        ...reports.map((p, k) =>
          `  worker ${k + 1}: ${p?.state && !p.done ? progressLine(p.state) : p?.line ?? "starting"}`
        ),
      ].map((l) => l.slice(0, cols - 1));
      clear();
      Deno.stderr.writeSync(enc.encode(lines.join("\n") + "\n"));
      drawn = lines.length;
    } else if (performance.now() - lastPlain > 60_000) {
      lastPlain = performance.now();
      log(head);
    }
  };
  const timer = setInterval(() => void draw(), tty ? 1000 : 5000);
  const statuses = await Promise.all(children.map((c) => c.status));
  clearInterval(timer);
  await Promise.all(relay);
  clear();
  removeListeners();
  const notTrained: WorkerOutcome["notTrained"] = [];
  for (const r of todo) {
    if (await stored(r)) continue;
    const h = holder(r);
    notTrained.push({
      experiment: r.experiment,
      seed: r.seed,
      why: h ? `pid ${h.pid} on ${h.host} is training it` : interrupted ? "stopped" : "failed (see above)",
    });
  }
  return {
    wallSeconds: (performance.now() - t0) / 1000,
    codes: statuses.map((s) => s.code),
    interrupted,
    trained: todo.length - notTrained.length,
    notTrained,
  };
}

/**
 * Show the progress a process publishes on a side-channel file (CNNLAB_PROGRESS) — e.g. a run a
 * notebook trains inside nbconvert's kernel — as one live line on a terminal, or plain lines for
 * each finished epoch otherwise. Returns a function that stops watching.
 */
export function watchProgress(path: string, label: string, log: (line: string) => void = (l) => console.error(l)) {
  const tty = Deno.stderr.isTerminal() && !Deno.env.get("CI");
  const enc = new TextEncoder();
  let lastLine: string | null = null, live = false;
  const timer = setInterval(() => {
    const p = readProgressReport(path);
    if (!p) return;
    if (p.line && p.line !== lastLine) {
      lastLine = p.line;
      if (live) Deno.stderr.writeSync(enc.encode("\r\x1b[K"));
      live = false;
      log(`[${label}] ${p.line}`);
    }
    if (tty && p.state && !p.done) {
      const cols = Deno.consoleSize?.().columns ?? 120;
      Deno.stderr.writeSync(enc.encode(`\r${`[${label}] ${progressLine(p.state)}`.slice(0, cols - 1)}\x1b[K`));
      live = true;
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    if (live) Deno.stderr.writeSync(enc.encode("\r\x1b[K"));
  };
}
