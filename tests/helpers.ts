/** Helpers shared by the kernel tests. */
import { Rng } from "../lib/util/rng.ts";

/** Seeded uniform values in [offset − 1, offset + 1). */
export function rand(shape: number[], seed: number, offset = 0): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < a.length; i++) a[i] = r.next() * 2 - 1 + offset;
  return a;
}

/** Relative RMS error of `got` against `want`. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
