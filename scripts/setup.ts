/**
 * `deno task setup`: install or check everything cnnlab needs, idempotently.
 *
 * 1. Debian packages (Fashion-MNIST, Jupyter's nbconvert and client): installed with
 *    apt-get when running as root on Debian/Ubuntu; otherwise the exact command is printed.
 * 2. npm dependencies into node_modules (`deno install`).
 * 3. The Deno Jupyter kernel (`deno jupyter --install`), re-registered if deno moved.
 * 4. Fashion-MNIST: located (or downloaded) and verified by SHA-256.
 * 5. The native backend's library (oneDNN kernels), compiled when g++ and libdnnl-dev are
 *    present; otherwise a one-line notice (the wasm backend remains).
 * Exit code 1 only when something the tests need could not be provided.
 */
import { loadFashionMnist } from "../lib/data/fashion_mnist.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { buildNative } from "../lib/backend/native_build.ts";
import { writeSetupStamp } from "./setup_state.ts";

/** Debian packages the project uses, with what each is for. */
export const APT_PACKAGES: Record<string, string> = {
  "dataset-fashion-mnist": "the dataset, in /usr/share/datasets/fashion-mnist",
  "jupyter-nbconvert": "executes notebooks headless and exports HTML",
  "jupyter-client": "talks to the Deno kernel",
  "python3-jupyter-server":
    "a real Jupyter server (REST + websocket, as VS Code and JupyterLab use) for the server test",
  "chromium": "renders the HTML report headless in the report test (screenshot)",
  "fonts-noto-cjk": "Chinese glyphs for the zh report pages in Chromium (else it draws boxes)",
  "mesa-vulkan-drivers": "a software WebGPU adapter, so the GPU path is tested without a GPU",
  "g++": "compiles the native backend's kernels",
  "libdnnl-dev": "oneDNN, which the native backend's kernels call",
};

const quiet = Deno.args.includes("--quiet");
const say = (s: string) => console.error(`setup: ${s}`);
const detail = (s: string) => {
  if (!quiet) say(s);
};

async function run(cmd: string, args: string[], opts: { env?: Record<string, string>; inherit?: boolean } = {}) {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env: opts.env,
      stdout: opts.inherit ? "inherit" : "piped",
      stderr: opts.inherit ? "inherit" : "piped",
      cwd: PROJECT_ROOT,
    }).output();
    const dec = new TextDecoder();
    return {
      ok: out.success,
      code: out.code,
      stdout: opts.inherit ? "" : dec.decode(out.stdout),
      stderr: opts.inherit ? "" : dec.decode(out.stderr),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, code: 127, stdout: "", stderr: `${cmd}: not found` };
    throw e;
  }
}

async function missingAptPackages(): Promise<string[] | null> {
  const q = await run("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\\n", ...Object.keys(APT_PACKAGES)]);
  if (q.code === 127) return null; // not a Debian system
  const installed = new Set(
    q.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0]),
  );
  return Object.keys(APT_PACKAGES).filter((p) => !installed.has(p));
}

async function aptStep(): Promise<boolean> {
  const missing = await missingAptPackages();
  if (missing === null) {
    say(
      "not a Debian/Ubuntu system: install Jupyter yourself (macOS: `brew install jupyterlab`; Windows: `py -m pip install notebook nbconvert`); the dataset will be downloaded",
    );
    return true;
  }
  if (missing.length === 0) {
    detail(`apt packages present: ${Object.keys(APT_PACKAGES).join(", ")}`);
    return true;
  }
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (Deno.uid() !== 0) {
    say(`missing Debian packages: ${missing.join(", ")}. Run:\n  sudo apt-get update && sudo ${cmd}`);
    return false;
  }
  say(`installing ${missing.join(", ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  let r = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env });
  if (!r.ok) {
    // Package lists may be missing or stale on a fresh machine.
    await run("apt-get", ["update", "-qq"], { env });
    r = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env });
  }
  if (!r.ok) {
    say(`apt-get failed:\n${r.stderr.trim().split("\n").slice(-5).join("\n")}\nfix: run \`${cmd}\` by hand`);
    return false;
  }
  return true;
}

async function npmStep(): Promise<boolean> {
  const r = await run(Deno.execPath(), ["install", "--quiet"]);
  if (!r.ok) {
    say(`deno install failed (npm registry unreachable?):\n${r.stderr.trim().split("\n").slice(-5).join("\n")}`);
    return false;
  }
  detail("npm dependencies installed in node_modules/");
  return true;
}

/** Where the Deno kernelspec is registered (known once kernelStep found it). */
let kernelDir = "";

async function kernelStep(): Promise<boolean> {
  const list = await run("jupyter", ["kernelspec", "list", "--json"]);
  if (!list.ok) {
    say("jupyter not found: the Deno kernel is not registered (notebooks and `deno task report` need it)");
    return false;
  }
  const specs = JSON.parse(list.stdout).kernelspecs as Record<
    string,
    { resource_dir: string; spec: { argv: string[] } }
  >;
  const deno = specs.deno;
  kernelDir = deno?.resource_dir ?? "";
  // `deno jupyter --install` records the deno on PATH (e.g. /usr/bin/deno, a link to npm's copy):
  // compare real paths, or the kernelspec is rewritten on every run.
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return p;
    }
  };
  if (deno && real(deno.spec.argv[0]) === real(Deno.execPath())) {
    detail(`Deno Jupyter kernel registered (${Deno.execPath()})`);
    return true;
  }
  const r = await run(Deno.execPath(), ["jupyter", "--install", "--force"]);
  if (!r.ok) {
    say(`deno jupyter --install failed: ${r.stderr.trim()}`);
    return false;
  }
  say(`registered the Deno Jupyter kernel (${Deno.execPath()})`);
  const again = await run("jupyter", ["kernelspec", "list", "--json"]);
  kernelDir = again.ok ? JSON.parse(again.stdout).kernelspecs?.deno?.resource_dir ?? "" : "";
  return true;
}

async function dataStep(): Promise<boolean> {
  try {
    const t = performance.now();
    const d = await loadFashionMnist({ log: (l) => say(l) });
    detail(`Fashion-MNIST verified in ${d.dir} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    return true;
  } catch (e) {
    say((e as Error).message);
    return false;
  }
}

async function nativeStep(): Promise<boolean> {
  const r = await buildNative();
  if (r.built) detail(r.message);
  else say(r.message);
  return r.built;
}

const t0 = performance.now();
const results = {
  apt: await aptStep(),
  npm: await npmStep(),
  kernel: await kernelStep(),
  data: await dataStep(),
  native: await nativeStep(),
};
const failed = Object.entries(results).filter(([, ok]) => !ok).map(([k]) => k);
// Complete: the tasks that train check this record instead of running setup again (setup_state.ts).
// The native library is optional (without g++ and oneDNN training uses wasm): its absence is recorded, not retried.
if (failed.every((k) => k === "native") && kernelDir) await writeSetupStamp(kernelDir, results.native);
say(
  `${failed.length ? `incomplete (${failed.join(", ")})` : "done"} in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);
// The tests need the data and npm packages; a missing kernel or apt tool only affects notebooks,
// a missing native library only the native backend.
if (!results.data || !results.npm) Deno.exit(1);
