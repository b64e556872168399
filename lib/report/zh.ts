/**
 * The report's Chinese messages: the same keys and arguments as the English ones (lib/report/i18n.ts),
 * written as a Chinese teaching assistant writes, with the terms of docs/glossary.md.
 */
import type { Comparison } from "./analysis.ts";
import type { Messages } from "./i18n.ts";
import { list, points } from "./format.ts";

const zhList = (xs: string[]) => list(xs, "和", "、");
/** Experiment and step labels in a sentence: quoted, since they carry their own punctuation. */
const quoted = (xs: string[]) => zhList(xs.map((x) => `“${x}”`));
/** "757.9×" as "757.9 倍" after "是……的". */
const times = (r: string) => r.replace(/×$/, " 倍");
/** A space wherever a Latin letter or digit meets a Chinese character (for sentences built around model names). */
const spaced = (s: string) =>
  s.replace(/([A-Za-z0-9])([\u4e00-\u9fff])/g, "$1 $2").replace(/([\u4e00-\u9fff])([A-Za-z0-9])/g, "$1 $2");

export const zh: Messages = {
  lang: "zh",
  answer: "结论",
  evidence: "证据",
  settings: "设置与来源",
  questionHeading: "题目",
  allQuestions: "← 全部题目",
  indexTitle: "cnnlab：在 Fashion-MNIST 上研究现代卷积神经网络",
  indexIntro:
    "作业的每道题对应一页。所有数字都是 cnnlab 为本报告实测的；原提交中的数字与我们的结果并列给出，标为“原报告”。",
  readPage: "阅读全文 →",
  generated: "生成于",
  otherLanguage: "English",
  otherLanguageHref: "../",
  preset: "预设",
  backend: "后端",
  device: "设备",
  precision: "精度",
  perLayer: (bf16: number, all: number) =>
    `${all} 个卷积和矩阵乘法中，实测 bf16 更快的 ${bf16} 个使用 bf16，其余使用 fp32`,
  deviceName: (device: string) =>
    device.replace(/(\d+) cores?\b/g, "$1 核").replace(/(\d+) threads?\b/g, "$1 线程")
      .replace(/ via /g, " 经由 ").replace(/software fallback adapter/g, "软件回退适配器")
      .replace(/pure JS/g, "纯 JS").replace(/max binding/g, "最大绑定").replace(/, /g, "，").replace(/ \(/g, "（")
      .replace(/\)/g, "）"),
  optimText: (optimizer: string, lr: number, momentum?: number, weightDecay?: number) =>
    `${
      ({ sgd: "SGD", momentum: "动量 SGD", adam: "Adam", rmsprop: "RMSprop" } as Record<string, string>)[optimizer] ??
        optimizer
    }，学习率 ${lr}${momentum !== undefined ? `，动量 ${momentum}` : ""}${
      weightDecay ? `，权重衰减 ${weightDecay}` : ""
    }`,
  scheduleText: (schedule: string, warmupEpochs?: number) =>
    `${({ constant: "恒定", step: "分段衰减", cosine: "余弦退火" } as Record<string, string>)[schedule] ?? schedule}${
      warmupEpochs ? `，预热 ${warmupEpochs} 轮` : ""
    }`,
  reasonKey: (key: string) =>
    ({
      optim: "优化器",
      variant: "变体",
      epochs: "轮数",
      model: "模型",
      schedule: "学习率调度",
      inputSize: "输入尺寸",
    } as Record<
      string,
      string
    >)[
      key
    ] ?? key,
  widthScale: "宽度（相对各模型原宽度的倍数）",
  denseWidth: "全连接层宽度",
  modelsOwn: "各模型原值",
  total: "合计",
  parens: (s: string) => `（${s}）`,
  seedsEach: (n: number) => (n === 1 ? "一个随机种子" : `每组 ${n} 个随机种子`),
  modelFacts: (input: number, params: string, macs: string) =>
    `，输入尺寸 ${input}：参数量 ${params}，每张图像乘加 ${macs} 次`,
  seeds: "随机种子",
  versions: "版本",
  commit: "提交",
  runs: "运行次数",
  trainedOn: "训练于",
  presetChanged: "本预设相对 full 预设（作业给定的规模，作业未给定处取教材的设置）的改动",
  knob: "设置项",
  value: "本页取值",
  assignment: "full 预设",
  why: "原因",
  experiment: "实验",
  model: "模型",
  input: "输入尺寸",
  width: "宽度",
  trainImages: "训练图像数",
  testImages: "测试图像数",
  epochs: "轮数",
  batch: "批量大小",
  optimizer: "优化器",
  schedule: "学习率调度",
  recipeWhy: "训练配方的依据",
  classNames: ["T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"],
  statsNote: (df: number) =>
    `文中的区间均为 95% 置信区间，综合了随机种子之间的波动（t 分布；种子方差由本页各实验合并估计，自由度为 ${df}）和测试集的抽样误差（二项分布，按不配对处理）。只有置信区间不包含零时，才判定差异显著。准确率停在随机水平（≤ 0.15）或发散的运行按随机种子单独列出，不计入任何均值。差值在四舍五入之前计算，因此可能与所示四舍五入后的数值之差相差 0.1。`,
  colTestAcc: "测试准确率（95% 置信区间）",
  colDelta: (vs: string) =>
    `${/^\d$/.test(vs) ? `相对第 ${vs} 步的差值` : vs ? `相对“${vs}”的差值` : "差值"}（百分点，95% 置信区间）`,
  colTrainAcc: "训练准确率",
  colGap: "训练 − 测试",
  colSecondsPerEpoch: "秒 / 轮",
  colParams: "参数量",
  colMacs: "每张图像的乘加次数",
  colSpeedup: "相对第 1 步的加速比",
  colReported: "原报告",
  colOurs: "本实验",
  colSeed: "随机种子",
  colStatus: "状态",
  colAngle: "角度",
  colMeasured: "本页对应的实验",
  colType: "类型",
  colConv: "卷积层数",
  colChannels: "卷积通道数",
  colDense: "全连接层",
  status: (flag: string) => ({ ok: "正常", chance: "随机水平", diverged: "发散", interrupted: "中断" })[flag] ?? flag,
  diff: (c: Comparison): string =>
    c.significant === null
      ? c.excludesZero === null && Number.isFinite(c.delta)
        ? `${points(c.delta)} 个百分点（两边各只有一个随机种子，没有置信区间，不作判断）`
        : "无法比较（没有可用的运行）"
      : `${points(c.delta)} 个百分点（95% 置信区间 ${points(c.lo)} 至 ${points(c.hi)}）`,
  verdict: (c: Comparison): string => c.significant === null ? "不作判断" : c.significant ? "差异显著" : "差异不显著",
  excluded: (items: string[]) =>
    items.length ? `以下运行未计入均值（在下方按随机种子单独列出，不参与平均）：${items.join("；")}。` : "",
  runFlag: (seed: number, flag: string, accuracy: string) =>
    `随机种子 ${seed} ${flag === "chance" ? "停在随机水平" : flag === "diverged" ? "发散" : "被中断"}（${accuracy}）`,
  underTrained: (labels: string[], bar: string) =>
    `${quoted(labels)}明显低于教材中的 ${bar}：在此预设下欠训练，所以这些数字既体现模型设计，也同样受训练预算左右。`,
  missingRuns: "缺少运行结果，无法作答（请运行对应的笔记本，或运行 `deno task exp run`）。",
  ratioCi: (r: string, lo: string, hi: string) => `${r}（95% 置信区间 ${lo}–${hi}）`,
  runsWhere: (device: string, others: number | null) =>
    `${device}，${
      others === null
        ? "未记录是否有其他运行同时训练"
        : others === 0
        ? "没有其他运行同时训练"
        : `最多有 ${others} 个其他运行同时训练`
    }`,
  timedHow: (device: string, backend: string, others: number) =>
    `在 ${device} 上逐个配置依次计时训练步，后端为 ${backend}，${
      others === 0 ? "计时期间没有其他运行在训练" : `计时期间另有 ${others} 个运行在训练`
    }`,
  axisTestAcc: "测试准确率（均值，95% 置信区间）",
  axisEpoch: "轮次",
  axisTestAccEpoch: "测试准确率（各随机种子的均值）",
  axisTrainAccEpoch: "训练准确率（推理模式，各随机种子的均值）",
  axisSecondsPerEpoch: "每轮秒数（60,000 张图像）",
  axisParamsM: "可训练参数量（百万）",
  axisRf: "感受野（像素）",
  axisProbe: "线性探针准确率（块输出经 2×2 汇聚）",
  q1a: {
    title: "问题 1a — LeNet 与 AlexNet",
    anglesCaption: "四个角度：原论文中的做法与本页对应的实验",
    angles: [
      [
        "数据",
        "LeNet（1998）在 60,000 张居中的 28×28 手写数字图像上训练，没有数据增广；AlexNet（2012）在 120 万张 ImageNet 图像上训练，做了随机裁剪到 224、水平翻转和 PCA 颜色噪声三种增广",
        "q1a/augment（翻转 + 裁剪）；数据规模和颜色噪声未测",
      ],
      [
        "激活函数",
        "LeNet：sigmoid/tanh；AlexNet：ReLU（原论文中，在 CIFAR-10 上训练到 25% 错误率的速度快 6 倍）",
        "q1a/relu",
      ],
      [
        "训练方法",
        "LeNet-5：随机对角 Levenberg–Marquardt 法（按曲率估计为每个权重设定步长）；AlexNet：带动量 0.9 和权重衰减 5e-4 的 SGD，全连接层使用暂退法（dropout）0.5，在两块 GPU 上训练了六天",
        "q1a/sgd、q1a/momentum 与 Adam 对比；q1a/dropout；GPU 未测",
      ],
      [
        "模型结构",
        "LeNet：2 个卷积层、平均汇聚、6–16 个通道；AlexNet：5 个卷积层、3/2 重叠最大汇聚、96–384 个通道、局部响应归一化（LRN）",
        "q1a/maxpool、q1a/deeper、q1a/wider；LRN 和重叠汇聚未测",
      ],
    ] as [string, string, string][],
    sources:
      "文献：LeCun 等，1998（LeNet-5）；Krizhevsky、Sutskever 和 Hinton，2012（AlexNet）；Xiao、Rasul 和 Vollgraf，2017（Fashion-MNIST）。",
    structureCaption: "结构：用 cnnlab 模型库在各网络的常用输入尺寸下实际统计",
    structureSentence: (convs: number, params: string, macs: string, inputs: string) =>
      `AlexNet 比 LeNet 多 ${convs} 个卷积层，参数量是 LeNet 的 ${times(params)}，每张图像的乘加次数是 LeNet 的 ${
        times(macs)
      }（输入尺寸分别为 ${inputs}）。`,
    ablationsCaption: "把 AlexNet 的每项改进单独加到 ReLU LeNet 上（数据、轮数和批量大小都相同）",
    curvesTitle: "每轮的测试准确率与训练准确率",
    optimCaption: "训练方法：同一个 ReLU LeNet 分别用三种优化器训练",
    relu: (a: string, b: string, epochs: number, c: Comparison) =>
      `把 sigmoid 换成 ReLU 后，LeNet 训练 ${epochs} 轮的测试准确率从 ${a} 变为 ${b}：${zh.diff(c)}，${
        zh.verdict(c)
      }。`,
    refLead: (images: string, epochs: number, seeds: number, relu: string, best: string | null) =>
      `按教材的规模（参考运行使用全部 ${images} 张训练图像、训练 ${epochs} 轮、每个实验 ${seeds} 个随机种子），ReLU 相对 sigmoid 的差值为 ${relu}${
        best
          ? `；在 ReLU LeNet 上单独加一项 AlexNet 的改进，效应最大的是 ${best}`
          : "；在 ReLU LeNet 上单独加任何一项 AlexNet 的改进，准确率的变化都不显著"
      }。`,
    refVerdicts: (held: number, of: number, changed: string[]) =>
      changed.length === 0
        ? `下面本预设的运行得出的 ${of} 个结论，在该规模下全部成立。`
        : `下面本预设的运行得出的 ${of} 个结论中，有 ${held} 个在该规模下仍然成立；不一致的以参考运行为准（网络和数据都相同，但训练轮数更多、随机种子更多）：${
          changed.join("；")
        }。`,
    changed: (label: string, here: string, there: string) => `“${label}”在本预设下${here}，在参考规模下${there}`,
    verdictWord: (v: string) => (v === "better" ? "更好" : v === "worse" ? "更差" : "差异不显著"),
    replication: "本预设的各次运行及其置信区间如下：",
    colReference: "参考运行（full）",
    colReferenceDelta: "参考运行的差值",
    largest: "在本页用 Adam 训练、对 LeNet 只改一处的对比中，这是最大的效应。",
    notLargest: (label: string) => `在本页用 Adam 训练、对 LeNet 只改一处的对比中，最大的效应是“${label}”。`,
    helped: (labels: string[]) =>
      `单独加到 ReLU LeNet 上时，${quoted(labels)}显著提高了测试准确率（95% 置信区间不包含零）。`,
    noneHelped: "单独加到 ReLU LeNet 上时，在此训练预算下没有其他改进能显著提高测试准确率（以 95% 置信区间判断）。",
    hurt: (labels: string[]) => `${quoted(labels)}则显著降低了测试准确率。`,
    allHeldDown: (
      all: string,
      relu: string,
      tAll: string,
      tRelu: string,
      images: string,
      lrAll: number,
      lrRelu: number,
    ) =>
      `所有改进一起加上后，测试准确率为 ${all}，而 ReLU LeNet 为 ${relu}；它的训练准确率（${tAll}，在固定的 ${images} 张训练图像上以推理模式评估）也低于 ReLU LeNet（${tRelu}）：组合模型对训练数据拟合得更差——dropout 和数据增广本来就会压低训练准确率${
        lrAll !== lrRelu ? `，而且它用的是 Adam 学习率 ${lrAll}（在验证集上选定），ReLU LeNet 用的是 ${lrRelu}` : ""
      }。`,
    allEpochsUntested: "更多轮数能否缩小这一差距未经检验：没有保存这两个网络更长的运行。",
    allMoreEpochs: (epochs: number, all: string, relu: string, c: Comparison, tAll: string, tRelu: string) =>
      `训练 ${epochs} 轮时（参考运行），所有改进一起加上后为 ${all}，ReLU LeNet 为 ${relu}（${zh.diff(c)}，${
        zh.verdict(c)
      }；训练准确率 ${tAll} 对 ${tRelu}）${
        c.significant && c.delta < 0
          ? "：更多轮数并没有缩小差距。可见在 28×28 的 Fashion-MNIST 上，AlexNet 为 120 万张 ImageNet 图像准备的正则化手段，损失的拟合能力多于它防止的过拟合。"
          : "：轮数增加后差距缩小到本页无法与零区分的程度，但组合模型对训练图像的拟合仍然更差。"
      }`,
    allOverfit: (all: string, relu: string, gAll: string, gRelu: string) =>
      `所有改进一起加上后，测试准确率为 ${all}，而 ReLU LeNet 为 ${relu}，且训练−测试差距更大（${gAll} 对 ${gRelu}）：在此训练预算下，多出来的模型容量导致了过拟合。`,
    allBetter: (all: string, relu: string, c: Comparison) =>
      `所有改进一起加上后，测试准确率为 ${all}，ReLU LeNet 为 ${relu}：${zh.diff(c)}，${zh.verdict(c)}。`,
    allSame: (all: string, relu: string, c: Comparison) =>
      `所有改进一起加上后，测试准确率为 ${all}，ReLU LeNet 为 ${relu}：${zh.diff(c)}，${zh.verdict(c)}。`,
    optim: (sgd: string, mom: string, adam: string, cm: Comparison, ca: Comparison) =>
      `在 ReLU LeNet 上比较训练方法：普通 SGD 为 ${sgd}；带 AlexNet 的动量和权重衰减的 SGD 为 ${mom}，与普通 SGD 相差 ${
        zh.diff(cm)
      }，${zh.verdict(cm)}；Adam 为 ${adam}，与普通 SGD 相差 ${zh.diff(ca)}，${zh.verdict(ca)}。`,
    imageNet: (epochs: number, all: string, relu: string, diff: string, tRelu: string, images: string) =>
      `为什么 AlexNet 在 ImageNet 上胜出，而它的这些做法在这里却不占优：它的深度、宽度、dropout 和数据增广是为 1,000 类、120 万张 224 像素的照片设计的，那里的网络有大量内容要拟合，也要对抗过拟合；而在 ${images} 张 10 类、28 像素的灰度图上，ReLU LeNet 的训练准确率已达 ${tRelu}，训练 ${epochs} 轮后测试准确率为 ${relu}，所有改进一起加上也只有 ${all}（${diff}）：多出的模型容量已没有多少可学，正则化手段损失的拟合能力也补不回来。`,
    adamEffect: "用 Adam 代替普通 SGD",
    reluAdam: "ReLU LeNet，Adam",
    sigmoidAdam: "LeNet（sigmoid），Adam",
    crossCaption: "激活函数 × 优化器：sigmoid 与 ReLU 的 LeNet，分别用普通 SGD 和 Adam 训练",
    largestTie: (a: string, da: string, b: string, db: string) =>
      `在用 Adam 训练、对 LeNet 只改一处的对比中，最大的两个效应“${a}”（${da} 个百分点）和“${b}”（${db} 个百分点）本页不作排序：两者的 95% 置信区间相互重叠。`,
    crossed: (ss: string, rs: string, sgd: Comparison, sa: string, ra: string, adam: Comparison, differ: boolean) =>
      `激活函数与优化器交叉对比：用普通 SGD 训练时，ReLU 使 LeNet 从 ${ss} 提高到 ${rs}（${
        zh.diff(sgd)
      }）；用 Adam 训练时从 ${sa} 到 ${ra}（${zh.diff(adam)}）${
        differ
          ? sgd.delta > adam.delta
            ? "：ReLU 在普通 SGD 下的提升比在 Adam 下大（在本预设下 sigmoid + SGD 本身欠训练，所以差距的大小也反映了训练预算）。"
            : "：ReLU 在 SGD 下的提升比在 Adam 下小。"
          : "：两种提升无法区分，优化器并不改变 ReLU 带来的好处。"
      }`,
  },
  q1b: {
    title: "问题 1b — 简化 AlexNet",
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
      `按作业的规模（${input} 像素、完整宽度、全部 ${images} 张训练图像、${epochs} 轮，${seeds}），输出层改为 10 类的原论文 AlexNet 达到 ${a1}，阶梯最后一步的网络“${last}”为 ${a6}：${
        zh.diff(c)
      }${c.significant === null ? "" : `，${zh.verdict(c)}`}；${
        floor ? "简化后的网络仍高于作业要求的 0.85" : "简化后的网络低于作业要求的 0.85"
      }。`,
    refTime: (s1: string, s6: string, r: string, device: string) =>
      `在该规模下训练一轮分别需要 ${s1} s 和 ${s6} s：简化后网络的训练速度是原网络的 ${r}（取 ${device} 上各运行自身的每轮用时）。`,
    replication: "下面是本预设的简化阶梯及其置信区间：",
    scale: (input: number, width: number, epochs: number) =>
      `${input} 像素，通道数为原来的 ${width} 倍，训练 ${epochs} 轮`,
    finalHere: "简化后的网络逐层结构（本预设下训练的版本）",
    finalFull: "同一网络在 full 预设（作业的规模）下的结构",
    ladderCaption: "简化阶梯：先是本预设自身的缩小（a–c 行，只计时），然后是各个简化步（实际训练）。",
    timingNote: (how: string) =>
      `“计时”列：在全部 60,000 张训练图像上每轮的秒数，取自简化阶梯的计时记录（${how}；用一个随机批量计时一个训练步，不含构造批量的时间，再乘以每轮的步数）；“训练中”列：训练运行自己记录的每轮秒数，为各轮和各随机种子的均值。`,
    colTimed: "秒 / 轮（计时）",
    colTrained: (images: string) => `秒 / 轮（训练中，${images} 张图像）`,
    reportedCaption: "原提交的数字（单块 GPU、PyTorch、224 像素、3 轮；每轮秒数为其总时间 ÷ 3，原报告）与本实验并列",
    chartTitle: "每轮秒数（计时）与测试准确率（虚线：作业要求的 85% 下限）",
    notTrained: "只计时",
    rungFull: (size: number) => `原始 AlexNet（10 类输出），${size} 像素`,
    rungInput: (size: number) => `…… 输入 ${size} 像素`,
    rungWidth: (size: number, width: number, dense: string) =>
      `…… 输入 ${size} 像素，通道数为原来的 ${width} 倍，全连接层宽度 ${dense}（本预设的第 1 步）`,
    floorOk: (k: number, n: number, labels: string[], scale: string) =>
      k === n
        ? `在本预设下（${scale}），训练过的 ${n} 步测试准确率全部不低于 85%，且每一步的 95% 置信区间都完全在这条下限之上。`
        : `在本预设下（${scale}），训练过的 ${n} 步中，有 ${k} 步的 95% 置信区间完全高于 85%；${
          quoted(labels)
        }没有做到。`,
    fastest: (label: string, seconds: string, speedup: string, a: string, how: string) =>
      `仍高于 85% 下限的最快一步是“${label}”：在全部 60,000 张图像上每轮 ${seconds} 秒，速度是第 1 步的 ${speedup}，测试准确率为 ${a}（计时方式：${how}）。`,
    runsRatio: (speedup: string, agree: boolean, device: string) =>
      agree
        ? `训练运行自己记录的每轮用时（${device}）与此一致：同一步的速度是第 1 步的 ${speedup}。`
        : `训练运行自己记录的每轮用时（${device}）给出的加速比不同，为 ${speedup}：这些运行的计时条件（机器，以及同时占用其 CPU 核的其他运行）与计时记录不同，而计时记录对阶梯的每一级都用同一种方式计时，因此本页的加速比以计时记录为准。`,
    noneAbove: (best: string) =>
      `没有哪一步的 95% 置信区间完全高于 85%（最好的是 ${best}）：本预设的训练预算达不到这道题的要求。`,
    sameNet: (times: string, spread: string, from: string, to: string) =>
      `第 3、4、5 步训练的是同一个网络，只是学习率不同，计时结果也确实没有差异（每轮 ${times} 秒；最慢 ÷ 最快为 ${spread}，该区间包含 1）。所以原提交在第 4 步每轮用时从 ${from} 秒降到 ${to} 秒（原报告），不能用学习率来解释，一定是别的条件变了，比如数据加载或 GPU 的负载。`,
    sameNetNoisy: (times: string, spread: string) =>
      `第 3、4、5 步训练的是同一个网络，只是学习率不同，计时结果却有差异（每轮 ${times} 秒；最慢 ÷ 最快为 ${spread}，该区间高于 1）：说明计时期间机器的状态变了，因此其他步之间同样大小的时间差异说明不了什么。`,
    shrink: (
      full: string,
      small: string,
      speedup: string,
      from: number,
      to: number,
      width: number,
      more: boolean,
    ) =>
      `本预设自身的缩小（输入从 ${from} 像素降到 ${to} 像素，通道数变为原来的 ${width} 倍）把一轮的用时从 ${full} 秒降到 ${small} 秒（${speedup}），${
        more ? "比任何一个简化步的效果都大" : "不及效果最大的那个简化步"
      }。`,
  },
  q2: {
    title: "问题 2 — VGG 块与输入分辨率",
    mapsCaption: (preset: string, size: number, seed: number) =>
      `同一批测试图像在 ${size}×${size} 输入下的特征图，都来自训练好的模型（预设 ${preset}，随机种子 ${seed}）：依次是 LeNet（5×5）和 AlexNet（11×11/4）的第一层，以及 VGG 的每个块。每张特征图按各自的取值范围着色（见色条）；灰色小块是死通道（对这张图像输出全为零）。`,
    colourBar: "激活由弱到强",
    deadKey: "死通道",
    dead: (n: number, of: number) => `图中 ${of} 个通道里有 ${n} 个对这张图像是死通道`,
    rfCaption: "各层 / 各块的感受野与线性探针准确率",
    probeSources: (list: string, devices: string, seed: number) =>
      `做线性探针和画图用的网络，取自随机种子 ${seed} 的各次运行的最后一个检查点（测试准确率 ${list}；训练设备：${devices}）。`,
    probeNote: (n: string) =>
      `线性探针：把每个块的输出平均汇聚到 2×2，在上面训练一个逻辑回归（用 ${n} 张训练图像训练，在 ${n} 张测试图像上评估），用来衡量在 2×2 这样粗糙的分辨率下还保留了多少类别信息。`,
    rf: (block: string, rf: number, last: string, lastRf: number, input: number) =>
      `堆叠的 3×3 卷积到 ${block}时感受野为 ${rf} 像素，已达到 AlexNet 第一层 11×11 的范围；${last}的感受野为 ${lastRf} 像素，覆盖了整个 ${input} 像素的输入。`,
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
      `每一层都只取同样的 ${d} 个特征（对 2×2 汇聚后的输出做一次固定的随机投影；${n} 张测试图像；置信区间只计入测试集抽样误差，每种网络只训练了一个）时，线性探针在 ${first}上的准确率为 ${pf}，在 ${last}上为 ${pl}：${
        zh.diff(c)
      }，${zh.verdict(c)}；AlexNet 的 11×11 第一层（${alex}）为 ${pa}，${
        match ? `VGG 的 3×3 卷积堆叠到 ${match}才第一次追平它` : "高于 VGG 的任何一个块"
      }。`,
    probeAll: (fFirst: number, fLast: number, pf: string, pl: string, dAll: string, dEqual: string, more: boolean) =>
      `若用全部特征（第一个块 ${fFirst} 个，最后一个块 ${fLast} 个），探针准确率为 ${pf} 和 ${pl}，相差 ${dAll} 个百分点，而特征数相同时相差 ${dEqual} 个百分点${
        more
          ? "：随深度增加的提升中，有一部分只是因为探针的输入更多"
          : "：用全部特征时每一层的探针都更高，但第一个块与最后一个块之间的差距并没有变大"
      }。`,
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
      `在 ${images} 张测试图像上测量特征图：单个通道的特征图与输入图像的相关系数 |r| 在 ${first}为 ${cf}，在 ${last}为 ${cl}${
        corrFalls
          ? "——越深的特征图越不像衣物本身，而更像是在标出某种图案出现的位置"
          : "——在这里越深的特征图并没有离输入图像更远"
      }；${first}中有 ${af} 的激活大于零，${last}中为 ${al}${sparser ? "，可见越深的块响应越有选择性" : ""}。`,
    probesAtScale: (images: string, epochs: number, seed: number, vgg: string) =>
      `特征图和线性探针取自参考运行，即已保存的网络中训练最充分的一组（full 预设，随机种子 ${seed}：全部 ${images} 张训练图像、${epochs} 轮；VGG 的测试准确率为 ${vgg}）。`,
    probeBeatsNet: (block: string, probe: string, net: string, seed: number) =>
      `在 ${block}上的线性探针（${probe}）超过了网络自己的分类器（${net}，同一个随机种子 ${seed} 的网络），且超出测试集抽样误差：在这一训练预算下 VGG 欠训练，其特征已经走在分类器前面。`,
    colFeatures: "特征数",
    colProbeEqual: (d: number) => `${d} 个特征上的探针`,
    colActive: "激活比例",
    colInputCorr: "与输入的 |r|",
    paramsCaption: "VGG-11/8：输入为 224 和 96 时各层的参数量与乘加次数",
    params: (layer: string, p224: string, p96: string, share: string, macs: string) =>
      `只有 ${layer} 随输入尺寸变化（参数量从 ${p224} 变为 ${p96}，因为展平后的特征图变小了）；卷积层的权重与输入尺寸无关。总体上，参数量降到原来的 ${share}，乘加次数降到原来的 ${macs}。`,
    curvesTitle: "学习曲线：224 与 96 像素下的 VGG-11/8",
    time: (speedup: string, macs: string, how: string) =>
      `计时结果：224 像素下一个训练步的用时是 96 像素下的 ${speedup}（${how}），而乘加次数之比为 ${macs}：`,
    runsTime: (r: string, agree: boolean, device: string) =>
      agree
        ? `训练运行自己记录的每轮用时（${device}）与此一致（224 ÷ 96：${r}）。`
        : `训练运行自己记录的每轮用时（${device}）给出的比值为 ${r}（224 ÷ 96）：这些运行的计时条件（机器，以及同时占用其 CPU 核的其他运行）与计时记录不同，而计时记录对两种尺寸用同一种方式计时，因此这一比较以计时记录为准。`,
    timeAboveMacs: "用时缩小得比乘加次数还多（输入越大，除了计算量，还有额外的访存开销）。",
    timeBelowMacs: (groups: string[]) =>
      `有些算子的用时缩小得比乘加次数少——${
        zhList(groups)
      }（224 / 96 的用时之比，按算子的计时见下文）：受内存带宽限制的运算和每步固定的开销，不会随计算量按比例缩小。`,
    timeBelowUnknown: "其余的时间花在哪里，见下文按算子的计时。",
    timeOutsideKernels: (kernels: string, ms: string, share: string) =>
      `各算子合计的用时确实大致随乘加次数缩小（${kernels}，按算子的计时见下文），但一个训练步中算子之外的时间——96 像素下为 ${ms} 毫秒，占该步的 ${share}（算子调度、梯度记录、创建张量）——并不随输入缩小。`,
    timeAtMacs: "用时与乘加次数成正比。",
    accuracy: (a224: string, a96: string, c: Comparison) =>
      `测试准确率在 224 像素下为 ${a224}，在 96 像素下为 ${a96}：${zh.diff(c)}，${zh.verdict(c)}。`,
    refLead: (a224: string, a96: string, c: Comparison, images: string, epochs: number, seeds: string) =>
      `按作业的设置（参考运行：全部 ${images} 张训练图像，${epochs} 轮，${seeds}），VGG-11/8 在 224 像素下为 ${a224}，在 96 像素下为 ${a96}：${
        zh.diff(c)
      }，${zh.verdict(c)}。`,
    refTime: (r: string, device: string, macs: string) =>
      `在该规模下，224 像素训练一轮的时间是 96 像素的 ${r}（取各运行自己记录的每轮用时，设备为 ${device}，这是两种尺寸都训练过的唯一设备；乘加次数之比为 ${macs}）。`,
    replication: (agree: boolean, images: string, epochs: number, share: string, steps: number) =>
      agree
        ? `本预设（${images} 张训练图像，${epochs} 轮）重复出了这一结论：`
        : `本预设（${images} 张训练图像，${epochs} 轮，训练量只有参考运行的 ${share}）得出的结论不同，应以参考运行为准：这么短的训练比较的是两种输入尺寸在最初 ${steps} 步里各自学到什么程度，而不是训练结束时的结果：`,
    noReference: "尚未保存按作业设置的参考运行（deno task exp run q2b --preset full）。",
    kernelsCaption: (batch: number, how: string) =>
      `一个训练步的用时按算子组分解：224 与 96 像素（批量大小 ${batch}，对一个训练步做性能剖析，取 3 次的平均；${how}）`,
    colTimedStep: "毫秒 / 步（计时）",
    resultsCaption: (images: string, refDevice: string | null) =>
      `224 与 96 像素的对比：本预设的运行（每轮 ${images} 张训练图像，设备见下方设置）、full 预设的参考运行（每轮 60,000 张${
        refDevice ? `；每轮秒数取自 ${refDevice}，这是两种尺寸都训练过的唯一设备` : ""
      }）以及原报告的数字（每轮 60,000 张，单块 GPU）：秒数只能在同一来源内比较，不能跨来源比较。`,
    colRefEpoch: "参考运行每轮秒数",
    colRunEpoch: "秒 / 轮（训练中）",
    macRatio: (r: string) => `乘加次数之比 ${r}`,
    vggBlock: (k: number) => `VGG 第 ${k} 块`,
    firstLayer: (family: string, kernel: string) => `${family} 的第 1 个卷积层（${kernel}）`,
    colReference: "参考运行（full 预设）",
    colLayer: "层",
    kernelGroup: (g: string) =>
      ({
        "conv 1 (1 channel): filter gradient": "第 1 个卷积层（1 个输入通道）：卷积核梯度",
        "conv: filter gradient": "卷积：卷积核梯度",
        "conv: input gradient": "卷积：输入梯度",
        "conv 1 (1 channel): forward": "第 1 个卷积层（1 个输入通道）：前向计算",
        "conv: forward": "卷积：前向计算",
        "pooling (+ gradient)": "汇聚（含梯度）",
        "activation (+ gradient)": "激活函数（含梯度）",
        dense: "全连接层",
        resize: "图像缩放",
        "optimizer update": "优化器更新",
        "other element-wise": "其他逐元素运算",
      } as Record<string, string>)[g] ?? g,
    colKernel: "算子",
    colMs224: "毫秒 @224",
    colMs96: "毫秒 @96",
    colRatio: "比值",
  },
  q3a: {
    title: "问题 3a — 为什么 NiN 和 GoogLeNet 小得多",
    totalsCaption: "各网络在常用输入尺寸下按层类型统计的参数量与乘加次数",
    oneByOneCaption: "GoogLeNet 中的 1×1 卷积，按作用划分",
    counterCaption: "反事实的参数量（实际构建出模型后统计，不是估算）",
    chartTitle: "参数都在哪里",
    roleReduction: "3×3 / 5×5 之前的降维",
    roleBranch: "1×1 路径",
    roleProjection: "汇聚路径中的投影",
    roleStem: "起始层中的 1×1",
    colRole: "作用",
    colShare: "占全部参数量的比例",
    colConvK: "k×k 卷积",
    colConv1: "1×1 卷积",
    colDenseShare: "全连接层占比",
    colGap: "全局平均汇聚",
    colCounterfactual: "反事实",
    colActual: "实际",
    colTimes: "倍数",
    colEpoch1: "第 1 轮后的测试准确率",
    cfNoReductions: "去掉 1×1 降维的 GoogLeNet（3×3 和 5×5 卷积直接作用于全部输入通道）",
    cfDenseHead: (model: string) => `换用 AlexNet 分类器的 ${model}（展平 → 4096 → 4096 → 10）`,
    gapCaption: "全局平均汇聚与全连接分类头：同一个 ReLU LeNet，相同的训练配方",
    gapCaptionReference: (epochs: number, images: string) =>
      `参考运行中的同一比较（按教材训练 ${epochs} 轮，使用全部 ${images} 张训练图像）`,
    gapCurves: "学习曲线：GAP 头与全连接头",
    dense: (alex: string, vgg: string, nin: string, goog: string, mostly: boolean) =>
      `全连接层占 AlexNet 参数量的 ${alex}、VGG-11 的 ${vgg}；在 NiN 中为 ${nin}，在 GoogLeNet 中为 ${goog}${
        mostly ? "：AlexNet 和 VGG 的参数大部分在分类器上，而 NiN 和 GoogLeNet 用全局平均汇聚取代了这种分类器。" : "。"
      }`,
    oneByOne: (reduce: string, without: string, withIt: string) =>
      `在 GoogLeNet 中，位于 3×3 和 5×5 路径之前、用来减少通道数的 1×1 卷积占参数量的 ${reduce}；如果没有它们（3×3 和 5×5 卷积直接作用于全部输入通道），参数量将是 ${without}，而不是 ${withIt}。`,
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
        disproportionate ? "参数少并不意味着计算量按比例减少" : "计算量随参数量一同减少"
      }：在同一输入尺寸 ${input}×${input} 下，NiN 的参数量是 AlexNet 的 ${np}，乘加次数是它的 ${nm}（每张图像 ${nin} 次，AlexNet 为 ${alex} 次${
        ninMore ? "，因为 NiN 的 1×1 层要在大尺寸特征图的每个位置上计算" : ""
      }）；GoogLeNet 的参数量是 AlexNet 的 ${gp}，乘加次数是它的 ${gm}。`,
    gapIntro: (dense: string) =>
      `全局平均汇聚会减慢训练吗？在 ReLU LeNet 上，用它的全连接分类头（全网共 ${dense} 个参数）与两种全局平均汇聚（GAP）分类头对比：`,
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
      `“${label}”（参数量 ${params}）：训练一轮后为 ${e1g}，全连接头为 ${e1d}（${zh.diff(c1)}，${
        zh.verdict(c1)
      }）；训练结束时为 ${fg}，全连接头为 ${fd}（${zh.diff(cf)}，${zh.verdict(cf)}）${
        seconds ? `；在同一设备上每轮用时是全连接头的 ${seconds}` : "；两者在不同设备上训练，不比较用时"
      }。`,
    gapVerdictMatched: (verdict: string) => `参数量相当时：${verdict}`,
    gapYes: "在这里确实如此：GAP 头起步落后，到训练结束时追了上来。",
    gapWorse: "到最后一轮 GAP 头仍然落后：更多轮数后能否追上，本页没有测量。",
    gapWorseAfter: (epochs: number) =>
      `训练 ${epochs} 轮后 GAP 头仍然落后；在这一训练预算下，它最终确实更弱，而不只是收敛更慢。`,
    gapReference: (epochs: number, images: string, seeds: number, verdict: string) =>
      `${
        verdict.replace(/。$/, "")
      }（参考运行：按教材训练 ${epochs} 轮，使用全部 ${images} 张训练图像，每个模型 ${seeds} 个种子）。`,
    gapReplication: (epochs: number, images: string) =>
      `作为复现，在本预设下做同一比较（${epochs} 轮、${images} 张训练图像）：`,
    gapDisagree: (epochs: number, verdict: string) =>
      `只看 ${epochs} 轮的结果，结论会不同（${
        verdict.replace(/。$/, "")
      }）；应以参考运行的结论为准，因为参考运行的训练轮数与教材训练 LeNet 时相同。`,
    gapNo: "在这里测不出它减慢了训练。",
    gapFaster: "在这里 GAP 头反而学得更快。",
  },
  q3b: {
    title: "问题 3b — GoogLeNet 及其后续版本",
    tableCaption: (width: string, input: number, epochs: number) =>
      `同一宽度（${width}）和输入尺寸（${input}×${input}）下的 Inception 系列，各训练 ${epochs} 轮；ResNet-18 作为参照`,
    seedsCaption: "按随机种子列出（因为各随机种子的结论不一致，或有运行被排除）",
    curvesTitle: "学习曲线：批量规范化能加快早期训练吗？",
    colChanged: "改动",
    overview: (items: string[], width: string, input: number, epochs: number) =>
      `在相同宽度（${width}）、相同输入尺寸（${input} 像素）下各训练 ${epochs} 轮：${items.join("；")}。`,
    beat: (labels: string[]) => spaced(`${zhList(labels)}显著超过 GoogLeNet（95% 置信区间不包含零）。`),
    noneBeat: "在此训练预算下，没有哪个模型显著超过 GoogLeNet（以 95% 置信区间判断）。",
    behind: (labels: string[]) => spaced(`${zhList(labels)}则显著落后于它。`),
    chartTitle: "相同宽度和输入尺寸下的最终测试准确率",
    perSecond: (
      best: string,
      fastest: string | null,
      sBest: string,
      sFastest: string,
      slowest: string | null,
      sSlowest: string,
      r: string,
    ) =>
      `按每秒换来的准确率看（同一设备，每轮秒数）：${
        fastest
          ? `“${fastest}”每轮只需 ${sFastest} s，准确率与最好的“${best}”（每轮 ${sBest} s）差异不显著`
          : `“${best}”准确率最高，在与它差异不显著的模型中也最快（每轮 ${sBest} s）`
      }${slowest ? `；最慢的“${slowest}”每轮 ${sSlowest} 秒，用时是“${fastest ?? best}”的 ${r}` : ""}。`,
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
      `输入为 ${input} 像素时，Inception v3 的三个阶段分别在 ${a}×${a}、${b}×${b} 和 ${c}×${c} 的网格上运行${
        small
          ? `；其论文发现中间阶段的 n×1 分解在宽 ${min} 到 ${max} 的网格上效果好，所以在这个输入尺寸下检验的是它本不适用的情形`
          : `，处在其论文认为 n×1 分解有效的 ${min}–${max} 网格范围内`
      }。它的训练准确率（${tV3}）${underFits ? "也低于" : "并不低于"} GoogLeNet（${tG}）${
        gapLarger ? `，训练与测试准确率之差也更大（${gV3} 对 ${gG}）` : ""
      }：${
        underFits
          ? gapLarger ? "它对训练图像拟合得更差，泛化也更差" : "它对训练图像拟合得更差，但与测试集的差距并不更大"
          : "它较低的测试准确率不是欠拟合造成的"
      }。`,
    rateCaption: (factor: number) =>
      `批量规范化能否支持更大的学习率：同样的网络把学习率提高到 ${factor} 倍，其余设置不变`,
    colRateDelta: (lr: number) => `相对学习率 ${lr} 的差值（百分点，95% 置信区间）`,
    rateFailed: (label: string) => `${label}在这一学习率下训练失败（所有随机种子都停在随机水平或发散）`,
    moves: (label: string, a: string, b: string, c: Comparison) =>
      `${spaced(`${label}从`)} ${a} 变为 ${b}（${zh.diff(c)}，${zh.verdict(c)}）`,
    bnRate: (
      factor: number,
      lr: number,
      g: string,
      b: string,
      verdict: "allows" | "gains" | "both" | "neither" | "reverse",
    ) =>
      `把学习率提高到 ${factor} 倍（${lr}）、其余设置不变：${g}；${b}。${
        {
          allows:
            "只有不带批量规范化的网络受到损害：批量规范化很可能是更高学习率可用的原因，不过 BN-Inception 还在成对的 3×3 卷积和规模上与 GoogLeNet 不同。",
          gains:
            "只有 BN-Inception 把更高的学习率变成了准确率的提升，GoogLeNet 既没有提升也没有训练失败：批量规范化很可能是原因，不过 BN-Inception 还在成对的 3×3 卷积和规模上与 GoogLeNet 不同。",
          both: "在此训练预算下两者都能承受：更高的学习率并不是批量规范化在这里带来的好处。",
          neither: "两者都受到损害：在此训练预算下批量规范化并没有让更高的学习率变得可用。",
          reverse: "只有 BN-Inception 受到损害：“批量规范化允许更高学习率”的说法在这里不成立。",
        }[verdict]
      }`,
    bnEarly: (bn: string, g: string, c: Comparison) =>
      `训练一轮后，BN-Inception 为 ${bn}，GoogLeNet 为 ${g}：${zh.diff(c)}，${zh.verdict(c)}${
        c.significant && c.delta > 0 ? "——在这里批量规范化确实加快了早期训练" : ""
      }。`,
    stemVerdict: (input: number, grids: [number, number, number], seeds: [number, number], verdict: string[]) =>
      `在各模型设计所针对的网格尺寸上（小图起始层让 ${input} 像素的图像以 ${
        grids.join("/")
      } 的网格进入各阶段；均为参考运行，每个模型 ${
        seeds[0] === seeds[1] ? seeds[0] : `${seeds[0]}–${seeds[1]}`
      } 个种子，其余设置与 laptop 预设相同）：${verdict.join("")}`,
    inputVerdict: (input: number, grids: [number, number, number], seeds: [number, number], verdict: string[]) =>
      `输入为教材使用的 ${input} 像素、起始层不变时（Inception v3 各阶段的网格为 ${
        grids.join("/")
      }；均为参考运行，每个模型 ${
        seeds[0] === seeds[1] ? seeds[0] : `${seeds[0]}–${seeds[1]}`
      } 个种子，其余设置与 laptop 预设相同）：${verdict.join("")}`,
    standing: (s: "ahead" | "level" | "behind") =>
      ({ ahead: "显著超过 GoogLeNet", level: "与 GoogLeNet 差异不显著", behind: "显著落后于 GoogLeNet" })[s],
    differs: (label: string, a: string, input: number, b: string, ref: number) =>
      spaced(`${label}在 ${input} 像素下${a}，在 ${ref} 像素下${b}`),
    disagree: (items: string[], input: number, grids: [number, number, number], ref: number) =>
      `对于两种输入下结论不一致的模型（${
        items.join("；")
      }），就教材提出的这个问题而言，应以 ${ref} 像素下的结果为准，因为教材正是用这一输入训练的；而在 ${input} 像素下，各模块所在的网格只有 ${
        grids.join("/")
      }，输入变小改变了这些模型与 GoogLeNet 的相对高低。`,
    inputEffects: (items: string[], a: number, b: number, held: string) =>
      `各模型把输入从 ${a} 像素改为 ${b} 像素，其余设置不变（${held}）：${items.join("；")}。`,
    colInputDelta: (a: number, b: number) => `差值：${b} 像素 − ${a} 像素（百分点，95% 置信区间）`,
    colInputSeeds: (a: number, b: number) => `种子数（${a} 像素 / ${b} 像素）`,
    colInputSeconds: (b: number) => `秒 / 轮（${b} 像素）`,
    inputCaption: (input: number, grids: [number, number, number], held: string, device: string) =>
      `每个模型改用教材的 ${input} 像素输入、起始层不变（Inception v3 各阶段的网格为 ${
        grids.join("/")
      }；参考运行，计时设备为 ${device}），与同一模型在本页输入尺寸下的结果（上表）对比，其余设置不变：${held}`,
    withImagenetStem: (input: number, verdict: string[]) =>
      `使用 ImageNet 起始层、输入为 ${input} 像素时（即下表的设置）：${verdict.join("")}`,
    stemEffects: (items: string[], held: string) =>
      `其他模型换用同样的小图起始层，其余设置不变（${held}）：${items.join("；")}。`,
    colStem: (stem: "imagenet" | "small", input: number) =>
      `${stem === "small" ? "小图起始层" : "ImageNet 起始层"}，${input} 像素：测试准确率（95% 置信区间）`,
    colStemDelta: "差值：小图起始层 − ImageNet 起始层（百分点，95% 置信区间）",
    colStemSeeds: "种子数（ImageNet 起始层 / 小图起始层）",
    colStemSeconds: "秒 / 轮（小图起始层）",
    stemCaption: (grids: [number, number, number], held: string, device: string) =>
      `每个模型换用小图起始层（各模块所在网格为 ${
        grids.join("/")
      }；参考运行，计时设备为 ${device}），与同一模型使用 ImageNet 起始层时的结果（上表）对比，其余设置不变：${held}`,
    stemHeld: (images: string, epochs: number, width: string) =>
      `${images} 张训练图像、${epochs} 轮、宽度 ${width}、同一套训练配方`,
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
      `换用小图起始层（参考运行），${input} 像素的图像进入各阶段时网格为 ${
        grids.join("/")
      }，Inception v3 的准确率为 ${small}；用 ImageNet 起始层、输入 ${baseInput} 像素（网格 ${
        baseGrids.join("/")
      }）时为 ${base}；其余设置都相同（${held}）：${zh.diff(c)}，${zh.verdict(c)}${
        c.significant === null
          ? ""
          : c.significant && c.delta > 0
          ? "：回到它设计时所针对的网格上，v3 的准确率就上来了，可见它在小网格上的差距来自网格太小"
          : c.significant
          ? "：更大的网格并没有帮到它，可见它的差距不是网格造成的"
          : "：更大的网格没有带来可测出的变化，单凭网格大小解释不了它的差距"
      }${perEpoch ? `（每轮用时是原来的 ${perEpoch}）` : ""}。`,
  },
};
