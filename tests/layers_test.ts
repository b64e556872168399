/**
 * The library's layering, read from the source: the pages (lib/report/) render records and
 * nothing else, so no module they load — directly or through another — trains, times steps,
 * profiles kernels or restores checkpoints (lib/train/, lib/exp/runner.ts, lib/exp/measure.ts,
 * lib/exp/plan.ts). Type-only imports load nothing and are not followed.
 */
import assert from "node:assert/strict";
import { dirname, relative, resolve } from "node:path";
import { PROJECT_ROOT } from "../lib/util/fs.ts";

const FORBIDDEN = [/^lib\/train\//, /^lib\/exp\/(runner|measure|plan|workers)\.ts$/, /^lib\/notebook\//];

/** The project files a module loads (value imports and re-exports; `import type` skipped). */
function loads(file: string): string[] {
  const src = Deno.readTextFileSync(file);
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^"';]*?\s*from\s*"([^"]+)"/gm)) {
    if (m[2] || !m[3].startsWith(".")) continue;
    out.push(resolve(dirname(file), m[3]));
  }
  for (const m of src.matchAll(/^\s*import\s*"(\.[^"]+)"/gm)) out.push(resolve(dirname(file), m[1]));
  return out;
}

/** Every project module reached from `file`, with the chain that reaches it. */
function closure(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[file, [file]]]);
  const todo = [file];
  while (todo.length) {
    const f = todo.pop()!;
    for (const g of loads(f)) {
      if (seen.has(g)) continue;
      seen.set(g, [...seen.get(f)!, g]);
      todo.push(g);
    }
  }
  return seen;
}

const rel = (f: string) => relative(PROJECT_ROOT, f);

Deno.test("lib/report/ loads nothing that trains, times, profiles or restores a checkpoint", () => {
  const pages = [...Deno.readDirSync(`${PROJECT_ROOT}/lib/report`)].filter((e) => e.name.endsWith(".ts"));
  assert.ok(pages.length >= 10);
  const bad: string[] = [];
  for (const p of pages) {
    for (const [f, chain] of closure(`${PROJECT_ROOT}/lib/report/${p.name}`)) {
      if (FORBIDDEN.some((re) => re.test(rel(f)))) bad.push(chain.map(rel).join(" → "));
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("the layering check sees through re-exports and skips type-only imports", () => {
  const dir = Deno.makeTempDirSync({ dir: `${PROJECT_ROOT}/outputs`, prefix: "layers-" });
  try {
    Deno.writeTextFileSync(`${dir}/a.ts`, 'import type { T } from "./t.ts";\nexport { x } from "./b.ts";\n');
    Deno.writeTextFileSync(`${dir}/b.ts`, 'import {\n  type U,\n  y,\n} from "./c.ts";\nexport const x = y;\n');
    Deno.writeTextFileSync(`${dir}/c.ts`, "export const y = 1;\nexport type U = number;\n");
    Deno.writeTextFileSync(`${dir}/t.ts`, "export type T = number;\n");
    const reached = [...closure(`${dir}/a.ts`).keys()].map((f) => f.slice(dir.length + 1)).sort();
    assert.deepEqual(reached, ["a.ts", "b.ts", "c.ts"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
