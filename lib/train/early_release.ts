/**
 * Free each tape node's saved tensors and output gradients as soon as the backward pass is
 * done with them.
 *
 * tfjs's `Engine.gradients` keeps every tensor a gradient function saved (the activations)
 * and every activation's accumulated gradient alive until the whole backward pass ends, so a
 * training step's memory peaks at about twice its activations; PyTorch frees both as it goes.
 * Here, while `withEarlyRelease` runs, every tape node recorded gets a gradient wrapper. The
 * engine walks the tape backwards and calls all of one node's input-gradient closures before
 * it starts the next node, so when a wrapped node starts, the previous wrapped node is done:
 * its saved tensors (the engine's own clones, read by that node only) and its output
 * gradients (each tensor's gradient is consumed by the node that produced it, and only by
 * it) are disposed then, unless a closure returned one of them as an input's gradient. The
 * engine's own disposal at the end finds them disposed already (disposing is idempotent).
 *
 * Only the gradients of variables may be asked for inside (`variableGrads`, `minimize`):
 * the gradient of a tensor some node produced would be freed with that node.
 *
 * Nothing is computed differently: the same kernels run on the same values; buffers return
 * to the backend sooner (the native backend's pool hands them to the next gradients).
 */
import * as tf from "@tensorflow/tfjs";
import { type EngineInternals, engineInternals, type TapeNode } from "../util/tfjs_internals.ts";

type Closures = Record<string, () => tf.Tensor>;

/** A finished node's tensors, freed when the next wrapped node starts. */
interface Done {
  tensors: tf.Tensor[];
  returned: Set<tf.Tensor>;
}

let active = 0;
let previous: Done | null = null;
let installed: EngineInternals | null = null;
let released = 0;

function releasePrevious(): void {
  if (!previous) return;
  for (const t of previous.tensors) {
    if (!t.isDisposed && !previous.returned.has(t)) {
      t.dispose();
      released++;
    }
  }
  previous = null;
}

function wrap(node: TapeNode): void {
  const gradient = node.gradient!;
  node.gradient = (dys: tf.Tensor[]) => {
    releasePrevious();
    const closures = gradient(dys);
    const done: Done = { tensors: [...dys.filter((d) => d != null), ...(node.saved ?? [])], returned: new Set() };
    previous = done;
    const wrapped: Closures = {};
    for (const [name, f] of Object.entries(closures)) {
      wrapped[name] = () => {
        const g = f();
        done.returned.add(g);
        return g;
      };
    }
    return wrapped;
  };
}

/** Hook the engine's tape recording (once per engine). */
function install(): void {
  const e = engineInternals();
  if (installed === e) return;
  const add = e.addTapeNode;
  e.addTapeNode = function (this: EngineInternals, ...args: unknown[]) {
    add.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    if (active > 0 && node?.gradient) wrap(node);
  };
  installed = e;
}

/**
 * Run `f` (which computes gradients of variables only) with early release of each tape
 * node's saved tensors and output gradients during its backward pass.
 */
export function withEarlyRelease<T>(f: () => T): T {
  install();
  active++;
  try {
    return f();
  } finally {
    active--;
    if (active === 0) previous = null; // the engine has disposed the last node's tensors itself
  }
}

/** Tensors released early since the process started (for tests). */
export function earlyReleasedCount(): number {
  return released;
}
