/**
 * One exclusive lock per run (experiment, preset, configuration, seed), so that several
 * workers — processes on one machine, or jobs on machines sharing `CNNLAB_OUTPUTS` — never
 * train or resume the same run at once. A lock is a file created with O_EXCL holding the owner's
 * pid and host; while the owner lives a worker thread touches the file every few seconds (a
 * heartbeat that training's synchronous steps cannot starve), so a
 * lock whose file has not been touched for CNNLAB_LOCK_STALE_SECONDS (default 60) belongs to a
 * process that died, on this host or another, and is taken over. (Deno lets a process read
 * another's /proc entry only with --allow-all, so liveness is the heartbeat, not the pid.)
 */
import os from "node:os";
import { Worker } from "node:worker_threads";

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export class LockBusy extends Error {
  override name = "LockBusy";
  constructor(readonly path: string, readonly owner: LockOwner) {
    super(`${path} is held by pid ${owner.pid} on ${owner.host} since ${owner.since}`);
  }
}

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return "unknown-host";
  }
}

/** Seconds without a heartbeat after which a lock is stale. */
export function staleSeconds(): number {
  let v = NaN;
  try {
    v = Number(Deno.env.get("CNNLAB_LOCK_STALE_SECONDS"));
  } catch {
    v = NaN;
  }
  return v > 0 ? v : 60;
}

export function currentOwner(): LockOwner {
  return { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(Deno.readTextFileSync(path));
    return typeof o?.pid === "number" && typeof o?.host === "string" ? o as LockOwner : null;
  } catch {
    return null;
  }
}

/** Milliseconds since the lock file was last touched (Infinity when it is gone). */
function age(path: string): number {
  try {
    return Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0);
  } catch {
    return Infinity;
  }
}

/**
 * The heartbeat, in a thread of its own: training steps are synchronous native calls whose
 * promises resolve at once, so a timer on this thread starved for whole epochs (a 160 s VGG epoch
 * let a second worker take over a live run). The thread is unref'd: it never keeps a process
 * alive, and dies with it, so a lock always dies with its owner.
 */
const HEARTBEAT = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const touch = () => {
  try {
    const now = new Date();
    fs.utimesSync(workerData.path, now, now);
  } catch {
    // the file went away (released, or taken over after a long stop): nothing to keep alive
  }
};
touch();
setInterval(touch, workerData.everyMs);
`;

function startHeartbeat(path: string, everyMs: number): Worker {
  const w = new Worker(HEARTBEAT, { eval: true, workerData: { path, everyMs } });
  w.unref();
  return w;
}

export interface Lock {
  path: string;
  release(): void;
}

/**
 * Take the lock at `path` or throw LockBusy naming its live owner. A stale lock (no heartbeat
 * for staleSeconds()) is removed and taken; two workers racing for it cannot both win, since
 * the file is created exclusively.
 */
export function acquireLock(path: string): Lock {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const me = currentOwner();
  const staleMs = staleSeconds() * 1000;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const f = Deno.openSync(path, { write: true, createNew: true });
      f.writeSync(new TextEncoder().encode(JSON.stringify(me)));
      f.close();
      const beat = startHeartbeat(path, Math.max(200, Math.min(5000, staleMs / 4)));
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          void beat.terminate();
          const o = readOwner(path);
          if (o && o.pid === me.pid && o.host === me.host) Deno.removeSync(path);
        },
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    if (age(path) < staleMs) {
      throw new LockBusy(path, readOwner(path) ?? { pid: -1, host: "unknown", since: "less than a minute" });
    }
    // Stale: remove and try again (another worker may win the race; then we see it as busy).
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new LockBusy(path, readOwner(path) ?? { pid: -1, host: "unknown", since: "unknown" });
}

/** The owner of a lock whose heartbeat is fresh, else null. */
export function lockHolder(path: string): LockOwner | null {
  if (!(age(path) < staleSeconds() * 1000)) return null;
  return readOwner(path) ?? { pid: -1, host: "unknown", since: "unknown" };
}
