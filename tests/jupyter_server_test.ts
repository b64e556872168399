/**
 * A notebook driven the way VS Code and JupyterLab drive it: a real Jupyter server (Debian's
 * jupyter-server) on 127.0.0.1 with the Deno kernel, the notebook opened through the REST API,
 * its cells executed one by one over the kernel's websocket, the settings cell edited (smoke
 * preset), the "Try it" cell edited (another learning rate) and executed again. The outputs must
 * change, the live progress display must update in place (update_display_data), and the variant's
 * record must be stored under its own configuration hash. The server is stopped at the end.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { textOf } from "./helpers.ts";

const NOTEBOOK = "02_alexnet_simplification.ipynb";

function serverAvailable(): boolean {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import jupyter_server"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

interface Reply {
  displays: number;
  updates: number;
  errors: string[];
  html: string[];
  text: string[];
}

class Kernel {
  #ws: WebSocket;
  #session = crypto.randomUUID();
  #waiting = new Map<string, { reply: Reply; done: () => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      const w = this.#waiting.get(msg.parent_header?.msg_id);
      if (!w || msg.channel !== "iopub") return;
      const c = msg.content ?? {};
      switch (msg.msg_type ?? msg.header?.msg_type) {
        case "display_data":
        case "execute_result":
          w.reply.displays++;
          w.reply.html.push(c.data?.["text/html"] ?? "");
          w.reply.text.push(c.data?.["text/plain"] ?? "");
          break;
        case "update_display_data":
          w.reply.updates++;
          break;
        case "error":
          w.reply.errors.push(`${c.ename}: ${c.evalue}`);
          break;
        case "status":
          if (c.execution_state === "idle") setTimeout(w.done, 100); // late outputs (TOOLCHAIN notes)
          break;
      }
    };
  }

  static async open(url: string): Promise<Kernel> {
    const ws = new WebSocket(url);
    await new Promise((ok, fail) => {
      ws.onopen = ok;
      ws.onerror = fail;
    });
    return new Kernel(ws);
  }

  execute(code: string): Promise<Reply> {
    const id = crypto.randomUUID();
    return new Promise((resolve) => {
      const reply: Reply = { displays: 0, updates: 0, errors: [], html: [], text: [] };
      this.#waiting.set(id, { reply, done: () => resolve(reply) });
      this.#ws.send(JSON.stringify({
        header: {
          msg_id: id,
          msg_type: "execute_request",
          session: this.#session,
          username: "test",
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false },
        channel: "shell",
      }));
    });
  }

  close() {
    this.#ws.close();
  }
}

/** The server's REST API: JSON in and out (null for 204). */
// deno-lint-ignore no-explicit-any
type Api = (path: string, init?: RequestInit) => Promise<any>;

/** A Jupyter server on 127.0.0.1 serving notebooks/ with `env` (its kernels inherit it), stopped after `fn`. */
async function withServer(
  env: Record<string, string>,
  fn: (s: { api: Api; kernelUrl: (id: string) => string }) => Promise<void>,
): Promise<void> {
  const token = crypto.randomUUID().replaceAll("-", "");
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const server = new Deno.Command("/usr/bin/python3", {
    args: [
      "-m",
      "jupyter_server",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      "--ServerApp.port_retries=0",
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${PROJECT_ROOT}/notebooks`,
      "--ServerApp.open_browser=False",
      "--allow-root",
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = textOf(server.stderr);
  const base = `http://127.0.0.1:${port}`;
  const api: Api = async (path, init = {}) => {
    const r = await fetch(`${base}${path}`, {
      ...init,
      headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
    });
    if (!r.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : await r.json();
  };
  let ok = false;
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await api("/api/status");
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await fn({ api, kernelUrl: (id) => `ws://127.0.0.1:${port}/api/kernels/${id}/channels?token=${token}` });
    ok = true;
  } finally {
    server.kill("SIGTERM");
    await server.status;
    const log = await stderr;
    if (!ok) console.error(log.slice(-3000));
  }
}

/** Open `notebook` in a session with the Deno kernel; the session is deleted after `fn`. */
async function withSession(
  s: { api: Api; kernelUrl: (id: string) => string },
  notebook: string,
  fn: (kernel: Kernel, kernelId: string) => Promise<void>,
): Promise<void> {
  const session = await s.api("/api/sessions", {
    method: "POST",
    body: JSON.stringify({ path: notebook, type: "notebook", name: notebook, kernel: { name: "deno" } }),
  });
  const kernel = await Kernel.open(s.kernelUrl(session.kernel.id));
  try {
    await fn(kernel, session.kernel.id);
  } finally {
    kernel.close();
    await s.api(`/api/sessions/${session.id}`, { method: "DELETE" }).catch(() => {});
  }
}

/** Paths under `dir` whose names end with `suffix`. */
function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory) walk(`${d}/${e.name}`);
      else if (e.name.endsWith(suffix)) out.push(`${d}/${e.name}`);
    }
  };
  try {
    walk(dir);
  } catch {
    // no such folder yet
  }
  return out;
}

Deno.test({
  name: "Jupyter server: open a notebook over REST, run its cells over the websocket, edit settings and a variant",
  ignore: !serverAvailable(),
  fn: async () => {
    const outputs = await Deno.makeTempDir({ prefix: "cnnlab-jupyter-" });
    await withServer({ CNNLAB_OUTPUTS: outputs }, async (s) => {
      const nb = await s.api(`/api/contents/${NOTEBOOK}?content=1`);
      const cells = (nb.content.cells as { cell_type: string; source: string; metadata: { tags?: string[] } }[])
        .filter((c) => c.cell_type === "code");
      await withSession(s, NOTEBOOK, async (kernel) => {
        // Edit the settings cell as a student would: the smoke preset.
        const settings = cells[0].source.replace(
          /const preset: string \| undefined = undefined;/,
          'const preset: string | undefined = "smoke";',
        );
        assert.notEqual(settings, cells[0].source, "the settings cell has the preset line");
        const replies: Reply[] = [];
        for (const c of cells.slice(0, -1)) {
          const code = c === cells[0] ? settings : c.source;
          const r = await kernel.execute(code);
          assert.deepEqual(r.errors, [], code);
          replies.push(r);
        }
        const training = replies[1];
        assert.ok(training.displays >= 1 && training.updates >= 1, "the training cell shows a live progress display");
        assert.ok(replies[2].html.some((h) => h.includes('class="cnnlab-answer"')), "the answer block is displayed");
        // The "Try it" cell, run as written and again after editing its learning rate.
        const tryIt = cells.at(-1)!.source;
        assert.ok((cells.at(-1)!.metadata.tags ?? []).includes("try-it"));
        const first = await kernel.execute(tryIt);
        assert.deepEqual(first.errors, []);
        const edited = tryIt.replace(/denseWidth: 512 \}/, "denseWidth: 512 }, optim: { lr: 0.004 }");
        assert.notEqual(edited, tryIt);
        const second = await kernel.execute(edited);
        assert.deepEqual(second.errors, []);
        assert.ok(second.updates >= 1, "the edited variant trains with a live display");
        const table = (r: Reply) => r.text.join("\n");
        assert.ok(table(first).includes("[") && table(first) !== table(second), "the outputs changed");
        // Both variants are stored under their own hashes and declared for the CLI.
        const dirs = [...Deno.readDirSync(`${outputs}/results`)].map((e) => e.name).filter((n) => n.includes("~"));
        assert.equal(dirs.length, 2, dirs.join(", "));
        const hashes = dirs.flatMap((d) =>
          [...Deno.readDirSync(`${outputs}/results/${d}/smoke`)].map((f) => f.name.split("-")[0])
        );
        assert.equal(new Set(hashes).size, 2);
        assert.ok([...Deno.readDirSync(`${outputs}/variants`)].length >= 2);
      });
    });
  },
});

Deno.test({
  name:
    "Jupyter server: the stop button during training keeps the kernel; the run is interrupted, unlocked, and resumes",
  ignore: !serverAvailable(),
  fn: async () => {
    const outputs = await Deno.makeTempDir({ prefix: "cnnlab-jupyter-" });
    // Every training step blocks 600 ms (a slow machine's step), so the stop lands inside epoch 2.
    await withServer({ CNNLAB_OUTPUTS: outputs, CNNLAB_FAILPOINTS: "train.step=block:600" }, async (s) => {
      await withSession(s, NOTEBOOK, async (kernel, id) => {
        const setup = await kernel.execute(
          'import { ensure, setupNotebook } from "../lib/notebook/mod.ts";\nconst ctx = await setupNotebook("01", { preset: "smoke" });',
        );
        assert.deepEqual(setup.errors, []);
        const train =
          'const runs = await ensure(ctx, ["q1a/relu"]);\nconsole.log(runs.map((r) => r.status).join(","));';
        const running = kernel.execute(train);
        // Press stop once epoch 1 is checkpointed.
        const t0 = Date.now();
        while (!filesUnder(`${outputs}/checkpoints`, "epoch-0001.ckpt").length) {
          assert.ok(Date.now() - t0 < 60_000, "epoch 1 never checkpointed");
          await new Promise((r) => setTimeout(r, 50));
        }
        await s.api(`/api/kernels/${id}/interrupt`, { method: "POST" });
        // Without a listener the interrupt kills the kernel, which then never answers: fail, do not hang.
        const stopped = await Promise.race([
          running,
          new Promise<never>((_, fail) =>
            setTimeout(() => fail(new Error("no reply 60 s after the interrupt")), 60_000)
          ),
        ]);
        assert.equal(stopped.errors.length, 1, stopped.errors.join("\n"));
        assert.match(
          stopped.errors[0],
          /^Interrupted: training stopped by the interrupt; .*run the cell again to resume/,
        );
        const k = await s.api(`/api/kernels/${id}`);
        assert.notEqual(k.execution_state, "dead", "the kernel died");
        assert.deepEqual(filesUnder(`${outputs}/checkpoints`, ".lock"), [], "the run's lock was left behind");
        const [rec] = filesUnder(`${outputs}/results`, ".json").map((f) => JSON.parse(Deno.readTextFileSync(f)));
        assert.equal(rec?.status, "interrupted");
        assert.match(rec.message, /during epoch 2/);
        // The same cell again: the kernel lives, the run resumes after epoch 1 and finishes.
        const again = await kernel.execute(train);
        assert.deepEqual(again.errors, []);
        const [done] = filesUnder(`${outputs}/results`, ".json").map((f) => JSON.parse(Deno.readTextFileSync(f)));
        assert.equal(done.status, "ok");
        assert.equal(done.resumedFrom, 1);
        // A later interrupt with no training running is the kernel's own (no listener left behind).
        assert.deepEqual((await kernel.execute("1 + 1")).errors, []);
      });
    });
  },
});
