/**
 * Executed notebook (.ipynb JSON) → one self-contained HTML page: no script, no external
 * style, every plot and image inline, so the report opens offline and can be handed in.
 */
import { esc, markdownHtml } from "./render.ts";

export interface NbOutput {
  output_type: string;
  data?: Record<string, string | string[]>;
  text?: string | string[];
  name?: string;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface NbCell {
  cell_type: "markdown" | "code" | "raw";
  source: string | string[];
  outputs?: NbOutput[];
  metadata?: { tags?: string[] };
}

export interface Notebook {
  cells: NbCell[];
  metadata?: Record<string, unknown>;
}

export const joinText = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join("") : s ?? "");
// deno-lint-ignore no-control-regex -- ANSI colour codes in kernel tracebacks
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

export interface CellProblem {
  cell: number;
  kind: "error" | "no-output";
  message: string;
}

/** Cells that errored, and code cells with no output that are not tagged `no-output`. */
export function problems(nb: Notebook): CellProblem[] {
  const out: CellProblem[] = [];
  let codeIndex = 0;
  nb.cells.forEach((c) => {
    if (c.cell_type !== "code") return;
    codeIndex++;
    const outs = c.outputs ?? [];
    const err = outs.find((o) => o.output_type === "error");
    if (err) out.push({ cell: codeIndex, kind: "error", message: `${err.ename}: ${stripAnsi(err.evalue ?? "")}` });
    else if (
      !(c.metadata?.tags ?? []).includes("no-output") &&
      !outs.some((o) => o.output_type !== "stream" || o.name === "stdout")
    ) {
      out.push({ cell: codeIndex, kind: "no-output", message: "produced no output" });
    }
  });
  return out;
}

/** The store's "results: skipped <file>: why" lines a notebook's kernel printed (bad records it left out). */
export function skippedFiles(nb: Notebook): string[] {
  return nb.cells.flatMap((c) =>
    (c.outputs ?? []).filter((o) => o.output_type === "stream" && o.name === "stderr")
      .flatMap((o) => joinText(o.text).split("\n").filter((l) => l.startsWith("results: skipped ")))
  );
}

function outputHtml(o: NbOutput): string {
  if (o.output_type === "error") {
    return `<pre class="error">${esc(stripAnsi(`${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join("\n")}`))}</pre>`;
  }
  if (o.output_type === "stream") {
    return o.name === "stderr" ? "" : `<pre class="stream">${esc(joinText(o.text))}</pre>`;
  }
  const d = o.data ?? {};
  if (d["text/html"]) return `<div class="out-html">${joinText(d["text/html"])}</div>`;
  if (d["image/png"]) return `<img src="data:image/png;base64,${joinText(d["image/png"]).trim()}">`;
  if (d["image/svg+xml"]) return `<div class="out-svg">${joinText(d["image/svg+xml"])}</div>`;
  if (d["text/markdown"]) return `<div class="cnnlab-md">${markdownHtml(joinText(d["text/markdown"]))}</div>`;
  if (d["text/plain"]) return `<pre>${esc(joinText(d["text/plain"]))}</pre>`;
  return "";
}

export interface PageMeta {
  title: string;
  /** Page language: markdown cells tagged with the other language are left out. */
  lang: "en" | "zh";
  date: string;
  nav?: string;
}

export const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:0 auto;padding:1rem 1.5rem;color:#222;line-height:1.5}
header.meta{background:#f4f6f8;border:1px solid #dde2e6;border-radius:6px;padding:.5rem .8rem;font-size:.9rem;margin-bottom:1rem}
nav{font-size:.9rem;margin-bottom:.5rem}
table.cnnlab-table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0;max-width:100%}
table.cnnlab-table th,table.cnnlab-table td{border-bottom:1px solid #ddd;padding:.2rem .45rem;vertical-align:top}
table.cnnlab-table td[style*="left"],table.cnnlab-table th{white-space:normal}
table.cnnlab-table td[style*="right"]{white-space:nowrap}
table.maps td,table.maps th{padding:1px 3px;font-size:.72rem;text-align:center;border:none}
.out-html{overflow-x:auto}
.cnnlab-answer{background:#f1f7ee;border:1px solid #cfe3c4;border-radius:6px;padding:.4rem 1rem;margin:.8rem 0}
.cnnlab-answer h2{margin:.3rem 0;font-size:1.15rem}
.cnnlab-answer li{margin:.25rem 0}
.cnnlab-settings{border-top:2px solid #dde2e6;margin-top:2rem;font-size:.85rem}
.cnnlab-settings .facts{background:#f4f6f8;padding:.4rem .6rem;border-radius:4px}
p.note,p.sources{font-size:.8rem;color:#556}
.colourbar img{vertical-align:middle}
table.cnnlab-table caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;font-size:.8rem}
pre.error{background:#fee;color:#900}
.cnnlab-banner{font-size:.85rem;color:#445;background:#eef3f8;padding:.3rem .5rem;border-radius:4px}
.cnnlab-plot figure{margin:.5rem 0}
.cnnlab-plot h2{font-size:.9rem;margin:.8rem 0 .3rem}
`;

/** Whether a cell belongs on a page in `lang`: cells tagged `en` or `zh` appear in that language only. */
export function inLanguage(c: NbCell, lang: "en" | "zh"): boolean {
  const tags = c.metadata?.tags ?? [];
  return !(tags.includes("en") || tags.includes("zh")) || tags.includes(lang);
}

/** The answer block a notebook displayed (its HTML), or null. */
export function answerOf(nb: Notebook): string | null {
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const h = joinText(o.data?.["text/html"]);
      if (h.includes('class="cnnlab-answer"')) return h;
    }
  }
  return null;
}

/** Whether a cell is the notebook's own (a "Try it" section, tagged `try-it`): never on a hand-in page. */
export const notebookOnly = (c: NbCell): boolean => (c.metadata?.tags ?? []).includes("try-it");

export function renderPage(nb: Notebook, meta: PageMeta): string {
  // A hand-in page shows what the cells displayed, never their code: the code is the notebook's, one
  // click away in the repository. A code cell that showed nothing (settings, loading) and the "Try it"
  // section are the notebook's too. Diagnostics on stderr (a skipped bad record, say) draw nothing, so
  // they never change a page.
  const shown = (c: NbCell) =>
    inLanguage(c, meta.lang) && !notebookOnly(c) &&
    (c.cell_type !== "code" || (c.outputs ?? []).some((o) => outputHtml(o) !== ""));
  const body = nb.cells.filter(shown).map((c) => {
    if (c.cell_type === "markdown") return `<section class="md">${markdownHtml(joinText(c.source))}</section>`;
    if (c.cell_type !== "code") return "";
    return `<section class="out">${(c.outputs ?? []).map(outputHtml).join("\n")}</section>`;
  }).join("\n");
  return `<!DOCTYPE html>
<html lang="${
    meta.lang === "zh" ? "zh-CN" : "en"
  }"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(meta.title)}</title><style>${STYLE}</style></head>
<body>
${meta.nav ?? ""}
<main>
${body}
</main>
</body></html>
`;
}

/** The page title: the first markdown heading in the page's language. */
export function titleOf(nb: Notebook, lang: "en" | "zh", fallback: string): string {
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown" || !inLanguage(c, lang)) continue;
    const m = joinText(c.source).match(/^#\s+(.+)$/m);
    if (m) return m[1].trim();
  }
  return fallback;
}
