/**
 * Every process that trains runs with the same V8 flags (lib/util/deno.ts V8_FLAGS): the tasks
 * in deno.json, the children started through denoRunArgs, and the bench's children.
 */
import assert from "node:assert/strict";
import { denoRunArgs, V8_FLAGS } from "../lib/util/deno.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";

/** Tasks whose `deno run` trains or measures training. */
const TRAINING_TASKS = ["train", "exp", "plan", "tune", "report", "epoch-bench", "bench", "bf16-check"];

Deno.test("deno.json's training tasks run with V8_FLAGS, and the others do not need to", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/deno.json`)).tasks as Record<
    string,
    { command: string }
  >;
  for (const name of TRAINING_TASKS) {
    const run = tasks[name].command.split("&&").map((c) => c.trim()).find((c) => c.startsWith("deno run"));
    assert.ok(run, `task ${name} has a deno run`);
    assert.ok(run.startsWith(`deno run ${V8_FLAGS} `), `task ${name}: ${run}`);
  }
  for (const [name, t] of Object.entries(tasks)) {
    if (t.command.includes("--max-semi-space-size")) {
      assert.ok(TRAINING_TASKS.includes(name), `task ${name} sets the flag: list it above`);
      assert.ok(t.command.includes(V8_FLAGS), `task ${name} sets another value than V8_FLAGS`);
    }
  }
});

Deno.test("child processes started through denoRunArgs and by the bench carry V8_FLAGS", async () => {
  assert.deepEqual(denoRunArgs("x.ts", ["a"]).slice(0, 2), ["run", V8_FLAGS]);
  const bench = await Deno.readTextFile(`${PROJECT_ROOT}/bench/train_bench.ts`);
  const runs = bench.match(/\["run",[^\]]*/g) ?? [];
  assert.ok(runs.length >= 1, "the bench starts its measurements as deno run children");
  for (const r of runs) assert.match(r, /^\["run", V8_FLAGS,/);
});
