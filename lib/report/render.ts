/**
 * Rendering for notebooks and the HTML report: tables from polars DataFrames with formatted
 * columns, Observable Plot charts as self-contained HTML (linkedom as the DOM, `xmlns` set),
 * feature-map grids as inline PNG images, and Markdown.
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { marked } from "marked";
import type pl from "nodejs-polars";
import * as tf from "@tensorflow/tfjs";
import { base64, encodePng } from "./png.ts";
import { meanSd } from "../util/stats.ts";
import { textTable, thousands } from "../util/table.ts";
import { esc } from "../util/html.ts";

export { esc };

type Row = Record<string, unknown>;

/** A table column: header and how to print a row's cell. */
export interface Column {
  label: string;
  cell: (row: Row) => string;
  /** Right-align (numbers). Default: true when the header's first cell looks numeric. */
  numeric?: boolean;
}

/** Column formatters. */
export const fmt = {
  text: (label: string, key: string): Column => ({ label, cell: (r) => String(r[key] ?? ""), numeric: false }),
  int: (label: string, key: string): Column => ({
    label,
    cell: (r) => num(r[key], (v) => thousands(v)),
    numeric: true,
  }),
  fixed: (label: string, key: string, digits: number): Column => ({
    label,
    cell: (r) => num(r[key], (v) => v.toFixed(digits)),
    numeric: true,
  }),
  /** "0.8123 ± 0.0040" from a mean and an sd column (sd NaN → mean only). */
  meanSd: (label: string, mean: string, sd: string, digits: number): Column => ({
    label,
    cell: (r) => {
      const m = Number(r[mean]), s = Number(r[sd]);
      if (!Number.isFinite(m)) return "–";
      return Number.isFinite(s) ? `${m.toFixed(digits)} ± ${s.toFixed(digits)}` : m.toFixed(digits);
    },
    numeric: true,
  }),
};

function num(v: unknown, f: (v: number) => string): string {
  const n = Number(v);
  return v === null || v === undefined || !Number.isFinite(n) ? "–" : f(n);
}

/** An HTML table from a DataFrame (or plain rows) and column specs. */
export function tableHtml(data: pl.DataFrame | Row[], columns: Column[], caption?: string): string {
  const rows: Row[] = Array.isArray(data) ? data : (data.toRecords() as Row[]);
  const head = columns.map((c) => `<th style="text-align:${c.numeric ? "right" : "left"}">${esc(c.label)}</th>`).join(
    "",
  );
  const body = rows.map((r) =>
    `<tr>${
      columns.map((c) => `<td style="text-align:${c.numeric ? "right" : "left"}">${esc(c.cell(r))}</td>`).join("")
    }</tr>`
  ).join("\n");
  return `<table class="cnnlab-table">${
    caption ? `<caption>${esc(caption)}</caption>` : ""
  }<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The same table as aligned plain text (for text/plain outputs and terminals). */
export function tableText(data: pl.DataFrame | Row[], columns: Column[]): string {
  const rows: Row[] = Array.isArray(data) ? data : (data.toRecords() as Row[]);
  return textTable(columns.map((c) => c.label), rows.map((r) => columns.map((c) => c.cell(r))), {
    numeric: columns.map((c) => Boolean(c.numeric)),
    rule: false,
  });
}

/**
 * Render an Observable Plot specification to self-contained HTML. Plot omits `xmlns` on its
 * SVGs, which standalone viewers need; it is added here.
 */
export function plotHtml(options: Plot.PlotOptions): string {
  const { document } = parseHTML("<!DOCTYPE html><html><body></body></html>") as unknown as { document: unknown };
  type El = {
    tagName?: string;
    outerHTML: string;
    setAttribute(k: string, v: string): void;
    querySelectorAll(s: string): ArrayLike<El>;
  };
  const el = Plot.plot({ ...options, document } as Plot.PlotOptions) as unknown as El;
  for (const svg of [el, ...Array.from(el.querySelectorAll("svg"))]) {
    if (svg.tagName?.toLowerCase() === "svg") {
      svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      svg.setAttribute("xmlns:xlink", "http://www.w3.org/1999/xlink");
    }
  }
  return `<div class="cnnlab-plot">${el.outerHTML}</div>`;
}

export { Plot };

/** Markdown to HTML. */
export function markdownHtml(md: string): string {
  return marked.parse(md, { async: false }) as string;
}

/**
 * A grid of feature-map channels of one image as an inline PNG. `act` is [h, w, c];
 * each channel is min-max scaled on its own; up to `maxChannels` channels, `cols` per row.
 */
export async function featureGridImg(
  act: tf.Tensor3D,
  opts: { maxChannels?: number; cols?: number; scale?: number; title?: string } = {},
): Promise<string> {
  const [h, w, cAll] = act.shape;
  const c = Math.min(cAll, opts.maxChannels ?? 16);
  const cols = Math.min(opts.cols ?? 8, c);
  const rows = Math.ceil(c / cols);
  const scale = opts.scale ?? Math.max(1, Math.round(48 / Math.max(h, w)));
  const gap = 2;
  const W = cols * (w * scale + gap) - gap, H = rows * (h * scale + gap) - gap;
  const px = new Uint8Array(W * H).fill(255);
  const data = await act.data();
  for (let k = 0; k < c; k++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      const v = data[i * cAll + k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo || 1;
    const ox = (k % cols) * (w * scale + gap), oy = Math.floor(k / cols) * (h * scale + gap);
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const v = data[(Math.floor(y / scale) * w + Math.floor(x / scale)) * cAll + k];
        px[(oy + y) * W + ox + x] = Math.round(255 * (1 - (v - lo) / span)); // dark = strong
      }
    }
  }
  const png = await encodePng(px, W, H, 1);
  const alt = opts.title ?? `${c} of ${cAll} channels, ${h}×${w}`;
  return `<img alt="${esc(alt)}" title="${
    esc(alt)
  }" width="${W}" height="${H}" style="image-rendering:pixelated" src="data:image/png;base64,${base64(png)}">`;
}

/** Mean ± sd text helper re-exported for generated prose. */
export { meanSd };
