/**
 * `deno task models`: the model zoo from the command line.
 *
 *   deno task models [--json]              every registered model: input size, parameters, MACs
 *   deno task models <name> [--size N]     one model's layer summary
 */
import { setting } from "../lib/util/settings.ts";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { ModelError } from "../lib/models/common.ts";
import { summarize } from "../lib/models/inspect.ts";
import { buildModel, modelEntry, MODELS } from "../lib/models/registry.ts";
import { textTable, thousands } from "../lib/util/table.ts";
import { intFlag, parseCli } from "../lib/util/cli.ts";
import { MAX_INPUT_SIZE } from "../lib/train/trainer.ts";

function fail(msg: string): never {
  console.error(`models: ${msg}`);
  console.error("usage: deno task models [--json] | deno task models <name> [--size N]");
  Deno.exit(2);
}

let json = false, size: number | undefined, args: string[] = [];
try {
  const { values, positionals } = parseCli(Deno.args, { json: { type: "boolean" }, size: { type: "string" } });
  json = Boolean(values.json);
  if (values.size !== undefined) size = intFlag("size", values.size, 1, MAX_INPUT_SIZE);
  args = positionals;
} catch (e) {
  fail((e as Error).message);
}
if (args.length > 1) fail(`one model name at most, got ${args.join(" ")}`);

await initBackend({ backend: setting("CNNLAB_BACKEND") ?? "wasm", log: null });
const fmtShape = (s: number[]) => s.join("×");

try {
  if (args.length === 0) {
    if (size !== undefined) fail("--size needs a model name");
    const rows = [];
    for (const e of MODELS.values()) {
      const m = buildModel(e.name);
      const s = summarize(m);
      rows.push({
        name: e.name,
        inputSize: e.defaultSize,
        params: s.trainable,
        macs: s.macs,
        description: e.description,
      });
      m.dispose();
    }
    if (json) {
      console.log(
        JSON.stringify(rows.map(({ name, inputSize, params, macs }) => ({ name, inputSize, params, macs })), null, 2),
      );
    } else {
      console.log(textTable(
        ["model", "input", "trainable params", "MACs / image", "description"],
        rows.map((r) => [r.name, String(r.inputSize), thousands(r.params), thousands(r.macs), r.description]),
      ));
    }
  } else {
    const e = modelEntry(args[0]);
    const m = buildModel(e.name, { inputSize: size });
    const s = summarize(m);
    if (json) console.log(JSON.stringify(s, null, 2));
    else {
      console.log(`${e.name} @${s.inputSize}: ${e.description}`);
      console.log(textTable(
        ["layer", "type", "output", "trainable", "non-trainable", "MACs", "RF"],
        s.layers.map((l) => [
          l.name,
          l.type,
          fmtShape(l.outputShape),
          thousands(l.trainable),
          thousands(l.nonTrainable),
          thousands(l.macs),
          String(l.receptiveField),
        ]),
      ));
      console.log(
        `total: ${thousands(s.trainable)} trainable, ${thousands(s.nonTrainable)} non-trainable parameters, ${
          thousands(s.macs)
        } MACs per image`,
      );
      const r = e.recipe;
      console.log(`recommended: ${r.optimizer} lr ${r.lr}, batch ${r.batchSize}, ${r.epochs} epochs — ${r.source}`);
    }
    m.dispose();
  }
} catch (err) {
  if (err instanceof ModelError) fail(err.message);
  throw err;
}
void tf;
