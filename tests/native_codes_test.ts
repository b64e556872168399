/**
 * The TypeScript/C++ contract of the native backend is defined once (lib/backend/native/codes.ts):
 * the generated header carries every code and parameter index, the C++ source defines none of
 * them itself, the built library was compiled against the current header, and parameter blocks
 * are packed by name.
 */
import assert from "node:assert/strict";
import {
  ACT,
  BINARY,
  CONV_PARAMS,
  cppHeader,
  MATMUL_PARAMS,
  pack,
  POOL,
  POOL_PARAMS,
  UNARY,
} from "../lib/backend/native/codes.ts";
import { NATIVE_CODES_HEADER, NATIVE_SOURCE, nativeLibState } from "../lib/backend/native_build.ts";

Deno.test("the generated header carries every op code and parameter index of codes.ts", () => {
  const h = cppHeader();
  const codes: [string, Record<string, number>][] = [["A_", ACT], ["U_", UNARY], ["B_", BINARY], ["POOL_", POOL]];
  for (const [prefix, table] of codes) {
    for (const [name, v] of Object.entries(table)) {
      assert.match(h, new RegExp(`\\b${prefix}${name.toUpperCase()} = ${v},`));
    }
  }
  const blocks: [string, readonly string[]][] = [["NCONV", CONV_PARAMS], ["NMM", MATMUL_PARAMS], [
    "NPOOL",
    POOL_PARAMS,
  ]];
  for (const [count, names] of blocks) {
    names.forEach((n, i) => assert.match(h, new RegExp(`\\b${n} = ${i},`)));
    assert.match(h, new RegExp(`\\b${count} = ${names.length}\\b`));
  }
  // Codes are distinct within a table (two kernels must not share one).
  for (const [, table] of codes) assert.equal(new Set(Object.values(table)).size, Object.keys(table).length);
});

Deno.test("the C++ source defines none of the shared codes itself and includes the generated header", async () => {
  const src = await Deno.readTextFile(NATIVE_SOURCE);
  assert.match(src, /#include "cnnlab_codes\.h"/);
  for (const re of [/enum\s+(Act|Unary|Binary|PoolKind)\b/, /enum\s*\{[^}]*\b(NCONV|NMM|NPOOL|N_|MBA|PN)\b/]) {
    assert.doesNotMatch(src, re);
  }
});

Deno.test("an up-to-date library was built against the current header", async () => {
  if (!(await nativeLibState()).ok) return; // not built here: nothing to compare (CI builds it)
  assert.equal(await Deno.readTextFile(NATIVE_CODES_HEADER), cppHeader());
});

Deno.test("parameter blocks are packed in the C++ order, by name, and refuse a missing or fractional value", () => {
  const values = Object.fromEntries(POOL_PARAMS.map((n, i) => [n, 10 + i])) as Record<
    typeof POOL_PARAMS[number],
    number
  >;
  assert.deepEqual([...pack(POOL_PARAMS, values)], POOL_PARAMS.map((_, i) => 10 + i));
  const missing = { ...values } as Partial<typeof values>;
  delete missing.PKW;
  assert.throws(() => pack(POOL_PARAMS, missing as typeof values), /native parameter PKW must be an integer/);
  assert.throws(() => pack(POOL_PARAMS, { ...values, PSH: 1.5 }), /PSH must be an integer, got 1.5/);
});
