/**
 * The hand-in report: all five notebooks executed at the smoke preset through the report
 * command, the HTML checked for tables, charts and errors, rendered in headless Chromium,
 * and the notebooks' code type-checked.
 */
import assert from "node:assert/strict";
import { decodePng, encodePng } from "../lib/util/png.ts";
import { type Notebook, problems } from "../lib/report/page.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { latinWords, numbersOf, pageText, textOf, ZH_LATIN_ALLOWED } from "./helpers.ts";
import { RUN_PERMISSIONS } from "../lib/util/deno.ts";
import { nativeLibState } from "../lib/backend/native_build.ts";
import { cpuDescription } from "../lib/backend/mod.ts";

const tmp = await Deno.makeTempDir({ prefix: "cnnlab-report-" });
const NOTEBOOKS = [...Deno.readDirSync(`${PROJECT_ROOT}/notebooks`)].map((e) => e.name).filter((n) =>
  n.endsWith(".ipynb")
).sort();

async function report(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_PERMISSIONS, "--allow-run", `${PROJECT_ROOT}/scripts/report.ts`, ...args],
    env: { CNNLAB_OUTPUTS: `${tmp}/outputs`, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
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

/**
 * Open a page in headless Chromium at a 1,000 × 900 px window through the DevTools protocol and
 * measure it: the page's scroll width, the tables wider than their container, where the answer
 * block starts, and the visible text outside code.
 */
async function measure(file: string): Promise<{
  scrollWidth: number;
  clientWidth: number;
  overflowing: string[];
  answerTop: number;
  text: string;
}> {
  const chrome = new Deno.Command("chromium", {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${tmp}/chromium-cdp-${crypto.randomUUID()}`,
      "--remote-debugging-port=0",
      "--window-size=1000,900",
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = chrome.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited: ${seen}`);
    seen += value;
    url = seen.match(/DevTools listening on (ws:\/\/\S+)/)?.[1];
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe empty */ }
  })();
  const ws = new WebSocket(url);
  await new Promise((r, e) => {
    ws.onopen = r;
    ws.onerror = e;
  });
  let id = 0;
  const pending = new Map<number, (v: Record<string, unknown>) => void>();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)!(msg.result ?? msg);
  };
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((r) => {
      const n = ++id;
      pending.set(n, r);
      ws.send(JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  try {
    const { targetId } = await send("Target.createTarget", { url: `file://${file}` }) as { targetId: string };
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true }) as { sessionId: string };
    const evaluate = async (expression: string) =>
      ((await send("Runtime.evaluate", { expression, returnByValue: true }, sessionId)).result as { value: unknown })
        .value;
    // The new target starts on an empty document that is already "complete": wait for the file's.
    const loaded = `document.URL.startsWith("file:") && document.readyState === "complete"`;
    for (let i = 0; i < 100 && (await evaluate(loaded)) !== true; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await send(
      "Emulation.setDeviceMetricsOverride",
      { width: 1000, height: 900, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    return JSON.parse(String(
      await evaluate(`JSON.stringify((() => {
      const over = [...document.querySelectorAll("table")].filter((t) => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
        .map((t) => (t.querySelector("caption")?.textContent ?? t.className).slice(0, 80));
      const body = document.body.cloneNode(true);
      body.querySelectorAll("details, pre, code, svg, .cnnlab-settings table").forEach((n) => n.remove());
      return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        overflowing: over,
        answerTop: document.querySelector(".cnnlab-answer")?.getBoundingClientRect().top ?? -1,
        text: body.innerText,
      };
    })())`),
    ));
  } finally {
    ws.close();
    chrome.kill();
    await chrome.status;
    await drain;
  }
}

/** English prose on a Chinese page: runs of two or more English words once names, units and identifiers are removed. */
function englishProse(text: string): string[] {
  // The device line names this machine's CPU ("AMD EPYC", "Intel(R) Xeon(R) Platinum …"): a name, not prose.
  text = text.replaceAll(cpuDescription().split(",")[0], " ");
  const allowed =
    /\b(LeNet|AlexNet|VGG|GoogLeNet|BN-Inception|Inception|ResNet|NiN|ReLU|sigmoid|SGD|Adam|GAP|d2l|PyTorch|GPU|CIFAR|ImageNet|PCA|LRN|tanh|Fashion-MNIST|Ioffe|Szegedy|LeCun|Krizhevsky|Sutskever|Hinton|Xiao|Rasul|Vollgraf|Deno|English|deno|task|exp|run|preset|full|laptop|smoke|native|wasm|fp32|bf16|px|MACs?|et al)\b/g;
  return text.replace(allowed, " ").match(/\b[A-Za-z]{3,}(?:[ \t]+[A-Za-z]{3,})+\b/g) ?? [];
}

Deno.test("deno task report --preset smoke --lang both --publish: answer-first pages in English and Chinese, tables within 1,000 px", async () => {
  const outputs = `${tmp}/outputs`;
  // A page published earlier that this run does not render must survive --publish.
  await Deno.mkdir(`${outputs}/published/results`, { recursive: true });
  await Deno.writeTextFile(`${outputs}/published/00_earlier.html`, "<title>Earlier</title>");
  await Deno.writeTextFile(`${outputs}/published/results/smoke.json`, JSON.stringify([{ experiment: "q9/kept" }]));
  const r = await report(["--preset", "smoke", "--lang", "both", "--publish", "--out", `${tmp}/report`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /plan: preset smoke, \d+ worker\(s\)/);
  assert.doesNotMatch(r.err, /skipped/, "queue workers pass each other's runs silently");
  const pages = NOTEBOOKS.map((n) => n.replace(/\.ipynb$/, ".html"));
  assert.equal(pages.length, 5);
  const backend = (await nativeLibState()).ok ? "native" : "wasm";
  for (const [lang, dir] of [["en", `${tmp}/report`], ["zh", `${tmp}/report/zh`]]) {
    const index = await Deno.readTextFile(`${dir}/index.html`);
    assert.equal((index.match(/class="cnnlab-answer"/g) ?? []).length, 5, `${lang} index shows five answer blocks`);
    for (const p of pages) {
      assert.ok(index.includes(`href="${p}"`), `index links ${p}`);
      const html = await Deno.readTextFile(`${dir}/${p}`);
      assert.equal((html.match(/class="cnnlab-answer"/g) ?? []).length, 1, `${lang}/${p}: one answer block`);
      assert.equal((html.match(/class="cnnlab-settings"/g) ?? []).length, 1, `${lang}/${p}: provenance once`);
      assert.ok(html.indexOf('class="cnnlab-answer"') < html.indexOf("<table"), `${lang}/${p}: the answer comes first`);
      assert.match(html, new RegExp(`<b>[^<]+</b> <code>${backend}</code>`), `${lang}/${p} names the backend`);
      assert.ok(html.includes('<table class="cnnlab-table">'), `${p} has a table`);
      assert.ok(!html.includes('class="error"'), `${p} has an error output`);
      assert.ok(!/<script/i.test(html), `${p} has a script`);
      assert.ok(!/(src|href)="(https?:|file:)/.test(html), `${p} loads something from outside`);
      if (p !== "04_parameter_comparison.html") {
        assert.ok(/<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/.test(html), `${p} has a chart`);
      }
      const m = await measure(`${dir}/${p}`);
      assert.ok(m.scrollWidth <= m.clientWidth, `${lang}/${p} scrolls sideways (${m.scrollWidth} > ${m.clientWidth})`);
      assert.deepEqual(m.overflowing, [], `${lang}/${p}: tables wider than the page`);
      assert.ok(m.answerTop >= 0 && m.answerTop < 900, `${lang}/${p}: the answer starts at ${m.answerTop} px`);
      if (lang === "zh") {
        assert.deepEqual(englishProse(m.text), [], `${p}: English prose on the Chinese page`);
        assert.deepEqual(
          latinWords(html).filter((w) => !ZH_LATIN_ALLOWED.has(w)),
          [],
          `${p}: Latin words on the Chinese page (not in tests/helpers.ts ZH_LATIN_ALLOWED)`,
        );
      }
      assert.ok(
        !/<pre>|Try it|动手试试/.test(html),
        `${lang}/${p}: notebook machinery (code, Try it) on a hand-in page`,
      );
    }
  }
  assert.match(await Deno.readTextFile(`${tmp}/report/02_alexnet_simplification.html`), /reported/);
  // Published: both languages, additively.
  const pub = `${outputs}/published`;
  for (const p of pages) {
    assert.ok((await Deno.stat(`${pub}/${p}`)).isFile);
    assert.ok((await Deno.stat(`${pub}/zh/${p}`)).isFile);
  }
  assert.ok((await Deno.stat(`${pub}/00_earlier.html`)).isFile, "--publish deleted a page it did not render");
  const recs = JSON.parse(await Deno.readTextFile(`${pub}/results/smoke.json`)) as { experiment: string }[];
  assert.ok(recs.some((x) => x.experiment === "q9/kept"), "records of pages not rendered are kept");
  assert.ok(recs.some((x) => x.experiment === "q3b/googlenet"));
  // Every page in both languages, as a 1,000-px-wide screenshot: not blank.
  for (const page of ["index.html", ...pages].flatMap((p) => [p, `zh/${p}`])) {
    const ink = await inkFraction(await screenshot(`${tmp}/report/${page}`));
    assert.ok(ink > 0.01, `${page} renders blank (ink ${ink})`);
  }
});

Deno.test("report --records renders every page from the published records alone: nothing trained, timed, profiled or restored; the same pages; the same numbers in both languages", async () => {
  // Needs the published records of the test above.
  const records = `${tmp}/outputs/published/results`;
  const empty = `${tmp}/records-outputs`;
  const failpoints =
    "train.start=throw,timing.steps=throw,measure.start=throw,measure.profile=throw,checkpoint.restore=throw";
  const r = await report(
    ["--preset", "smoke", "--lang", "both", "--records", records, "--out", `${tmp}/from-records`],
    {
      CNNLAB_OUTPUTS: empty,
      CNNLAB_FAILPOINTS: failpoints,
    },
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /rendering from the records in .*nothing is trained, timed or profiled/);
  assert.doesNotMatch(r.out + r.err, /plan:|training phase|measuring/);
  for (const d of ["results", "measurements", "checkpoints"]) {
    assert.equal(
      await Deno.stat(`${empty}/${d}`).then(() => true, () => false),
      false,
      `${d}/ written while rendering`,
    );
  }
  const pages = ["index.html", ...NOTEBOOKS.map((n) => n.replace(/\.ipynb$/, ".html"))];
  const undated = (html: string) => html.replaceAll(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/g, "DATE");
  for (const p of pages) {
    for (const lang of ["", "zh/"]) {
      const first = undated(await Deno.readTextFile(`${tmp}/report/${lang}${p}`));
      const again = undated(await Deno.readTextFile(`${tmp}/from-records/${lang}${p}`));
      assert.ok(first === again, `${lang}${p}: rendered from the published records it differs from the first render`);
    }
    const en = pageText(await Deno.readTextFile(`${tmp}/from-records/${p}`));
    const zh = pageText(await Deno.readTextFile(`${tmp}/from-records/zh/${p}`));
    assert.deepEqual(numbersOf(zh), numbersOf(en), `${p}: the Chinese page states other numbers than the English one`);
  }
  // The failpoints do fire where those paths run (the check above is not vacuous).
  const probe = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_PERMISSIONS, `${PROJECT_ROOT}/scripts/exp.ts`, "measure", "q1b/ladder", "--preset", "smoke"],
    env: { CNNLAB_OUTPUTS: `${tmp}/probe-outputs`, CNNLAB_FAILPOINTS: failpoints, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(!probe.success);
  assert.match(new TextDecoder().decode(probe.stderr), /failpoint measure\.start: this path must not run here/);
  // A folder that lacks a run and a measurement: one line naming them and the commands that make them.
  const partial = `${tmp}/partial-records`;
  await Deno.mkdir(partial, { recursive: true });
  const runs = JSON.parse(await Deno.readTextFile(`${records}/smoke.json`)) as { experiment: string; seed: number }[];
  await Deno.writeTextFile(
    `${partial}/smoke.json`,
    JSON.stringify(runs.filter((x) => !(x.experiment === "q1b/alexnet" && x.seed === 1))),
  );
  const measures = JSON.parse(await Deno.readTextFile(`${records}/measurements-smoke.json`)) as {
    measurement: string;
  }[];
  await Deno.writeTextFile(
    `${partial}/measurements-smoke.json`,
    JSON.stringify(measures.filter((x) => x.measurement !== "q1b/ladder")),
  );
  const miss = await report(
    ["--preset", "smoke", "--only", "02", "--records", partial, "--out", `${tmp}/partial-out`],
    {
      CNNLAB_OUTPUTS: empty,
    },
  );
  assert.equal(miss.code, 1);
  const line = miss.err.trim().split("\n").filter((l) => l.startsWith("report:"));
  assert.equal(line.length, 1, miss.err);
  assert.match(
    line[0],
    /lacks q1b\/alexnet seed 1, measurement q1b\/ladder at preset smoke; make them with: deno task exp run 'q1b\/\*' --preset smoke && deno task exp measure q1b\/ladder --preset smoke/,
  );
});

Deno.test("report fails naming the notebook, the cell and a bad record; a failed render keeps the last good page", async () => {
  // Inside the project, so that the kernel finds deno.json's imports (the lib reads the store through polars).
  const dir = `${PROJECT_ROOT}/outputs/test-notebooks-${crypto.randomUUID().slice(0, 8)}`;
  const out = `${tmp}/bad-report`;
  const outputs = `${tmp}/bad-outputs`;
  await Deno.mkdir(dir, { recursive: true });
  const nb = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/notebooks/04_parameter_comparison.ipynb`));
  const code = (source: string) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source });
  const store = `${PROJECT_ROOT}/lib/exp/store.ts`;
  // A good page first: one cell reads the store and shows how many records it found.
  nb.cells = [
    { cell_type: "markdown", metadata: {}, source: ["# Good"] },
    code(
      `import { loadRecords } from "${store}";\nconst n = (await loadRecords()).length;\nawait Deno.jupyter.display({ "text/html": \`<div class="cnnlab-answer"><ul><li>records: \${n}</li></ul></div>\` }, { raw: true });\nawait new Promise((r) => setTimeout(r, 50));`,
    ),
  ];
  await Deno.writeTextFile(`${dir}/99_bad.ipynb`, JSON.stringify(nb));
  const env = { CNNLAB_OUTPUTS: outputs };
  let r = await report(["--preset", "smoke", "--out", out, "--notebooks", dir], env);
  assert.equal(r.code, 0, r.err);
  const good = await Deno.readTextFile(`${out}/99_bad.html`);
  assert.match(good, /records: 0/);
  // A record whose epoch carries a string where a number belongs: left out, named in the report's output.
  const bad = `${outputs}/results/q1a__relu/smoke/0123456789ab-seed1.json`;
  await Deno.mkdir(bad.slice(0, bad.lastIndexOf("/")), { recursive: true });
  const published = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/outputs/published/results/laptop.json`))[0];
  published.epochs[0].testAcc = "0.9";
  await Deno.writeTextFile(bad, JSON.stringify({ ...published, preset: "smoke", configHash: "0123456789ab" }));
  // Now the notebook breaks: a silent cell and a throwing one.
  nb.cells.push(code("const a = 1;"), code("throw new Error('boom in cell 3');"));
  await Deno.writeTextFile(`${dir}/99_bad.ipynb`, JSON.stringify(nb));
  r = await report(["--preset", "smoke", "--out", out, "--notebooks", dir], env);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /report: 99_bad\.ipynb: results: skipped .*0123456789ab-seed1\.json: .*epoch 1: field 'testAcc' is "0\.9", not a number/,
  );
  assert.match(r.err, /report: 99_bad\.ipynb, code cell 2: produced no output/);
  assert.match(r.err, /report: 99_bad\.ipynb, code cell 3: Error: boom in cell 3/);
  assert.match(r.err, /report: 99_bad\.ipynb: kept the earlier page /);
  assert.equal(await Deno.readTextFile(`${out}/99_bad.html`), good, "the failed render replaced the last good page");
  assert.match(await Deno.readTextFile(`${out}/index.html`), /records: 0/, "the index keeps the last good answer");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report under SIGTERM (a scheduler's time limit): workers stop after their step, interrupted records, no lock left, exit 143", async () => {
  const outputs = `${tmp}/sigterm-outputs`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...RUN_PERMISSIONS,
      "--allow-run",
      `${PROJECT_ROOT}/scripts/report.ts`,
      "--preset",
      "smoke",
      "--only",
      "01",
    ],
    // Every training step blocks 500 ms, as a slow machine's would.
    env: { CNNLAB_OUTPUTS: outputs, NO_COLOR: "1", CNNLAB_FAILPOINTS: "train.step=block:500" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  while (!err.includes("failpoint train.step blocking")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`report ended before training:\n${err}`);
    err += value;
  }
  child.kill("SIGTERM");
  for (let c = await reader.read(); !c.done; c = await reader.read()) err += c.value;
  const st = await child.status;
  assert.equal(st.code, 143, err);
  assert.match(err, /report: SIGTERM: stopping the workers after their current step/);
  assert.match(err, /report: stopped by SIGTERM; each run stopped is stored as interrupted/);
  const files = [...Deno.readDirSync(`${outputs}/results`)].flatMap((d) =>
    [...Deno.readDirSync(`${outputs}/results/${d.name}/smoke`)].map((f) =>
      `${outputs}/results/${d.name}/smoke/${f.name}`
    )
  );
  const statuses = files.map((f) => JSON.parse(Deno.readTextFileSync(f)).status);
  assert.ok(statuses.includes("interrupted"), `records: ${statuses.join(", ")}`);
  const locks = [...Deno.readDirSync(`${outputs}/checkpoints`)].flatMap((d) =>
    [...Deno.readDirSync(`${outputs}/checkpoints/${d.name}/smoke`)].filter((f) => f.name.endsWith(".lock"))
  );
  assert.deepEqual(locks, [], "a worker left its lock");
});

Deno.test("report under SIGTERM while a notebook trains: the kernel's run is stored as interrupted, unlocked, and the page kept", async () => {
  const dir = `${PROJECT_ROOT}/outputs/test-notebooks-${crypto.randomUUID().slice(0, 8)}`;
  const outputs = `${tmp}/sigterm-nb-outputs`;
  await Deno.mkdir(dir, { recursive: true });
  const nb = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/notebooks/04_parameter_comparison.ipynb`));
  const lib = `${PROJECT_ROOT}/lib/notebook/mod.ts`;
  nb.cells = [
    { cell_type: "markdown", metadata: {}, source: ["# Trains in its kernel"] },
    {
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source:
        `import { ensure, setupNotebook } from "${lib}";\nconst ctx = await setupNotebook("99");\nconsole.log((await ensure(ctx, ["q1a/relu"])).length);`,
    },
  ];
  await Deno.writeTextFile(`${dir}/99_trains.ipynb`, JSON.stringify(nb));
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_PERMISSIONS, "--allow-run", `${PROJECT_ROOT}/scripts/report.ts`, "--preset", "smoke"]
        .concat(["--notebooks", dir, "--out", `${tmp}/sigterm-nb-report`]),
      env: { CNNLAB_OUTPUTS: outputs, NO_COLOR: "1", CNNLAB_FAILPOINTS: "train.step=block:500" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const err = textOf(child.stderr);
    // Stop once the kernel's run has a checkpoint (inside epoch 2).
    const t0 = Date.now();
    const ckpts = () => {
      try {
        return [...Deno.readDirSync(`${outputs}/checkpoints/q1a__relu/smoke`)].length;
      } catch {
        return 0;
      }
    };
    while (!ckpts()) {
      assert.ok(Date.now() - t0 < 120_000, "the notebook never started training");
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGTERM");
    const st = await child.status;
    const log = await err;
    assert.equal(st.code, 143, log);
    assert.match(log, /report: SIGTERM: stopping the notebook's training after its current step/);
    assert.match(log, /report: stopped by SIGTERM while executing 99_trains\.ipynb/);
    const res = `${outputs}/results/q1a__relu/smoke`;
    const [rec] = [...Deno.readDirSync(res)].map((f) => JSON.parse(Deno.readTextFileSync(`${res}/${f.name}`)));
    assert.equal(rec.status, "interrupted");
    const left = [...Deno.readDirSync(`${outputs}/checkpoints/q1a__relu/smoke`)].filter((f) =>
      f.name.endsWith(".lock")
    );
    assert.deepEqual(left, [], "the kernel's lock was left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
