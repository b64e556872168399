/**
 * The experiment registry: every experiment a notebook needs, declared once.
 *
 * An experiment is a model (+ options) and a training recipe at the assignment's full
 * scale. A preset (smoke / laptop / full) scales it through its question group's knobs:
 * subset sizes, input size, epochs, batch size, a width scale, a dense width and seeds.
 * How a width or dense-width knob reaches a model is declared by the model's registry entry
 * (`scale`); a knob a model cannot take is an error naming both. Knobs an experiment fixes
 * (e.g. the input size of the 224-vs-96 comparison) are not applied. Every recipe choice and
 * every preset knob carries a one-line reason (`why`), shown beside the results.
 * The resolved TrainConfig is the experiment's identity: its hash names the results.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelOptions } from "../models/registry.ts";
import { checkModelOptions, closest, modelEntry, SCALE_KNOBS, type Scaling } from "../models/registry.ts";
import { ModelError } from "../models/common.ts";
import type { OptimConfig } from "../train/optim.ts";
import type { TrainConfig } from "../train/trainer.ts";
import { sha256Hex } from "../util/hash.ts";

export const PRESETS = ["smoke", "laptop", "full"] as const;
export type Preset = typeof PRESETS[number];

export class ExperimentError extends Error {
  override name = "ExperimentError";
}

/** What a preset may change. */
export interface Knobs {
  inputSize?: number;
  trainPerClass?: number | null;
  testPerClass?: number | null;
  epochs?: number;
  batchSize?: number;
  /** Multiplies the model's width (how: the model's registry entry says). */
  widthScale?: number;
  /** The dense width of a full-size model (how: the model's registry entry says). */
  denseWidth?: number;
  seeds?: number[];
}

/** A reason in both languages the report is written in. */
export interface Text {
  en: string;
  zh: string;
}
const T = (en: string, zh: string): Text => ({ en, zh });

/** One line per choice: why it was made and on what evidence. */
export type Reasons = Partial<Record<string, Text>>;

export type Question = "1a" | "1b" | "2a" | "2b" | "3a" | "3b";

/** Changes a variant makes to the resolved configuration (after the preset). */
export interface ConfigOverrides {
  modelOptions?: ModelOptions;
  inputSize?: number;
  trainPerClass?: number | null;
  testPerClass?: number | null;
  epochs?: number;
  batchSize?: number;
  optim?: Partial<OptimConfig>;
  labelSmoothing?: number;
  auxWeight?: number;
  augment?: { flip?: boolean; cropPad?: number } | null;
  normalize?: boolean;
  /** Images per class held out of training for validation: makes the variant a tuning run. */
  validation?: number | null;
}

export interface Experiment {
  name: string;
  question: Question;
  /** Short label for tables and sentences, in both languages (a run record keeps the English one). */
  label: Text;
  /** What this network changes against its question's baseline, where the page has a column for it (Q3b). */
  changes?: Text;
  model: string;
  modelOptions: ModelOptions;
  inputSize: number;
  epochs: number;
  batchSize: number;
  optim: OptimConfig;
  labelSmoothing?: number;
  auxWeight?: number;
  augment?: { flip?: boolean; cropPad?: number };
  normalize?: boolean;
  /** Preset table to scale with. */
  group: keyof typeof GROUPS;
  /** Knobs the presets must not change for this experiment (except smoke, which must stay fast). */
  fixed?: (keyof Knobs)[];
  /** Per-preset overrides for this experiment only. */
  presets?: Partial<Record<Preset, Knobs>>;
  /**
   * The presets that train this experiment (default: all). A report at another preset neither trains
   * nor waits for it; its page reads the records of a preset that has them (the full preset's, published).
   */
  only?: Preset[];
  /** Why the recipe is what it is (optimizer, learning rate, schedule, …). */
  why: Reasons;
  /** Set on variants: the experiment they derive from and what they change. */
  base?: string;
  overrides?: ConfigOverrides;
  /** Set on custom experiments: builds the model (a notebook cell's layers-API network). */
  build?: (opts: { inputSize: number; seed: number }) => tf.LayersModel;
}

/** Images per class of the validation split tuning runs hold out (5,000 of the 60,000 training images). */
export const VALIDATION_PER_CLASS = 500;

/**
 * The recipe every cnnlab experiment trains with, its learning rate chosen per question on the
 * validation split (bench/results/tuning-2026-11-30.jsonl): Adam with a linear warm-up over the
 * first 0.3 epochs, then cosine decay to zero by the last step, so that a short budget ends on an
 * annealed model rather than wherever a constant rate left it.
 */
const adamCosine = (lr: number): OptimConfig => ({ optimizer: "adam", lr, schedule: "cosine", warmupEpochs: 0.3 });
const SCHEDULE_WHY = T(
  "warm-up 0.3 epochs then cosine to zero: short budgets end on an annealed, not a noisy, model",
  "先预热 0.3 轮，再按余弦退火把学习率降到零：训练预算再短，训练结束时的模型也已退火，不会停在噪声很大的状态",
);

const FULL: Knobs = { trainPerClass: null, testPerClass: null, seeds: [1, 2, 3] };
const SMOKE: Knobs = { trainPerClass: 10, testPerClass: 5, epochs: 1, batchSize: 32, seeds: [1] };

/** The preset tables, with the reason for every laptop knob. */
export const GROUPS = {
  /** LeNet ablations at 28×28 (question 1a). */
  lenet: {
    smoke: { ...SMOKE, epochs: 2 },
    laptop: { trainPerClass: null, testPerClass: null, epochs: 4, seeds: [1, 2] },
    full: { ...FULL },
  },
  /** The AlexNet simplification ladder (question 1b). */
  alexnet: {
    smoke: { ...SMOKE, inputSize: 67, widthScale: 0.125, denseWidth: 64 },
    laptop: {
      trainPerClass: null,
      testPerClass: null,
      epochs: 2,
      inputSize: 67,
      widthScale: 0.25,
      denseWidth: 1024,
      seeds: [1, 2],
    },
    full: { ...FULL, seeds: [1, 2] },
  },
  /** VGG-11/8 at 224 and 96 (question 2): the input size is the question, so presets shrink data and epochs. */
  vgg: {
    smoke: { ...SMOKE },
    laptop: { trainPerClass: 1000, testPerClass: null, epochs: 2, seeds: [1, 2] },
    full: { ...FULL, seeds: [1, 2] },
  },
  /** The Inception family and ResNet-18 (question 3b), all at one width and input size. */
  inception: {
    smoke: { ...SMOKE, inputSize: 32, widthScale: 0.125 },
    laptop: { trainPerClass: null, testPerClass: null, epochs: 3, inputSize: 48, widthScale: 0.25, seeds: [1, 2] },
    full: { ...FULL, seeds: [1, 2] },
  },
} satisfies Record<string, Record<Preset, Knobs>>;

/** Why each laptop knob is set as it is (shown on the pages' settings). */
export const LAPTOP_WHY: Record<keyof typeof GROUPS, Reasons> = {
  lenet: {
    data: T(
      "all 60,000 training images and the full 10,000-image test set: LeNet is cheap, and 1,000-image subsets measured under-training",
      "全部 60,000 张训练图像和完整的 10,000 张测试集：LeNet 训练开销很小；只用 1,000 张图像的子集时，测到的是欠训练的结果",
    ),
    epochs: T(
      "4 epochs: ReLU LeNet reached 0.906 and sigmoid LeNet 0.882 validation accuracy by epoch 4 (tuning record)",
      "4 轮：训练到第 4 轮时，ReLU LeNet 的验证准确率已达 0.906，sigmoid LeNet 达 0.882（见调参记录）",
    ),
    seeds: T(
      "2 seeds per variant; the seed spread is pooled over the page's experiments",
      "每个变体 2 个随机种子；随机种子之间的波动由本页各实验合并估计",
    ),
  },
  alexnet: {
    inputSize: T(
      "67 px: the smallest input AlexNet's 11×11/4 stem and three 3/2 pools accept (224 costs 12× the MACs)",
      "67 像素：AlexNet 的 11×11/4 起始层和三个 3/2 汇聚层所能接受的最小输入（224 像素时乘加次数是它的 12 倍）",
    ),
    widthScale: T(
      "¼ of every channel count and dense 1,024 (the simplification steps are relative, so all shrink alike)",
      "各层通道数都取原来的 ¼，全连接层宽度 1,024（各简化步比较的是相对变化，所以各步按同一比例缩小）",
    ),
    epochs: T(
      "2 epochs on all 60,000 images: step 1 reached 0.885 validation accuracy (0.897 with 3 epochs, for 50% more time)",
      "在全部 60,000 张图像上训练 2 轮：第 1 步的验证准确率达到 0.885（训练 3 轮为 0.897，但要多花 50% 的时间）",
    ),
    seeds: T("2 seeds per step", "每步 2 个随机种子"),
  },
  vgg: {
    inputSize: T(
      "kept at 224 and 96: the input size is what question 2b asks about",
      "保持 224 和 96 不变：输入尺寸正是问题 2b 要考察的",
    ),
    data: T(
      "10,000 training images, 2 epochs: one 224-px epoch of all 60,000 costs ~16 worker-minutes per seed here; the full-preset reference run (60,000 images, 5 epochs) is shown beside",
      "10,000 张训练图像，训练 2 轮：在本机上用全部 60,000 张图像在 224 像素下训练一轮，每个随机种子要一个工作进程跑约 16 分钟；旁边并列给出 full 预设的参考运行（60,000 张图像、5 轮）",
    ),
    seeds: T("2 seeds per size", "每种输入尺寸 2 个随机种子"),
  },
  inception: {
    inputSize: T(
      "48 px for all five: at 32 the last grids are 1×1 and Inception v3 stayed at 0.81 (3 epochs); at 48, on the validation split of one tuning run each, it reached 0.875, GoogLeNet 0.899, BN-Inception 0.906, ResNet-18 0.918 (the test runs below differ by seed and split)",
      "五个模型都用 48 像素：32 像素时最后几层的特征图只剩 1×1，Inception v3 停在 0.81（3 轮）；48 像素时，各模型一次调参运行在验证集上的结果为：Inception v3 0.875，GoogLeNet 0.899，BN-Inception 0.906，ResNet-18 0.918（下面的测试运行随机种子和数据划分都不同，数字会有出入）",
    ),
    widthScale: T(
      "¼ of every channel count for all five (a test proves it): each keeps its own design's proportions, so their parameter counts still differ as their designs do",
      "五个模型的各层通道数都取原来的 ¼（由一个测试专门检查）：各自保持原设计的比例，所以参数量仍随设计不同而不同",
    ),
    epochs: T(
      "3 epochs: at 48 px three epochs beat five at 32 px for the same time",
      "3 轮：花同样的时间，48 像素训练三轮胜过 32 像素训练五轮",
    ),
    data: T(
      "all 60,000 training images: with 40,000 a rehearsal of this preset left GoogLeNet at 0.869 and BN-Inception at 0.880 on the test set",
      "全部 60,000 张训练图像：按本预设预演时只用了 40,000 张，GoogLeNet 在测试集上只到 0.869，BN-Inception 只到 0.880",
    ),
    seeds: T("2 seeds per model", "每个模型 2 个随机种子"),
  },
};

function lenetExp(
  name: string,
  label: Text,
  modelOptions: ModelOptions,
  extra: Partial<Experiment> = {},
): Experiment {
  return {
    name: `q1a/${name}`,
    question: "1a",
    label,
    model: "lenet",
    modelOptions,
    inputSize: 28,
    epochs: 10,
    batchSize: 128,
    optim: adamCosine(0.01),
    group: "lenet",
    why: {
      optim: T(
        "Adam lr 0.01: on the validation split ReLU LeNet reached 0.908 at 0.01 vs 0.893 at 0.003 (5 epochs), augmentation 0.890 and dropout 0.883 at 0.01 (4 epochs)",
        "Adam，学习率 0.01：在验证集上，ReLU LeNet 用 0.01 达到 0.908，用 0.003 为 0.893（5 轮）；加数据增广和加 dropout 的变体用 0.01 分别为 0.890 和 0.883（4 轮）",
      ),
      schedule: SCHEDULE_WHY,
      epochs: FULL_LENET,
    },
    ...extra,
  };
}

function alexExp(name: string, label: Text, modelOptions: ModelOptions, lr: number, lrWhy: Text): Experiment {
  return {
    name: `q1b/${name}`,
    question: "1b",
    label,
    model: "alexnet",
    modelOptions,
    inputSize: 224,
    epochs: 3,
    batchSize: 128,
    optim: adamCosine(lr),
    group: "alexnet",
    why: {
      optim: lrWhy,
      schedule: SCHEDULE_WHY,
      epochs: T("full: 3 epochs at 224, the original submission's", "full 预设：224 像素下训练 3 轮，与原提交相同"),
    },
  };
}

function inceptionExp(model: string, label: Text, extra: Partial<Experiment> = {}): Experiment {
  return {
    name: `q3b/${model}`,
    question: "3b",
    label,
    model,
    modelOptions: {},
    inputSize: 96,
    epochs: 10,
    batchSize: 128,
    optim: adamCosine(0.002),
    group: "inception",
    why: {
      optim: T(
        "Adam lr 0.002 for all five, one recipe so that only the design differs: at 48 px, 3 epochs, 0.002 ≥ 0.003 for GoogLeNet (0.899 vs 0.896) and ResNet-18 (0.918 vs 0.915) on the validation split",
        "五个模型都用 Adam、学习率 0.002，共用一套训练配方，差别就只来自设计：在验证集上（48 像素，3 轮），GoogLeNet 和 ResNet-18 用 0.002 都不比 0.003 差（0.899 对 0.896，0.918 对 0.915）",
      ),
      schedule: SCHEDULE_WHY,
      epochs: T("full: 10 epochs at 96 px, d2l's budget", "full 预设：96 像素下训练 10 轮，即 d2l 的训练预算"),
    },
    ...extra,
  };
}

/** Question 3b's five models, in the order of the page's table. */
export const Q3B_MODELS: readonly {
  model: string;
  label: Text;
  changes: Text;
  /** Validation accuracy with the ImageNet stem at 48 px and with the small stem at 28 px (`STEM_TUNING`). */
  stemTuning: [number, number];
}[] = [
  {
    model: "googlenet",
    label: T("GoogLeNet (v1)", "GoogLeNet（v1）"),
    changes: T("the baseline: Inception modules, no batch norm", "基线：Inception 块，没有批量规范化"),
    stemTuning: [0.741, 0.745],
  },
  {
    model: "bn-inception",
    label: T("BN-Inception (v2)", "BN-Inception（v2）"),
    changes: T("batch norm after every conv; 5×5 as two 3×3", "每个卷积层后加批量规范化；5×5 卷积换成两个 3×3"),
    stemTuning: [0.840, 0.886],
  },
  {
    model: "inception-v3",
    label: T("Inception v3", "Inception v3"),
    changes: T("factorised n×n convs, efficient grid reduction", "分解的 n×n 卷积，更高效的网格缩减"),
    stemTuning: [0.730, 0.849],
  },
  {
    model: "inception-resnet",
    label: T("Inception-ResNet-v1", "Inception-ResNet-v1"),
    changes: T("residual connections around Inception blocks", "在 Inception 块外加残差连接"),
    stemTuning: [0.873, 0.853],
  },
  {
    model: "resnet18",
    label: T("ResNet-18", "ResNet-18"),
    changes: T("plain residual blocks (reference)", "普通残差块（参照）"),
    stemTuning: [0.885, 0.885],
  },
];

/** Where the small stem was chosen: 1,000 images per class, 3 epochs, ¼ width, seed 1, validation split. */
export const STEM_TUNING = "bench/results/tuning-2026-12-06-stems.jsonl";

/**
 * A Q3b model with one setting changed from the laptop's Q3b run (reference tier only): at the full
 * preset the laptop's ¼ width and 3 epochs on all 60,000 images, the five models' recipe.
 */
function laptopTwin(
  model: string,
  label: Text,
  o: { suffix: string; tag: Text; inputSize: number; modelOptions?: ModelOptions; differs: Text; why: Reasons },
): Experiment {
  return {
    ...inceptionExp(model, T(`${label.en}${o.tag.en}`, `${label.zh}${o.tag.zh}`)),
    name: `q3b/${model}@${o.suffix}`,
    ...(o.modelOptions ? { modelOptions: o.modelOptions } : {}),
    inputSize: o.inputSize,
    fixed: ["inputSize"],
    presets: { full: { epochs: 3, widthScale: 0.25 } },
    only: ["smoke", "full"],
    why: {
      optim: T(
        `the five models' recipe (Adam lr 0.002), so that only ${o.differs.en} from the laptop's ${label.en}`,
        `沿用五个模型共同的训练配方（Adam，学习率 0.002），这样与 laptop 预设中的 ${label.zh}${
          label.zh.endsWith("）") ? "" : " "
        }相比只有${o.differs.zh}不同`,
      ),
      schedule: SCHEDULE_WHY,
      ...o.why,
    },
  };
}

/** A Q3b model with the small stem at 28 px, everything else as the laptop's Q3b run. */
function smallStemExp(model: string, label: Text): Experiment {
  const [imagenet, small] = Q3B_MODELS.find((m) => m.model === model)!.stemTuning.map((a) => a.toFixed(3));
  return laptopTwin(model, label, {
    suffix: "small-stem",
    tag: T(", small stem at 28 px", "，小图起始层，28 像素"),
    inputSize: 28,
    modelOptions: { stem: "small" },
    differs: T("the stem and input differ", "起始层和输入"),
    why: {
      model: T(
        `the stem without its downsampling, at Fashion-MNIST's own 28 px; on the validation split (10,000 images, 3 epochs, seed 1): ${small} against ${imagenet} with the ImageNet stem at 48 px (${STEM_TUNING})`,
        `去掉下采样的起始层，输入为 Fashion-MNIST 原本的 28 像素；验证集上（10,000 张图像、3 轮、种子 1）为 ${small}，而 48 像素加 ImageNet 起始层为 ${imagenet}（见 ${STEM_TUNING}）`,
      ),
      epochs: T(
        "3 epochs on all 60,000 images at ¼ width: the laptop's Q3b settings, so the one change is the stem",
        "在全部 60,000 张图像上训练 3 轮、宽度 ¼：与 laptop 预设的问题 3b 设置相同，唯一的改变是起始层",
      ),
    },
  });
}

/** A Q3b model at the textbook's 96 px with its own (ImageNet) stem: the input alone changes. */
function textbookInputExp(model: string, label: Text): Experiment {
  return laptopTwin(model, label, {
    suffix: "96",
    tag: T(" at 96 px", "，96 像素"),
    inputSize: 96,
    differs: T("the input differs", "输入尺寸"),
    why: {
      inputSize: T(
        "96 px, the textbook's input for GoogLeNet and its successors, with the model's own stem",
        "96 像素，即教材训练 GoogLeNet 及其后继模型时的输入尺寸，起始层不变",
      ),
      epochs: T(
        "3 epochs on all 60,000 images at ¼ width: the laptop's Q3b settings, so the one change is the input size (½ width costs 4× as much)",
        "在全部 60,000 张图像上训练 3 轮、宽度 ¼：与 laptop 预设的问题 3b 设置相同，唯一的改变是输入尺寸（宽度 ½ 的开销是现在的 4 倍）",
      ),
    },
  });
}

const RELU: ModelOptions = { activation: "relu" };
const ALEXNET_STYLE: ModelOptions = {
  activation: "relu",
  pooling: "max",
  dropout: 0.5,
  extraConvs: 3,
  widthMultiplier: 4,
};
const ORIGINAL_LR = T("the original submission's learning rate for this step", "原提交在这一步所用的学习率");
const FULL_LENET = T("full: 10 epochs, d2l's LeNet budget", "full 预设：10 轮，即 d2l 中 LeNet 的训练预算");

const LIST: Experiment[] = [
  // Question 1a: one ablation per claimed LeNet → AlexNet difference, on LeNet at 28×28.
  // Sigmoid vs ReLU is measured on LeNet itself; every other AlexNet feature is then added,
  // one at a time, to the ReLU LeNet (on a sigmoid LeNet every other effect would be confounded
  // with its slower convergence).
  lenetExp("lenet", T("LeNet (sigmoid, avg-pool)", "LeNet（sigmoid，平均汇聚）"), {}),
  lenetExp("relu", T("ReLU instead of sigmoid", "用 ReLU 代替 sigmoid"), RELU),
  lenetExp("maxpool", T("ReLU + max-pool instead of avg-pool", "ReLU + 最大汇聚（代替平均汇聚）"), {
    ...RELU,
    pooling: "max",
  }),
  lenetExp("dropout", T("ReLU + dropout 0.5 on the dense layers", "ReLU + 全连接层使用 dropout 0.5"), {
    ...RELU,
    dropout: 0.5,
  }),
  lenetExp("augment", T("ReLU + data augmentation (flip, crop)", "ReLU + 数据增广（翻转、裁剪）"), RELU, {
    augment: { flip: true, cropPad: 2 },
  }),
  lenetExp("deeper", T("ReLU + 3 more conv layers", "ReLU + 多加 3 个卷积层"), { ...RELU, extraConvs: 3 }),
  lenetExp("wider", T("ReLU + 4× channels", "ReLU + 4 倍通道数"), { ...RELU, widthMultiplier: 4 }),
  lenetExp("alexnet-style", T("all of the above", "以上全部改进"), ALEXNET_STYLE, {
    augment: { flip: true, cropPad: 2 },
    optim: adamCosine(0.003),
    why: {
      optim: T(
        "Adam lr 0.003, not the others' 0.01: this 4× wider, deeper model with dropout reached 0.865 at 0.01 (4 epochs) vs 0.890 at 0.003 (5 epochs) on the validation split",
        "Adam，学习率 0.003，而不是其他变体用的 0.01：这个模型宽 4 倍、更深，还带 dropout，在验证集上用 0.01 为 0.865（4 轮），用 0.003 为 0.890（5 轮）",
      ),
      schedule: SCHEDULE_WHY,
      epochs: FULL_LENET,
    },
  }),
  // The training method: the same ReLU LeNet under three optimisers (AlexNet trained with SGD,
  // momentum 0.9 and weight decay 5e-4).
  lenetExp("sgd", T("ReLU + plain SGD", "ReLU + 普通 SGD"), RELU, {
    optim: { optimizer: "sgd", lr: 0.3, schedule: "cosine", warmupEpochs: 0.3 },
    why: {
      optim: T(
        "SGD lr 0.3: the best of 0.03 / 0.1 / 0.3 / 1 on the validation split (0.805 / 0.853 / 0.870; 1 stayed at chance)",
        "SGD，学习率 0.3：是验证集上 0.03 / 0.1 / 0.3 / 1 中最好的（依次为 0.805 / 0.853 / 0.870；取 1 时停在随机水平）",
      ),
      schedule: SCHEDULE_WHY,
      epochs: FULL_LENET,
    },
  }),
  lenetExp(
    "momentum",
    T(
      "ReLU + SGD, momentum 0.9, weight decay 5e-4 (AlexNet's)",
      "ReLU + SGD，动量 0.9，权重衰减 5e-4（同 AlexNet）",
    ),
    RELU,
    {
      optim: {
        optimizer: "momentum",
        lr: 0.1,
        momentum: 0.9,
        weightDecay: 5e-4,
        schedule: "cosine",
        warmupEpochs: 0.3,
      },
      why: {
        optim: T(
          "AlexNet's momentum 0.9 and weight decay 5e-4; lr 0.1: the best of 0.01 / 0.03 / 0.1 / 0.3 on the validation split (0.850 / 0.873 / 0.890; 0.3 stayed at chance)",
          "动量 0.9 和权重衰减 5e-4 沿用 AlexNet 的设置；学习率 0.1：是验证集上 0.01 / 0.03 / 0.1 / 0.3 中最好的（依次为 0.850 / 0.873 / 0.890；取 0.3 时停在随机水平）",
        ),
        schedule: SCHEDULE_WHY,
        epochs: FULL_LENET,
      },
    },
  ),
  // Activation × optimiser crossed: sigmoid LeNet under plain SGD (the textbook trains it so), beside
  // sigmoid + Adam (q1a/lenet), ReLU + Adam (q1a/relu) and ReLU + SGD (q1a/sgd).
  lenetExp("sigmoid-sgd", T("sigmoid + plain SGD", "sigmoid + 普通 SGD"), {}, {
    optim: { optimizer: "sgd", lr: 1, schedule: "cosine", warmupEpochs: 0.3 },
    why: {
      optim: T(
        "SGD lr 1: the best of 0.1 / 0.3 / 1 / 3 on the validation split (0.542 at 0.3, 0.712 at 1; 0.1 and 3 stayed at chance after 4 epochs)",
        "SGD，学习率 1：是验证集上 0.1 / 0.3 / 1 / 3 中最好的（取 0.3 时为 0.542，取 1 时为 0.712；取 0.1 和 3 时训练 4 轮后仍停在随机水平）",
      ),
      schedule: SCHEDULE_WHY,
      epochs: FULL_LENET,
    },
  }),
  // Question 1b: the simplification ladder (the original submission's steps, then one more).
  alexExp("alexnet", T("1: 10-class output", "1：10 类输出"), {}, 0.001, ORIGINAL_LR),
  alexExp(
    "drop-fc2",
    T("2: without the 4096→4096 dense layer", "2：去掉 4096→4096 的全连接层"),
    { fc2: false },
    0.001,
    ORIGINAL_LR,
  ),
  alexExp(
    "drop-conv4",
    T("3: also without the 384→384 conv", "3：再去掉 384→384 的卷积层"),
    { fc2: false, conv4: false },
    0.001,
    ORIGINAL_LR,
  ),
  alexExp(
    "lr-0.004",
    T("4: learning rate 0.004", "4：学习率改为 0.004"),
    { fc2: false, conv4: false },
    0.004,
    ORIGINAL_LR,
  ),
  alexExp(
    "lr-0.002",
    T("5: learning rate 0.002", "5：学习率改为 0.002"),
    { fc2: false, conv4: false },
    0.002,
    ORIGINAL_LR,
  ),
  alexExp(
    "half-width",
    T("6: half the channels and dense width", "6：通道数和全连接层宽度减半"),
    {
      fc2: false,
      conv4: false,
      widthMultiplier: 0.5,
      denseWidth: 2048,
    },
    0.002,
    T("step 5's learning rate, so that only the width changes", "沿用第 5 步的学习率，只改变宽度"),
  ),
  // Question 2: VGG-11 with channels ÷ 8 at two input sizes (2b), and feature maps (2a).
  ...[224, 96].map((size): Experiment => ({
    name: `q2b/vgg11-r8@${size}`,
    question: "2b",
    label: T(`VGG-11/8 at ${size}×${size}`, `VGG-11/8（输入 ${size}×${size}）`),
    model: "vgg11-r8",
    modelOptions: {},
    inputSize: size,
    epochs: 5,
    batchSize: 128,
    optim: adamCosine(0.002),
    group: "vgg",
    fixed: ["inputSize"],
    // Smoke keeps the two sizes apart and 96's stand-in equal to 2a's (its maps sit beside LeNet's and AlexNet's).
    presets: { smoke: { inputSize: size === 224 ? 96 : 67 } },
    why: {
      optim: T(
        "Adam lr 0.002: 0.905 validation accuracy at 96 px after 2 epochs of 55,000 images vs 0.894 at the original's 0.001",
        "Adam，学习率 0.002：96 像素下用 55,000 张图像训练 2 轮后，验证准确率为 0.905；用原提交的 0.001 则为 0.894",
      ),
      schedule: SCHEDULE_WHY,
      epochs: T("full: 5 epochs, the original submission's", "full 预设：5 轮，与原提交相同"),
    },
  })),
  // Question 2a: large first kernels beside VGG's blocks, trained at VGG's 96 px on the same data.
  {
    name: "q2a/alexnet@96",
    question: "2a",
    label: T("AlexNet (¼ width) at 96×96", "AlexNet（¼ 宽度，输入 96×96）"),
    model: "alexnet",
    modelOptions: { widthMultiplier: 0.25, denseWidth: 1024 },
    inputSize: 96,
    epochs: 5,
    batchSize: 128,
    optim: adamCosine(0.001),
    group: "vgg",
    fixed: ["inputSize"],
    presets: { smoke: { inputSize: 67 } },
    why: {
      optim: T("question 1b's AlexNet learning rate", "沿用问题 1b 中 AlexNet 的学习率"),
      model: T(
        "¼ width, as question 1b's ladder: the 11×11 first layer is what 2a compares",
        "¼ 宽度，与问题 1b 的简化阶梯相同：问题 2a 要比较的正是 11×11 的第一层",
      ),
      schedule: SCHEDULE_WHY,
    },
  },
  {
    name: "q2a/lenet@96",
    question: "2a",
    label: T("LeNet (ReLU) at 96×96", "LeNet（ReLU，输入 96×96）"),
    model: "lenet",
    modelOptions: { activation: "relu" },
    inputSize: 96,
    epochs: 5,
    batchSize: 128,
    optim: adamCosine(0.01),
    group: "vgg",
    fixed: ["inputSize"],
    presets: { smoke: { inputSize: 67 } },
    why: {
      optim: T("question 1a's ReLU LeNet recipe", "沿用问题 1a 中 ReLU LeNet 的训练配方"),
      model: T("LeNet's 5×5 first layer at VGG's input size", "LeNet 的 5×5 第一层，输入尺寸与 VGG 相同"),
      schedule: SCHEDULE_WHY,
    },
  },
  // Question 3b: the Inception family, with ResNet-18 as the residual reference.
  // Inception v3 trains without the paper's label smoothing (a change of training recipe, not of
  // architecture): every model trains with the one recipe, so that only the design differs.
  ...Q3B_MODELS.map((m) => inceptionExp(m.model, m.label, { changes: m.changes })),
  // What batch normalisation allows (Ioffe & Szegedy 2015 trained BN-Inception at 5× and 30× the rate):
  // GoogLeNet and BN-Inception at 5× the five models' learning rate, everything else held.
  ...(["googlenet", "bn-inception"] as const).map((model) =>
    inceptionExp(
      model,
      T(
        `${model === "googlenet" ? "GoogLeNet (v1)" : "BN-Inception (v2)"}, lr × 5`,
        `${model === "googlenet" ? "GoogLeNet（v1）" : "BN-Inception（v2）"}，学习率 × 5`,
      ),
      {
        name: `q3b/${model}@lr0.01`,
        optim: adamCosine(0.01),
        why: {
          optim: T(
            "Adam lr 0.01, 5× the five models' 0.002: batch normalisation's paper trained at 5× and 30× the rate; does BN-Inception tolerate it where GoogLeNet does not?",
            "Adam，学习率 0.01，是五个模型所用 0.002 的 5 倍：批量规范化的论文用过 5 倍和 30 倍的学习率；BN-Inception 能承受而 GoogLeNet 不能吗？",
          ),
          schedule: SCHEDULE_WHY,
        },
      },
    )
  ),
  // Each of the five where its grids match its design: the small stem keeps a 28-px image at
  // 28/14/7 (v3's paper: 35/17/8), everything else as the laptop's Q3b run (all 60,000 images, 3
  // epochs, ¼ width). 3.5 (ResNet-18) to 14 times the laptop run's training time per image:
  // trained in the reference tier, not in the hour.
  ...Q3B_MODELS.map((m) => smallStemExp(m.model, m.label)),
  // Each of the five at the textbook's 96 px with its own stem (modules on 12/6/3 grids for GoogLeNet),
  // everything else as the laptop's Q3b run: whether the 48-px verdict is the input size's.
  ...Q3B_MODELS.map((m) => textbookInputExp(m.model, m.label)),
  // Question 3a: does global average pooling slow training? ReLU LeNet with NiN's head (1×1 conv
  // to 10 channels + global average pooling) against the same network with its dense head (q1a/relu).
  lenetExp("lenet-gap", T("ReLU LeNet with a global-average-pooling head", "ReLU LeNet（全局平均汇聚分类头）"), {
    ...RELU,
    head: "gap",
  }, {
    name: "q3a/lenet-gap",
    question: "3a",
  }),
  // The same GAP head widened until it holds as many parameters as the dense head (61,922 against
  // 61,706 in all): the GAP comparison at matched capacity, not only at matched layer widths.
  lenetExp(
    "lenet-gap-matched",
    T(
      "ReLU LeNet with a GAP head as large as the dense one (1×1 widths 230, 230)",
      "ReLU LeNet（全局平均汇聚分类头，1×1 宽度 230、230，参数量与全连接头相当）",
    ),
    { ...RELU, head: "gap", headWidths: [230, 230] },
    { name: "q3a/lenet-gap-matched", question: "3a" },
  ),
];

export const EXPERIMENTS: ReadonlyMap<string, Experiment> = new Map(LIST.map((e) => [e.name, e]));

export function parsePreset(s: string): Preset {
  if ((PRESETS as readonly string[]).includes(s)) return s as Preset;
  throw new ExperimentError(`unknown preset '${s}'; valid: ${PRESETS.join(", ")}`);
}

export function experiment(name: string): Experiment {
  const e = EXPERIMENTS.get(name) ?? VARIANTS.get(name);
  if (!e) {
    throw new ExperimentError(`unknown experiment '${name}'; closest: ${closest(name, EXPERIMENTS.keys()).join(", ")}`);
  }
  return e;
}

/**
 * Whether `name` starts with `pattern`, where `*` matches any run of characters. Matched
 * piece by piece with indexOf (leftmost match of each piece is always a valid choice when
 * the end is unanchored), so time is linear in the name per piece: no regular expression,
 * no backtracking, whatever the user types.
 */
export function globPrefix(pattern: string, name: string): boolean {
  const [first, ...pieces] = pattern.split("*");
  if (!name.startsWith(first)) return false;
  let at = first.length;
  for (const p of pieces) {
    if (p === "") continue;
    const i = name.indexOf(p, at);
    if (i < 0) return false;
    at = i + p.length;
  }
  return true;
}

/** Experiments whose name matches a glob-ish pattern (`*` wildcard; a plain prefix also matches). */
export function matchExperiments(pattern: string): Experiment[] {
  return [...EXPERIMENTS.values()].filter((e) => globPrefix(pattern, e.name));
}

/** An exact name (registered or variant), or every match of a pattern; none is an ExperimentError naming the closest names. */
export function selectExperiments(pattern: string): Experiment[] {
  const exact = EXPERIMENTS.get(pattern) ?? VARIANTS.get(pattern);
  if (exact) return [exact];
  const m = matchExperiments(pattern);
  if (m.length === 0) {
    throw new ExperimentError(
      `no experiment matches '${pattern}'; closest: ${closest(pattern, EXPERIMENTS.keys()).join(", ")}`,
    );
  }
  return m;
}

/** Seeds a preset runs by default. */
export function presetSeeds(e: Experiment, preset: Preset): number[] {
  return e.presets?.[preset]?.seeds ?? GROUPS[e.group][preset].seeds ?? [1];
}

/** The preset's knobs for an experiment, after the experiment's fixed knobs and overrides. */
export function knobsFor(e: Experiment, preset: Preset): Knobs {
  const k: Knobs = { ...GROUPS[e.group][preset] };
  if (preset !== "smoke") { for (const f of e.fixed ?? []) delete k[f]; }
  return { ...k, ...e.presets?.[preset] };
}

/** The fully resolved training configuration of an experiment at a preset. */
export function resolveConfig(e: Experiment, preset: Preset): TrainConfig {
  const k = knobsFor(e, preset);
  const entry: { defaults: ModelOptions; scale: Scaling } = e.build ? { defaults: {}, scale: {} } : modelEntry(e.model);
  let opts: ModelOptions = { ...entry.defaults, ...e.modelOptions };
  for (const knob of SCALE_KNOBS) {
    const v = k[knob];
    if (v === undefined) continue;
    const apply = entry.scale[knob];
    if (!apply) {
      throw new ExperimentError(
        `preset ${preset} sets ${knob} for ${e.name}, but model ${e.model} cannot take ${knob} (it takes: ${
          Object.keys(entry.scale).join(", ") || "no scaling knob"
        }); fix: set that knob only in groups whose models declare it (lib/models/registry.ts)`,
      );
    }
    opts = apply(opts, v);
  }
  const cfg: TrainConfig = {
    model: e.model,
    modelOptions: opts,
    inputSize: k.inputSize ?? e.inputSize,
    trainPerClass: k.trainPerClass === undefined ? null : k.trainPerClass,
    testPerClass: k.testPerClass === undefined ? null : k.testPerClass,
    epochs: k.epochs ?? e.epochs,
    batchSize: k.batchSize ?? e.batchSize,
    optim: e.optim,
    labelSmoothing: e.labelSmoothing ?? 0,
    auxWeight: e.auxWeight ?? 0.3,
    augment: e.augment ?? null,
    normalize: e.normalize ?? false,
    trainEvalPerClass: preset === "smoke" ? 5 : 100,
  };
  const out = e.overrides ? applyOverrides(cfg, e.overrides) : cfg;
  if (!e.build) {
    try {
      checkModelOptions(e.model, out.modelOptions);
    } catch (err) {
      if (err instanceof ModelError) throw new ExperimentError(`${e.name}: ${err.message}`);
      throw err;
    }
  }
  return out;
}

function applyOverrides(cfg: TrainConfig, o: ConfigOverrides): TrainConfig {
  const { modelOptions, optim, ...rest } = o;
  return {
    ...cfg,
    ...rest,
    modelOptions: { ...cfg.modelOptions, ...modelOptions },
    optim: { ...cfg.optim, ...optim },
  } as TrainConfig;
}

// ---------------------------------------------------------------- custom models

/**
 * An experiment whose model a notebook cell builds with the layers API, trained, stored and
 * reused like the registry's: named `custom/<name>`, its configuration identified by the hash of
 * the model's topology (so editing the architecture makes a new experiment), its data, epochs and
 * seeds scaled by the question group's preset (width and input knobs do not apply: the model fixes
 * its own size).
 */
export async function customExperiment(
  name: string,
  build: (opts: { inputSize: number; seed: number }) => tf.LayersModel,
  recipe: Partial<Pick<Experiment, "epochs" | "batchSize" | "optim" | "augment" | "labelSmoothing">> & {
    /** A label (one string for both languages, or one per language); default the name. */
    label?: string | Text;
    question: Question;
    group: keyof typeof GROUPS;
    inputSize: number;
  },
): Promise<Experiment> {
  if (!/^[\w.@-]+$/.test(name)) {
    throw new ExperimentError(`custom experiment name '${name}' must be letters, digits, . @ _ -`);
  }
  const probe = build({ inputSize: recipe.inputSize, seed: 0 });
  const topology = JSON.stringify(probe.toJSON(null, false));
  probe.dispose();
  const topologyHash = (await sha256Hex(topology)).slice(0, 16);
  const e: Experiment = {
    name: `custom/${name}`,
    question: recipe.question,
    label: typeof recipe.label === "string" ? T(recipe.label, recipe.label) : recipe.label ?? T(name, name),
    model: `custom:${name}`,
    modelOptions: {
      topology: topologyHash,
    } as ModelOptions,
    inputSize: recipe.inputSize,
    epochs: recipe.epochs ?? 10,
    batchSize: recipe.batchSize ?? 128,
    optim: recipe.optim ?? adamCosine(0.002),
    labelSmoothing: recipe.labelSmoothing,
    augment: recipe.augment,
    group: recipe.group,
    fixed: ["inputSize", "widthScale", "denseWidth"],
    why: { model: T("built in a notebook cell", "在笔记本单元中构建") },
    build,
  };
  VARIANTS.set(e.name, e);
  return e;
}

// ---------------------------------------------------------------- variants

const VARIANTS = new Map<string, Experiment>();

/** "epochs=3,optim.lr=0.004": the overrides as sorted dotted keys (a variant's readable name part). */
export function overridesKey(o: ConfigOverrides): string {
  const flat: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const k of Object.keys(v as Record<string, unknown>).sort()) {
        walk((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      }
    } else if (v !== undefined) flat.push(`${path}=${JSON.stringify(v).replace(/^"|"$/g, "")}`);
  };
  walk(o, "");
  return flat.join(",");
}

/**
 * An experiment derived from `base` by changing its resolved configuration: named
 * `<base>~<overrides>` (or `<base>~<name>`), stored and reused under its own configuration hash
 * like any other, and runnable by name (`deno task exp run '<name>'`) once registered — which
 * `variant()` does in this process and `saveVariant()` makes permanent for the CLI.
 */
export function variant(base: Experiment, overrides: ConfigOverrides, name?: string): Experiment {
  const root = base.base ? experiment(base.base) : base;
  const merged = base.overrides ? mergeOverrides(base.overrides, overrides) : overrides;
  const key = name ?? overridesKey(merged);
  if (!key) throw new ExperimentError(`a variant of ${root.name} must change something`);
  if (/[\/\s]/.test(key)) throw new ExperimentError(`variant name '${key}' must not contain '/' or spaces`);
  const v: Experiment = {
    ...root,
    name: `${root.name}~${key}`,
    label: T(`${root.label.en} [${overridesKey(merged)}]`, `${root.label.zh} [${overridesKey(merged)}]`),
    base: root.name,
    overrides: merged,
    why: {
      ...root.why,
      variant: T(`derived from ${root.name}: ${overridesKey(merged)}`, `派生自 ${root.name}：${overridesKey(merged)}`),
    },
  };
  resolveConfig(v, "smoke"); // fail now on impossible settings (unknown model option, …)
  VARIANTS.set(v.name, v);
  return v;
}

function mergeOverrides(a: ConfigOverrides, b: ConfigOverrides): ConfigOverrides {
  return {
    ...a,
    ...b,
    ...(a.modelOptions || b.modelOptions ? { modelOptions: { ...a.modelOptions, ...b.modelOptions } } : {}),
    ...(a.optim || b.optim ? { optim: { ...a.optim, ...b.optim } } : {}),
  };
}

/** Variants registered in this process. */
export function variants(): Experiment[] {
  return [...VARIANTS.values()];
}

/** Register a variant read back from the store (see store.ts: saveVariant / loadVariants). */
export function registerVariant(base: string, overrides: ConfigOverrides, name?: string): Experiment {
  return variant(experiment(base), overrides, name);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** JSON with object keys sorted and undefined fields left out: the same value always gives the same text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonical(v));
}

/** First 12 hex digits of the SHA-256 of the canonical JSON of a configuration. */
export async function configHash(cfg: TrainConfig): Promise<string> {
  return (await sha256Hex(canonicalJson(cfg))).slice(0, 12);
}

/** A question's registered experiments (variants aside), in registry order. */
export function questionExperiments(q: Question): Experiment[] {
  return [...EXPERIMENTS.values()].filter((e) => e.question === q);
}

/**
 * The reference tier: per question, the runs at the full preset (the assignment's settings, or the
 * textbook's where it sets none) whose verdict the laptop's scale can change, each finishing
 * within about two hours on two cores of the slowest machine (a run must finish on the machine
 * that started it). `deno task plan --tier reference` prices it; `deno task exp run --tier
 * reference` trains what is missing; the pages lead with its verdicts where they are stored.
 */
export const REFERENCE_TIER: readonly { experiment: string; seeds: number[]; why: Text }[] = [
  ...questionExperiments("1a").map((e) => ({
    experiment: e.name,
    seeds: [1, 2, 3],
    why: T("the textbook's 10 epochs on all 60,000 images", "与教材相同：在全部 60,000 张图像上训练 10 轮"),
  })),
  ...["alexnet", "half-width"].map((n) => ({
    experiment: `q1b/${n}`,
    seeds: [1],
    why: T(
      "the published AlexNet at 224 px and the ladder's last step: the accuracy cost of simplifying",
      "224 像素下原论文的 AlexNet 和简化阶梯的最后一步：看简化在准确率上付出多少代价",
    ),
  })),
  ...["vgg11-r8@224", "vgg11-r8@96"].map((n) => ({
    experiment: `q2b/${n}`,
    seeds: [1, 2],
    why: T(
      "the assignment's 5 epochs on all 60,000 images, two seeds",
      "与作业相同：在全部 60,000 张图像上训练 5 轮，两个随机种子",
    ),
  })),
  ...questionExperiments("3a").map((e) => ({
    experiment: e.name,
    seeds: [1, 2, 3],
    why: T(
      "the GAP heads at the textbook's 10 epochs on all 60,000 images, beside Q1a's dense head: whether more epochs close the gap",
      "GAP 分类头按教材在全部 60,000 张图像上训练 10 轮，与问题 1a 的全连接头对照：看更多轮数能否缩小差距",
    ),
  })),
  ...["lenet@96", "alexnet@96"].map((n) => ({
    experiment: `q2a/${n}`,
    seeds: [2],
    why: T(
      "the first layers Q2a's maps and probes set beside the reference VGG's blocks (seed 2, with VGG's): networks trained as long as it",
      "问题 2a 的特征图和线性探针放在参考 VGG 各块旁边的第一层（随机种子 2，与 VGG 的相同）：与它训练得一样充分的网络",
    ),
  })),
  ...Q3B_MODELS.map((m) => ({
    experiment: `q3b/${m.model}@small-stem`,
    seeds: [1, 2],
    why: T(
      "the model on grids its design works on (28/14/7), the laptop's Q3b settings otherwise: whether its result at 48 px is the grids'",
      "让模型在其设计适用的网格（28/14/7）上训练，其余设置与 laptop 预设的问题 3b 相同：看它在 48 像素下的结果是否受制于网格",
    ),
  })),
  ...Q3B_MODELS.map((m) => ({
    experiment: `q3b/${m.model}@96`,
    seeds: [1, 2],
    why: T(
      "the model at the textbook's 96 px with its own stem, the laptop's Q3b settings otherwise: whether its result at 48 px is the input size's",
      "模型在教材的 96 像素输入下训练，起始层不变，其余设置与 laptop 预设的问题 3b 相同：看它在 48 像素下的结果是否受制于输入尺寸",
    ),
  })),
];

/** What the reference tier leaves out, and why. */
export const REFERENCE_LEFT_OUT: Text = T(
  "Q3b's five models at 96 px beyond ¼ width and 3 epochs (at full width and the textbook's 10 epochs, Inception v3 alone takes about 2.4 h per epoch on two cores; ½ width costs 4× ¼'s); Q3a's GAP against a dense head at NiN's scale (the answer measures the GAP head on ReLU LeNet, says so, and draws no conclusion at NiN's scale)",
  "问题 3b 的五个模型在 96 像素下、宽度超过 ¼ 或训练超过 3 轮的运行（若用原宽度并按教材训练 10 轮，单是 Inception v3 在两个核上每轮就要约 2.4 小时；宽度 ½ 的开销是 ¼ 的 4 倍）；问题 3a 在 NiN 的规模下比较 GAP 头与全连接头（结论一节只在 ReLU LeNet 上测量 GAP 头，并写明了这一点，不推及 NiN 的规模）",
);

/** The questions each notebook answers, by notebook number (its file name's prefix). */
export const NOTEBOOK_QUESTIONS: Readonly<Record<string, readonly Question[]>> = {
  "01": ["1a"],
  "02": ["1b"],
  "03": ["2a", "2b"],
  "04": ["3a"],
  "05": ["3b"],
};

/**
 * The experiments the notebooks with these numbers train (all notebooks when none given) at a preset
 * (any preset when none given), in registry order.
 */
export function notebookExperiments(notebooks?: string[], preset?: Preset): Experiment[] {
  const ids = notebooks ?? Object.keys(NOTEBOOK_QUESTIONS);
  const qs = new Set(ids.flatMap((n) => NOTEBOOK_QUESTIONS[n] ?? []));
  return [...EXPERIMENTS.values()].filter((e) => qs.has(e.question) && trainsAt(e, preset));
}

/** Whether a preset trains this experiment (every experiment trains at some preset). */
export const trainsAt = (e: Experiment, preset?: Preset): boolean => !preset || !e.only || e.only.includes(preset);
