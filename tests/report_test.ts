/**
 * The hand-in report: all five notebooks executed at the smoke preset through the report
 * command, the HTML checked for tables, charts and errors, rendered in headless Chromium,
 * and the notebooks' code type-checked.
 */
import assert from "node:assert/strict";
import { decodePng, encodePng } from "../lib/report/png.ts";
import { type Notebook, problems } from "../lib/report/page.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { nativeLibState } from "../lib/backend/native_build.ts";

const tmp = await Deno.makeTempDir({ prefix: "cnnlab-report-" });
const NOTEBOOKS = [...Deno.readDirSync(`${PROJECT_ROOT}/notebooks`)].map((e) => e.name).filter((n) =>
  n.endsWith(".ipynb")
).sort();

async function report(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      `${PROJECT_ROOT}/scripts/report.ts`,
      ...args,
    ],
    env: { CNNLAB_OUTPUTS: `${tmp}/outputs`, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

async function screenshot(file: string): Promise<Uint8Array> {
  const png = `${tmp}/shot-${crypto.randomUUID()}.png`;
  const r = await new Deno.Command("chromium", {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${tmp}/chromium`,
      "--window-size=1000,1400",
      `--screenshot=${png}`,
      `file://${file}`,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  assert.ok(r.success, "chromium failed to take a screenshot");
  return await Deno.readFile(png);
}

/** Fraction of pixels that are not near-white. */
async function inkFraction(png: Uint8Array): Promise<number> {
  const { width, height, rgba } = await decodePng(png);
  let ink = 0;
  for (let i = 0; i < width * height; i++) {
    if (rgba[i * 4] < 200 || rgba[i * 4 + 1] < 200 || rgba[i * 4 + 2] < 200) ink++;
  }
  return ink / (width * height);
}

Deno.test("PNG encoder and decoder round-trip", async () => {
  const px = new Uint8Array(5 * 3 * 4).map((_, i) => (i * 37) % 256);
  const back = await decodePng(await encodePng(px, 5, 3, 4));
  assert.deepEqual([back.width, back.height], [5, 3]);
  assert.deepEqual(back.rgba, px);
});

Deno.test("problems(): errors and silent cells are named by cell number", () => {
  const nb: Notebook = {
    cells: [
      { cell_type: "markdown", source: "# t" },
      { cell_type: "code", source: "x", outputs: [{ output_type: "display_data", data: { "text/plain": "ok" } }] },
      { cell_type: "code", source: "y", outputs: [{ output_type: "error", ename: "Error", evalue: "boom" }] },
      { cell_type: "code", source: "z", outputs: [] },
      { cell_type: "code", source: "w", outputs: [], metadata: { tags: ["no-output"] } },
    ],
  };
  assert.deepEqual(problems(nb), [
    { cell: 2, kind: "error", message: "Error: boom" },
    { cell: 3, kind: "no-output", message: "produced no output" },
  ]);
});

Deno.test("deno task report --preset smoke: five self-contained pages and an index, rendered by Chromium", async () => {
  const r = await report(["--preset", "smoke", "--out", `${tmp}/report`]);
  assert.equal(r.code, 0, r.err);
  const pages = NOTEBOOKS.map((n) => n.replace(/\.ipynb$/, ".html"));
  assert.equal(pages.length, 5);
  const index = await Deno.readTextFile(`${tmp}/report/index.html`);
  for (const p of pages) {
    assert.ok(index.includes(`href="${p}"`), `index links ${p}`);
    const html = await Deno.readTextFile(`${tmp}/report/${p}`);
    // The notebooks start the fastest CPU backend: native wherever setup could build it (always on CI).
    const backend = (await nativeLibState()).ok ? "native" : "wasm";
    assert.match(html, new RegExp(`preset <b>smoke</b> · backend <b>${backend}</b> · device `), p);
    assert.ok(html.includes('<table class="cnnlab-table">'), `${p} has a table`);
    assert.ok(/<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/.test(html), `${p} has a chart`);
    assert.ok(!html.includes('class="error"'), `${p} has an error output`);
    // Self-contained: no scripts, no external or file:// resources.
    assert.ok(!/<script/i.test(html), `${p} has a script`);
    assert.ok(!/(src|href)="(https?:|file:)/.test(html), `${p} loads something from outside`);
  }
  assert.match(await Deno.readTextFile(`${tmp}/report/02_alexnet_simplification.html`), /reported/);
  for (const page of ["index.html", "01_lenet_vs_alexnet.html"]) {
    const ink = await inkFraction(await screenshot(`${tmp}/report/${page}`));
    assert.ok(ink > 0.01, `${page} renders blank (ink ${ink})`);
  }
});

Deno.test("report fails naming the notebook and the cell when a cell throws or stays silent", async () => {
  const dir = `${tmp}/bad-notebooks`;
  await Deno.mkdir(dir, { recursive: true });
  const nb = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/notebooks/04_parameter_comparison.ipynb`));
  nb.cells = [
    { cell_type: "markdown", metadata: {}, source: ["# Broken"] },
    { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: ["const a = 1;"] },
    {
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source: ["throw new Error('boom in cell 2');"],
    },
  ];
  await Deno.writeTextFile(`${dir}/99_bad.ipynb`, JSON.stringify(nb));
  const r = await report(["--preset", "smoke", "--out", `${tmp}/bad-report`, "--notebooks", dir]);
  assert.equal(r.code, 1);
  assert.match(r.err, /report: 99_bad\.ipynb, code cell 1: produced no output/);
  assert.match(r.err, /report: 99_bad\.ipynb, code cell 2: Error: boom in cell 2/);
});

Deno.test("notebook code type-checks (cells concatenated, as nbconvert --to script would)", async () => {
  const files: string[] = [];
  try {
    for (const n of NOTEBOOKS) {
      const nb = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/notebooks/${n}`)) as Notebook;
      const code = nb.cells.filter((c) => c.cell_type === "code").map((
        c,
      ) => (Array.isArray(c.source) ? c.source.join("") : c.source));
      const f = `${PROJECT_ROOT}/notebooks/.check_${n.replace(/\.ipynb$/, "")}.ts`;
      await Deno.writeTextFile(f, code.join("\n\n") + "\n");
      files.push(f);
    }
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...files],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
  } finally {
    for (const f of files) await Deno.remove(f).catch(() => {});
  }
});
