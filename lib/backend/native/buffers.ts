/**
 * The arena the native kernels' output buffers are carved from.
 *
 * The first write to a fresh multi-megabyte Float32Array costs ~4 µs per 4 KiB page here
 * (a 75 MB activation: 50–85 ms of page faults, against 6 ms to refill a warm one), more
 * than most kernels themselves. So outputs are views into one large region that stays
 * resident: a freed block returns to the free list and merges with its free neighbours, and
 * a request takes the smallest free block that holds it.
 *
 * The region is reserved whole (2 GiB, or CNNLAB_POOL_MB if less) and its pages become
 * resident only once a block reaches them, so what it costs is its high-water mark. It was
 * a chain of 256 MiB chunks: a block of a large layer (AlexNet@224's first activation and its
 * gradient are 143 MB each at batch 128) fitted no chunk's leftovers and opened a new chunk,
 * and free blocks could not merge across chunk borders. Peak RSS at batch 128, AMD EPYC, 3
 * steps, chunks → one region: AlexNet@224 1,946 → 1,721 MB, NiN@224 1,412 → 1,214,
 * VGG-11/8@224 1,051 → 919, GoogLeNet@96 1,044 → 961, ResNet-18@96 1,062 → 1,046.
 *
 * It replaced a pool of whole arrays reused only at their exact size. A training step
 * allocates its activations going forward and their gradients going backward, where every
 * layer's gradient is larger than anything the deeper layers have freed; so the exact-size
 * pool held forward and backward sizes side by side, about twice the step's live peak
 * (VGG-11/8@224 batch 128: 1,318 MB pooled for a live peak of 596; GoogLeNet@96: 1,325 for
 * 557). Blocks that merge serve the gradients from the activations already released.
 * Buffers under 4 MiB still come from a pool of whole arrays of their exact length.
 *
 * A buffer is ours only while nothing else can see it. Reading a tensor (dataSync/data) or
 * passing it to a JavaScript kernel (which may keep a view of it, or share the array under
 * another tensor) first moves its values out of the arena into an array of their own
 * (`escape`), which is never recycled nor updated in place.
 */
import { numberSetting } from "../../util/settings.ts";

/**
 * Requests below this many elements (4 KiB) are left to the garbage collector. It was 64 Ki
 * elements; pooling the 4 KiB–256 KiB ones too (an Inception v3@48 step allocates ~600 of
 * them) made two concurrent laptop workers 4–12% faster on the Q3b models (AMD EPYC).
 */
const POOL_MIN = 1 << 10;
/**
 * Requests below this many elements (4 MiB) are pooled as whole arrays reused at their exact
 * length. Buffers this small are not what fills memory, and in the arena they cost speed:
 * its search and views took 3% of GoogLeNet@32 at batch 32 (~700 small outputs a step)
 * with the bound at 1 MiB, and Inception-ResNet/4@48 on two 1-thread workers (as the report
 * trains) ran 4% slower (630 vs 657 img/s, alternating); at 4 MiB it ran level (575 vs 534).
 */
const ARENA_MIN = 1 << 20;
/** Blocks start on 64-byte boundaries (one cache line; AVX-512 loads). */
const ALIGN = 16;
/** Floats in a region unless a request or the cap says otherwise (2 GiB; pages count only once touched). */
const REGION = 1 << 29;
/** Where the system refuses a region that large (strict overcommit): regions of 256 MiB, as before. */
const FALLBACK_REGION = 1 << 26;
const capBytes = (numberSetting("CNNLAB_POOL_MB") ?? 2048) * 2 ** 20;

interface Region {
  data: Float32Array;
  /** Free blocks [offset, length] in floats, sorted by offset, never adjacent. */
  free: [number, number][];
  /** The highest offset any block has reached: below it pages are resident, above untouched. */
  top: number;
  /** Dropped by clearPool(): its blocks are not reused. */
  dropped: boolean;
}
interface Block {
  region: Region;
  offset: number;
  length: number;
}

let regions: Region[] = [];
/** Bytes reserved by the regions (virtual: resident only up to each region's `top`). */
let arenaBytes = 0;
/** Free arrays below ARENA_MIN, by length. */
const small = new Map<number, Float32Array[]>();
let smallBytes = 0;
/** The arrays below ARENA_MIN handed out here that no one outside the native kernels has seen. */
const mine = new WeakSet<Float32Array>();
/** The block behind each output buffer that no one outside the native kernels has seen. */
const blocks = new WeakMap<Float32Array, Block>();
/** Buffers that were read or given to a JavaScript kernel: never recycled nor updated in place. */
const seen = new WeakSet<object>();

/** Output buffers that needed new memory: a new region, a small array of a length not pooled, or beyond the cap. */
let fresh = 0;
export function freshBufferCount(): number {
  return fresh;
}

/** The smallest free block of at least `len` floats: [region, index in its free list]. */
function bestFit(len: number): [Region, number] | null {
  let best: [Region, number] | null = null;
  let bestLen = Infinity;
  for (const c of regions) {
    for (let i = 0; i < c.free.length; i++) {
      const l = c.free[i][1];
      if (l >= len && l < bestLen) {
        best = [c, i];
        bestLen = l;
        if (l === len) return best;
      }
    }
  }
  return best;
}

/**
 * An output buffer of n floats: under 4 KiB a new array; under 4 MiB a pooled array of that
 * length; else a block of the arena (an array of its own beyond the cap).
 */
export function alloc(n: number): Float32Array {
  if (n < POOL_MIN) return new Float32Array(n);
  if (n < ARENA_MIN) {
    let a = small.get(n)?.pop();
    if (a) smallBytes -= a.byteLength;
    else {
      fresh++;
      a = new Float32Array(n);
    }
    mine.add(a);
    return a;
  }
  const len = Math.ceil(n / ALIGN) * ALIGN;
  let fit = bestFit(len);
  if (!fit) {
    fresh++;
    const region = newRegion(len);
    if (!region) return new Float32Array(n);
    fit = [region, 0];
  }
  const [region, i] = fit;
  const [offset, l] = region.free[i];
  if (l === len) region.free.splice(i, 1);
  else region.free[i] = [offset + len, l - len];
  region.top = Math.max(region.top, offset + len);
  const v = region.data.subarray(offset, offset + n);
  blocks.set(v, { region, offset, length: len });
  return v;
}

/** A region of at least `len` floats within the cap (null beyond it), added to the arena. */
function newRegion(len: number): Region | null {
  const room = Math.floor((capBytes - arenaBytes) / 4);
  if (len > room) return null;
  let data: Float32Array;
  try {
    data = new Float32Array(Math.max(len, Math.min(REGION, room)));
  } catch {
    data = new Float32Array(Math.max(len, Math.min(FALLBACK_REGION, room)));
  }
  const region: Region = { data, free: [[0, data.length]], top: 0, dropped: false };
  regions.push(region);
  arenaBytes += data.byteLength;
  return region;
}

/** Bytes of the regions that blocks have reached (resident), free or in use. */
function touchedBytes(): number {
  return regions.reduce((s, c) => s + c.top * 4, 0);
}

/** Return a block to its region's free list, merged with the free blocks on either side. */
function giveBack(b: Block): void {
  if (b.region.dropped) return;
  const f = b.region.free;
  let i = 0, hi = f.length; // first free block after this one
  while (i < hi) {
    const mid = (i + hi) >> 1;
    if (f[mid][0] < b.offset) i = mid + 1;
    else hi = mid;
  }
  let start = b.offset, end = b.offset + b.length;
  const prev = i > 0 && f[i - 1][0] + f[i - 1][1] === start;
  const next = i < f.length && f[i][0] === end;
  if (prev) start = f[i - 1][0];
  if (next) end = f[i][0] + f[i][1];
  f.splice(prev ? i - 1 : i, (prev ? 1 : 0) + (next ? 1 : 0), [start, end - start]);
}

/** A disposed tensor's values, when ours and unseen: back to the small pool, or their block back to the arena. */
export function release(v: unknown): void {
  if (!(v instanceof Float32Array)) return;
  if (mine.has(v)) {
    mine.delete(v);
    if (touchedBytes() + smallBytes + v.byteLength > capBytes) return;
    const list = small.get(v.length) ?? [];
    list.push(v);
    small.set(v.length, list);
    smallBytes += v.byteLength;
    return;
  }
  const b = blocks.get(v);
  if (!b) return;
  blocks.delete(v);
  giveBack(b);
}

/**
 * Values about to be visible outside the native kernels (read, or given to a JavaScript
 * kernel): arena values are copied to an array of their own and their block freed. Returns
 * what the tensor holds from now on, which is never recycled nor mutated.
 */
export function escape<T>(v: T): T {
  let out: unknown = v;
  if (v instanceof Float32Array) {
    mine.delete(v); // an array of its own already
    const b = blocks.get(v);
    if (b) {
      out = v.slice();
      blocks.delete(v);
      giveBack(b);
    }
  }
  if (out && typeof out === "object") seen.add(out);
  return out as T;
}

/** Whether these values were ever handed out by `escape` (in-place updates must leave them alone). */
export function wasSeen(v: object): boolean {
  return seen.has(v);
}

/** Drop the arena (blocks still held by live tensors stay valid, and are not reused). */
export function clearPool(): void {
  for (const c of regions) c.dropped = true;
  regions = [];
  arenaBytes = 0;
  small.clear();
  smallBytes = 0;
}

/**
 * Megabytes free for reuse: the arena's free blocks below its high-water mark and the small
 * pool (together at most CNNLAB_POOL_MB, default 2048).
 */
export function pooledMegabytes(): number {
  let free = 0;
  for (const c of regions) for (const [o, l] of c.free) free += Math.max(0, Math.min(o + l, c.top) - o);
  return (free * 4 + smallBytes) / 2 ** 20;
}

/** Megabytes of the arena that blocks have reached, free or in use (the pool of small arrays apart). */
export function arenaMegabytes(): number {
  return touchedBytes() / 2 ** 20;
}
