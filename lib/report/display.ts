/**
 * Output helpers for notebooks. Every helper awaits `Deno.jupyter.display` and then sleeps
 * ~20 ms: the Deno kernel sometimes publishes a cell's output just after reporting idle, and
 * nbconvert then drops it silently (TOOLCHAIN.md). Outside a kernel they print text.
 */
import type pl from "nodejs-polars";
import { jupyter } from "../util/jupyter.ts";
import { type Column, markdownHtml, Plot, plotHtml, tableHtml, tableText } from "./render.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Display HTML (with a plain-text alternative). */
export async function showHtml(html: string, text = ""): Promise<void> {
  const j = jupyter();
  if (!j) {
    console.log(text || html);
    return;
  }
  await j.display({ "text/html": html, "text/plain": text || "[html output]" }, { raw: true });
  await sleep(20);
}

export function showMarkdown(md: string): Promise<void> {
  return showHtml(`<div class="cnnlab-md">${markdownHtml(md)}</div>`, md);
}

export function showTable<T = Record<string, unknown>>(
  data: pl.DataFrame | T[],
  columns: Column<T>[],
  caption?: string,
): Promise<void> {
  return showHtml(tableHtml(data, columns, caption), (caption ? caption + "\n" : "") + tableText(data, columns));
}

export function showPlot(options: Plot.PlotOptions, text = "[chart]"): Promise<void> {
  return showHtml(plotHtml(options), text);
}
