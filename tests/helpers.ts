/** Helpers shared by the kernel and training tests. */
import { Rng } from "../lib/util/rng.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { NATIVE } from "../lib/backend/native.ts";
import { buildNative } from "../lib/backend/native_build.ts";
import type { TrainConfig } from "../lib/train/trainer.ts";

/**
 * Build (if needed) and start the native backend; false where it cannot, with the reason on
 * stderr (its tests are then ignored), except under CI, which must have it.
 */
export async function startNative(): Promise<boolean> {
  const build = await buildNative();
  let why = build.message;
  if (build.built) {
    try {
      await initBackend({ backend: NATIVE, log: null });
      return true;
    } catch (e) {
      why = (e as Error).message;
    }
  }
  if (Deno.env.get("CI")) throw new Error(`CI must build the native backend: ${why}`);
  console.error(`native tests skipped: ${why}`);
  return false;
}

/** A LeNet run of a few seconds: 300 training and 100 test images, 3 epochs, dropout and augmentation on. */
export const SMALL_RUN: TrainConfig = {
  model: "lenet",
  modelOptions: { activation: "relu", pooling: "max", dropout: 0.3 },
  inputSize: 28,
  trainPerClass: 30,
  testPerClass: 10,
  epochs: 3,
  batchSize: 32,
  optim: { optimizer: "adam", lr: 0.003 },
  labelSmoothing: 0,
  auxWeight: 0.3,
  augment: { flip: true, cropPad: 2 },
  normalize: true,
};

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

/** `deno task bench` with `args` (one thread, no colour): its output, and what it wrote with --json. */
export async function runBench(
  args: string[],
): Promise<{ success: boolean; stdout: string; stderr: string; json: unknown }> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run"],
        new URL("../bench/train_bench.ts", import.meta.url).pathname,
        ...args,
        ...["--json", `${dir}/out.json`],
      ],
      env: { CNNLAB_THREADS: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const json = out.success ? JSON.parse(await Deno.readTextFile(`${dir}/out.json`)) : null;
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { success: out.success, stdout: text(out.stdout), stderr: text(out.stderr), json };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Everything a child's output stream says, once it closes (read as it comes, so the child never blocks). */
export async function textOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  let all = "";
  for await (const c of stream.pipeThrough(new TextDecoderStream())) all += c;
  return all;
}

/**
 * Every number in a text, sorted, as both languages must state them: thousands separators
 * dropped, "1.2 M" and "120 万" read as 1200000, the generation time ("2026-12-05 19:40 UTC")
 * left out. Sorted because the two languages order a sentence's numbers differently.
 */
export function numbersOf(text: string): string[] {
  const scaled = (x: string, k: number) => String(Math.round(Number(x) * k));
  return [
    ...text.replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/g, " ")
      .replace(/(\d+(?:\.\d+)?) ?万/g, (_, x) => scaled(x, 1e4))
      .replace(/(\d+(?:\.\d+)?) M\b/g, (_, x) => scaled(x, 1e6))
      .replaceAll(/(\d),(\d{3})/g, "$1$2")
      .matchAll(/\d+(?:\.\d+)?/g),
  ].map((m) => m[0]).sort();
}

/** A page's visible text: tags, styles and entities removed (SVG text kept). */
export function pageText(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/g, " ").replace(/<[^>]*>/g, " ").replace(/&#?[a-z0-9]+;/g, " ");
}

/**
 * The Latin words a Chinese page's reader sees outside code (`<code>`, `<pre>`, a message's
 * `backticked` command, styles and attributes removed; chart text and table cells kept), each occurrence in page order. Left out as not words:
 * identifiers with a digit or a slash (q1a/relu, fc1, avx512_core_bf16, v3, 5e-4), single letters
 * (h×w×c, rows a–c, Student t), and a CPU's name before "，N 核" (the device a record names).
 */
export function latinWords(html: string): string[] {
  const text = html.replace(/<style[\s\S]*?<\/style>/g, " ").replace(/<(code|pre)\b[\s\S]*?<\/\1>/g, " ")
    .replace(/`[^`<]*`/g, " ")
    .replace(/<[^>]*>/g, " ").replace(/&#?[a-z0-9]+;/g, " ").replace(
      /[A-Za-z0-9()@ ._-]+(?=[，,] ?\d+ (核|cores))/g,
      " ",
    );
  return [...text.matchAll(/(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]*(?:[-'./][A-Za-z0-9_]+)*/g)].map((m) => m[0])
    .filter((w) => w.length > 1 && !/[0-9/]/.test(w));
}

/**
 * The Latin words a Chinese page may show (docs/glossary.md): names of models, methods, people,
 * datasets and tools, units, the presets and backends a user types, and the link to the English page.
 */
export const ZH_LATIN_ALLOWED: ReadonlySet<string> = new Set([
  ..."LeNet AlexNet VGG NiN GoogLeNet BN-Inception Inception Inception-ResNet ResNet".split(" "),
  ..."ReLU sigmoid tanh Adam SGD RMSprop dropout GAP LRN PCA".split(" "),
  ..."ImageNet CIFAR Fashion-MNIST MNIST".split(" "),
  ..."LeCun Krizhevsky Sutskever Hinton Simonyan Zisserman Lin Szegedy Ioffe He Xiao Rasul Vollgraf Student Levenberg Marquardt"
    .split(" "),
  ..."cnnlab Deno tfjs TensorFlow.js PyTorch oneDNN WebGPU GPU CPU JS UTC px MB GB".split(" "),
  ..."smoke laptop full native webgpu tensorflow wasm cpu English".split(" "),
]);
