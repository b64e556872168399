/**
 * Where a page's records come from: the store a notebook trains into (`outputs/`), or a folder of
 * published records (`deno task report --records DIR`, CNNLAB_RECORDS), read-only: `<preset>.json`
 * holds the runs, `measurements-<preset>.json` the measurements. Either way only records of the
 * experiments' current configurations count (a stale one is another experiment).
 */
import { setting } from "../util/settings.ts";
import {
  configHash,
  experiment,
  EXPERIMENTS,
  notebookExperiments,
  type Preset,
  presetSeeds,
  REFERENCE_TIER,
  resolveConfig,
} from "./experiments.ts";
import {
  measurementHash,
  measurementSpec,
  type MeasureRecord,
  notebookMeasurements,
  publishedMeasurementsFile,
  storedMeasurement,
  validateMeasurement,
} from "./measurements.ts";
import { PROJECT_ROOT } from "../util/fs.ts";
import { loadRecords, RecordError, reportBadFile, type RunRecord, validateRecord } from "./store.ts";

/** The published records committed with the report (the reference runs are read from here when the store has none). */
export const PUBLISHED_RESULTS = `${PROJECT_ROOT}/outputs/published/results`;

/** Each experiment's configuration hash at a preset: those named, or every registered one. */
export async function currentHashes(preset: Preset, names?: Iterable<string>): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const e of names ? [...names].map(experiment) : EXPERIMENTS.values()) {
    hashes.set(e.name, await configHash(resolveConfig(e, preset)));
  }
  return hashes;
}

/** Stored records of a preset that match the experiments' current configurations (stale ones left out). */
export async function currentRecords(preset: Preset, names?: Iterable<string>): Promise<RunRecord[]> {
  const hashes = await currentHashes(preset, names);
  return (await loadRecords({ preset })).filter((r) => hashes.get(r.experiment) === r.configHash);
}

export interface RecordSource {
  /** The folder read, for messages. */
  where: string;
  /** Whether pages are rendered from it alone (nothing is trained or measured). */
  readOnly: boolean;
  /** Current records of these experiments at a preset. */
  runs(preset: Preset, names: Iterable<string>): Promise<RunRecord[]>;
  /** The current measurement of this name at a preset, or null. */
  measurement(name: string, preset: Preset): Promise<MeasureRecord | null>;
}

/** The store (CNNLAB_OUTPUTS, default outputs/). */
export function storeSource(): RecordSource {
  return {
    where: "the store",
    readOnly: false,
    runs: (preset, names) => currentRecords(preset, names),
    measurement: (name, preset) => storedMeasurement(measurementSpec(name), preset),
  };
}

/** Parse a published file: its valid entries (each bad one reported and skipped); none when it is missing. */
async function readPublished<T>(file: string, validate: (v: unknown, where: string) => T): Promise<T[]> {
  let list: unknown;
  try {
    list = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    reportBadFile(`${file}: ${e instanceof SyntaxError ? "not valid JSON" : (e as Error).message}`);
    return [];
  }
  if (!Array.isArray(list)) {
    reportBadFile(`${file}: not a list of records`);
    return [];
  }
  const out: T[] = [];
  list.forEach((v, i) => {
    try {
      out.push(validate(v, `${file}[${i}]`));
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      reportBadFile(e.message);
    }
  });
  return out;
}

/** A folder of published records, read-only. */
export function folderSource(dir: string): RecordSource {
  const root = dir.replace(/\/$/, "");
  // Each file is read and checked once per source: a page asks for runs and measurements several times.
  const files = new Map<string, Promise<unknown[]>>();
  const once = <T>(file: string, validate: (v: unknown, where: string) => T): Promise<T[]> => {
    if (!files.has(file)) files.set(file, readPublished(file, validate));
    return files.get(file) as Promise<T[]>;
  };
  return {
    where: root,
    readOnly: true,
    runs: async (preset, names) => {
      const hashes = await currentHashes(preset, names);
      return (await once(`${root}/${preset}.json`, validateRecord)).filter((r) =>
        r.preset === preset && hashes.get(r.experiment) === r.configHash
      ).sort((a, b) => a.experiment.localeCompare(b.experiment) || a.seed - b.seed);
    },
    measurement: async (name, preset) => {
      const hash = await measurementHash(measurementSpec(name), preset);
      return (await once(publishedMeasurementsFile(root, preset), validateMeasurement)).find((r) =>
        r.measurement === name && r.preset === preset && r.configHash === hash
      ) ?? null;
    },
  };
}

/**
 * Reference runs (the full preset, the assignment's settings) of these experiments: the source's,
 * else — when the source is the store and has none — the published ones committed with the report.
 */
export async function referenceRuns(source: RecordSource, names: string[]): Promise<RunRecord[]> {
  const own = await source.runs("full", names);
  if (own.length || source.readOnly) return own;
  return await folderSource(PUBLISHED_RESULTS).runs("full", names);
}

/**
 * A measurement at the full preset (made from the reference tier's runs): the source's, else — when
 * the source is the store and has none — the published one committed with the report; null if neither.
 */
export async function referenceMeasurement(source: RecordSource, name: string): Promise<MeasureRecord | null> {
  const own = await source.measurement(name, "full");
  if (own || source.readOnly) return own;
  return await folderSource(PUBLISHED_RESULTS).measurement(name, "full");
}

/** The reference tier's runs published with the report, as "experiment|configHash|seed". */
export async function publishedReference(): Promise<Set<string>> {
  const runs = await folderSource(PUBLISHED_RESULTS).runs("full", REFERENCE_TIER.map((r) => r.experiment));
  return new Set(runs.filter((r) => r.status === "ok").map((r) => `${r.experiment}|${r.configHash}|${r.seed}`));
}

/** The source a notebook reads: CNNLAB_RECORDS's folder when set, else the store. */
export function recordSource(): RecordSource {
  const dir = setting("CNNLAB_RECORDS");
  return dir ? folderSource(dir) : storeSource();
}

/**
 * What the notebooks with these numbers need at a preset that `source` lacks: finished runs
 * ("q1b/alexnet seed 2") and measurements, and the commands that make them.
 */
export async function missingRecords(
  source: RecordSource,
  preset: Preset,
  notebooks: string[],
): Promise<{ runs: string[]; measurements: string[]; fix: string[] }> {
  const exps = notebookExperiments(notebooks, preset);
  const have = await source.runs(preset, exps.map((e) => e.name));
  const runs = exps.flatMap((e) =>
    presetSeeds(e, preset).filter((s) =>
      !have.some((r) => r.experiment === e.name && r.seed === s && r.status !== "interrupted")
    ).map((s) => `${e.name} seed ${s}`)
  );
  const measurements: string[] = [];
  for (const m of notebookMeasurements(notebooks)) {
    if (!(await source.measurement(m.name, preset))) {
      measurements.push(m.name);
    }
  }
  const groups = [...new Set(runs.map((r) => r.split("/")[0]))];
  const fix = [
    ...groups.map((g) => `deno task exp run '${g}/*' --preset ${preset}`),
    ...measurements.map((m) => `deno task exp measure ${m} --preset ${preset}`),
  ];
  if (fix.length) {
    fix.push(
      `deno task exp publish '*' --preset ${preset}` +
        (source.readOnly ? ` (then copy outputs/published/results into ${source.where})` : ""),
    );
  }
  return { runs, measurements, fix };
}
