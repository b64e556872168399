/**
 * Fault injection: what must hold when things go wrong. Bad files in the store, a damaged
 * checkpoint, SIGKILL at several points followed by --resume (bit-identical to an uninterrupted
 * run, on wasm and native), two and four workers on one store, --force interrupted, a read-only
 * and a full outputs folder (tmpfs, when root), an unreadable data folder, bad command-line
 * values, a tampered record label, a pathological experiment pattern, --publish, and a clean
 * process exit with the default backend.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { RUN_PERMISSIONS } from "../lib/util/deno.ts";
import { processStart } from "../lib/util/libc.ts";
import { nativeLibState } from "../lib/backend/native_build.ts";
import { configHash, experiment, globPrefix, matchExperiments, resolveConfig } from "../lib/exp/experiments.ts";
import { markdownHtml, tableHtml } from "../lib/report/render.ts";
import { acquireLock, currentOwner, LockBusy, lockHolder } from "../lib/exp/lock.ts";
import type { RunRecord } from "../lib/exp/store.ts";

const PERMS = RUN_PERMISSIONS;
const EXP = `${PROJECT_ROOT}/scripts/exp.ts`;
const native = (await nativeLibState()).ok;
const isRoot = Deno.uid() === 0;

interface Out {
  code: number;
  out: string;
  err: string;
}

/** Lock heartbeats in these tests go stale after 3 s (60 s by default), so a killed holder is taken over quickly. */
const LOCK_ENV = { CNNLAB_LOCK_STALE_SECONDS: "3" };

async function run(script: string, args: string[], env: Record<string, string>): Promise<Out> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, script, ...args],
    env: { NO_COLOR: "1", ...LOCK_ENV, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout), err: new TextDecoder().decode(o.stderr) };
}

const exp = (outputs: string, args: string[], env: Record<string, string> = {}) =>
  run(EXP, args, { CNNLAB_OUTPUTS: outputs, ...env });

/** Start `exp` and wait until it reports reaching a failpoint (or prints `until`); returns the live child. */
async function startUntil(
  outputs: string,
  args: string[],
  point: string,
  env: Record<string, string> = {},
  until = `failpoint ${point} reached`,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, EXP, ...args],
    env: { NO_COLOR: "1", CNNLAB_OUTPUTS: outputs, CNNLAB_FAILPOINTS: point, ...LOCK_ENV, ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(until)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exp exited before failpoint ${point}:\n${seen}`);
    seen += value;
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return { child, drained };
}

/** Files under `dir` whose names end with `suffix`, sorted (none when `dir` is missing). */
async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(suffix)) out.push(p);
    }
  };
  await walk(dir).catch(() => {});
  return out.sort((a, b) => a.localeCompare(b));
}

async function records(outputs: string): Promise<{ path: string; r: RunRecord }[]> {
  const paths = await filesUnder(`${outputs}/results`, ".json");
  return await Promise.all(paths.map(async (path) => ({ path, r: JSON.parse(await Deno.readTextFile(path)) })));
}

/** What must be identical between a resumed and an uninterrupted run: every metric but timings. */
function outcome(r: RunRecord) {
  return {
    status: r.status,
    testAcc: r.testAcc,
    epochs: r.epochs.map((
      e,
    ) => [e.trainLoss, e.trainAcc, e.trainEvalLoss, e.trainEvalAcc, e.testLoss, e.testAcc, e.lr]),
  };
}

const tmp = () => Deno.makeTempDir({ prefix: "cnnlab-faults-" });

/** Lock files left under a store's checkpoints. */
const locks = (outputs: string) => filesUnder(`${outputs}/checkpoints`, ".lock");

Deno.test("store: truncated, empty, array and foreign records are reported with their path and skipped; run retrains over a bad one", async () => {
  const out = await tmp();
  let r = await exp(out, ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"]);
  assert.equal(r.code, 0, r.err);
  const [{ path, r: good }] = await records(out);
  const dir = path.slice(0, path.lastIndexOf("/"));
  const text = await Deno.readTextFile(path);
  const bad = {
    [`${dir}/truncated-seed7.json`]: text.slice(0, text.length / 2),
    [`${dir}/empty-seed8.json`]: "{}",
    [`${dir}/array-seed9.json`]: "[]",
    [`${out}/results/foreign.json`]: '{"hello": "world"}',
    [`${dir}/binary-seed10.json`]: "\u0000\u0001\u0002",
  };
  for (const [p, t] of Object.entries(bad)) await Deno.writeTextFile(p, t);
  r = await exp(out, ["show", "q1a"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /q1a\/relu\s+smoke\s+wasm\s+1\s+ok/);
  for (const p of Object.keys(bad).filter((p) => p.startsWith(dir))) {
    const lines = r.err.split("\n").filter((l) => l.includes(p));
    assert.equal(lines.length, 1, `${p} reported ${lines.length} times:\n${r.err}`);
    assert.match(lines[0], /^results: skipped .*not (a cnnlab run record|valid JSON)/);
  }
  assert.doesNotMatch(r.err, /SyntaxError|at file:/);
  // The run's own record damaged: run reports it and trains again; the new record is whole.
  await Deno.writeTextFile(path, text.slice(0, 40));
  r = await exp(out, ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`results: skipped ${path.replaceAll("/", "\\/")}: not valid JSON`));
  assert.equal(JSON.parse(await Deno.readTextFile(path)).testAcc, good.testAcc);
});

async function resumeMatches(backend: string, threads: string) {
  const env = { CNNLAB_THREADS: threads };
  const args = ["run", "q1a/alexnet-style", "--preset", "smoke", "--backend", backend, "--seeds", "3"];
  const ref = await tmp();
  const r0 = await exp(ref, args, env);
  assert.equal(r0.code, 0, r0.err);
  const [want] = await records(ref);
  assert.equal(want.r.epochs.length, 2);
  // Before any checkpoint, after epoch 1's checkpoint (mid epoch 2), and after the last
  // checkpoint but before the record is written.
  for (const point of ["train.step=1:2", "train.step=2:2", "train.checkpoint=2"]) {
    const out = await tmp();
    const { child, drained } = await startUntil(out, args, point, env);
    child.kill("SIGKILL");
    await child.status;
    await drained;
    assert.equal((await records(out)).length, 0, `${point}: no record may exist after the kill`);
    // The killed worker's lock goes stale after CNNLAB_LOCK_STALE_SECONDS; --wait takes it over then.
    const r = await exp(out, [...args, "--resume", "--wait"], env);
    assert.equal(r.code, 0, r.err);
    const [got] = await records(out);
    assert.deepEqual(outcome(got.r), outcome(want.r), `${backend}, killed at ${point}`);
    assert.equal(got.r.resumedFrom, point === "train.step=1:2" ? 0 : point === "train.step=2:2" ? 1 : 2);
  }
}

Deno.test("resume: SIGKILL at three points, then --resume, gives the uninterrupted run's record bit for bit (wasm)", async () => {
  await resumeMatches("wasm", "1");
});

Deno.test({
  name: "resume: SIGKILL at three points, then --resume, gives the uninterrupted run's record bit for bit (native)",
  ignore: !native,
  fn: () => resumeMatches("native", "2"),
});

Deno.test("checkpoint: a damaged checkpoint of the right size is refused naming the file and the tensor", async () => {
  const out = await tmp();
  const args = ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"];
  const { child, drained } = await startUntil(out, args, "train.step=2:1");
  child.kill("SIGKILL");
  await child.status;
  await drained;
  const ck = (await Array.fromAsync(Deno.readDir(`${out}/checkpoints/q1a__relu/smoke`)))[0].name;
  const file = `${out}/checkpoints/q1a__relu/smoke/${ck}/epoch-0001.ckpt`;
  const bytes = await Deno.readFile(file);
  bytes[bytes.length - 100] ^= 0xff; // one flipped byte in a tensor, same size
  await Deno.writeFile(file, bytes);
  const r = await exp(out, [...args, "--resume", "--wait"]);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /epoch-0001\.ckpt: damaged or not a cnnlab checkpoint \(tensor .* fails its SHA-256 check\); fix:/,
  );
  assert.doesNotMatch(r.err, /at file:/);
  assert.equal((await records(out)).length, 0);
  // A manifest whose tensor list is null: one line naming the file and the field, no stack.
  const len = new DataView(bytes.buffer).getUint32(8, true);
  const header = new TextDecoder().decode(bytes.subarray(12, 12 + len));
  const shorter = JSON.stringify({ ...JSON.parse(header), model: null });
  const nulled = shorter.padEnd(header.length, " "); // same length: JSON allows trailing spaces
  assert.ok(shorter.length < header.length);
  bytes.set(new TextEncoder().encode(nulled), 12);
  await Deno.writeFile(file, bytes);
  const n = await exp(out, [...args, "--resume", "--wait"]);
  assert.equal(n.code, 1);
  assert.match(
    n.err,
    /epoch-0001\.ckpt: damaged or not a cnnlab checkpoint \(manifest field 'model' is null, not a list/,
  );
  assert.doesNotMatch(n.err, /at file:|TypeError/);
});

Deno.test("locks: the heartbeat keeps a lock fresh while its owner's main thread is blocked (a long native step)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run.lock`;
  Deno.env.set("CNNLAB_LOCK_STALE_SECONDS", "1");
  try {
    const lock = acquireLock(path);
    await new Promise((r) => setTimeout(r, 300)); // the heartbeat thread starts
    // Training's steps are synchronous FFI calls; block this thread for 2.5 stale periods.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
    // What another host sees: the file's age (this host asks the pid instead).
    const age = Date.now() - Deno.statSync(path).mtime!.getTime();
    assert.ok(age < 1000, `the heartbeat stopped while its owner was alive but busy (${age} ms)`);
    assert.ok(lockHolder(path));
    assert.throws(() => acquireLock(path), LockBusy);
    lock.release();
    assert.equal(lockHolder(path), null, "release removes the lock");
  } finally {
    Deno.env.delete("CNNLAB_LOCK_STALE_SECONDS");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("locks: a run another live worker holds is skipped (or waited for); its checkpoint is never resumed by another", async () => {
  const out = await tmp();
  const args = ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"];
  const { child, drained } = await startUntil(out, args, "train.step=2:1");
  const b = await exp(out, [...args, "--resume"]);
  assert.equal(b.code, 0, b.err);
  assert.match(b.err, /skipped, pid \d+ on .* is training it/);
  assert.equal((await records(out)).length, 0, "the skipping worker wrote nothing");
  // A waiting worker takes over once the holder dies (its lock is then stale).
  const waiter = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, EXP, ...args, "--wait", "--resume"],
    env: { NO_COLOR: "1", CNNLAB_OUTPUTS: out, ...LOCK_ENV },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = waiter.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  while (!/is training this run; waiting for its record/.test(err)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the waiter ended without waiting:\n${err}`);
    err += value;
  }
  await new Promise((r) => setTimeout(r, 4000)); // longer than the stale time: a live holder keeps its run
  assert.ok((await records(out)).length === 0, "the waiter took a live worker's run");
  child.kill("SIGKILL");
  await child.status;
  await drained;
  for (let c = await reader.read(); !c.done; c = await reader.read()) err += c.value;
  const w = await waiter.status;
  assert.equal(w.code, 0, err);
  assert.match(err, /taking over the run from a dead worker \(pid \d+ on .* is gone\)/);
  const [rec] = await records(out);
  assert.equal(rec.r.status, "ok");
  assert.equal(rec.r.resumedFrom, 1, "resumed from the dead worker's epoch-1 checkpoint once its owner died");
  // In-process: a held lock is busy, a released one can be taken again.
  const l = acquireLock(`${out}/x.lock`);
  const other = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import {acquireLock} from "${PROJECT_ROOT}/lib/exp/lock.ts"; try { acquireLock("${out}/x.lock"); console.log("took"); } catch (e) { console.log(e.name); }`,
    ],
    stdout: "piped",
  });
  assert.equal(new TextDecoder().decode((await other.output()).stdout).trim(), "LockBusy");
  l.release();
  assert.equal(new TextDecoder().decode((await other.output()).stdout).trim(), "took");
});

Deno.test("locks: a dead owner on this host is known at once (pid gone, or an earlier boot) and its run taken over with one line", async () => {
  const out = await tmp();
  const never = { CNNLAB_LOCK_STALE_SECONDS: "600" }; // the heartbeat alone would wait 10 minutes
  const args = ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"];
  const { child, drained } = await startUntil(out, args, "train.step=2:1", never);
  child.kill("SIGKILL");
  await child.status;
  await drained;
  assert.equal((await locks(out)).length, 1, "the killed worker left its lock");
  const t0 = performance.now();
  const r = await exp(out, [...args, "--resume"], never);
  assert.equal(r.code, 0, r.err);
  const lines = r.err.split("\n").filter((l) => l.includes("dead worker"));
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], new RegExp(`taking over the run from a dead worker \\(pid ${child.pid} on .* is gone\\)`));
  assert.doesNotMatch(r.err, /skipped/);
  assert.ok(performance.now() - t0 < 60_000);
  const [rec] = await records(out);
  assert.equal(rec.r.status, "ok");
  assert.equal(rec.r.resumedFrom, 1);
  assert.deepEqual(await locks(out), []);
  // In-process, with the same 10-minute heartbeat: a live process's lock is busy; a gone pid's, or one
  // written before this machine's last boot, is taken over and says why.
  Deno.env.set("CNNLAB_LOCK_STALE_SECONDS", "600");
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const me = currentOwner();
    const lockOf = async (name: string, owner: object) => {
      await Deno.writeTextFile(`${out}/${name}.lock`, JSON.stringify({ ...me, ...owner }));
      return `${out}/${name}.lock`;
    };
    const live = await lockOf("live", { pid: sleeper.pid, start: processStart(sleeper.pid) ?? undefined });
    assert.throws(() => acquireLock(live), LockBusy);
    assert.ok(lockHolder(live));
    // A live owner on this host keeps its run however long its heartbeat pauses (a machine under load).
    const hourAgo = new Date(Date.now() - 3_600_000);
    Deno.utimeSync(live, hourAgo, hourAgo);
    assert.throws(() => acquireLock(live), LockBusy, "a live owner's lock was taken for a late heartbeat");
    const reused = await lockOf("reused", { pid: sleeper.pid, start: "1" });
    const l0 = acquireLock(reused);
    assert.match(String(l0.takenOver), /is gone \(the pid now names another process\)/);
    l0.release();
    const gone = await lockOf("gone", { pid: child.pid });
    assert.equal(lockHolder(gone), null);
    const l1 = acquireLock(gone);
    assert.match(String(l1.takenOver), new RegExp(`pid ${child.pid} on .* is gone`));
    l1.release();
    if (me.boot) {
      const rebooted = await lockOf("rebooted", { pid: sleeper.pid, boot: "an-earlier-boot" });
      const l2 = acquireLock(rebooted);
      assert.match(String(l2.takenOver), /ran before this machine restarted/);
      l2.release();
    }
    const elsewhere = await lockOf("elsewhere", { pid: child.pid, host: "another-host" });
    assert.throws(() => acquireLock(elsewhere), LockBusy, "another host's lock lives until its heartbeat stops");
  } finally {
    sleeper.kill();
    await sleeper.status;
    Deno.env.delete("CNNLAB_LOCK_STALE_SECONDS");
  }
});

Deno.test("merge: a record whose path fields climb out is refused and nothing is written outside the store; a label difference is a conflict", async () => {
  const src = await tmp();
  assert.equal((await exp(src, ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"])).code, 0);
  const [{ path, r }] = await records(src);
  const base = await tmp();
  const target = `${base}/deep/store`;
  await Deno.mkdir(target, { recursive: true });
  // Another store: the same run, once with a preset of ../ segments and once with a seed that climbs.
  const other = `${base}/other`;
  const put = async (name: string, rec: Record<string, unknown>) => {
    await Deno.mkdir(`${other}/results/x/y`, { recursive: true });
    await Deno.writeTextFile(`${other}/results/x/y/${name}.json`, JSON.stringify(rec));
  };
  await put("climb-preset", { ...r, preset: "../../../../escaped" });
  await put("climb-experiment", { ...r, experiment: "q1a/..", seed: 5 });
  await put("climb-hash", { ...r, configHash: "../../../x", seed: 6 });
  const m = await exp(target, ["merge", other]);
  assert.equal(m.code, 0, m.err);
  assert.match(m.out, /merged 0 record\(s\), 0 already present, 0 conflict\(s\), 3 bad file\(s\) skipped/);
  assert.match(
    m.err,
    /climb-preset\.json: not a cnnlab run record \(preset "\.\.\/\.\.\/\.\.\/\.\.\/escaped" is not one of/,
  );
  assert.match(m.err, /climb-experiment\.json: not a cnnlab run record \(experiment "q1a\/\.\." is not a name/);
  assert.match(
    m.err,
    /climb-hash\.json: not a cnnlab run record \(configHash "\.\.\/\.\.\/\.\.\/x" is not 12 hex digits/,
  );
  const written = await filesUnder(base, ".json");
  assert.deepEqual(written.filter((p) => !p.startsWith(`${other}/`)), [], "nothing written anywhere");
  // The same run merged twice: once the same (left alone), once relabelled (a conflict; the store's copy kept).
  const mine = `${target}/results${path.slice(`${src}/results`.length)}`;
  assert.equal((await exp(target, ["merge", src])).code, 0);
  const before = await Deno.readTextFile(mine);
  const relabelled = `${base}/relabelled`;
  await Deno.mkdir(`${relabelled}/results/a/b`, { recursive: true });
  await Deno.writeTextFile(`${relabelled}/results/a/b/r.json`, JSON.stringify({ ...r, label: "something else" }));
  const c = await exp(target, ["merge", src, relabelled]);
  assert.equal(c.code, 1);
  assert.match(c.out, /0 record\(s\), 1 already present, 1 conflict\(s\)/);
  assert.match(c.err, /same run with different labels "ReLU instead of sigmoid" and "something else"; kept /);
  assert.equal(await Deno.readTextFile(mine), before);
});

Deno.test("publish: finished records replace the same seed and stale configurations; other seeds and experiments stay", async () => {
  const out = await tmp();
  const file = `${out}/published/results/smoke.json`;
  assert.equal((await exp(out, ["publish", "q1a/relu", "--preset", "smoke"])).code, 1, "nothing to publish yet");
  assert.equal((await exp(out, ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"])).code, 0);
  await Deno.mkdir(`${out}/published/results`, { recursive: true });
  // Published earlier: another experiment, a stale configuration of this one (no hash), and its seed 2
  // trained elsewhere with the current configuration.
  const hash = await configHash(resolveConfig(experiment("q1a/relu"), "smoke"));
  await Deno.writeTextFile(
    file,
    JSON.stringify([
      { experiment: "q9/kept" },
      { experiment: "q1a/relu", seed: 99 },
      { experiment: "q1a/relu", seed: 2, configHash: hash },
    ]),
  );
  for (let i = 0; i < 2; i++) {
    const r = await exp(out, ["publish", "q1a/relu", "--preset", "smoke"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /published 1 smoke record\(s\) to .*smoke\.json \(2 other record\(s\) kept\)/);
  }
  const list = JSON.parse(await Deno.readTextFile(file)) as RunRecord[];
  assert.deepEqual(list.map((r) => `${r.experiment}:${r.seed}`), ["q9/kept:undefined", "q1a/relu:2", "q1a/relu:1"]);
  assert.equal(list[2].status, "ok");
});

Deno.test("workers: four workers on one store train every run exactly once, free-for-all and with --shard", async () => {
  for (const mode of ["free", "shard"]) {
    const out = await tmp();
    const outs = await Promise.all(
      [1, 2, 3, 4].map((k) =>
        exp(out, [
          "run",
          "q1a",
          "--preset",
          "smoke",
          "--backend",
          "wasm",
          ...(mode === "shard" ? ["--shard", `${k}/4`] : []),
        ])
      ),
    );
    for (const o of outs) assert.equal(o.code, 0, o.err);
    const expected = matchExperiments("q1a").length; // one smoke seed each
    const done = outs.flatMap((o) => o.out.split("\n").filter((l) => / done, test acc/.test(l)))
      .map((l) => l.split(":")[0]);
    assert.equal(done.length, expected, `${mode}: ${done.join("\n")}`);
    assert.equal(new Set(done).size, expected, `${mode}: a run trained twice:\n${done.sort().join("\n")}`);
    assert.equal((await records(out)).length, expected);
  }
});

Deno.test("--force interrupted by Ctrl-C keeps the earlier ok record", async () => {
  const out = await tmp();
  const args = ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"];
  assert.equal((await exp(out, args)).code, 0);
  const [before] = await records(out);
  const text = await Deno.readTextFile(before.path);
  const release = `${out}/release`;
  const { child, drained } = await startUntil(out, [...args, "--force"], "train.step=1:2", {
    CNNLAB_FAILPOINT_RELEASE: release,
  });
  child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 300));
  await Deno.writeTextFile(release, "go");
  const st = await child.status;
  await drained;
  assert.equal(st.code, 130);
  assert.equal(await Deno.readTextFile(before.path), text, "the ok record was replaced");
});

for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${sig} during an epoch of long synchronous steps stops after the current step, not at the epoch's end`, async () => {
    const out = await tmp();
    // Smoke LeNet: 3 steps per epoch, each blocked 700 ms like a slow machine's native step.
    const args = ["run", "q1a/relu", "--preset", "smoke", "--backend", "wasm"];
    const { child, drained } = await startUntil(out, args, "train.step=block:700", {}, "failpoint train.step blocking");
    child.kill(sig);
    const st = await child.status;
    await drained;
    assert.equal(st.code, code);
    const [rec] = await records(out);
    assert.equal(rec.r.status, "interrupted");
    assert.match(String(rec.r.message), /during epoch 1;/, "the stop waited for the epoch's end");
    assert.deepEqual(await locks(out), [], "the run's lock was released");
  });
}

async function withTmpfs(opts: string, f: (dir: string) => Promise<void>): Promise<boolean> {
  const dir = await tmp();
  const m = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", opts, "tmpfs", dir], stderr: "null" })
    .output().catch(() => null);
  if (!m?.success) return false;
  try {
    await f(dir);
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
  }
  return true;
}

Deno.test({
  name: "outputs: a read-only or a full outputs folder stops before the first step, with one line",
  ignore: !isRoot,
  fn: async () => {
    const args = ["run", "q1a/wider", "--preset", "smoke", "--backend", "wasm"];
    const ro = await withTmpfs("ro,size=1m", async (dir) => {
      const r = await exp(dir, args);
      assert.equal(r.code, 1);
      assert.match(r.err, /outputs folder .* is not writable .*; fix: make it writable, or set CNNLAB_OUTPUTS/);
      assert.doesNotMatch(r.err, /epoch 1\/|at file:/);
    });
    const full = await withTmpfs("size=64k", async (dir) => {
      const r = await exp(dir, args);
      assert.equal(r.code, 1);
      assert.match(r.err, /has \d+ MiB free, one checkpoint of this model needs \d+ MiB; fix:/);
      assert.doesNotMatch(r.err, /epoch 1\/|at file:/);
    });
    if (!ro || !full) console.warn("tmpfs mounts unavailable here: outputs cases not exercised");
  },
});

Deno.test("data: an unreadable or impossible data folder and bad flags give one line and exit 1 or 2", async () => {
  const out = await tmp();
  const file = `${out}/not-a-folder`;
  await Deno.writeTextFile(file, "x");
  let r = await exp(out, ["run", "q1a/relu", "--preset", "smoke", "--data-dir", `${file}/sub`]);
  assert.equal(r.code, 1);
  assert.equal(r.err.trim().split("\n").filter((l) => l.startsWith("exp:")).length, 1, r.err);
  assert.doesNotMatch(r.err, /at file:|Uncaught/);
  if (!isRoot) {
    const locked = `${out}/locked`;
    await Deno.mkdir(locked, { mode: 0o000 });
    r = await exp(out, ["run", "q1a/relu", "--preset", "smoke", "--data-dir", locked]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot be searched for Fashion-MNIST .*; fix: make the folder readable/);
  }
  for (
    const [args, re] of [
      [["run", "q1a/relu", "--seeds", ","], /--seeds must be a comma-separated list of decimal integers/],
      [
        ["run", "q1a/relu", "--seeds", "4294967297"],
        /--seeds must be a comma-separated list of decimal integers from 0 to 2147483647/,
      ],
      [["run", "q1a/relu", "--seeds", "0x10"], /--seeds must be .* decimal integers .*, got '0x10'/],
      [["run", "q1a/relu", "--seeds", "1e1"], /--seeds must be .* decimal integers .*, got '1e1'/],
      [["run", "q1a/relu", "--seeds", "1,1"], /--seeds lists a seed twice/],
      [["run", "q1a/relu", "--shard", "5/4"], /--shard must be k\/n/],
      [["run", "q1a/relu", "--backend", "cuda"], /unknown backend 'cuda'/],
      [["run", "q1a/relu", "--preset"], /--preset needs a value/],
    ] as [string[], RegExp][]
  ) {
    r = await exp(out, args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
  }
  const train = (args: string[]) => run(`${PROJECT_ROOT}/scripts/train.ts`, args, { CNNLAB_OUTPUTS: out });
  for (
    const [args, re] of [
      [["--backend", "cuda"], /unknown backend 'cuda'/],
      [["--size", "10000"], /--size must be an integer from \d+ to 512/],
      [["--epochs", "1e9"], /--epochs must be an integer from 1 to 1000/],
      [["--lr", "Infinity"], /--lr must be a number above 0/],
    ] as [string[], RegExp][]
  ) {
    r = await train(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /at file:|Uncaught/);
  }
});

Deno.test("escaping: a record's label cannot put markup into a page; patterns match in linear time", () => {
  const evil = `<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>`;
  const html = markdownHtml(`- **${evil}**: 0.9`) +
    tableHtml([{ label: evil }], [{ label: "l", cell: (r) => String(r.label) }]);
  assert.doesNotMatch(html, /<script|<img|href="javascript/i);
  assert.match(html, /&lt;script&gt;/);
  const t0 = performance.now();
  assert.deepEqual(matchExperiments("*".repeat(20) + "zzz"), []);
  assert.equal(globPrefix("q*b*@*6", "q2b/vgg11-r8@96"), true);
  assert.equal(globPrefix("q*x", "q2b/vgg11-r8@96"), false);
  assert.ok(performance.now() - t0 < 50, `pattern matching took ${performance.now() - t0} ms`);
});

Deno.test("a short training with the default backend exits 0, 20 times out of 20", async () => {
  const out = await tmp();
  const codes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await run(`${PROJECT_ROOT}/scripts/train.ts`, [
      "--epochs",
      "1",
      "--train-per-class",
      "10",
      "--test-per-class",
      "10",
    ], {
      CNNLAB_OUTPUTS: out,
    });
    codes.push(r.code);
  }
  assert.deepEqual(codes, new Array(20).fill(0));
});
