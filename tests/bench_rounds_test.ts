/**
 * `deno task bench --rounds N`: the rounds of each pair fold into medians, and a ratio to
 * PyTorch only ever compares measurements of the same round.
 */
import assert from "node:assert/strict";
import { foldRounds, median, type RoundRow } from "../bench/rounds.ts";

const row = (backend: string, round: number, ips: number, rss = 100, model = "googlenet", size = 32): RoundRow => ({
  model,
  size,
  batch: 32,
  backend,
  precision: "fp32",
  steps: 10,
  seconds: 1,
  trainImagesPerSecond: ips,
  gflops: ips / 10,
  peakRssMB: rss,
  round,
});

Deno.test("median of odd and even counts, and of nothing an error", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /nothing/);
});

Deno.test("rounds fold into medians; a ratio pairs each round with PyTorch's of the same round", () => {
  // PyTorch drifts from 200 to 100 img/s over the three rounds and ours with it: every round
  // says 1.5x. The medians alone (300 over 150 = 2.0x) would say something no round measured.
  const rows = [
    row("pytorch", 1, 200, 380),
    row("native", 1, 300, 320),
    row("native", 2, 225, 330),
    row("pytorch", 2, 150, 390),
    row("pytorch", 3, 100, 385),
    row("native", 3, 150, 310),
  ];
  const out = foldRounds(rows);
  assert.deepEqual(out.map((r) => r.backend), ["pytorch", "native"]); // in the order pairs first appear
  const [torch, native] = out;
  assert.equal(native.trainImagesPerSecond, 225);
  assert.deepEqual(native.perRound, [300, 225, 150]);
  assert.deepEqual(native.vsPytorchPerRound, [1.5, 1.5, 1.5]);
  assert.equal(native.vsPytorch, 1.5);
  assert.equal(native.peakRssMB, 330);
  assert.equal(native.steps, 30);
  assert.equal(native.round, undefined);
  assert.equal(torch.trainImagesPerSecond, 150);
  assert.equal(torch.vsPytorch, undefined);
  assert.equal(torch.vsPytorchPerRound, undefined);
});

Deno.test("a round PyTorch failed is left out of the ratio; other sizes and models are not mixed in", () => {
  const rows = [
    row("pytorch", 1, 100),
    row("native", 1, 130),
    row("native", 2, 400), // no PyTorch in round 2
    row("pytorch", 1, 1000, 100, "googlenet", 96), // the same model at another size
    row("native", 1, 50, 100, "googlenet", 96),
    row("native", 1, 10, 100, "resnet18"), // no PyTorch for this model at all
  ];
  const out = foldRounds(rows);
  const at = (model: string, size: number, backend: string) =>
    out.find((r) => r.model === model && r.size === size && r.backend === backend)!;
  assert.equal(at("googlenet", 32, "native").vsPytorch, 1.3);
  assert.deepEqual(at("googlenet", 32, "native").vsPytorchPerRound, [1.3]);
  assert.equal(at("googlenet", 32, "native").trainImagesPerSecond, 265);
  assert.equal(at("googlenet", 96, "native").vsPytorch, 0.05);
  assert.equal(at("resnet18", 32, "native").vsPytorch, undefined);
  // One round: the row as measured (no per-round lists), its ratio from its own round.
  assert.equal(at("googlenet", 96, "native").perRound, undefined);
});

Deno.test("a bf16 row is compared with its backend's fp32 row of the same round; fp32 and PyTorch rows are not", () => {
  const at = (precision: string, round: number, ips: number): RoundRow => ({ ...row("native", round, ips), precision });
  const rows = [
    row("pytorch", 1, 100),
    at("fp32", 1, 200),
    at("bf16", 1, 220),
    at("bf16-all", 1, 180),
    at("bf16", 2, 330), // fp32 is faster in round 2 too: the ratio pairs 330 with 300, not with round 1's 200
    at("fp32", 2, 300),
    row("pytorch", 2, 150),
    at("bf16", 3, 999), // no fp32 measurement in round 3: left out of the ratio
    { ...row("wasm", 1, 50), precision: "bf16" }, // another backend's fp32 is never borrowed
  ];
  const out = foldRounds(rows);
  const of = (backend: string, precision: string) =>
    out.find((r) => r.backend === backend && r.precision === precision)!;
  assert.equal(of("native", "fp32").vsFp32, undefined);
  assert.equal(of("pytorch", "fp32").vsFp32, undefined);
  assert.deepEqual(of("native", "bf16").vsFp32PerRound, [1.1, 1.1]);
  assert.equal(of("native", "bf16").vsFp32, 1.1);
  assert.equal(of("native", "bf16").vsPytorch, 2.2); // median of 2.2 and 2.2 (round 3 had no PyTorch)
  assert.equal(of("native", "bf16-all").vsFp32, 0.9);
  assert.equal(of("native", "bf16-all").vsFp32PerRound, undefined); // one round
  assert.equal(of("wasm", "bf16").vsFp32, undefined);
});
