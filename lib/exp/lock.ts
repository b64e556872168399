/**
 * One exclusive lock per run (experiment, preset, configuration, seed), so that several
 * workers — processes on one machine, or jobs on machines sharing `CNNLAB_OUTPUTS` — never
 * train or resume the same run at once. A lock is a file created with O_EXCL holding the owner's
 * pid, host, boot and start time. On this host the owner's life is asked directly (through libc:
 * Deno reads another process's /proc entry only with --allow-all): it is dead when its boot is not
 * this one, its pid no longer exists (`kill(pid, 0)`), or the pid now names a process that started
 * at another time — and alive otherwise, however long its heartbeat pauses. On another host
 * sharing the folder (or where nothing can be asked) it is dead when the file has not been touched
 * for CNNLAB_LOCK_STALE_SECONDS (default 60): while the owner lives a worker thread touches it
 * every few seconds, a heartbeat that training's synchronous steps cannot starve. A dead owner's
 * lock is taken over, and the taker says so.
 */
import { numberSetting } from "../util/settings.ts";
import os from "node:os";
import { Worker } from "node:worker_threads";
import { bootId, processAlive, processStart } from "../util/libc.ts";

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** The owner's boot of its host (absent in locks of older versions, or where it could not be read). */
  boot?: string;
  /** When the owner process started (processStart), likewise optional. */
  start?: string;
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
  return numberSetting("CNNLAB_LOCK_STALE_SECONDS") ?? 60;
}

let me: { boot: string | null; start: string | null } | undefined;

export function currentOwner(): LockOwner {
  me ??= { boot: bootId(), start: processStart("self") };
  return {
    pid: Deno.pid,
    host: hostname(),
    since: new Date().toISOString(),
    ...(me.boot ? { boot: me.boot } : {}),
    ...(me.start ? { start: me.start } : {}),
  };
}

/**
 * Whether a lock's owner lives, asked directly where it ran on this host: "alive", or why it is
 * dead ("pid 12 on vm is gone", "… ran before this machine restarted"), or null where it cannot
 * be asked (another host, no FFI) and the heartbeat must tell.
 */
export function ownerState(o: LockOwner): "alive" | { dead: string } | null {
  const mine = currentOwner();
  if (o.host !== mine.host) return null;
  if (o.pid === mine.pid) return "alive";
  const who = `pid ${o.pid} on ${o.host}`;
  if (o.boot && mine.boot && o.boot !== mine.boot) return { dead: `${who} ran before this machine restarted` };
  const alive = processAlive(o.pid);
  if (alive === false) return { dead: `${who} is gone` };
  if (alive === null) return null;
  const start = o.start ? processStart(o.pid) : null;
  if (o.start && start && start !== o.start) return { dead: `${who} is gone (the pid now names another process)` };
  return "alive";
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
  /** Set when the lock was taken over from a dead owner: who, and how that was known. */
  takenOver?: string;
  release(): void;
}

/**
 * Why the lock at `path` is free to take over ("pid 12 on vm is gone", "no heartbeat for 75 s"),
 * or null when its owner lives (or the file is gone).
 */
function whyDead(path: string): string | null {
  const ms = age(path);
  if (ms === Infinity) return null;
  const o = readOwner(path);
  const state = o ? ownerState(o) : null;
  if (state === "alive") return null;
  if (state) return state.dead;
  return ms >= staleSeconds() * 1000 ? `no heartbeat for ${(ms / 1000).toFixed(0)} s` : null;
}

/**
 * Take the lock at `path` or throw LockBusy naming its live owner. A dead owner's lock (see the
 * module's comment) is removed and taken, and the Lock says whose it was; two workers racing for
 * it cannot both win, since the file is created exclusively.
 */
export function acquireLock(path: string): Lock {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const me = currentOwner();
  const staleMs = staleSeconds() * 1000;
  let takenOver: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const f = Deno.openSync(path, { write: true, createNew: true });
      f.writeSync(new TextEncoder().encode(JSON.stringify(me)));
      f.close();
      const beat = startHeartbeat(path, Math.max(200, Math.min(5000, staleMs / 4)));
      let released = false;
      return {
        path,
        ...(takenOver ? { takenOver } : {}),
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
    const dead = whyDead(path);
    if (!dead) {
      if (age(path) === Infinity) continue; // released between our two looks: try again
      throw new LockBusy(path, readOwner(path) ?? { pid: -1, host: "unknown", since: "less than a minute" });
    }
    takenOver = dead;
    // Dead: remove and try again (another worker may win the race; then we see it as busy).
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new LockBusy(path, readOwner(path) ?? { pid: -1, host: "unknown", since: "unknown" });
}

/** The owner of a lock held by a live process, else null. */
export function lockHolder(path: string): LockOwner | null {
  if (age(path) === Infinity || whyDead(path)) return null;
  return readOwner(path) ?? { pid: -1, host: "unknown", since: "unknown" };
}
