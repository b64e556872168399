/**
 * The pool of output buffers the native kernels write into.
 *
 * The first write to a fresh multi-megabyte Float32Array costs ~4 µs per 4 KiB page here
 * (a 75 MB activation: 50–85 ms of page faults, against 6 ms to refill a warm one), more
 * than most kernels themselves. So native kernels take their outputs from a pool of
 * buffers freed by disposed tensors. A buffer is recycled only while nothing else can see
 * it: reading it (dataSync/data) or passing it to a JavaScript kernel (which may keep a view
 * or share the array under another tensor) removes it from the pool's care for good.
 */

/**
 * Buffers below this many elements (4 KiB) are left to the garbage collector. It was 64 Ki
 * elements; pooling the 4 KiB–256 KiB ones too (an Inception v3@48 step allocates ~600 of
 * them) made two concurrent laptop workers 4–12% faster on the Q3b models (AMD EPYC).
 */
const POOL_MIN = 1 << 10;
const poolCap = Number(Deno.env.get("CNNLAB_POOL_MB") ?? 2048) * 2 ** 20;
const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/** Buffers allocated here that no one outside the native kernels has seen. */
const mine = new WeakSet<Float32Array>();
/** Buffers that were read or given to a JavaScript kernel: never recycled nor updated in place. */
const seen = new WeakSet<object>();

/** Pool-sized output buffers allocated fresh (not taken from the pool) since the process started. */
let fresh = 0;
export function freshBufferCount(): number {
  return fresh;
}

/** An output buffer of n floats: from the pool when one of that length is free, else fresh. */
export function alloc(n: number): Float32Array {
  if (n < POOL_MIN) return new Float32Array(n);
  const a = pool.get(n)?.pop();
  if (a) pooledBytes -= a.byteLength;
  else fresh++;
  const b = a ?? new Float32Array(n);
  mine.add(b);
  return b;
}

/** A disposed tensor's values: back to the pool when they are ours and unseen. */
export function release(v: unknown): void {
  if (!(v instanceof Float32Array) || !mine.has(v)) return;
  mine.delete(v);
  if (pooledBytes + v.byteLength > poolCap) return;
  const list = pool.get(v.length) ?? [];
  list.push(v);
  pool.set(v.length, list);
  pooledBytes += v.byteLength;
}

/** Values visible outside the native kernels (read, or given to a JavaScript kernel): never recycled nor mutated. */
export function escape(v: unknown): void {
  if (v instanceof Float32Array) mine.delete(v);
  if (v && typeof v === "object") seen.add(v);
}

/** Whether `escape` was ever called on these values (in-place updates must leave them alone). */
export function wasSeen(v: object): boolean {
  return seen.has(v);
}

/** Drop every pooled buffer. */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

/** Megabytes of freed output buffers currently held for reuse (at most CNNLAB_POOL_MB, default 2048). */
export function pooledMegabytes(): number {
  return pooledBytes / 2 ** 20;
}
