/**
 * The documentation a user reads: a README of at most 250 lines with the two commands on its
 * first screen, every relative link in README.md and docs/ pointing at a file that exists, and
 * bench/results/README.md listing exactly the files in its folder.
 */
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { PROJECT_ROOT } from "../lib/util/fs.ts";

const read = (p: string) => Deno.readTextFileSync(`${PROJECT_ROOT}/${p}`);
const docs = [...Deno.readDirSync(`${PROJECT_ROOT}/docs`)].filter((e) => e.name.endsWith(".md")).map((e) =>
  `docs/${e.name}`
);

Deno.test("README: at most 250 lines, the report and test commands within its first 30", () => {
  const lines = read("README.md").split("\n");
  assert.ok(lines.length <= 250, `README.md has ${lines.length} lines`);
  const first = lines.slice(0, 30).join("\n");
  assert.match(first, /deno task report/);
  assert.match(first, /deno task test/);
});

Deno.test("every relative link in README.md, ARCHITECTURE.md, docs/ and bench/results/ points at a file", () => {
  const broken: string[] = [];
  for (const f of ["README.md", "ARCHITECTURE.md", "bench/results/README.md", ...docs]) {
    for (const m of read(f).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1])) continue;
      const target = resolve(dirname(`${PROJECT_ROOT}/${f}`), m[1]);
      try {
        Deno.statSync(target);
      } catch {
        broken.push(`${f} → ${m[1]}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("bench/results/README.md lists exactly the files of bench/results/", () => {
  const listed = [...read("bench/results/README.md").matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]).sort();
  const present = [...Deno.readDirSync(`${PROJECT_ROOT}/bench/results`)].map((e) => e.name).filter((n) =>
    n !== "README.md"
  ).sort();
  assert.deepEqual(listed, present);
});
