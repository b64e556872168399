/**
 * The hand-in pages as published (outputs/published/): the Chinese ones show no Latin word but the
 * allowed names, identifiers and units, and no page carries the notebooks' machinery (code, Try it).
 */
import assert from "node:assert/strict";
import { latinWords, ZH_LATIN_ALLOWED } from "./helpers.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { configHash, experiment, resolveConfig } from "../lib/exp/experiments.ts";

const PUBLISHED = `${PROJECT_ROOT}/outputs/published`;
const pages = (dir: string) =>
  [...Deno.readDirSync(dir)].filter((f) => f.name.endsWith(".html")).map((f) => f.name).sort();

Deno.test("latinWords: words in prose, tables and charts count; code, identifiers, single letters and the CPU's name do not", () => {
  const html = `<p>设备 AMD EPYC，2 核（oneDNN avx2，1 线程） 用 ReLU 代替 sigmoid，q1a/relu 的 fc1 与 h×w×c</p>` +
    `<table><tr><td>total</td><td><code>conv2d_bn</code></td></tr></table><pre>await x()</pre>` +
    `<svg><text>dead channels</text></svg><style>p{color:red}</style><p>请运行 \`deno task exp run\`</p>`;
  assert.deepEqual(latinWords(html), ["oneDNN", "ReLU", "sigmoid", "total", "dead", "channels"]);
  assert.deepEqual(latinWords(html).filter((w) => !ZH_LATIN_ALLOWED.has(w)), ["total", "dead", "channels"]);
});

Deno.test("published Chinese pages: every Latin word is a name, an identifier or a unit (tests/helpers.ts ZH_LATIN_ALLOWED)", () => {
  for (const p of pages(`${PUBLISHED}/zh`)) {
    const words = latinWords(Deno.readTextFileSync(`${PUBLISHED}/zh/${p}`)).filter((w) => !ZH_LATIN_ALLOWED.has(w));
    assert.deepEqual([...new Set(words)], [], `zh/${p}: Latin words outside the allow-list`);
  }
});

Deno.test("published pages carry no notebook machinery: no code, no Try-it section", () => {
  for (const p of [...pages(PUBLISHED), ...pages(`${PUBLISHED}/zh`).map((p) => `zh/${p}`)]) {
    const html = Deno.readTextFileSync(`${PUBLISHED}/${p}`);
    assert.ok(!/<pre>|<details class="src">/.test(html), `${p} shows a cell's code`);
    assert.ok(!/Try it|动手试试/.test(html), `${p} shows the notebook's Try-it section`);
  }
});

/** docs/glossary.md's "不用的说法": the phrases no Chinese page may use. */
function rejectedPhrases(): string[] {
  const doc = Deno.readTextFileSync(`${PROJECT_ROOT}/docs/glossary.md`);
  const section = doc.split(/^## 不用的说法$/m)[1] ?? "";
  return [...section.matchAll(/^- (.+?)（/gm)].map((m) => m[1]);
}

Deno.test("published Chinese pages use the glossary's terms: none of its rejected phrases appears", () => {
  const rejected = rejectedPhrases();
  assert.ok(
    rejected.length >= 5 && rejected.includes("真实差异"),
    `docs/glossary.md lists ${rejected.length} rejected phrases`,
  );
  for (const p of pages(`${PUBLISHED}/zh`)) {
    const html = Deno.readTextFileSync(`${PUBLISHED}/zh/${p}`);
    assert.deepEqual(rejected.filter((w) => html.includes(w)), [], `zh/${p} uses phrases docs/glossary.md rejects`);
  }
});

Deno.test("every published record's configuration hash is the one its experiment resolves to today (a refactor that changes a run fails here)", async () => {
  let n = 0;
  for (const f of ["laptop", "full"] as const) {
    const records = JSON.parse(Deno.readTextFileSync(`${PUBLISHED}/results/${f}.json`));
    for (const r of records) {
      const want = await configHash(resolveConfig(experiment(r.experiment), r.preset));
      assert.equal(r.configHash, want, `${r.experiment} (${r.preset}, seed ${r.seed})`);
      n++;
    }
  }
  assert.ok(n >= 90, `${n} published records`);
});
