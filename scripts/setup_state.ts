/**
 * What `deno task setup` leaves behind when every step succeeded, and the check that it still
 * holds: the tasks that train (`train`, `report`) run the check with read permission alone and
 * run setup (which needs --allow-run and --allow-net) only when something changed — another
 * deno, another deno.lock or deno.json, a native source newer than its library, a moved dataset,
 * a kernelspec that names another deno, or no node_modules.
 *
 *   deno run --allow-read --allow-env scripts/setup_state.ts   # exit 0: nothing to do; 1: one line says what changed
 */
import { NATIVE_LIB, nativeLibState } from "../lib/backend/native_build.ts";
import { locateFashionMnist } from "../lib/data/fashion_mnist.ts";
import { PROJECT_ROOT, writeFileAtomic } from "../lib/util/fs.ts";
import { sha256Hex } from "../lib/util/hash.ts";

export const SETUP_STAMP = `${PROJECT_ROOT}/build/setup-stamp.json`;

interface Stamp {
  deno: string;
  denoVersion: string;
  /** SHA-256 of deno.json and deno.lock: the dependencies setup installed. */
  deps: string;
  dataDir: string;
  /** The registered kernelspec's folder (its kernel.json names the deno it starts). */
  kernelDir: string;
  native: boolean;
}

const real = (p: string) => {
  try {
    return Deno.realPathSync(p);
  } catch {
    return p;
  }
};

async function deps(): Promise<string> {
  const read = (f: string) => Deno.readTextFile(`${PROJECT_ROOT}/${f}`).catch(() => "");
  return await sha256Hex(`${await read("deno.json")}\n${await read("deno.lock")}`);
}

async function current(kernelDir: string, native: boolean): Promise<Stamp> {
  return {
    deno: real(Deno.execPath()),
    denoVersion: Deno.version.deno,
    deps: await deps(),
    dataDir: await locateFashionMnist({ download: false }),
    kernelDir,
    native,
  };
}

/** Record a complete setup (called by setup.ts when every step succeeded). */
export async function writeSetupStamp(kernelDir: string, native: boolean): Promise<void> {
  await writeFileAtomic(SETUP_STAMP, JSON.stringify(await current(kernelDir, native), null, 1) + "\n");
}

/** Why setup must run again ("deno.lock changed", …), or null when its last complete run still holds. */
export async function setupNeeded(stampFile = SETUP_STAMP): Promise<string | null> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await Deno.readTextFile(stampFile));
  } catch {
    return "no complete setup recorded";
  }
  if (stamp.deno !== real(Deno.execPath()) || stamp.denoVersion !== Deno.version.deno) return "another deno";
  if (stamp.deps !== (await deps())) return "deno.json or deno.lock changed";
  try {
    await Deno.stat(`${PROJECT_ROOT}/node_modules`);
  } catch {
    return "node_modules is missing";
  }
  try {
    if ((await locateFashionMnist({ download: false })) !== stamp.dataDir) return "the dataset moved";
  } catch {
    return "the dataset is missing";
  }
  try {
    const spec = JSON.parse(await Deno.readTextFile(`${stamp.kernelDir}/kernel.json`));
    if (real(spec.argv?.[0] ?? "") !== stamp.deno) return "the Jupyter kernel names another deno";
  } catch {
    return "the Jupyter kernel is not registered";
  }
  if (stamp.native && !(await nativeLibState()).ok) return `${NATIVE_LIB} is missing or older than its source`;
  return null;
}

if (import.meta.main) {
  const why = await setupNeeded().catch((e) => `cannot tell (${(e as Error).message.split("\n")[0]})`);
  if (why) {
    console.error(`setup: ${why}; running deno task setup`);
    Deno.exit(1);
  }
}
