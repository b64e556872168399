/**
 * `deno task report [--preset smoke|laptop|full] [--only 03] [--out DIR] [--publish]`
 *
 * Executes the notebooks headless with the Deno kernel (Jupyter's nbconvert), then renders
 * each executed notebook to a self-contained page `outputs/report/<notebook>.html` and an
 * `index.html` linking them. Fails (exit 1), naming notebook and cell, when a cell errors
 * or a cell that must produce output produced none. `--publish` copies the pages and the
 * result records they used to `outputs/published/`.
 */
import { bannerMeta, type Notebook, problems, renderPage, STYLE } from "../lib/report/page.ts";
import { parsePreset, type Preset } from "../lib/exp/experiments.ts";
import { outputsDir } from "../lib/exp/store.ts";
import { currentRecords } from "../lib/exp/runner.ts";
import { esc } from "../lib/report/render.ts";
import { PROJECT_ROOT, writeFileAtomic } from "../lib/util/fs.ts";

function usage(msg: string): never {
  console.error(`report: ${msg}`);
  console.error(
    "usage: deno task report [--preset smoke|laptop|full] [--only 03] [--out DIR] [--notebooks DIR] [--publish]",
  );
  Deno.exit(2);
}

const args = [...Deno.args];
const take = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) usage(`${flag} needs a value`);
  args.splice(i, 2);
  return v;
};
let preset: Preset = "laptop";
try {
  preset = parsePreset(take("--preset") ?? "laptop");
} catch (e) {
  usage((e as Error).message);
}
const only = take("--only");
const out = take("--out") ?? `${outputsDir()}/report`;
const nbDir = take("--notebooks") ?? `${PROJECT_ROOT}/notebooks`;
const publish = args.includes("--publish");
if (publish) args.splice(args.indexOf("--publish"), 1);
if (args.length) usage(`unexpected argument '${args[0]}'`);

const notebooks = [...Deno.readDirSync(nbDir)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort()
  .filter((n) => !only || n.startsWith(only));
if (notebooks.length === 0) {
  usage(
    `no notebook matches --only ${only}; have: ${
      [...Deno.readDirSync(nbDir)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).join(", ")
    }`,
  );
}

await Deno.mkdir(`${out}/executed`, { recursive: true });
const pages: { file: string; title: string; backend: string; device: string }[] = [];
let failed = false;
const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";

for (const name of notebooks) {
  const base = name.replace(/\.ipynb$/, "");
  const t0 = performance.now();
  console.error(`report: executing ${name} (preset ${preset})`);
  const run = await new Deno.Command("jupyter", {
    args: [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--allow-errors",
      "--ExecutePreprocessor.kernel_name=deno",
      "--ExecutePreprocessor.timeout=-1",
      "--output-dir",
      `${out}/executed`,
      "--output",
      base,
      `${nbDir}/${name}`,
    ],
    env: { CNNLAB_PRESET: preset },
    stdout: "piped",
    stderr: "piped",
  }).output().catch((e) => {
    if (e instanceof Deno.errors.NotFound) {
      console.error(
        "report: jupyter not found; fix: run `deno task setup` (installs jupyter-nbconvert and the Deno kernel)",
      );
      Deno.exit(1);
    }
    throw e;
  });
  if (!run.success) {
    const err = new TextDecoder().decode(run.stderr).trim().split("\n").slice(-8).join("\n");
    console.error(`report: ${name}: nbconvert failed:\n${err}`);
    failed = true;
    continue;
  }
  const nb = JSON.parse(await Deno.readTextFile(`${out}/executed/${base}.ipynb`)) as Notebook;
  const bad = problems(nb);
  for (const p of bad) console.error(`report: ${name}, code cell ${p.cell}: ${p.message}`);
  if (bad.length) failed = true;
  const meta = bannerMeta(nb);
  const title = nb.cells.find((c) => c.cell_type === "markdown")?.source as string[] | string | undefined;
  const heading = (Array.isArray(title) ? title.join("") : title ?? base).match(/^#\s+(.+)$/m)?.[1] ?? base;
  const html = renderPage(nb, {
    title: heading,
    preset: meta.preset ?? preset,
    backend: meta.backend ?? "?",
    device: meta.device ?? "?",
    date,
    nav: `<nav><a href="index.html">← all questions</a></nav>`,
  });
  await writeFileAtomic(`${out}/${base}.html`, html);
  pages.push({ file: `${base}.html`, title: heading, backend: meta.backend ?? "?", device: meta.device ?? "?" });
  console.error(`report: wrote ${out}/${base}.html (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

const backends = [...new Set(pages.map((p) => p.backend))].join(", ");
const devices = [...new Set(pages.map((p) => p.device))].join("; ");
const index = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cnnlab report (${esc(preset)})</title><style>${STYLE}</style></head>
<body><h1>cnnlab: modern CNNs on Fashion-MNIST</h1>
<header class="meta">preset <b>${esc(preset)}</b> · backend <b>${esc(backends)}</b> · device ${
  esc(devices)
} · generated ${esc(date)}</header>
<p>One page per question of the assignment. Every number was measured by cnnlab for this report; figures of the original
submission appear beside ours, labelled “reported”.</p>
<ol>${pages.map((p) => `<li><a href="${esc(p.file)}">${esc(p.title)}</a></li>`).join("\n")}</ol>
</body></html>
`;
await writeFileAtomic(`${out}/index.html`, index);
console.error(`report: wrote ${out}/index.html`);

if (publish && !failed) {
  const dest = `${PROJECT_ROOT}/outputs/published`;
  await Deno.remove(dest, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dest}/results`, { recursive: true });
  for (const p of [...pages.map((p) => p.file), "index.html"]) await Deno.copyFile(`${out}/${p}`, `${dest}/${p}`);
  const records = await currentRecords(preset);
  await writeFileAtomic(`${dest}/results/${preset}.json`, JSON.stringify(records, null, 1) + "\n");
  console.error(`report: published ${pages.length} pages and ${records.length} result records to ${dest}`);
}
if (failed) {
  console.error("report: FAILED (see the lines above)");
  Deno.exit(1);
}
