/**
 * Checkpoints: model weights (trainable and BN statistics), optimizer state and the run's
 * metadata, in one binary file per completed epoch, written atomically. The previous
 * epoch's file is removed only after the new one is in place.
 */
import * as tf from "@tensorflow/tfjs";
import { exists, writeFileAtomic } from "../util/fs.ts";

const MAGIC = "CNNLABCK";

interface Entry {
  name: string;
  shape: number[];
}

interface Header<M> {
  version: 1;
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
  const header: Header<M> = {
    version: 1,
    epoch,
    meta,
    model: modelVals.map((v) => ({ name: v.name, shape: v.t.shape })),
    optimizer: optVals.map((v) => ({ name: v.name, shape: v.t.shape })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headLen = 12 + json.length;
  const pad = (4 - (headLen % 4)) % 4;
  const total = [...modelVals, ...optVals].reduce((a, v) => a + v.t.size, 0);
  const buf = new Uint8Array(headLen + pad + 4 * total);
  buf.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buf.buffer).setUint32(8, json.length, true);
  buf.set(json, 12);
  const floats = new Float32Array(buf.buffer, headLen + pad, total);
  let off = 0;
  for (const v of [...modelVals, ...optVals]) {
    floats.set(v.t.dataSync() as Float32Array, off);
    off += v.t.size;
  }
  // getWeights hands out the optimizer's own variables (keep them) plus a fresh iteration scalar.
  tf.dispose(optVals.map((v) => v.t).filter((t) => !(t instanceof tf.Variable)));
  const target = fileFor(dir, epoch);
  await writeFileAtomic(target, buf);
  for (const f of await epochFiles(dir)) {
    if (f.epoch < epoch) await Deno.remove(f.path).catch(() => {});
  }
}

function parse<M>(path: string, bytes: Uint8Array): Checkpoint<M> {
  const bad = (why: string): never => {
    throw new Error(`${path}: not a cnnlab checkpoint (${why}); fix: delete it and rerun without --resume`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) bad("bad magic");
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + len > bytes.length) bad("truncated header");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Header<M>;
  const start = 12 + len + ((4 - ((12 + len) % 4)) % 4);
  const count = (es: Entry[]) => es.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  const total = count(header.model) + count(header.optimizer);
  if (bytes.length !== start + 4 * total) bad(`size ${bytes.length}, expected ${start + 4 * total}`);
  const floats = new Float32Array(bytes.slice(start).buffer);
  return {
    epoch: header.epoch,
    meta: header.meta,
    async restore(model, optimizer) {
      if (model.weights.length !== header.model.length) {
        throw new Error(`${path}: checkpoint has ${header.model.length} weights, model has ${model.weights.length}`);
      }
      let off = 0;
      const take = (e: Entry) => {
        const n = e.shape.reduce((x, y) => x * y, 1);
        const t = tf.tensor(floats.subarray(off, off + n), e.shape);
        off += n;
        return t;
      };
      const ws = header.model.map((e, i) => {
        const want = model.weights[i].shape as number[];
        if (want.join() !== e.shape.join()) {
          throw new Error(`${path}: weight ${e.name} has shape [${e.shape}], model expects [${want}]`);
        }
        return take(e);
      });
      model.setWeights(ws);
      tf.dispose(ws);
      const os = header.optimizer.map((e) => ({ name: e.name, tensor: take(e) }));
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
  return parse<M>(last.path, await Deno.readFile(last.path));
}
