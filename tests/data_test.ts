import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { batchCount, batches, fashionMnist, mixSeed, NUM_CLASSES, Split } from "../lib/data/dataset.ts";
import {
  DataError,
  FILES,
  gunzip,
  loadFashionMnist,
  locateFashionMnist,
  readVerified,
} from "../lib/data/fashion_mnist.ts";
import { parseIdx } from "../lib/data/idx.ts";
import { initBackend } from "../lib/backend/mod.ts";

await initBackend({ backend: "wasm", log: null });

Deno.test("train split: mean 0.2860, std 0.3530 after scaling; 6,000 per class", async () => {
  const ds = await fashionMnist();
  const { mean, std } = ds.train.pixelStats();
  assert.ok(Math.abs(mean - 0.2860) <= 0.0005, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.3530) <= 0.0005, `std ${std}`);
  assert.deepEqual(ds.train.classCounts(), new Array(10).fill(6000));
  assert.deepEqual(ds.test.classCounts(), new Array(10).fill(1000));
  assert.equal(ds.train.size, 60000);
  assert.equal(ds.test.size, 10000);
});

function idx(magic: [number, number], dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head.set([0, 0, magic[0], magic[1]]);
  const v = new DataView(head.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

Deno.test("IDX parser checks magic, type, dims, length", () => {
  const ok = parseIdx(idx([8, 2], [2, 3], [1, 2, 3, 4, 5, 6]), "f", [2, 3], "fix");
  assert.deepEqual(ok.dims, [2, 3]);
  assert.deepEqual([...ok.data], [1, 2, 3, 4, 5, 6]);
  assert.throws(
    () => parseIdx(idx([8, 2], [2, 3], [1, 2, 3]), "f", [2, 3], "fix"),
    /f: truncated: 3 data bytes, header promises 6; fix/,
  );
  assert.throws(
    () => parseIdx(idx([8, 2], [2, 3], [1, 2, 3, 4, 5, 6, 7]), "f", [2, 3], "fix"),
    /1 unexpected trailing bytes/,
  );
  assert.throws(
    () => parseIdx(idx([8, 2], [3, 2], [1, 2, 3, 4, 5, 6]), "f", [2, 3], "fix"),
    /dimensions \[3, 2\], expected \[2, 3\]/,
  );
  assert.throws(
    () => parseIdx(idx([0x0d, 2], [2, 3], [1, 2, 3, 4, 5, 6]), "f", undefined, "fix"),
    /data type 0xd is not unsigned byte/,
  );
  const bad = idx([8, 2], [2, 3], [1, 2, 3, 4, 5, 6]);
  bad[0] = 7;
  assert.throws(() => parseIdx(bad, "f", undefined, "fix"), /bad magic number/);
  assert.throws(() => parseIdx(new Uint8Array(2), "f", undefined, "fix"), /too short/);
});

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("corrupt, truncated and wrong files give one clear error naming the file and the fix", async () => {
  const ds = await loadFashionMnist();
  const dir = await Deno.makeTempDir({ prefix: "cnnlab-data-" });
  try {
    const labels = ds.test.labels;
    const good = idx([8, 1], [10000], [...labels]);
    // Flipped label: parses, but the SHA-256 differs.
    const flipped = good.slice();
    flipped[100] = (flipped[100] + 1) % 10;
    await Deno.writeFile(`${dir}/a.gz`, await gzip(flipped));
    await assert.rejects(readVerified(`${dir}/a.gz`, FILES.testLabels), (e: Error) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /a\.gz: SHA-256 of the decompressed content is [0-9a-f]{64}, expected 0402a96d/);
      assert.match(e.message, /fix: /);
      return true;
    });
    // Truncated content.
    await Deno.writeFile(`${dir}/b.gz`, await gzip(good.subarray(0, 5000)));
    await assert.rejects(
      readVerified(`${dir}/b.gz`, FILES.testLabels),
      /b\.gz: truncated: 4992 data bytes, header promises 10000; fix: /,
    );
    // Truncated gzip stream.
    const gz = await gzip(good);
    await Deno.writeFile(`${dir}/c.gz`, gz.subarray(0, gz.length - 10));
    await assert.rejects(readVerified(`${dir}/c.gz`, FILES.testLabels), /c\.gz: not a valid gzip file/);
    // The wrong file (train labels where test labels belong).
    await Deno.writeFile(`${dir}/d`, idx([8, 1], [60000], [...ds.train.labels]));
    await assert.rejects(readVerified(`${dir}/d`, FILES.testLabels), /dimensions \[60000\], expected \[10000\]/);
    // Uncompressed original is accepted.
    await Deno.writeFile(`${dir}/e`, good);
    assert.deepEqual(await readVerified(`${dir}/e`, FILES.testLabels), labels);
    assert.deepEqual(await gunzip(gz, "x"), good);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an explicit data dir without the files is an error, not a silent fallback", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cnnlab-empty-" });
  try {
    await assert.rejects(locateFashionMnist({ dataDir: dir }), (e: Error) => {
      assert.match(e.message, new RegExp(`${dir} \\(--data-dir\\) does not hold the four Fashion-MNIST files`));
      return true;
    });
    Deno.env.set("CNNLAB_DATA_DIR", dir);
    await assert.rejects(locateFashionMnist(), /\(CNNLAB_DATA_DIR\) does not hold/);
  } finally {
    Deno.env.delete("CNNLAB_DATA_DIR");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stratified subsets are balanced, seeded and disjoint from nothing they should not be", async () => {
  const ds = await fashionMnist();
  const a = ds.train.stratified(100, 7);
  const b = ds.train.stratified(100, 7);
  const c = ds.train.stratified(100, 8);
  assert.deepEqual(a.classCounts(), new Array(NUM_CLASSES).fill(100));
  assert.deepEqual([...a.indices], [...b.indices]);
  assert.notDeepEqual([...a.indices], [...c.indices]);
  assert.equal(new Set(a.indices).size, 1000);
  assert.throws(() => ds.test.stratified(1001, 1), /only 1000 examples of class 0, 1001 asked/);
  assert.throws(() => ds.test.stratified(0, 1), /positive integer/);
});

Deno.test("batches: shapes, per-batch resize, seeded shuffle, normalisation, augmentation", async () => {
  const ds = await fashionMnist();
  const s = ds.test.stratified(10, 3); // 100 images
  assert.equal(batchCount(s, { batchSize: 32 }), 4);
  assert.equal(batchCount(s, { batchSize: 32, dropLast: true }), 3);
  const sizes: number[] = [];
  for (const b of batches(s, { batchSize: 32, size: 96 })) {
    assert.deepEqual(b.x.shape.slice(1), [96, 96, 1]);
    sizes.push(b.n);
    tf.dispose([b.x, b.y]);
  }
  assert.deepEqual(sizes, [32, 32, 32, 4]);
  const labelsOf = (opts: { seed: number; epoch: number }) => {
    const out: number[] = [];
    for (const b of batches(s, { batchSize: 50, shuffle: true, ...opts })) {
      out.push(...b.y.dataSync());
      tf.dispose([b.x, b.y]);
    }
    return out;
  };
  assert.deepEqual(labelsOf({ seed: 1, epoch: 0 }), labelsOf({ seed: 1, epoch: 0 }));
  assert.notDeepEqual(labelsOf({ seed: 1, epoch: 0 }), labelsOf({ seed: 1, epoch: 1 }));
  assert.deepEqual([...labelsOf({ seed: 1, epoch: 0 })].sort(), [...labelsOf({ seed: 2, epoch: 0 })].sort());

  const one = new Split("one", s.images, s.labels, s.indices.slice(0, 1));
  const pix = (opts: Parameters<typeof batches>[1]): Float32Array => {
    const b = batches(one, opts).next().value!;
    const v = (b.x.dataSync() as Float32Array).slice();
    tf.dispose([b.x, b.y]);
    return v;
  };
  const plain = pix({ batchSize: 1 });
  const raw = s.images.subarray(s.indices[0] * 784, s.indices[0] * 784 + 784);
  assert.ok(Math.abs(plain[400] - raw[400] / 255) < 1e-6);
  const norm = pix({ batchSize: 1, normalize: { mean: 0.286, std: 0.353 } });
  assert.ok(Math.abs(norm[400] - (raw[400] / 255 - 0.286) / 0.353) < 1e-5);
  // Flip: with p=0.5 per image, some seed flips; a flipped image mirrors each row.
  let flipped: Float32Array | null = null;
  for (let seed = 0; seed < 20 && !flipped; seed++) {
    const f = pix({ batchSize: 1, augment: { flip: true }, seed });
    if (f.some((v, i) => v !== plain[i])) flipped = f;
  }
  assert.ok(flipped, "no seed in 0..19 flipped the image");
  for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) assert.equal(flipped[r * 28 + c], plain[r * 28 + 27 - c]);
  // Crop with padding: the result is the image shifted by (dy, dx) within ±pad, zero-filled.
  const cropped = pix({ batchSize: 1, augment: { cropPad: 3 }, seed: 5 });
  let found = false;
  for (let dy = -3; dy <= 3 && !found; dy++) {
    for (let dx = -3; dx <= 3 && !found; dx++) {
      let same = true;
      for (let r = 0; r < 28 && same; r++) {
        for (let c = 0; c < 28 && same; c++) {
          const sr = r + dy, sc = c + dx;
          const want = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? plain[sr * 28 + sc] : 0;
          same = cropped[r * 28 + c] === want;
        }
      }
      found = same;
    }
  }
  assert.ok(found, "crop is not a shift of the image within ±3 pixels");
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
});
