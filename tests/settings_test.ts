/**
 * The CNNLAB_* variables: read in lib/util/settings.ts only, documented in docs/settings.md
 * exactly as the code declares them, and a bad value refused in one line naming the fix.
 */
import assert from "node:assert/strict";
import { intSetting, numberSetting, SettingError, SETTINGS } from "../lib/util/settings.ts";
import { PROJECT_ROOT } from "../lib/util/fs.ts";

function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

Deno.test("no module but lib/util/settings.ts reads a CNNLAB_* variable", () => {
  const readers: string[] = [];
  for (const dir of ["lib", "scripts", "bench"]) {
    for (const f of sources(`${PROJECT_ROOT}/${dir}`)) {
      if (f.endsWith("lib/util/settings.ts")) continue;
      if (/Deno\.env\.get\(\s*["'`]CNNLAB_/.test(Deno.readTextFileSync(f))) {
        readers.push(f.slice(PROJECT_ROOT.length + 1));
      }
    }
  }
  assert.deepEqual(readers, []);
});

Deno.test("docs/settings.md lists every variable the code declares, with its meaning and default", () => {
  const doc = Deno.readTextFileSync(`${PROJECT_ROOT}/docs/settings.md`);
  const rows = [...doc.matchAll(/^\| `(CNNLAB_[A-Z0-9_]+)` +\| (.+?) +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2], m[3]]);
  assert.deepEqual(rows, Object.entries(SETTINGS).map(([k, v]) => [k, v.what, v.default]));
});

Deno.test("a setting that does not parse is refused in one line naming the variable and the fix", () => {
  try {
    Deno.env.set("CNNLAB_THREADS", "two");
    assert.throws(
      () => intSetting("CNNLAB_THREADS"),
      (e: Error) =>
        e instanceof SettingError && /^CNNLAB_THREADS=two is not a whole number ≥ 1; fix: unset it/.test(e.message),
    );
    Deno.env.set("CNNLAB_THREADS", "2");
    assert.equal(intSetting("CNNLAB_THREADS"), 2);
    Deno.env.set("CNNLAB_LOCK_STALE_SECONDS", "-5");
    assert.throws(
      () => numberSetting("CNNLAB_LOCK_STALE_SECONDS"),
      /CNNLAB_LOCK_STALE_SECONDS=-5 is not a positive number/,
    );
  } finally {
    Deno.env.delete("CNNLAB_THREADS");
    Deno.env.delete("CNNLAB_LOCK_STALE_SECONDS");
  }
  assert.equal(intSetting("CNNLAB_THREADS"), undefined);
});
