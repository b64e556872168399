import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { alexnet } from "../lib/models/alexnet.ts";
import { lenet } from "../lib/models/lenet.ts";
import { vgg } from "../lib/models/vgg.ts";
import { inceptionResNet, inceptionV3 } from "../lib/models/inception.ts";
import { googlenet } from "../lib/models/googlenet.ts";
import { blockActivations, blockNames, summarize, trainableParams } from "../lib/models/inspect.ts";
import { buildModel, modelEntry, MODELS } from "../lib/models/registry.ts";
import { trainStep } from "../lib/train/step.ts";
import { keepMask } from "../lib/models/common.ts";

await initBackend({ backend: "wasm", log: null });

function withModel<T>(m: tf.LayersModel, f: (m: tf.LayersModel) => T): T {
  try {
    return f(m);
  } finally {
    m.dispose();
  }
}
const params = (name: string, opts = {}) => withModel(buildModel(name, opts), trainableParams);

Deno.test("dropout's keep mask is exactly tfjs's randomUniform(...).less(keep) for the same seed", () => {
  for (const rate of [0.5, 0.4, 0.2, 0.1]) {
    for (const seed of [1, 12345, 2 ** 31 - 7]) {
      const keep = 1 - rate;
      const want = tf.tidy(() =>
        tf.randomUniform([3, 1000], 0, 1, "float32", seed).less(keep).cast("float32").dataSync()
      );
      const got = keepMask(3000, keep, seed);
      assert.deepEqual([...got], [...want], `rate ${rate}, seed ${seed}`);
      const kept = got.reduce((a, b) => a + b, 0) / got.length;
      assert.ok(Math.abs(kept - keep) < 0.03, `kept ${kept} of ${keep}`);
    }
  }
});

Deno.test("parameter counts equal the PyTorch definitions'", () => {
  assert.equal(params("lenet"), 61_706);
  assert.equal(params("alexnet"), 46_764_746);
  assert.equal(params("alexnet-simplified"), 28_655_946);
  assert.equal(withModel(alexnet({ fc2: false, conv4: false }), trainableParams), 28_655_946);
  assert.equal(params("vgg11-r8"), 2_018_346);
  assert.equal(params("vgg11-r8", { inputSize: 96 }), 707_626);
  assert.equal(params("nin"), 1_992_166);
  assert.equal(params("googlenet"), 5_977_530);
  assert.equal(params("resnet18"), 11_178_378);
});

/** conv (no bias) + BN γ,β: k = kernel area. */
const cbr = (k: number, cin: number, cout: number) => k * cin * cout + 2 * cout;
const dense = (i: number, o: number) => i * o + o;

Deno.test("BN-Inception parameters match a hand derivation from the paper's module table", () => {
  let p = cbr(49, 1, 64) + cbr(1, 64, 64) + cbr(9, 64, 192);
  let cin = 192;
  // #1×1, #3×3 reduce, #3×3, double #3×3 reduce, double #3×3, pool proj (0 = pass-through, stride 2)
  const table = [
    [64, 64, 64, 64, 96, 32], // 3a
    [64, 64, 96, 64, 96, 64], // 3b
    [0, 128, 160, 64, 96, 0], // 3c
    [224, 64, 96, 96, 128, 128], // 4a
    [192, 96, 128, 96, 128, 128], // 4b
    [160, 128, 160, 128, 160, 128], // 4c
    [96, 128, 192, 160, 192, 128], // 4d
    [0, 128, 192, 192, 256, 0], // 4e
    [352, 192, 320, 160, 224, 128], // 5a
    [352, 192, 320, 192, 224, 128], // 5b
  ];
  for (const [c1, r3, c3, rd, cd, proj] of table) {
    if (c1) p += cbr(1, cin, c1);
    p += cbr(1, cin, r3) + cbr(9, r3, c3) + cbr(1, cin, rd) + cbr(9, rd, cd) + cbr(9, cd, cd);
    if (proj) p += cbr(1, cin, proj);
    cin = c1 + c3 + cd + (proj || cin);
  }
  assert.equal(cin, 1024);
  p += dense(1024, 10);
  assert.equal(params("bn-inception"), p);
});

Deno.test("Inception v3 parameters match a hand derivation (n = 3 on the middle grid)", () => {
  const n = 3;
  let p = cbr(9, 1, 32) + cbr(9, 32, 32) + cbr(9, 32, 64) + cbr(1, 64, 80) + cbr(9, 80, 192);
  let cin = 192;
  for (const pf of [32, 64, 64]) {
    p += cbr(1, cin, 64) + cbr(1, cin, 48) + cbr(9, 48, 64) + cbr(1, cin, 64) + cbr(9, 64, 96) + cbr(9, 96, 96) +
      cbr(1, cin, pf);
    cin = 64 + 64 + 96 + pf;
  }
  p += cbr(9, cin, 384) + cbr(1, cin, 64) + cbr(9, 64, 96) + cbr(9, 96, 96);
  cin = 384 + 96 + cin;
  assert.equal(cin, 768);
  for (const c7 of [128, 160, 160, 192]) {
    p += cbr(1, cin, 192) + cbr(1, cin, c7) + cbr(n, c7, c7) + cbr(n, c7, 192);
    p += cbr(1, cin, c7) + 3 * cbr(n, c7, c7) + cbr(n, c7, 192) + cbr(1, cin, 192);
  }
  const aux = cbr(1, 768, 128) + dense(128, 768) + dense(768, 10);
  p += cbr(1, cin, 192) + cbr(9, 192, 320) + cbr(1, cin, 192) + 2 * cbr(n, 192, 192) + cbr(9, 192, 192);
  cin = 320 + 192 + cin;
  for (let i = 0; i < 2; i++) {
    p += cbr(1, cin, 320) + cbr(1, cin, 384) + 2 * cbr(3, 384, 384) + cbr(1, cin, 448) + cbr(9, 448, 384) +
      2 * cbr(3, 384, 384) + cbr(1, cin, 192);
    cin = 320 + 768 + 768 + 192;
  }
  p += dense(2048, 10);
  assert.equal(params("inception-v3"), p);
  assert.equal(withModel(inceptionV3({ auxHead: true }), trainableParams), p + aux);
});

Deno.test("Inception-ResNet parameters match a hand derivation (A/B/C ×2/4/2)", () => {
  let p = cbr(9, 1, 32) + cbr(9, 32, 32) + cbr(9, 32, 64) + cbr(1, 64, 80) + cbr(9, 80, 192) + cbr(9, 192, 256);
  const a = 3 * cbr(1, 256, 32) + cbr(9, 32, 32) + 2 * cbr(9, 32, 32) + dense(96, 256);
  p += 2 * a;
  p += cbr(9, 256, 384) + cbr(1, 256, 192) + cbr(9, 192, 192) + cbr(9, 192, 256);
  const b = 2 * cbr(1, 896, 128) + 2 * cbr(3, 128, 128) + dense(256, 896);
  p += 4 * b;
  p += 3 * cbr(1, 896, 256) + cbr(9, 256, 384) + cbr(9, 256, 256) + 2 * cbr(9, 256, 256);
  const c = 2 * cbr(1, 1792, 192) + 2 * cbr(3, 192, 192) + dense(384, 1792);
  p += 2 * c + dense(1792, 10);
  assert.equal(params("inception-resnet"), p);
  // One more B block adds exactly one block's parameters.
  assert.equal(withModel(inceptionResNet({ repeats: [2, 5, 2] }), trainableParams), p + b);
});

Deno.test("output shapes at several input sizes; too-small inputs name the minimum", () => {
  for (const e of MODELS.values()) {
    if (e.name === "vgg11") continue; // 129M parameters: covered by the listing, too slow to build repeatedly
    const min = e.minSize({});
    for (const size of new Set([min, min + 5, e.defaultSize])) {
      if (size > 100 && e.defaultSize !== size) continue;
      withModel(buildModel(e.name, { inputSize: size }), (m) => {
        const y = tf.tidy(() => m.predict(tf.zeros([2, size, size, 1])) as tf.Tensor);
        assert.deepEqual(y.shape, [2, 10], `${e.name}@${size}`);
        y.dispose();
      });
    }
    assert.throws(
      () => buildModel(e.name, { inputSize: min - 1 }),
      new RegExp(`input size ${min - 1} is too small.*minimum is ${min}`),
    );
  }
  assert.equal(modelEntry("alexnet").minSize({}), 65);
});

Deno.test("every trainable variable receives a non-zero gradient in one wasm training step", () => {
  tf.setBackend("wasm");
  const small: Record<string, number> = { alexnet: 67, "alexnet-simplified": 67, vgg11: 32, "vgg11-r8": 32, nin: 67 };
  for (const e of MODELS.values()) {
    const size = small[e.name] ?? Math.max(e.minSize({}), 32);
    const m = buildModel(e.name, { inputSize: size, seed: 2 });
    const x = tf.randomNormal([4, size, size, 1], 0.5, 0.5, "float32", 3);
    const y = tf.tensor1d([0, 3, 7, 9], "int32");
    const vars = m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => {
      const out = m.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), out) as tf.Scalar;
    }, vars);
    const zero = Object.entries(grads).filter(([, g]) => g.abs().max().dataSync()[0] === 0).map(([k]) => k);
    assert.deepEqual(zero, [], `${e.name}: zero gradients`);
    tf.dispose([x, y, ...Object.values(grads)]);
    m.dispose();
  }
});

Deno.test("auxiliary heads train: GoogLeNet with aux heads has three outputs and one weighted loss", async () => {
  const m = googlenet({ inputSize: 80, auxHeads: true, seed: 1 });
  assert.equal(m.outputs.length, 3);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([2, 80, 80, 1], 0, 1, "float32", 1);
  const y = tf.tensor1d([1, 2], "int32");
  const r = await trainStep(m, opt, x, y, { auxWeight: 0.3 });
  assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  tf.dispose([x, y]);
  opt.dispose();
  m.dispose();
});

Deno.test("batch norm behaves differently in training and inference, and training updates its moving statistics", () => {
  const m = buildModel("bn-lenet", { seed: 1 });
  const x = tf.randomNormal([8, 28, 28, 1], 0.3, 0.3, "float32", 4);
  const bn = m.getLayer("block1_bn");
  const mean0 = bn.getWeights()[2].dataSync().slice();
  const train = m.apply(x, { training: true }) as tf.Tensor;
  const mean1 = bn.getWeights()[2].dataSync().slice();
  const infer = m.apply(x, { training: false }) as tf.Tensor;
  const diff = train.sub(infer).abs().max().dataSync()[0];
  assert.ok(diff > 1e-3, `training and inference outputs differ by only ${diff}`);
  assert.notDeepEqual([...mean1], [...mean0]);
  tf.dispose([x, train, infer]);
  m.dispose();
});

Deno.test("invalid options give clear errors", () => {
  assert.throws(() => lenet({ activation: "tanh" as "relu" }), /unknown activation 'tanh'; valid: relu, sigmoid/);
  assert.throws(() => lenet({ pooling: "min" as "max" }), /unknown pooling 'min'; valid: max, avg/);
  assert.throws(() => alexnet({ widthMultiplier: -1 }), /widthMultiplier must be positive, got -1/);
  assert.throws(() => alexnet({ denseWidth: 0 }), /denseWidth must be a positive integer, got 0/);
  assert.throws(() => vgg({ convArch: [[1, -8]] }), /convArch\[0\] channels must be a positive integer, got -8/);
  assert.throws(() => vgg({ ratio: 1000 }), /channels 64 \/ ratio 1000 must be a positive integer/);
  assert.throws(() => lenet({ dropout: 1.5 }), /dropout rate must be in \[0, 1\), got 1.5/);
  assert.throws(() => inceptionResNet({ repeats: [1, -1, 1] }), /repeats\[1\] must be a non-negative integer/);
  assert.throws(() => buildModel("vgg-11"), /unknown model 'vgg-11'; did you mean vgg11/);
  assert.throws(() => lenet({ inputSize: 2.5 }), /input size must be a positive integer, got 2.5/);
});

Deno.test("summary: multiply-adds and receptive fields by hand", () => {
  const s = withModel(lenet(), summarize);
  const conv1 = s.layers.find((l) => l.name === "block1_conv")!;
  assert.equal(conv1.macs, 28 * 28 * 6 * 5 * 5);
  assert.deepEqual(conv1.outputShape, [28, 28, 6]);
  const conv2 = s.layers.find((l) => l.name === "block2_conv")!;
  assert.equal(conv2.macs, 10 * 10 * 16 * 5 * 5 * 6);
  assert.equal(s.layers.find((l) => l.name === "fc1")!.macs, 400 * 120);
  assert.equal(s.trainable, 61_706);
  // VGG blocks: r' = r + (k−1)·j, j' = j·s: 3→4 | 8→10 | 18,26→30 | 46,62→70 | 102,134→150.
  const v = withModel(vgg({ ratio: 8 }), summarize);
  assert.deepEqual(
    v.layers.filter((l) => /^vgg_block_\d$/.test(l.name)).map((l) => l.receptiveField),
    [4, 10, 30, 70, 150],
  );
  // AlexNet's first layer sees 11 pixels; LeNet's 5.
  assert.equal(withModel(alexnet(), summarize).layers.find((l) => l.name === "conv1")!.receptiveField, 11);
  assert.equal(conv1.receptiveField, 5);
});

Deno.test("block activations: every named VGG block for a batch", () => {
  const m = vgg({ ratio: 8, inputSize: 96 });
  assert.deepEqual(blockNames(m), [1, 2, 3, 4, 5].map((i) => `vgg_block_${i}`));
  const acts = blockActivations(m, tf.zeros([3, 96, 96, 1]));
  assert.deepEqual([...acts.values()].map((t) => t.shape), [[3, 48, 48, 8], [3, 24, 24, 16], [3, 12, 12, 32], [
    3,
    6,
    6,
    64,
  ], [3, 3, 3, 64]]);
  tf.dispose([...acts.values()]);
  assert.throws(
    () => blockActivations(m, tf.zeros([1, 96, 96, 1]), ["nope"]),
    /has no layer nope; blocks: vgg_block_1/,
  );
  m.dispose();
  for (const name of ["googlenet", "bn-inception", "inception-v3", "inception-resnet", "resnet18", "nin"]) {
    const size = Math.max(64, modelEntry(name).minSize({}));
    assert.ok(withModel(buildModel(name, { inputSize: size }), blockNames).length >= 4, name);
  }
});

Deno.test("the small stem keeps a 28-px image at 28×28 into the first module and leaves the ImageNet stem as it was", () => {
  // [first module, middle grid, last grid] at 28 px with the small stem: Inception v3's paper runs 35/17/8.
  const grids: Record<string, [string, string, string]> = {
    googlenet: ["inception_3a", "inception_4a", "inception_5a"],
    "bn-inception": ["inception_3a", "inception_4a", "inception_5a"],
    "inception-v3": ["mixed_a1", "mixed_b1", "mixed_c1"],
    "inception-resnet": ["block_a1", "block_b1", "block_c1"],
    resnet18: ["stage2_block1", "stage4_block1", "stage5_block1"],
  };
  for (const [name, layers] of Object.entries(grids)) {
    withModel(buildModel(name, { inputSize: 28, stem: "small", width: 0.125 }), (m) => {
      const side = layers.map((l) => m.getLayer(l).outputShape[1]);
      assert.deepEqual(side, name === "resnet18" ? [28, 7, 4] : [28, 14, 7], name);
      assert.equal(blockNames(m)[0], "stem", name);
      assert.equal(m.getLayer("stem").outputShape[1], 28, `${name}: the stem does not downsample`);
    });
    // The ImageNet stem is the default, named or not: same parameters, and 28 px is refused with its minimum.
    assert.equal(params(name, { width: 0.125, stem: "imagenet" }), params(name, { width: 0.125 }), name);
    assert.throws(() => buildModel(name, { inputSize: 28 }), /input size 28 is too small for this architecture/);
    assert.ok(modelEntry(name).minSize({ stem: "small" }) < 28, name);
    assert.throws(() => buildModel(name, { stem: "cifar" as "small" }), /unknown stem 'cifar'; valid: imagenet, small/);
  }
});
