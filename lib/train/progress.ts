import { setting } from "../util/settings.ts";
import { jupyter } from "../util/jupyter.ts";
import { esc } from "../util/html.ts";

/**
 * Live training progress: one component, three renderers.
 * - notebook (inside `deno jupyter`): one HTML bar, updated in place through a display_id;
 * - terminal (stderr is a TTY): a single line rewritten with \r;
 * - plain (CI, pipes): one line per epoch.
 */

export interface ProgressState {
  title: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  acc: number;
  imagesPerSecond: number;
  /** Seconds left in the whole run. */
  etaSeconds: number;
}

export type ProgressMode = "notebook" | "terminal" | "plain" | "silent";

export interface Progress {
  readonly mode: ProgressMode;
  /** Within an epoch (throttled by the renderer). */
  update(s: ProgressState): Promise<void>;
  /** A finished epoch's summary line. */
  epochEnd(line: string): Promise<void>;
  /** The run's last line. */
  finish(line: string): Promise<void>;
}

/** Seconds as m:ss, or as 1h05m from an hour on ("?" when unknown). */
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const t = Math.round(s), m = Math.floor(t / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
    : `${m}:${String(t % 60).padStart(2, "0")}`;
}

/** The one-line text every renderer shares. */
export function progressLine(s: ProgressState): string {
  return `${s.title} | epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.steps} | loss ${s.loss.toFixed(4)} acc ${
    s.acc.toFixed(3)
  } | ${s.imagesPerSecond.toFixed(s.imagesPerSecond < 100 ? 1 : 0)} img/s | ETA ${fmtTime(s.etaSeconds)}`;
}

function barHtml(text: string, frac: number, lines: string[]): string {
  const pct = Math.max(0, Math.min(1, frac)) * 100;
  return `<div style="font-family:monospace;font-size:12px"><div style="background:#eee;width:100%;max-width:640px;height:8px;border-radius:4px"><div style="background:#4c78a8;width:${
    pct.toFixed(1)
  }%;height:8px;border-radius:4px"></div></div><div>${esc(text)}</div>${
    lines.map((l) => `<div>${esc(l)}</div>`).join("")
  }</div>`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a trainer publishes on the side channel: the live state, or its last line when a run ends. */
export interface ProgressReport {
  pid: number;
  state: ProgressState | null;
  /** The latest epoch summary or final line. */
  line: string | null;
  /** Set when the run finished (finish() called). */
  done: boolean;
  updatedAt: number;
}

/**
 * The side channel: when CNNLAB_PROGRESS names a file, every renderer also keeps that file
 * holding the latest ProgressReport (rewritten atomically at most twice a second, and at every
 * epoch end), so `deno task report` can show live lines for trainings that run inside
 * nbconvert's kernel or in worker processes, whose own output it does not see.
 */
function sideChannel(path: string): Pick<Progress, "update" | "epochEnd" | "finish"> {
  const enc = new TextEncoder();
  const report: ProgressReport = { pid: Deno.pid, state: null, line: null, done: false, updatedAt: 0 };
  let last = 0;
  const write = () => {
    report.updatedAt = Date.now();
    const tmp = `${path}.tmp-${Deno.pid}`;
    try {
      Deno.writeFileSync(tmp, enc.encode(JSON.stringify(report)));
      Deno.renameSync(tmp, path);
    } catch {
      // the side channel is best effort: a reader that went away must not stop training
    }
  };
  return {
    update(s) {
      report.state = s;
      report.done = false;
      const now = performance.now();
      if (now - last >= 500) {
        last = now;
        write();
      }
      return Promise.resolve();
    },
    epochEnd(line) {
      report.line = line;
      write();
      return Promise.resolve();
    },
    finish(line) {
      report.line = line;
      report.done = true;
      write();
      return Promise.resolve();
    },
  };
}

/** Read a side-channel file (null when absent or mid-write). */
export function readProgressReport(path: string): ProgressReport | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as ProgressReport;
  } catch {
    return null;
  }
}

export function createProgress(mode?: ProgressMode): Progress {
  const inner = createRenderer(mode);
  const path = setting("CNNLAB_PROGRESS");
  if (!path) return inner;
  const side = sideChannel(path);
  return {
    mode: inner.mode,
    async update(s) {
      await side.update(s);
      await inner.update(s);
    },
    async epochEnd(line) {
      await side.epochEnd(line);
      await inner.epochEnd(line);
    },
    async finish(line) {
      await side.finish(line);
      await inner.finish(line);
    },
  };
}

function createRenderer(mode?: ProgressMode): Progress {
  const m: ProgressMode = mode ??
    (jupyter() ? "notebook" : Deno.stderr.isTerminal() && !Deno.env.get("CI") ? "terminal" : "plain");
  const enc = new TextEncoder();
  let last = 0;
  const due = (ms: number) => {
    const now = performance.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
  if (m === "notebook") {
    const j = jupyter()!;
    const id = `cnnlab-progress-${crypto.randomUUID()}`;
    const done: string[] = [];
    let shown = false;
    let text = "";
    let frac = 0;
    const show = async () => {
      await j.display({ "text/html": barHtml(text, frac, done), "text/plain": [text, ...done].join("\n") }, {
        raw: true,
        display_id: id,
        update: shown,
      });
      shown = true;
      await sleep(20); // let the kernel publish before the cell may end (see TOOLCHAIN.md)
    };
    return {
      mode: m,
      async update(s) {
        text = progressLine(s);
        frac = ((s.epoch - 1) * s.steps + s.step) / (s.epochs * s.steps);
        if (due(500) || !shown) await show();
      },
      async epochEnd(line) {
        done.push(line);
        await show();
      },
      async finish(line) {
        text = line;
        frac = 1;
        await show();
      },
    };
  }
  if (m === "terminal") {
    const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
    return {
      mode: m,
      update(s) {
        const cols = Deno.consoleSize?.().columns ?? 120;
        if (due(100)) write(`\r${progressLine(s).slice(0, cols - 1)}\x1b[K`);
        return Promise.resolve();
      },
      epochEnd(line) {
        write(`\r\x1b[K${line}\n`);
        return Promise.resolve();
      },
      finish(line) {
        write(`\r\x1b[K${line}\n`);
        return Promise.resolve();
      },
    };
  }
  const print = m === "silent" ? () => {} : (l: string) => console.log(l);
  return {
    mode: m,
    update: () => Promise.resolve(),
    epochEnd(line) {
      print(line);
      return Promise.resolve();
    },
    finish(line) {
      print(line);
      return Promise.resolve();
    },
  };
}
