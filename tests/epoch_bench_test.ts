/**
 * `deno task epoch-bench`: a whole epoch set against the trainer's step alone, in one run.
 */
import assert from "node:assert/strict";

async function epochBench(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "epoch-bench", "--experiment", "q1a/relu", "--preset", "smoke", "--backend", "wasm", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr) };
}

Deno.test("epoch-bench times the step alone before and after the epoch and states each epoch as a fraction of it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = `${dir}/epoch.json`;
    const { code, text } = await epochBench(["--epochs", "1", "--step-seconds", "1", "--json", json]);
    assert.equal(code, 0, text.slice(-2000));
    const s = JSON.parse(await Deno.readTextFile(json));
    assert.equal(s.status, "ok");
    for (const when of ["before", "after"]) {
      assert.ok(s.stepOnly[when].steps >= 3, `${when}: at least 3 timed steps`);
      assert.ok(s.stepOnly[when].imagesPerSecond > 0);
    }
    assert.equal(
      s.stepOnly.imagesPerSecond,
      (s.stepOnly.before.imagesPerSecond + s.stepOnly.after.imagesPerSecond) / 2,
    );
    const [e] = s.epochs;
    assert.equal(e.trainVsStepOnly, e.imagesPerSecond / s.stepOnly.imagesPerSecond);
    // Evaluation takes time, so the epoch with it is slower than its training alone.
    assert.ok(e.evalSeconds > 0 && e.imagesPerSecondWithEval < e.imagesPerSecond);
    assert.ok(e.epochVsStepOnly < e.trainVsStepOnly);
    assert.match(
      text,
      /epoch 1: training \d+ img\/s \([\d.]+% of step-only \d+\), with evaluation \d+ img\/s \([\d.]+%\)/,
    );
    // Without step timing, no comparison is claimed.
    const { code: c0, text: t0 } = await epochBench(["--epochs", "1", "--step-seconds", "0", "--json", json]);
    assert.equal(c0, 0, t0.slice(-2000));
    const s0 = JSON.parse(await Deno.readTextFile(json));
    assert.equal(s0.stepOnly, undefined);
    assert.equal(s0.epochs[0].trainVsStepOnly, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("epoch-bench refuses a bad --step-seconds with the usage line", async () => {
  const { code, text } = await epochBench(["--step-seconds", "1.5"]);
  assert.equal(code, 2);
  assert.match(text, /--step-seconds must be an integer from 0 to 600, got '1.5'/);
  assert.match(text, /usage: deno task epoch-bench/);
});
