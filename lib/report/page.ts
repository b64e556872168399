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
  preset: string;
  backend: string;
  device: string;
  date: string;
  nav?: string;
}

export const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:0 auto;padding:1rem 1.5rem;color:#222;line-height:1.5}
header.meta{background:#f4f6f8;border:1px solid #dde2e6;border-radius:6px;padding:.5rem .8rem;font-size:.9rem;margin-bottom:1rem}
nav{font-size:.9rem;margin-bottom:.5rem}
table.cnnlab-table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
table.cnnlab-table th,table.cnnlab-table td{border-bottom:1px solid #ddd;padding:.2rem .5rem}
table.cnnlab-table td[style*="right"]{white-space:nowrap}
.out-html{overflow-x:auto}
table.cnnlab-table caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left}
details.src{margin:.4rem 0}details.src summary{cursor:pointer;color:#667;font-size:.8rem}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;font-size:.8rem}
pre.error{background:#fee;color:#900}
.cnnlab-banner{font-size:.85rem;color:#445;background:#eef3f8;padding:.3rem .5rem;border-radius:4px}
.cnnlab-plot figure{margin:.5rem 0}
`;

export function renderPage(nb: Notebook, meta: PageMeta): string {
  const body = nb.cells.map((c) => {
    const src = joinText(c.source);
    if (c.cell_type === "markdown") return `<section class="md">${markdownHtml(src)}</section>`;
    if (c.cell_type !== "code") return "";
    const outs = (c.outputs ?? []).map(outputHtml).join("\n");
    return `<section class="code"><details class="src"><summary>code</summary><pre>${
      esc(src)
    }</pre></details>${outs}</section>`;
  }).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(meta.title)}</title><style>${STYLE}</style></head>
<body>
${meta.nav ?? ""}
<header class="meta"><b>${esc(meta.title)}</b><br>preset <b>${esc(meta.preset)}</b> · backend <b>${
    esc(meta.backend)
  }</b> · device ${esc(meta.device)} · generated ${esc(meta.date)}</header>
<main>
${body}
</main>
</body></html>
`;
}

/** preset/backend/device as stated by the notebook's banner (setupNotebook), if present. */
export function bannerMeta(nb: Notebook): { preset?: string; backend?: string; device?: string } {
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const t = joinText(o.data?.["text/plain"]);
      const m = t.match(/^preset (\S+) · backend (\S+) · device (.+)$/m);
      if (m) return { preset: m[1], backend: m[2], device: m[3].trim() };
    }
  }
  return {};
}
