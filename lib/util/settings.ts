/**
 * Every CNNLAB_* environment variable cnnlab reads, parsed here and nowhere else (in the spirit
 * of tinygrad's one `getenv`): what it does and its default, in one table that docs/settings.md
 * repeats (a test holds the two equal). Read on each call, so a test or a notebook that sets one
 * sees it; a value that does not parse is one line naming the variable and the fix. Without
 * --allow-env every variable reads as unset.
 */
export class SettingError extends Error {
  override name = "SettingError";
}

/** The variables, what each does, and its default. */
export const SETTINGS = {
  CNNLAB_OUTPUTS: { what: "folder of results, measurements, checkpoints, locks and the report", default: "outputs/" },
  CNNLAB_DATA_DIR: { what: "folder holding the four Fashion-MNIST IDX files (.gz or not)", default: "searched" },
  CNNLAB_BACKEND: { what: "backend to train on: native, webgpu, tensorflow, wasm or cpu", default: "fastest found" },
  CNNLAB_PRECISION: { what: "native backend's precision: fp32 or bf16", default: "fp32" },
  CNNLAB_THREADS: { what: "native backend's threads (a report's workers get 1 each)", default: "cores" },
  CNNLAB_POOL_MB: { what: "native backend's pool of reusable output buffers, in MiB", default: "2048" },
  CNNLAB_BF16_LAYERS: { what: "all: every layer in bf16, not only those timed faster in it", default: "per layer" },
  CNNLAB_PRESET: { what: "a notebook's preset when its cell leaves it undefined", default: "laptop" },
  CNNLAB_LANG: { what: "a notebook's language when its cell leaves it undefined: en or zh", default: "en" },
  CNNLAB_RECORDS: {
    what: "a notebook reads this folder of published records only (report --records)",
    default: "unset",
  },
  CNNLAB_REPORT: { what: "1 under deno task report: notebooks skip their Try-it cells", default: "unset" },
  CNNLAB_TRY: { what: "1: run the Try-it cells under deno task report too", default: "unset" },
  CNNLAB_PROGRESS: {
    what: "file a trainer publishes its live progress to (the report's side channel)",
    default: "unset",
  },
  CNNLAB_LOCK_STALE_SECONDS: {
    what: "seconds without a heartbeat after which another host's lock is stale",
    default: "60",
  },
  CNNLAB_FAILPOINTS: { what: "tests: name=at[,…] points where a process stops, blocks or throws", default: "unset" },
  CNNLAB_FAILPOINT_RELEASE: { what: "tests: file whose existence releases a stopped failpoint", default: "unset" },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** The variable's text, or undefined when unset, empty or unreadable. */
export function setting(name: SettingName): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

function bad(name: SettingName, value: string, want: string): never {
  throw new SettingError(`${name}=${value} is not ${want}; fix: unset it or set ${want} (${SETTINGS[name].what})`);
}

/** A whole number ≥ `min`, or undefined when unset. */
export function intSetting(name: SettingName, min = 1): number | undefined {
  const v = setting(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) bad(name, v, `a whole number ≥ ${min}`);
  return Number(v);
}

/** A positive number, or undefined when unset. */
export function numberSetting(name: SettingName): number | undefined {
  const v = setting(name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x)) bad(name, v, "a positive number");
  return x;
}

/** Whether the variable is set to 1. */
export function flagSetting(name: SettingName): boolean {
  return setting(name) === "1";
}
