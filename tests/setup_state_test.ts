/**
 * The tasks that train check the last complete setup with read permission alone and run setup
 * (apt-get, downloads: --allow-run, --allow-net) only when something it provided changed.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { SETUP_STAMP, setupNeeded } from "../scripts/setup_state.ts";

Deno.test("setup check: the stamp of the setup `deno task test` just ran holds; each change it guards is named", async () => {
  assert.equal(await setupNeeded(), null, "deno task test ran setup, so its stamp should hold");
  const stamp = JSON.parse(await Deno.readTextFile(SETUP_STAMP));
  const dir = await Deno.makeTempDir();
  const variant = async (change: Record<string, unknown>) => {
    await Deno.writeTextFile(`${dir}/stamp.json`, JSON.stringify({ ...stamp, ...change }));
    return await setupNeeded(`${dir}/stamp.json`);
  };
  assert.equal(await variant({}), null);
  assert.equal(await variant({ deps: "0".repeat(64) }), "deno.json or deno.lock changed");
  assert.equal(await variant({ denoVersion: "1.0.0" }), "another deno");
  assert.equal(await variant({ dataDir: "/elsewhere" }), "the dataset moved");
  assert.equal(await variant({ kernelDir: `${dir}/no-kernel` }), "the Jupyter kernel is not registered");
  assert.equal(await setupNeeded(`${dir}/missing.json`), "no complete setup recorded");
});

Deno.test("setup check: train and report run it with read and env permission only, and setup only when it fails", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/deno.json`)).tasks as Record<
    string,
    { command: string }
  >;
  for (const name of ["train", "report"]) {
    assert.ok(
      tasks[name].command.startsWith(
        "(deno run --allow-read --allow-env scripts/setup_state.ts || deno task setup --quiet) && deno run ",
      ),
      `${name}: ${tasks[name].command}`,
    );
  }
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `${PROJECT_ROOT}/scripts/setup_state.ts`],
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
});
