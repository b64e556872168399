/**
 * Checkpoints: model weights (trainable and BN statistics), optimizer state and the run's
 * metadata, in one binary file per completed epoch, written atomically. The file's JSON
 * header is its manifest: every tensor's name, shape and the SHA-256 of its bytes, checked on
 * load, so a damaged checkpoint is refused naming the file and the tensor, never loaded. The
 * previous epoch's file is removed only after the new one is in place.
 */
import { failpointThrow } from "../util/failpoint.ts";
import * as tf from "@tensorflow/tfjs";
import { exists, writeFileAtomic } from "../util/fs.ts";
import { sha256Hex } from "../util/hash.ts";

const MAGIC = "CNNLABCK";

interface Entry {
  name: string;
  shape: number[];
  /** SHA-256 (hex) of the tensor's little-endian float32 bytes. */
  sha256: string;
}

const VERSION = 2;

interface Header<M> {
  version: typeof VERSION;
  epoch: number;
  meta: M;
  model: Entry[];
  optimizer: Entry[];
}

export interface Checkpoint<M> {
  epoch: number;
  meta: M;
  /** Load the saved weights into `model` and the saved state into `optimizer`. */
  restore(model: tf.LayersModel, optimizer: tf.Optimizer): Promise<void>;
}

function fileFor(dir: string, epoch: number): string {
  return `${dir}/epoch-${String(epoch).padStart(4, "0")}.ckpt`;
}

async function epochFiles(dir: string): Promise<{ epoch: number; path: string }[]> {
  if (!(await exists(dir))) return [];
  const out: { epoch: number; path: string }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = e.name.match(/^epoch-(\d+)\.ckpt$/);
    if (e.isFile && m) out.push({ epoch: Number(m[1]), path: `${dir}/${e.name}` });
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

export async function saveCheckpoint<M>(
  dir: string,
  epoch: number,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  meta: M,
): Promise<void> {
  const modelVals = model.weights.map((w) => ({ name: w.name, t: w.read() }));
  const optVals = (await optimizer.getWeights()).map((n) => ({ name: n.name, t: n.tensor }));
  const all = [...modelVals, ...optVals];
  const values = all.map((v) => new Float32Array(v.t.dataSync() as Float32Array));
  const sums = await Promise.all(values.map((v) => sha256Hex(v)));
  const entries = all.map((v, i) => ({ name: v.name, shape: v.t.shape, sha256: sums[i] }));
  const header: Header<M> = {
    version: VERSION,
    epoch,
    meta,
    model: entries.slice(0, modelVals.length),
    optimizer: entries.slice(modelVals.length),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headLen = 12 + json.length;
  const pad = (4 - (headLen % 4)) % 4;
  const total = all.reduce((a, v) => a + v.t.size, 0);
  const buf = new Uint8Array(headLen + pad + 4 * total);
  buf.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buf.buffer).setUint32(8, json.length, true);
  buf.set(json, 12);
  const floats = new Float32Array(buf.buffer, headLen + pad, total);
  let off = 0;
  for (const v of values) {
    floats.set(v, off);
    off += v.length;
  }
  // getWeights hands out the optimizer's own variables (keep them) plus a fresh iteration scalar.
  tf.dispose(optVals.map((v) => v.t).filter((t) => !(t instanceof tf.Variable)));
  const target = fileFor(dir, epoch);
  await writeFileAtomic(target, buf);
  for (const f of await epochFiles(dir)) {
    if (f.epoch < epoch) await Deno.remove(f.path).catch(() => {});
  }
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

async function parse<M>(path: string, bytes: Uint8Array): Promise<Checkpoint<M>> {
  const bad = (why: string): never => {
    throw new CheckpointError(
      `${path}: damaged or not a cnnlab checkpoint (${why}); fix: delete it and rerun without --resume`,
    );
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) bad("bad magic");
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + len > bytes.length) bad("truncated header");
  const h = (() => {
    try {
      return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Header<M>;
    } catch {
      return bad("unreadable manifest");
    }
  })();
  if (!h || typeof h !== "object") bad("the manifest is not an object");
  if (h.version !== VERSION) bad(`format version ${h.version}, this cnnlab reads ${VERSION}`);
  for (const part of ["model", "optimizer"] as const) {
    const list = h[part] as unknown;
    if (!Array.isArray(list)) bad(`manifest field '${part}' is ${JSON.stringify(list)}, not a list of tensors`);
    for (const e of list as Entry[]) {
      const ok = e && typeof e === "object" && typeof e.name === "string" && typeof e.sha256 === "string" &&
        Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0);
      if (!ok) bad(`manifest field '${part}' has an entry that is not {name, shape, sha256}: ${JSON.stringify(e)}`);
    }
  }
  if (!Number.isInteger(h.epoch)) bad(`manifest field 'epoch' is ${JSON.stringify(h.epoch)}, not an integer`);
  const start = 12 + len + ((4 - ((12 + len) % 4)) % 4);
  const count = (es: Entry[]) => es.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  const total = count(h.model) + count(h.optimizer);
  if (bytes.length !== start + 4 * total) bad(`size ${bytes.length}, expected ${start + 4 * total}`);
  const floats = new Float32Array(bytes.slice(start).buffer);
  let at = 0;
  for (const e of [...h.model, ...h.optimizer]) {
    const n = e.shape.reduce((x, y) => x * y, 1);
    if ((await sha256Hex(floats.subarray(at, at + n))) !== e.sha256) bad(`tensor ${e.name} fails its SHA-256 check`);
    at += n;
  }
  return {
    epoch: h.epoch,
    meta: h.meta,
    async restore(model, optimizer) {
      failpointThrow("checkpoint.restore");
      if (model.weights.length !== h.model.length) {
        throw new CheckpointError(
          `${path}: checkpoint has ${h.model.length} weights, model has ${model.weights.length}`,
        );
      }
      let off = 0;
      const take = (e: Entry) => {
        const n = e.shape.reduce((x, y) => x * y, 1);
        const t = tf.tensor(floats.subarray(off, off + n), e.shape);
        off += n;
        return t;
      };
      const ws = h.model.map((e, i) => {
        const want = model.weights[i].shape as number[];
        if (want.join() !== e.shape.join()) {
          throw new CheckpointError(`${path}: weight ${e.name} has shape [${e.shape}], model expects [${want}]`);
        }
        return take(e);
      });
      model.setWeights(ws);
      tf.dispose(ws);
      const os = h.optimizer.map((e) => ({ name: e.name, tensor: take(e) }));
      await optimizer.setWeights(os);
      tf.dispose(os.map((o) => o.tensor));
    },
  };
}

/** The newest complete checkpoint in `dir`, or null. */
export async function latestCheckpoint<M>(dir: string): Promise<Checkpoint<M> | null> {
  const files = await epochFiles(dir);
  const last = files.at(-1);
  if (!last) return null;
  return await parse<M>(last.path, await Deno.readFile(last.path));
}
