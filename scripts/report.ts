/**
 * `deno task report [--preset smoke|laptop|full] [--lang en|zh|both] [--only 03] [--workers N] [--out DIR]
 *                   [--notebooks DIR] [--records DIR] [--publish]`
 *
 * 1. Plans: calibrates the experiments the chosen notebooks need and prints, per question,
 *    the runs stored and to train and the predicted minutes (the same table as `deno task plan`).
 * 2. Trains what is missing on N worker processes sharing the cores (one live line each and
 *    an overall ETA on stderr); Ctrl-C stops them after the current step, and the next report
 *    resumes from the checkpoints.
 * 3. Executes the notebooks headless with the Deno kernel (nbconvert), which now find every
 *    record stored, and renders each to a self-contained page `outputs/report/<notebook>.html`
 *    plus `index.html`. Fails (exit 1), naming notebook and cell, when a cell errors or a cell
 *    that must produce output produced none. Before that, the measurements the pages show
 *    (timings, profiles, probes) that are not stored are made, alone, after the training. `--lang` picks the language (both: English pages in
 *    DIR, Chinese in DIR/zh/); the index shows each question's answer block and links its page.
 * `--records DIR` renders from a folder of published records (e.g. outputs/published/results)
 * read-only: steps 1–2 are skipped, nothing is trained, timed or profiled, and a missing record
 * stops the report with one line naming the runs and the commands that make them.
 * `--publish` copies the pages it rendered and the records they used into `<outputs>/published/`
 * (`CNNLAB_OUTPUTS`, default the project's `outputs/`), leaving every other published page in place.
 */
import { answerOf, type Notebook, problems, renderPage, skippedFiles, STYLE, titleOf } from "../lib/report/page.ts";
import { type Lang, LANGS, messages, parseLang } from "../lib/report/i18n.ts";
import { NOTEBOOK_QUESTIONS, notebookExperiments, parsePreset, type Preset } from "../lib/exp/experiments.ts";
import { outputsDir, publishRecords, replacedBy } from "../lib/exp/store.ts";
import {
  currentRecords,
  folderSource,
  missingRecords,
  referenceMeasurement,
  referenceRuns,
  storeSource,
} from "../lib/exp/records.ts";
import { notebookMeasurements, publishedMeasurementsFile, storedMeasurement } from "../lib/exp/measurements.ts";
import { minutes, type Plan } from "../lib/exp/plan.ts";
import { onStopSignals, stopExitCode, type StopSignal, trainPlan, watchProgress } from "../lib/exp/workers.ts";
import { readProgressReport } from "../lib/train/progress.ts";
import { esc } from "../lib/report/render.ts";
import { PROJECT_ROOT, writeFileAtomic } from "../lib/util/fs.ts";
import { intFlag, parseCli, UsageError } from "../lib/util/cli.ts";
import { denoRunArgs } from "../lib/util/deno.ts";
import { resolve } from "node:path";

function usage(msg: string): never {
  console.error(`report: ${msg}`);
  console.error(
    "usage: deno task report [--preset smoke|laptop|full] [--lang en|zh|both] [--only 03] [--workers N] [--out DIR] [--notebooks DIR] [--records DIR] [--publish]",
  );
  Deno.exit(2);
}

let preset: Preset = "laptop";
let only: string | undefined, workersFlag: number | undefined;
let out = "", nbDir = "", publish = false;
let recordsDir: string | undefined;
let langs: Lang[] = ["en"];
try {
  const { values, positionals } = parseCli(Deno.args, {
    preset: { type: "string" },
    only: { type: "string" },
    workers: { type: "string" },
    out: { type: "string" },
    notebooks: { type: "string" },
    records: { type: "string" },
    publish: { type: "boolean" },
    lang: { type: "string" },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  preset = parsePreset(values.preset ?? "laptop");
  only = values.only;
  workersFlag = values.workers === undefined ? undefined : intFlag("workers", values.workers, 1, 64);
  out = values.out ?? `${outputsDir()}/report`;
  nbDir = values.notebooks ?? `${PROJECT_ROOT}/notebooks`;
  publish = Boolean(values.publish);
  // Absolute: the notebooks' kernels run in notebooks/.
  recordsDir = values.records === undefined ? undefined : resolve(values.records);
  if (recordsDir !== undefined) {
    let isDir = false;
    try {
      isDir = Deno.statSync(recordsDir).isDirectory;
    } catch {
      isDir = false;
    }
    if (!isDir) {
      throw new UsageError(
        `--records ${recordsDir}: no such folder (a folder of <preset>.json records, e.g. outputs/published/results)`,
      );
    }
  }
  langs = values.lang === "both" ? [...LANGS] : [parseLang(values.lang ?? "en")];
} catch (e) {
  usage((e as Error).message);
}

const allNotebooks = [...Deno.readDirSync(nbDir)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort();
const notebooks = allNotebooks.filter((n) => !only || n.startsWith(only));
if (notebooks.length === 0) usage(`no notebook matches --only ${only}; have: ${allNotebooks.join(", ")}`);
const ids = notebooks.map((n) => n.slice(0, 2)).filter((id) => NOTEBOOK_QUESTIONS[id]);

const reportStart = performance.now();
if (recordsDir !== undefined) {
  // Render only: every record must be there already.
  const miss = await missingRecords(folderSource(recordsDir), preset, ids);
  if (miss.runs.length || miss.measurements.length) {
    console.error(
      `report: ${recordsDir} lacks ${
        [...miss.runs, ...miss.measurements.map((x) => `measurement ${x}`)].join(", ")
      } at preset ${preset}; make them with: ${miss.fix.join(" && ")}`,
    );
    Deno.exit(1);
  }
  console.error(`report: rendering from the records in ${recordsDir} (nothing is trained, timed or profiled)`);
} else {
  await trainAndMeasure();
}

async function trainAndMeasure(): Promise<void> {
  // 1. Plan, in a child process: calibrating every model allocates gigabytes this process must not
  // keep while the workers train.
  const planFile = `${outputsDir()}/report/plan-${preset}.json`;
  await Deno.mkdir(`${outputsDir()}/report`, { recursive: true });
  const planRun = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(`${PROJECT_ROOT}/scripts/plan.ts`, [
      "--preset",
      preset,
      "--only",
      ids.join(","),
      ...(workersFlag ? ["--workers", String(workersFlag)] : []),
      "--json",
      planFile,
    ]),
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!planRun.success) {
    console.error("report: planning failed (see above)");
    Deno.exit(1);
  }
  const plan = JSON.parse(await Deno.readTextFile(planFile)) as Plan;

  // 2. Train what is missing.
  const todo = plan.runs.filter((r) => !r.stored).length;
  if (todo) {
    const t = await trainPlan(plan, { backend: plan.backend });
    console.error(
      `report: training phase: ${t.trained} of ${todo} run(s) trained in ${minutes(t.wallSeconds)} (predicted ${
        minutes(plan.wallSeconds)
      }) with ${Math.min(plan.workers, todo)} worker(s)`,
    );
    // One line per reason: who holds the runs (the notebooks wait for their records), or that they failed or stopped.
    for (const why of new Set(t.notTrained.map((n) => n.why))) {
      const runs = t.notTrained.filter((n) => n.why === why).map((n) => `${n.experiment} seed ${n.seed}`);
      const waits = why.includes(" is training it") ? "; the notebooks will wait for their records" : "";
      console.error(`report: not trained here (${why}${waits}): ${runs.join(", ")}`);
    }
    if (t.interrupted) {
      console.error(
        `report: stopped by ${t.interrupted}; each run stopped is stored as interrupted with its last complete epoch checkpointed: rerun deno task report to resume`,
      );
      Deno.exit(stopExitCode(t.interrupted));
    }
    if (t.codes.some((c) => c !== 0)) {
      console.error("report: a worker reported a failed run (see above); the notebooks show it per seed");
    }
  }

  // 3. Measure what the pages show beyond the runs (timings, profiles, probes), after the training,
  // so that no worker shares the cores with a timing; one process, one at a time.
  const todoMeasures: string[] = [];
  for (const m of notebookMeasurements(ids)) if (!(await storedMeasurement(m, preset))) todoMeasures.push(m.name);
  if (todoMeasures.length) {
    console.error(`report: measuring ${todoMeasures.join(", ")} (after the training, alone)`);
    for (const name of todoMeasures) {
      const run = await new Deno.Command(Deno.execPath(), {
        args: denoRunArgs(`${PROJECT_ROOT}/scripts/exp.ts`, [
          "measure",
          name,
          "--preset",
          preset,
          "--backend",
          plan.backend,
        ]),
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!run.success) {
        console.error(`report: measuring ${name} failed (see above); its page will say what is missing`);
      }
      if (run.signal || run.code === 130 || run.code === 143) Deno.exit(run.code || 130);
    }
  }
}

// A stop while the notebooks execute: the kernel's training (if any) is interrupted as the stop
// button would (its ensure() stores the run as interrupted and releases its lock), then nbconvert
// is stopped, which shuts the kernel down. The kernel runs in a session of its own, out of reach
// of a terminal's Ctrl-C; its pid comes from the progress side channel.
let stoppedBy: StopSignal | null = null;
let executing: { child: Deno.ChildProcess; progressFile: string } | null = null;
async function stopNotebook(sig: StopSignal): Promise<void> {
  const cur = executing;
  if (!cur) return;
  const live = readProgressReport(cur.progressFile);
  if (live && !live.done && live.pid) {
    console.error(`report: ${sig}: stopping the notebook's training after its current step`);
    try {
      Deno.kill(live.pid, "SIGINT");
      for (let i = 0; i < 1200 && !(readProgressReport(cur.progressFile)?.done ?? true); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch {
      // the kernel is gone already
    }
  }
  try {
    cur.child.kill("SIGINT");
  } catch {
    // nbconvert is gone already
  }
}
const removeStopListeners = onStopSignals((sig) => {
  stoppedBy = sig;
  void stopNotebook(sig);
});

// 3. Execute and render the notebooks, once per language.
interface Page {
  file: string;
  title: string;
  answer: string | null;
}
let failed = false;
const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
const dirOf = (lang: Lang) => (lang === "en" ? out : `${out}/zh`);
const rendered = new Map<Lang, Page[]>();

for (const lang of langs) {
  const dir = dirOf(lang);
  await Deno.mkdir(`${dir}/executed`, { recursive: true });
  const pages: Page[] = [];
  for (const name of notebooks) {
    const base = name.replace(/\.ipynb$/, "");
    const t0 = performance.now();
    console.error(`report: executing ${name} (preset ${preset}, ${lang})`);
    const progressFile = `${dir}/executed/${base}.progress.json`;
    await Deno.remove(progressFile).catch(() => {});
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("jupyter", {
        args: [
          "nbconvert",
          "--to",
          "notebook",
          "--execute",
          "--allow-errors",
          "--ExecutePreprocessor.kernel_name=deno",
          "--ExecutePreprocessor.timeout=-1",
          "--output-dir",
          `${dir}/executed`,
          "--output",
          base,
          `${nbDir}/${name}`,
        ],
        // The kernel trains whatever the workers did not (a failed run, a notebook's own cell);
        // its progress reaches this terminal through the side channel, which nbconvert does not capture.
        env: {
          CNNLAB_PRESET: preset,
          CNNLAB_LANG: lang,
          CNNLAB_REPORT: "1",
          CNNLAB_PROGRESS: progressFile,
          ...(recordsDir !== undefined ? { CNNLAB_RECORDS: recordsDir } : {}),
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        console.error(
          "report: jupyter not found; fix: run `deno task setup` (installs jupyter-nbconvert and the Deno kernel)",
        );
        Deno.exit(1);
      }
      throw e;
    }
    executing = { child, progressFile };
    const stopWatching = watchProgress(progressFile, base);
    const run = await child.output();
    stopWatching();
    executing = null;
    if (stoppedBy) {
      removeStopListeners();
      console.error(
        `report: stopped by ${stoppedBy} while executing ${name}; its page and the index were not replaced: rerun deno task report to resume`,
      );
      Deno.exit(stopExitCode(stoppedBy));
    }
    // A page that failed to render keeps its last good version, here and in the index.
    const keepPrevious = () => {
      const previous = pageFromFile(dir, `${base}.html`);
      if (previous) pages.push(previous);
      console.error(
        `report: ${name}: ${previous ? `kept the earlier page ${dir}/${base}.html` : "no page written"} (${lang})`,
      );
    };
    if (!run.success) {
      const err = new TextDecoder().decode(run.stderr).trim().split("\n").slice(-8).join("\n");
      console.error(`report: ${name}: nbconvert failed:\n${err}`);
      failed = true;
      keepPrevious();
      continue;
    }
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/executed/${base}.ipynb`)) as Notebook;
    for (const line of skippedFiles(nb)) console.error(`report: ${name}: ${line}`);
    const bad = problems(nb);
    for (const p of bad) console.error(`report: ${name}, code cell ${p.cell}: ${p.message}`);
    if (bad.length) {
      failed = true;
      keepPrevious();
      continue;
    }
    const title = titleOf(nb, lang, base);
    const m = messages(lang);
    const nav = `<nav><a href="index.html">${esc(m.allQuestions)}</a> · <a href="${m.otherLanguageHref}${base}.html">${
      esc(m.otherLanguage)
    }</a></nav>`;
    await writeFileAtomic(`${dir}/${base}.html`, renderPage(nb, { title, lang, date, nav }));
    pages.push({ file: `${base}.html`, title, answer: answerOf(nb) });
    console.error(`report: wrote ${dir}/${base}.html (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  rendered.set(lang, pages);
  await writeFileAtomic(`${dir}/index.html`, indexHtml(lang, pages));
  console.error(`report: wrote ${dir}/index.html`);
}
removeStopListeners();
console.error(`report: done in ${minutes((performance.now() - reportStart) / 1000)}`);

/** A page already written in `dir` (its title and answer block, for the index), or null. */
function pageFromFile(dir: string, file: string): Page | null {
  let html: string;
  try {
    html = Deno.readTextFileSync(`${dir}/${file}`);
  } catch {
    return null;
  }
  return {
    file,
    title: html.match(/<title>([^<]*)<\/title>/)?.[1] ?? file,
    answer: html.match(/<div class="cnnlab-answer">[\s\S]*?<\/ul><\/div>/)?.[0] ?? null,
  };
}

/** The index: each question's answer block and a link to its page. */
function indexHtml(lang: Lang, list: Page[]): string {
  const m = messages(lang);
  return `<!DOCTYPE html>
<html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8"><title>${esc(m.indexTitle)} (${
    esc(preset)
  })</title><style>${STYLE}</style></head>
<body><nav><a href="${m.otherLanguageHref}index.html">${esc(m.otherLanguage)}</a></nav><h1>${esc(m.indexTitle)}</h1>
<p>${esc(m.indexIntro)} ${esc(m.preset)} <b>${esc(preset)}</b> · ${esc(m.generated)} ${esc(date)}</p>
${
    list.map((p) =>
      `<section class="q"><h2><a href="${esc(p.file)}">${esc(p.title)}</a></h2>${p.answer ?? ""}<p><a href="${
        esc(p.file)
      }">${esc(m.readPage)}</a></p></section>`
    ).join("\n")
  }
</body></html>
`;
}

if (publish && !failed) {
  // Additive: pages rendered now replace their published copies; other published pages stay.
  const root = `${outputsDir()}/published`;
  for (const [lang, pages] of rendered) {
    const dest = lang === "en" ? root : `${root}/zh`;
    await Deno.mkdir(dest, { recursive: true });
    for (const p of pages) await writeFileAtomic(`${dest}/${p.file}`, await Deno.readFile(`${dirOf(lang)}/${p.file}`));
    const published = [...Deno.readDirSync(dest)].map((e) => e.name).filter((n) => /^\d\d_.*\.html$/.test(n)).sort();
    const listed = published.map((file) => pages.find((p) => p.file === file) ?? pageFromFile(dest, file)!);
    await writeFileAtomic(`${dest}/index.html`, indexHtml(lang, listed));
  }
  // Records: those the rendered notebooks used replace theirs in the published file; the rest stay.
  // From a records folder the pages are published alone (their records are where they were read).
  let published = 0;
  if (recordsDir === undefined) {
    await Deno.mkdir(`${root}/results`, { recursive: true });
    const used = new Set(notebookExperiments(ids).map((e) => e.name));
    const mine = await currentRecords(preset, used);
    // The report publishes every seed of the experiments its pages used: their earlier records all give way.
    await publishRecords(`${root}/results/${preset}.json`, mine, (r) => used.has(String(r.experiment)));
    const measures = (await Promise.all(notebookMeasurements(ids).map((m) => storedMeasurement(m, preset)))).filter((
      r,
    ) => r !== null);
    const names = new Set(measures.map((r) => r.measurement));
    await publishRecords(
      publishedMeasurementsFile(`${root}/results`, preset),
      measures,
      (r) => names.has(String(r.measurement)),
    );
    // The reference runs at the assignment's settings that the pages set before this preset's
    // (other reference records in full.json stay).
    const refs = preset === "full" ? [] : await referenceRuns(storeSource(), [...used]);
    if (refs.length) await publishRecords(`${root}/results/full.json`, refs, replacedBy(refs));
    // And the reference measurements they read in place of this preset's (nb.measuredBest).
    const refMeasures = preset === "full" ? [] : (await Promise.all(
      notebookMeasurements(ids).map((m) => referenceMeasurement(storeSource(), m.name)),
    )).filter((r) => r !== null);
    const refNames = new Set(refMeasures.map((r) => r.measurement));
    if (refMeasures.length) {
      await publishRecords(
        publishedMeasurementsFile(`${root}/results`, "full"),
        refMeasures,
        (r) => refNames.has(String(r.measurement)),
      );
    }
    published = mine.length + measures.length;
  }
  console.error(
    `report: published ${notebooks.length} page(s) in ${langs.join(", ")} and ${published} records to ${root}`,
  );
}
if (failed) {
  console.error("report: FAILED (see the lines above)");
  Deno.exit(1);
}
