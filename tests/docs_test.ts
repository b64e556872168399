/**
 * The documentation a user reads: a README of at most 250 lines with the two commands on its
 * first screen, every relative link in README.md and docs/ pointing at a file that exists, and
 * bench/results/README.md listing exactly the files in its folder, and the README's reference-tier
 * costs read from the plan stored there.
 */
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { PROJECT_ROOT } from "../lib/util/fs.ts";
import { hours } from "../lib/exp/plan.ts";

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

Deno.test("the README's reference-tier costs are those of the plan stored in bench/results/, not typed in", () => {
  const readme = read("README.md").replace(/\s+/g, " ");
  const files = [...new Set([...readme.matchAll(/bench\/results\/(reference-tier-[\w.-]+\.json)/g)].map((m) => m[1]))];
  assert.ok(files.length > 0, "the README cites a stored plan of the reference tier");
  for (const f of files) {
    const plan = JSON.parse(read(`bench/results/${f}`));
    const took = plan.recorded.reduce((a: number, c: { seconds: number }) => a + c.seconds, 0);
    // The small stem's share, which the README gives as the reason the tier is above its first size.
    const stem = plan.runs.filter((r: { experiment: string }) => r.experiment.endsWith("@small-stem"))
      .reduce((a: number, r: { predicted: number }) => a + r.predicted, 0);
    for (
      const said of [
        `${hours(plan.whole.workSeconds)} of work`,
        `about ${hours(plan.whole.wallSeconds)}`,
        `took ${hours(took)}`,
        `is ${hours(stem)}`,
      ]
    ) {
      assert.ok(readme.includes(said), `README lacks '${said}' (${f})`);
    }
  }
});
