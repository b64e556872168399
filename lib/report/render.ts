/**
 * Rendering for notebooks and the HTML report: tables from polars DataFrames with formatted
 * columns, Observable Plot charts as self-contained HTML (linkedom as the DOM, `xmlns` set),
 * feature-map grids as inline PNG images, and Markdown.
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { Marked } from "marked";
import type pl from "nodejs-polars";
import { textTable } from "../util/table.ts";
import { esc } from "../util/html.ts";

export { esc };

type Row = Record<string, unknown>;

/** A table column of rows of type T: header and how to print a row's cell. */
export interface Column<T = Row> {
  label: string;
  cell: (row: T) => string;
  /** Right-align (numbers). */
  numeric?: boolean;
  /** The cell is an identifier (an experiment, model or layer name): set as code, in every language. */
  code?: boolean | ((row: T) => boolean);
}

/** An HTML table from a DataFrame (or typed rows) and column specs. */
export function tableHtml<T = Row>(data: pl.DataFrame | T[], columns: Column<T>[], caption?: string): string {
  const rows: T[] = Array.isArray(data) ? data : (data.toRecords() as T[]);
  const head = columns.map((c) => `<th style="text-align:${c.numeric ? "right" : "left"}">${esc(c.label)}</th>`).join(
    "",
  );
  const body = rows.map((r) =>
    `<tr>${
      columns.map((c) => {
        const v = esc(c.cell(r));
        const code = typeof c.code === "function" ? c.code(r) : c.code;
        return `<td style="text-align:${c.numeric ? "right" : "left"}">${code && v ? `<code>${v}</code>` : v}</td>`;
      }).join("")
    }</tr>`
  ).join("\n");
  return `<table class="cnnlab-table">${
    caption ? `<caption>${esc(caption)}</caption>` : ""
  }<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The same table as aligned plain text (for text/plain outputs and terminals). */
export function tableText<T = Row>(data: pl.DataFrame | T[], columns: Column<T>[]): string {
  const rows: T[] = Array.isArray(data) ? data : (data.toRecords() as T[]);
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

/**
 * Markdown to HTML that can carry no markup of its own: raw HTML in the source is shown as
 * text (escaped), and links and images keep only http(s), relative or in-page targets. Text
 * from records (labels, messages) reaches pages through here, so a tampered record cannot put
 * a script or a javascript: link into a published page.
 */
const safeMarked = new Marked({
  renderer: {
    html({ text }) {
      return esc(text);
    },
    link({ href, tokens }) {
      const inner = this.parser.parseInline(tokens);
      return safeUrl(href) ? `<a href="${esc(href)}">${inner}</a>` : inner;
    },
    image({ href, text }) {
      return safeUrl(href) ? `<img src="${esc(href)}" alt="${esc(text)}">` : esc(text);
    },
  },
});

function safeUrl(href: string): boolean {
  return /^(https?:\/\/|#|\.{0,2}\/|[\w\-.]+(\/|$|#|\.html))/i.test(href) &&
    !/^\s*(javascript|data|vbscript):/i.test(href);
}

export function markdownHtml(md: string): string {
  return safeMarked.parse(md, { async: false }) as string;
}
