/**
 * The report's one message catalogue: every heading, table header, axis label and generated
 * sentence, in English here and in Chinese in lib/report/zh.ts. `zh` is typed as `typeof en`, so a message missing in one
 * language, or taking other arguments, does not compile. Sentences that state a comparison take
 * the numbers and the verdict computed from them (lib/report/analysis.ts), never a literal claim.
 */
import type { Comparison } from "./analysis.ts";
import { CLASS_NAMES } from "../data/fashion_mnist.ts";
import { experiment } from "../exp/experiments.ts";
import { list, points } from "./format.ts";
import { zh } from "./zh.ts";

export { acc, fixed, pctOf, points, ratio, thousandsOf, withHalf } from "./format.ts";

export type Lang = "en" | "zh";
export const LANGS: readonly Lang[] = ["en", "zh"];

export class LangError extends Error {
  override name = "LangError";
}

export function parseLang(s: string): Lang {
  if ((LANGS as readonly string[]).includes(s)) return s as Lang;
  throw new LangError(`unknown language '${s}'; valid: ${LANGS.join(", ")}`);
}

const OPTIMIZER_NAMES: Record<string, string> = {
  sgd: "SGD",
  momentum: "SGD with momentum",
  adam: "Adam",
  rmsprop: "RMSprop",
};

const en = {
  lang: "en",
  /** Experiment labels on pages (the registry's label is the English one the CLI prints). */
  // ------------------------------------------------------------------ page structure
  answer: "Answer",
  evidence: "Evidence",
  settings: "Settings and provenance",
  questionHeading: "The question",
  allQuestions: "← all questions",
  indexTitle: "cnnlab: modern CNNs on Fashion-MNIST",
  indexIntro:
    "One page per question of the assignment. Every number was measured by cnnlab for this report; figures of the original submission appear beside ours, labelled “reported”.",
  readPage: "Read the page →",
  generated: "generated",
  otherLanguage: "中文版",
  otherLanguageHref: "zh/",
  // ------------------------------------------------------------------ settings block
  preset: "preset",
  backend: "backend",
  device: "device",
  precision: "precision",
  perLayer: (bf16: number, all: number) =>
    `bf16 in the ${bf16} of ${all} convolutions and matmuls measured faster in it, fp32 elsewhere`,
  /** A record's device as stored (lib/backend/mod.ts writes it in English). */
  deviceName: (device: string) => device,
  /** An optimiser and its settings, as the settings table shows them. */
  optimText: (optimizer: string, lr: number, momentum?: number, weightDecay?: number) =>
    `${OPTIMIZER_NAMES[optimizer] ?? optimizer}, lr ${lr}${momentum !== undefined ? `, momentum ${momentum}` : ""}${
      weightDecay ? `, weight decay ${weightDecay}` : ""
    }`,
  scheduleText: (schedule: string, warmupEpochs?: number) =>
    `${
      ({ constant: "constant", step: "step decay", cosine: "cosine annealing" } as Record<string, string>)[schedule] ??
        schedule
    }${warmupEpochs ? `, ${warmupEpochs} warm-up epochs` : ""}`,
  /** The key of a recipe reason (lib/exp/experiments.ts `why`), as the table shows it. */
  reasonKey: (key: string) =>
    ({
      optim: "optimiser",
      variant: "variant",
      epochs: "epochs",
      model: "model",
      schedule: "schedule",
      inputSize: "input",
    } as Record<
      string,
      string
    >)[key] ?? key,
  widthScale: "width (× each model's own)",
  denseWidth: "dense layers' width",
  modelsOwn: "each model's own",
  total: "total",
  /** An aside after a word, in the language's brackets. */
  parens: (s: string) => ` (${s})`,
  seedsEach: (n: number) => (n === 1 ? "one seed" : `${n} seeds each`),
  /** After a model's name in its layer table's heading. */
  modelFacts: (input: number, params: string, macs: string) =>
    ` @${input}: ${params} parameters, ${macs} multiply-adds per image`,
  seeds: "seeds",
  versions: "versions",
  commit: "commit",
  runs: "runs",
  trainedOn: "trained on",
  presetChanged:
    "What this preset changed from the full preset (the assignment's scale where it sets one, else the textbook's)",
  knob: "setting",
  value: "here",
  assignment: "full preset",
  why: "why",
  experiment: "experiment",
  model: "model",
  input: "input",
  width: "width",
  trainImages: "training images",
  testImages: "test images",
  epochs: "epochs",
  batch: "batch",
  optimizer: "optimiser",
  schedule: "schedule",
  recipeWhy: "Why this recipe",
  classNames: [...CLASS_NAMES] as string[],
  statsNote: (df: number) =>
    `Intervals are 95% intervals that combine the seed-to-seed spread (Student t, seed variance pooled over the experiments on this page, ${df} degrees of freedom) and test-set sampling (binomial, unpaired). A difference is called real only when its interval excludes zero. Runs at chance (accuracy ≤ 0.15) or diverged are shown per seed and left out of every mean. Differences are computed before rounding, so one can differ by 0.1 from the difference of the rounded values shown.`,
  // ------------------------------------------------------------------ table headers
  colTestAcc: "test acc (95% interval)",
  colDelta: (vs: string) => `Δ vs ${vs}, points (95% interval)`,
  colTrainAcc: "train acc",
  colGap: "train − test",
  colSecondsPerEpoch: "s / epoch",
  colParams: "parameters",
  colMacs: "MACs / image",
  colSpeedup: "speed-up vs step 1",
  colReported: "reported",
  colOurs: "ours",
  colSeed: "seed",
  colStatus: "status",
  colAngle: "angle",
  colMeasured: "measured here by",
  colType: "type",
  colConv: "conv layers",
  colChannels: "conv channels",
  colDense: "dense layers",
  status: (flag: string) =>
    ({ ok: "ok", chance: "at chance", diverged: "diverged", interrupted: "interrupted" })[flag] ?? flag,
  // ------------------------------------------------------------------ verdicts
  diff: (c: Comparison): string =>
    c.significant === null
      ? c.excludesZero === null && Number.isFinite(c.delta)
        ? `${points(c.delta)} points (one seed each: no interval, not judged)`
        : "not compared (no usable run)"
      : `${points(c.delta)} points (95% interval ${points(c.lo)} to ${points(c.hi)})`,
  verdict: (c: Comparison): string =>
    c.significant === null
      ? "not judged"
      : c.significant
      ? "a real difference at this budget"
      : "not distinguishable from no difference",
  excluded: (items: string[]) =>
    items.length ? `Left out of the means (shown per seed below, never averaged in): ${items.join("; ")}.` : "",
  runFlag: (seed: number, flag: string, accuracy: string) =>
    `seed ${seed} ${flag === "chance" ? "at chance" : flag} (${accuracy})`,
  underTrained: (labels: string[], bar: string) =>
    `${list(labels, " and ")} ${
      labels.length > 1 ? "stay" : "stays"
    } clearly below the textbook's ${bar}: at this preset ${
      labels.length > 1 ? "they are" : "it is"
    } under-trained, so ${labels.length > 1 ? "their" : "its"} numbers measure the budget as much as the design.`,
  missingRuns: "Missing runs: no answer can be given (run the notebook or `deno task exp run`).",
  ratioCi: (r: string, lo: string, hi: string) => `${r} (95% interval ${lo}–${hi})`,
  runsWhere: (device: string, others: number | null) =>
    `${device}, ${
      others === null
        ? "other runs training beside them not recorded"
        : others === 0
        ? "no other run training beside them"
        : `up to ${others} other run${others > 1 ? "s" : ""} training beside them`
    }`,
  timedHow: (device: string, backend: string, others: number) =>
    `steps timed one configuration after another on ${device}, backend ${backend}, ${
      others === 0 ? "with no other run training" : `while ${others} other run${others > 1 ? "s" : ""} trained`
    }`,
  // ------------------------------------------------------------------ charts
  axisTestAcc: "test accuracy (mean, 95% interval)",
  axisEpoch: "epoch",
  axisTestAccEpoch: "test accuracy (mean over seeds)",
  axisTrainAccEpoch: "train accuracy, inference mode (mean over seeds)",
  axisSecondsPerEpoch: "seconds per epoch on 60,000 images",
  axisParamsM: "trainable parameters (millions)",
  axisRf: "receptive field (pixels)",
  axisProbe: "linear-probe accuracy (2×2-pooled block output)",
  // ------------------------------------------------------------------ Q1a
  q1a: {
    title: "Question 1a — LeNet vs AlexNet",
    anglesCaption: "Four angles, with the sources and what this page measures",
    angles: [
      [
        "data",
        "LeNet (1998) trained on 60,000 centred 28×28 digits, no augmentation; AlexNet (2012) on 1.2 M ImageNet images with random 224 crops, flips and PCA colour noise",
        "q1a/augment (flip + crop); data scale and colour noise not measured",
      ],
      [
        "activation",
        "LeNet: sigmoid/tanh; AlexNet: ReLU (6× faster to 25% error on CIFAR-10 in its paper)",
        "q1a/relu",
      ],
      [
        "training",
        "LeNet-5: stochastic diagonal Levenberg–Marquardt (a step size per weight from a curvature estimate); AlexNet: SGD with momentum 0.9 and weight decay 5e-4, dropout 0.5 in the dense layers, two GPUs for six days",
        "q1a/sgd, q1a/momentum vs Adam; q1a/dropout; GPUs not measured",
      ],
      [
        "structure",
        "LeNet: 2 conv layers, average pooling, 6–16 channels; AlexNet: 5 conv layers, overlapping 3/2 max pooling, 96–384 channels, local response normalisation",
        "q1a/maxpool, q1a/deeper, q1a/wider; LRN and overlapping pooling not measured",
      ],
    ] as [string, string, string][],
    sources:
      "Sources: LeCun et al. 1998 (LeNet-5); Krizhevsky, Sutskever & Hinton 2012 (AlexNet); Xiao, Rasul & Vollgraf 2017 (Fashion-MNIST).",
    structureCaption: "Structure, counted from cnnlab's model zoo at each network's usual input",
    structureSentence: (convs: number, params: string, macs: string, inputs: string) =>
      `AlexNet has ${convs} more convolutional layers than LeNet, ${params} its parameters and ${macs} its multiply-adds per image (${inputs}).`,
    ablationsCaption: "Each AlexNet ingredient added alone to ReLU LeNet (same data, epochs and batch)",
    curvesTitle: "Test and train accuracy per epoch",
    optimCaption: "The training method: the same ReLU LeNet under three optimisers",
    relu: (a: string, b: string, epochs: number, c: Comparison) =>
      `Replacing sigmoid by ReLU moves LeNet's test accuracy from ${a} to ${b} after ${epochs} epochs: ${en.diff(c)}, ${
        en.verdict(c)
      }.`,
    refLead: (images: string, epochs: number, seeds: number, relu: string, best: string | null) =>
      `At the textbook's scale — reference runs on all ${images} training images, ${epochs} epochs, ${seeds} seeds each — ReLU beats sigmoid by ${relu}${
        best
          ? `, and the largest effect of one AlexNet ingredient added to ReLU LeNet is ${best}`
          : ", and no ingredient added to ReLU LeNet changes its accuracy beyond its interval"
      }.`,
    refVerdicts: (held: number, of: number, changed: string[]) =>
      changed.length === 0
        ? `All ${of} verdicts of this preset's runs below hold at that scale.`
        : `${held} of ${of} verdicts of this preset's runs below hold at that scale; where they differ the reference holds (the same networks on the same data, trained for more epochs with more seeds): ${
          changed.join("; ")
        }.`,
    changed: (label: string, here: string, there: string) => `“${label}” is ${here} here but ${there} there`,
    verdictWord: (v: string): string => (v === "better" ? "better" : v === "worse" ? "worse" : "no different"),
    replication: "This preset's runs, with their intervals:",
    colReference: "reference (full)",
    colReferenceDelta: "Δ, reference",
    largest: "It is the largest effect of a single change to LeNet under Adam on this page.",
    notLargest: (label: string) =>
      `The largest effect of a single change to LeNet under Adam on this page is “${label}”.`,
    helped: (labels: string[]) =>
      `Added alone to ReLU LeNet, ${list(labels, " and ")} raised test accuracy beyond the 95% interval.`,
    noneHelped:
      "Added alone to ReLU LeNet, no other ingredient raised test accuracy beyond its 95% interval at this budget.",
    hurt: (labels: string[]) => `${list(labels, " and ")} lowered it beyond the interval.`,
    allHeldDown: (
      all: string,
      relu: string,
      tAll: string,
      tRelu: string,
      images: string,
      lrAll: number,
      lrRelu: number,
    ) =>
      `All ingredients together reach ${all} against ReLU LeNet's ${relu}, and their train accuracy (${tAll}, scored in inference mode on a fixed ${images} training images) is also below ReLU LeNet's (${tRelu}): the combination fits the training data less well — dropout and augmentation hold it down by design${
        lrAll !== lrRelu
          ? `, and it trains at Adam lr ${lrAll} (chosen on the validation split) where ReLU LeNet trains at ${lrRelu}`
          : ""
      }.`,
    allEpochsUntested: "Whether more epochs close the gap is not tested: no longer run of both networks is stored.",
    allMoreEpochs: (epochs: number, all: string, relu: string, c: Comparison, tAll: string, tRelu: string) =>
      `With ${epochs} epochs (the reference runs) all ingredients together reach ${all} against ReLU LeNet's ${relu} (${
        en.diff(c)
      }, ${en.verdict(c)}; train accuracy ${tAll} vs ${tRelu})${
        c.significant && c.delta < 0
          ? ": more epochs do not close the gap, so on 28×28 Fashion-MNIST the regularisers AlexNet needed for 1.2 M ImageNet images cost more fit than the over-fitting they prevent."
          : ": with more epochs the gap shrinks to a difference this page cannot tell from zero, though the combination still fits its training images less well."
      }`,
    allOverfit: (all: string, relu: string, gAll: string, gRelu: string) =>
      `All ingredients together reach ${all} against ReLU LeNet's ${relu} with a larger train − test gap (${gAll} vs ${gRelu}): the extra capacity over-fits at this budget.`,
    allBetter: (all: string, relu: string, c: Comparison) =>
      `All ingredients together reach ${all} against ReLU LeNet's ${relu}: ${en.diff(c)}, ${en.verdict(c)}.`,
    allSame: (all: string, relu: string, c: Comparison) =>
      `All ingredients together reach ${all} against ReLU LeNet's ${relu}: ${en.diff(c)}, ${en.verdict(c)}.`,
    optim: (sgd: string, mom: string, adam: string, cm: Comparison, ca: Comparison) =>
      `Training method on ReLU LeNet: plain SGD ${sgd}, SGD with AlexNet's momentum and weight decay ${mom} (${
        en.diff(cm)
      } vs plain SGD, ${en.verdict(cm)}), Adam ${adam} (${en.diff(ca)} vs plain SGD, ${en.verdict(ca)}).`,
    imageNet: (epochs: number, all: string, relu: string, diff: string, tRelu: string, images: string) =>
      `Why AlexNet won on ImageNet but its ingredients do not win here: its depth, width, dropout and augmentation were built for 1.2 M 224-px photos of 1,000 classes, where a network has that much to fit and over-fitting to fight; on ${images} 28-px grey images of 10 classes ReLU LeNet already fits its training images to ${tRelu} and reaches ${relu} after ${epochs} epochs, and all the ingredients together reach ${all} (${diff}): the extra capacity has little left to learn, and the regularisers cost fit they do not pay back.`,
    adamEffect: "Adam instead of plain SGD",
    reluAdam: "ReLU LeNet, Adam",
    sigmoidAdam: "LeNet (sigmoid), Adam",
    crossCaption: "Activation × optimiser: sigmoid and ReLU LeNet, each under plain SGD and under Adam",
    largestTie: (a: string, da: string, b: string, db: string) =>
      `Of the single changes to LeNet under Adam, the two largest effects, “${a}” (${da} points) and “${b}” (${db}), are not ranked by this page: their 95% intervals overlap.`,
    crossed: (ss: string, rs: string, sgd: Comparison, sa: string, ra: string, adam: Comparison, differ: boolean) =>
      `Activation and optimiser crossed: under plain SGD, ReLU moves LeNet from ${ss} to ${rs} (${
        en.diff(sgd)
      }); under Adam from ${sa} to ${ra} (${en.diff(adam)})${
        differ
          ? sgd.delta > adam.delta
            ? ": ReLU's gain is larger under plain SGD than under Adam (at this preset sigmoid + SGD is itself under-trained, so the size of the gap measures the budget too)."
            : ": ReLU's gain is smaller under SGD than under Adam."
          : ": the two gains cannot be told apart, so the optimiser does not change what ReLU buys here."
      }`,
  },
  // ------------------------------------------------------------------ Q1b
  q1b: {
    title: "Question 1b — Simplifying AlexNet",
    refLead: (
      input: number,
      images: string,
      epochs: number,
      seeds: string,
      a1: string,
      last: string,
      a6: string,
      c: Comparison,
      floor: boolean,
    ) =>
      `At the assignment's scale (${input} px, full width, all ${images} training images, ${epochs} epochs, ${seeds}), the published AlexNet with a 10-class output reaches ${a1} and the network the ladder ends on, “${last}”, ${a6}: ${
        en.diff(c)
      }${c.significant === null ? "" : `, ${en.verdict(c)}`}; ${
        floor
          ? "the simplified network stays above the assignment's 0.85"
          : "the simplified network falls below the assignment's 0.85"
      }.`,
    refTime: (s1: string, s6: string, r: string, device: string) =>
      `There an epoch takes ${s1} s against ${s6} s: the simplified network trains ${r} faster (the runs' own epochs on ${device}).`,
    replication: "This preset's ladder, with its intervals:",
    scale: (input: number, width: number, epochs: number) => `${input} px, ${width}× the channels, ${epochs} epochs`,
    finalHere: "The simplified network, layer by layer, as this preset trains it",
    finalFull: "The same network at the full preset (the assignment's scale)",
    ladderCaption:
      "The ladder: the preset's own shrinking (rows a–c, timed only), then the simplification steps (trained).",
    timingNote: (how: string) =>
      `“Timed” columns: seconds per epoch on all 60,000 training images, from the ladder's timing record (${how}; a training step on a random batch, making batches excluded, times the steps per epoch); “in the runs”: the training runs' own seconds per epoch, mean over their epochs and seeds.`,
    colTimed: "s / epoch, timed",
    colTrained: (images: string) => `s / epoch in the runs (${images} images)`,
    reportedCaption:
      "The original submission's figures (one GPU, PyTorch, 224 px, 3 epochs: seconds per epoch are its totals ÷ 3), reported, beside ours",
    chartTitle: "Seconds per epoch (timed) vs test accuracy (dashed: the assignment's 85% floor)",
    notTrained: "timed only",
    rungFull: (size: number) => `AlexNet as published (10 classes), ${size} px`,
    rungInput: (size: number) => `… at ${size} px`,
    rungWidth: (size: number, width: number, dense: string) =>
      `… at ${size} px, ${width}× the channels, dense ${dense} (this preset's step 1)`,
    floorOk: (k: number, n: number, labels: string[], scale: string) =>
      k === n
        ? `At this preset (${scale}) all ${n} trained steps keep test accuracy at or above 85%, each with its whole 95% interval above the floor.`
        : `At this preset (${scale}) ${k} of ${n} trained steps keep test accuracy above 85% with their whole 95% interval; ${
          list(labels, " and ")
        } ${n - k > 1 ? "do" : "does"} not.`,
    fastest: (label: string, seconds: string, speedup: string, a: string, how: string) =>
      `The fastest step that stays above the 85% floor is “${label}”: ${seconds} s per epoch on all 60,000 images, ${speedup} faster than step 1, at test accuracy ${a} (times: ${how}).`,
    runsRatio: (speedup: string, agree: boolean, device: string) =>
      agree
        ? `The training runs' own epochs (${device}) agree: there the same step is ${speedup} faster than step 1.`
        : `The training runs' own epochs (${device}) give a different speed-up, ${speedup}: they were timed under other conditions (machine, runs sharing its cores) than the timing record, which times every rung the same way, so the page takes the speed-up from the timing record.`,
    noneAbove: (best: string) =>
      `No step keeps its whole 95% interval above 85% (best ${best}): this preset's budget is below the question's floor.`,
    sameNet: (times: string, spread: string, from: string, to: string) =>
      `Steps 3, 4 and 5 train the same network with different learning rates, and timed they do not differ (${times} s per epoch; slowest ÷ fastest ${spread}, an interval that contains 1), so the original's drop from ${from} s to ${to} s per epoch at step 4 (reported) is not explained by the learning rate (something else changed, such as the data loader or the GPU's load).`,
    sameNetNoisy: (times: string, spread: string) =>
      `Steps 3, 4 and 5 train the same network with different learning rates, yet timed they differ (${times} s per epoch; slowest ÷ fastest ${spread}, an interval above 1): the machine's conditions changed while timing, so time differences of that size between other steps say nothing.`,
    shrink: (
      full: string,
      small: string,
      speedup: string,
      from: number,
      to: number,
      width: number,
      more: boolean,
    ) =>
      `The preset's own shrinking — ${from} → ${to} px and ${width}× the channels — cuts one epoch from ${full} s to ${small} s (${speedup}), ${
        more ? "more than any simplification step" : "less than the largest simplification step"
      }.`,
  },
  // ------------------------------------------------------------------ Q2
  q2: {
    title: "Question 2 — VGG blocks and input resolution",
    mapsCaption: (preset: string, size: number, seed: number) =>
      `Feature maps of the same test images at ${size}×${size}, from trained models (preset ${preset}, seed ${seed}): the first layer of LeNet (5×5) and of AlexNet (11×11/4), then every VGG block. Each map is scaled to its own range (colour bar); grey tiles are dead channels (all zero for this image).`,
    colourBar: "weak → strong activation",
    deadKey: "dead",
    dead: (n: number, of: number) => `${n} of ${of} shown channels are dead for this image`,
    rfCaption: "Receptive field and linear-probe accuracy per layer / block",
    probeSources: (list: string, devices: string, seed: number) =>
      `The networks probed and drawn are the seed-${seed} runs' last checkpoints (test accuracy ${list}; trained on ${devices}).`,
    probeNote: (n: string) =>
      `Linear probe: a logistic regression on each block's output average-pooled to 2×2, trained on ${n} training images and scored on ${n} test images; it measures how much class information survives at a coarse, 2×2 resolution.`,
    rf: (block: string, rf: number, last: string, lastRf: number, input: number) =>
      `Stacked 3×3 convolutions reach AlexNet's 11×11 first-layer field by ${block} (${rf} px); ${last} sees ${lastRf} px, the whole ${input}-px input.`,
    probeEqual: (
      d: number,
      n: string,
      first: string,
      pf: string,
      last: string,
      pl: string,
      c: Comparison,
      alex: string,
      pa: string,
      match: string | null,
    ) =>
      `Read through the same ${d} features each (a fixed random projection of the 2×2-pooled output; ${n} test images; intervals cover test sampling only, one trained network each), a linear probe finds the class with ${pf} in ${first} and ${pl} in ${last}: ${
        en.diff(c)
      }, ${en.verdict(c)}; AlexNet's 11×11 first layer (${alex}) gives ${pa}, ${
        match ? `which VGG's stack of 3×3 convolutions first matches at ${match}` : "more than any VGG block"
      }.`,
    probeAll: (fFirst: number, fLast: number, pf: string, pl: string, dAll: string, dEqual: string, more: boolean) =>
      `On all their features (${fFirst} in the first block, ${fLast} in the last) the probes read ${pf} and ${pl}, ${dAll} points against ${dEqual} at equal features${
        more
          ? ": part of the gain with depth is only more inputs to the probe"
          : ": using all features raises every probe but does not widen the gap between the first and the last block"
      }.`,
    mapsRead: (
      first: string,
      last: string,
      cf: string,
      cl: string,
      af: string,
      al: string,
      corrFalls: boolean,
      sparser: boolean,
      images: number,
    ) =>
      `The maps, measured on ${images} test images: a channel's map correlates with the input picture at |r| = ${cf} in ${first} and ${cl} in ${last}${
        corrFalls
          ? " — deeper maps look less like the garment and more like where a pattern was found"
          : " — deeper maps do not drift away from the picture here"
      }; ${af} of the activations are above zero in ${first} against ${al} in ${last}${
        sparser ? ", so deeper blocks respond more selectively" : ""
      }.`,
    probesAtScale: (images: string, epochs: number, seed: number, vgg: string) =>
      `The maps and probes are read from the reference runs, the best-trained networks stored (full preset, seed ${seed}: all ${images} training images, ${epochs} epochs; VGG ${vgg} on the test set).`,
    probeBeatsNet: (block: string, probe: string, net: string, seed: number) =>
      `A linear probe on ${block} (${probe}) beats the network's own classifier (${net}, the same seed-${seed} network) beyond test-sampling noise: at this budget VGG is under-trained, its features ahead of its classifier.`,
    colFeatures: "features",
    colProbeEqual: (d: number) => `probe on ${d} features`,
    colActive: "active",
    colInputCorr: "|r| with input",
    paramsCaption: "VGG-11/8: parameters and multiply-adds per layer at 224 vs 96",
    params: (layer: string, p224: string, p96: string, share: string, macs: string) =>
      `Only ${layer} changes with the input size (${p224} → ${p96} parameters, because the flattened map shrinks); convolution weights do not depend on it. In total the parameters fall to ${share} and the multiply-adds to ${macs}.`,
    resultsCaption: (images: string, refDevice: string | null) =>
      `224 vs 96: this preset's runs (${images} training images per epoch, on the device in the settings below), the reference runs at the full preset (60,000 per epoch${
        refDevice ? `; seconds per epoch on ${refDevice}, the one device that trained both sizes` : ""
      }) and the original submission's reported figures (60,000 per epoch, on one GPU): seconds compare within a source, not across.`,
    colRefEpoch: "s / epoch, reference",
    curvesTitle: "Learning curves: VGG-11/8 at 224 and 96 px",
    time: (speedup: string, macs: string, how: string) =>
      `Timed, a training step at 224 px takes ${speedup} the time of one at 96 px (${how}), against a ${macs} ratio of multiply-adds:`,
    runsTime: (r: string, agree: boolean, device: string) =>
      agree
        ? `The training runs' own epochs (${device}) agree (224 ÷ 96: ${r}).`
        : `The training runs' own epochs (${device}) give ${r} (224 ÷ 96): they were timed under other conditions (machine, runs sharing its cores) than the timing record, which times both sizes the same way, so the comparison is taken from the timing record.`,
    timeAboveMacs:
      "time shrinks more than the multiply-adds (the larger input also costs memory traffic beyond its arithmetic).",
    timeBelowMacs: (groups: string[]) =>
      `the time of some kernels shrinks less than the multiply-adds — ${
        list(groups, " and ")
      } (224 / 96 time ratios, per-kernel timing below): memory-bound work and fixed per-step costs do not scale with the arithmetic.`,
    timeBelowUnknown: "the per-kernel timing below shows where the rest goes.",
    timeOutsideKernels: (kernels: string, ms: string, share: string) =>
      `the kernels together do shrink about as the multiply-adds do (${kernels}, per-kernel timing below), but a step's time outside them — ${ms} ms at 96 px, ${share} of the step (dispatch, the gradient tape, making tensors) — does not shrink with the input.`,
    timeAtMacs: "time follows the multiply-adds.",
    accuracy: (a224: string, a96: string, c: Comparison) =>
      `Test accuracy ${a224} at 224 vs ${a96} at 96: ${en.diff(c)}, ${en.verdict(c)}.`,
    refLead: (a224: string, a96: string, c: Comparison, images: string, epochs: number, seeds: string) =>
      `At the assignment's settings (reference runs on all ${images} training images, ${epochs} epochs, ${seeds}), VGG-11/8 reaches ${a224} at 224 px and ${a96} at 96 px: ${
        en.diff(c)
      }, ${en.verdict(c)}.`,
    refTime: (r: string, device: string, macs: string) =>
      `There an epoch at 224 px takes ${r} the time of one at 96 px (the runs' own epochs on ${device}, the one device that trained both sizes; the ratio of multiply-adds is ${macs}).`,
    replication: (agree: boolean, images: string, epochs: number, share: string, steps: number) =>
      agree
        ? `This preset (${images} training images, ${epochs} epochs) replicates that verdict:`
        : `This preset (${images} training images, ${epochs} epochs, ${share} of the reference's training) reaches another verdict, and the reference holds: so short a budget compares how far each input size gets in its first ${steps} steps, not where training ends:`,
    noReference: "No reference run at the assignment's settings is stored (deno task exp run q2b --preset full).",
    kernelsCaption: (batch: number, how: string) =>
      `Where a training step's time goes, per kernel group, at 224 and 96 (batch ${batch}, one profiled step, mean of 3; ${how})`,
    colTimedStep: "ms / step, timed",
    colRunEpoch: "s / epoch in the runs",
    macRatio: (r: string) => `multiply-add ratio ${r}`,
    vggBlock: (k: number) => `VGG block ${k}`,
    firstLayer: (family: string, kernel: string) => `${family} conv 1 (${kernel})`,
    colReference: "reference run (full preset)",
    colLayer: "layer",
    kernelGroup: (g: string) => g,
    colKernel: "kernels",
    colMs224: "ms @224",
    colMs96: "ms @96",
    colRatio: "ratio",
  },
  // ------------------------------------------------------------------ Q3a
  q3a: {
    title: "Question 3a — Why NiN and GoogLeNet are so much smaller",
    totalsCaption: "Parameters by layer type and multiply-adds, at each network's usual input",
    oneByOneCaption: "GoogLeNet's 1×1 convolutions by role",
    counterCaption: "Counterfactual parameter counts (built and counted, not estimated)",
    chartTitle: "Where the parameters are",
    roleReduction: "reduction before a 3×3 / 5×5",
    roleBranch: "1×1 branch",
    roleProjection: "pool projection",
    roleStem: "stem 1×1",
    colRole: "role",
    colShare: "share of all parameters",
    colConvK: "conv k×k",
    colConv1: "conv 1×1",
    colDenseShare: "dense share",
    colGap: "global avg pool",
    colCounterfactual: "counterfactual",
    colActual: "as built",
    colTimes: "ratio",
    colEpoch1: "test acc after epoch 1",
    cfNoReductions: "GoogLeNet without its 1×1 reductions (3×3 and 5×5 read the full input)",
    cfDenseHead: (model: string) => `${model} with AlexNet's classifier (flatten → 4096 → 4096 → 10)`,
    gapCaption: "Global average pooling vs dense head: the same ReLU LeNet, same recipe",
    gapCaptionReference: (epochs: number, images: string) =>
      `The same, in the reference runs (the textbook's ${epochs} epochs on all ${images} training images)`,
    gapCurves: "Learning curves: GAP head vs dense head",
    dense: (alex: string, vgg: string, nin: string, goog: string, mostly: boolean) =>
      `Dense layers hold ${alex} of AlexNet's and ${vgg} of VGG-11's parameters; NiN has ${nin} and GoogLeNet ${goog}${
        mostly
          ? ": most of AlexNet's and VGG's size is their classifier, which NiN and GoogLeNet replace by global average pooling."
          : "."
      }`,
    oneByOne: (reduce: string, without: string, withIt: string) =>
      `In GoogLeNet, 1×1 convolutions that reduce channels before the 3×3 and 5×5 branches hold ${reduce} of the parameters; without them (3×3 and 5×5 on the full input channels) it would have ${without} parameters instead of ${withIt}.`,
    macs: (
      input: number,
      nin: string,
      alex: string,
      np: string,
      nm: string,
      gp: string,
      gm: string,
      ninMore: boolean,
      disproportionate: boolean,
    ) =>
      `${
        disproportionate
          ? "Fewer parameters do not mean proportionally less compute"
          : "Compute falls with the parameters"
      }: at one input size, ${input}×${input}, NiN has ${np} of AlexNet's parameters and ${nm} of its multiply-adds (${nin} against ${alex} per image${
        ninMore ? ", because its 1×1 layers run at every position of large maps" : ""
      }), GoogLeNet ${gp} of the parameters and ${gm} of the multiply-adds.`,
    gapIntro: (dense: string) =>
      `Does global average pooling slow training? Measured on ReLU LeNet, its dense head (${dense} parameters in all) against two GAP heads:`,
    gapHead: (
      label: string,
      params: string,
      e1g: string,
      e1d: string,
      c1: Comparison,
      fg: string,
      fd: string,
      cf: Comparison,
      seconds: string | null,
    ) =>
      `“${label}” (${params} parameters): after one epoch ${e1g} vs the dense head's ${e1d} (${en.diff(c1)}, ${
        en.verdict(c1)
      }); at the end ${fg} vs ${fd} (${en.diff(cf)}, ${en.verdict(cf)})${
        seconds
          ? `; an epoch takes ${seconds} the dense head's time on the same device`
          : "; seconds not compared (the runs trained on different devices)"
      }.`,
    gapVerdictMatched: (verdict: string) =>
      `At matched capacity: ${verdict.charAt(0).toLowerCase()}${verdict.slice(1)}`,
    gapYes: "Here it did: the GAP head started behind and caught up by the end.",
    gapWorse:
      "The GAP head is still behind after the last epoch: whether it would catch up with more epochs is not measured here.",
    gapWorseAfter: (epochs: number) =>
      `The GAP head is still behind after ${epochs} epochs; at this budget it ends weaker, not only later.`,
    gapReference: (epochs: number, images: string, seeds: number, verdict: string) =>
      `${
        verdict.replace(/\.$/, "")
      } (reference runs: the textbook's ${epochs} epochs on all ${images} training images, ${seeds} seed${
        seeds > 1 ? "s" : ""
      } each).`,
    gapReplication: (epochs: number, images: string) =>
      `The same comparison at this preset (${epochs} epochs on ${images} training images), as the replication:`,
    gapDisagree: (epochs: number, verdict: string) =>
      `At ${epochs} epochs alone the verdict would differ (${
        verdict.charAt(0).toLowerCase() + verdict.slice(1).replace(/\.$/, "")
      }); the reference runs' verdict holds: they train as long as the textbook trains LeNet.`,
    gapNo: "Here it did not measurably slow training.",
    gapFaster: "Here the GAP head learned faster.",
  },
  // ------------------------------------------------------------------ Q3b
  q3b: {
    title: "Question 3b — GoogLeNet and its successors",
    tableCaption: (width: string, input: number, epochs: number) =>
      `The Inception family at one width (${width}) and input (${input}×${input}), ${epochs} epochs each; ResNet-18 for reference`,
    seedsCaption: "Per seed (shown because seeds disagree or a run was left out)",
    curvesTitle: "Learning curves: does batch normalisation speed up early training?",
    colChanged: "what changed",
    overview: (items: string[], width: string, input: number, epochs: number) =>
      `At one width (${width}), one input size (${input} px) and ${epochs} epochs: ${items.join("; ")}.`,
    beat: (labels: string[]) => `${list(labels, " and ")} beat GoogLeNet beyond the 95% interval.`,
    noneBeat: "None beats GoogLeNet beyond the 95% interval at this budget.",
    behind: (labels: string[]) =>
      `${list(labels, " and ")} ${labels.length > 1 ? "fall" : "falls"} behind it beyond the interval.`,
    chartTitle: "Final test accuracy at one width and input size",
    perSecond: (
      best: string,
      fastest: string | null,
      sBest: string,
      sFastest: string,
      slowest: string | null,
      sSlowest: string,
      r: string,
    ) =>
      `Accuracy per second (one device, seconds per epoch): ${
        fastest
          ? `“${fastest}” trains in ${sFastest} s per epoch at an accuracy that cannot be told apart from the best, “${best}” (${sBest} s)`
          : `“${best}” is both the most accurate and, among the models that match it, the fastest (${sBest} s per epoch)`
      }${
        slowest
          ? `; the slowest, “${slowest}”, takes ${sSlowest} s per epoch, ${r} the time of “${fastest ?? best}”`
          : ""
      }.`,
    v3Diagnosis: (
      input: number,
      a: number,
      b: number,
      c: number,
      min: number,
      max: number,
      small: boolean,
      tV3: string,
      tG: string,
      underFits: boolean,
      gV3: string,
      gG: string,
      gapLarger: boolean,
    ) =>
      `Inception v3 at ${input} px runs its three stages on ${a}×${a}, ${b}×${b} and ${c}×${c} grids${
        small
          ? `; its paper found the n×1 factorisation of the middle stage to work on grids ${min} to ${max} wide, so at this input its design is tested where it was not meant to work`
          : `, within the ${min}–${max} grids its paper found the n×1 factorisation to work on`
      }. Its train accuracy (${tV3}) is ${underFits ? "also below GoogLeNet's" : "not below GoogLeNet's"} (${tG})${
        gapLarger ? ` and its train − test gap is larger (${gV3} against ${gG})` : ""
      }: ${
        underFits
          ? gapLarger
            ? "it fits its training images worse and generalises worse too"
            : "it fits its training images worse, without a larger gap to the test set"
          : "its lower test accuracy is not under-fitting"
      }.`,
    rateCaption: (factor: number) =>
      `Does batch normalisation allow a higher learning rate? The same networks at ${factor}× the rate, everything else held`,
    colRateDelta: (lr: number) => `Δ vs lr ${lr} (points, 95% interval)`,
    rateFailed: (label: string) => `${label} fails at it (every seed at chance or diverged)`,
    moves: (label: string, a: string, b: string, c: Comparison) =>
      `${label} goes from ${a} to ${b} (${en.diff(c)}, ${en.verdict(c)})`,
    bnRate: (
      factor: number,
      lr: number,
      g: string,
      b: string,
      verdict: "allows" | "gains" | "both" | "neither" | "reverse",
    ) =>
      `At ${factor}× the learning rate (${lr}), everything else held: ${g}; ${b}. ${
        {
          allows:
            "Only the network without batch normalisation is hurt: batch normalisation is the likely reason the higher rate works, though BN-Inception also differs in its paired 3×3 convolutions and its size.",
          gains:
            "Only BN-Inception turns the higher rate into accuracy, while GoogLeNet neither gains nor breaks: batch normalisation is the likely reason, though BN-Inception also differs in its paired 3×3 convolutions and its size.",
          both: "Both tolerate it at this budget: the higher rate is not what batch normalisation buys here.",
          neither: "Both are hurt: at this budget batch normalisation does not make the higher rate usable.",
          reverse:
            "Only BN-Inception is hurt: the claim that batch normalisation allows higher rates does not hold here.",
        }[verdict]
      }`,
    bnEarly: (bn: string, g: string, c: Comparison) =>
      `After one epoch BN-Inception reaches ${bn} vs GoogLeNet's ${g}: ${en.diff(c)}, ${en.verdict(c)}${
        c.significant && c.delta > 0 ? " — batch normalisation sped up early training here" : ""
      }.`,
    stemVerdict: (input: number, grids: [number, number, number], seeds: [number, number], verdict: string[]) =>
      `On grids their designs work on (the small stem keeps ${input}-px images at ${grids.join("/")}; reference runs, ${
        seeds[0] === seeds[1] ? seeds[0] : `${seeds[0]} or ${seeds[1]}`
      } seed${seeds[1] > 1 ? "s" : ""} each, the laptop's settings otherwise): ${verdict.join(" ")}`,
    inputVerdict: (input: number, grids: [number, number, number], seeds: [number, number], verdict: string[]) =>
      `At the textbook's ${input} px, each model with its own stem (Inception v3's stages on ${
        grids.join("/")
      } grids; reference runs, ${seeds[0] === seeds[1] ? seeds[0] : `${seeds[0]} or ${seeds[1]}`} seed${
        seeds[1] > 1 ? "s" : ""
      } each, the laptop's settings otherwise): ${verdict.join(" ")}`,
    standing: (s: "ahead" | "level" | "behind") =>
      ({ ahead: "ahead of GoogLeNet", level: "not distinguishable from GoogLeNet", behind: "behind GoogLeNet" })[s],
    differs: (label: string, a: string, input: number, b: string, ref: number) =>
      `${label} is ${a} at ${input} px, ${b} at ${ref} px`,
    disagree: (items: string[], input: number, grids: [number, number, number], ref: number) =>
      `Where the two verdicts differ (${
        items.join("; ")
      }), the ${ref}-px runs hold for the question as the textbook sets it, since it trains at that input: at ${input} px the modules run on ${
        grids.join("/")
      } grids, and the smaller input changes how these models compare with GoogLeNet.`,
    inputEffects: (items: string[], a: number, b: number, held: string) =>
      `Each model at ${b} px against itself at ${a} px, only the input changed (${held}): ${items.join("; ")}.`,
    colInputDelta: (a: number, b: number) => `Δ ${b} − ${a} px, points (95% interval)`,
    colInputSeeds: (a: number, b: number) => `seeds (${a} / ${b} px)`,
    colInputSeconds: (b: number) => `s / epoch, ${b} px`,
    inputCaption: (input: number, grids: [number, number, number], held: string, device: string) =>
      `Each model at the textbook's ${input} px with its own stem (Inception v3's stages on ${
        grids.join("/")
      } grids; reference runs, timed on ${device}) against itself at this page's input (the table above), everything else held: ${held}`,
    withImagenetStem: (input: number, verdict: string[]) =>
      `With the ImageNet stem at ${input} px, as in the table below: ${verdict.join(" ").replace(/^None /, "none ")}`,
    stemEffects: (items: string[], held: string) =>
      `The other models with the same small stem, everything else held (${held}): ${items.join("; ")}.`,
    colStem: (stem: "imagenet" | "small", input: number) =>
      `${stem === "small" ? "small stem" : "ImageNet stem"}, ${input} px: test acc (95% interval)`,
    colStemDelta: "Δ small − ImageNet stem, points (95% interval)",
    colStemSeeds: "seeds (ImageNet / small stem)",
    colStemSeconds: "s / epoch, small stem",
    stemCaption: (grids: [number, number, number], held: string, device: string) =>
      `Each model with the small stem (its modules on ${
        grids.join("/")
      } grids; reference runs, timed on ${device}) against itself with the ImageNet stem (the table above), everything else held: ${held}`,
    stemHeld: (images: string, epochs: number, width: string) =>
      `${images} training images, ${epochs} epochs, ${width} width, the same recipe`,
    v3Stem: (
      input: number,
      grids: [number, number, number],
      small: string,
      baseInput: number,
      baseGrids: [number, number, number],
      base: string,
      c: Comparison,
      held: string,
      perEpoch: string | null,
    ) =>
      `With a stem that keeps ${input}-px images at ${
        grids.join("/")
      } (the small stem, a reference run), Inception v3 reaches ${small} against ${base} with the ImageNet stem at ${baseInput} px (${
        baseGrids.join("/")
      }), everything else held (${held}): ${en.diff(c)}, ${en.verdict(c)}${
        c.significant === null
          ? ""
          : c.significant && c.delta > 0
          ? ": on grids it was designed for, v3 recovers, so its shortfall at the smaller grids is the grids'"
          : c.significant
          ? ": the larger grids do not help it, so its shortfall is not the grids'"
          : ": the larger grids do not change it measurably, so the grids alone do not explain its shortfall"
      }${perEpoch ? ` (at ${perEpoch} the time per epoch)` : ""}.`,
  },
};

export type Messages = typeof en;

export const MESSAGES: Readonly<Record<Lang, Messages>> = { en, zh };

export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}

/** An experiment's label in a language, from its definition (lib/exp/experiments.ts); a record's own label for an experiment no longer defined. */
export function labelOf(lang: Lang, name: string, fallback: string): string {
  try {
    return experiment(name).label[lang];
  } catch {
    return fallback; // a record of an experiment this code no longer defines
  }
}
