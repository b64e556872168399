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
/** Model names in a sentence: set off by spaces, as Latin words are in Chinese text. */
const names = (xs: string[]) => list(xs, " 和 ", "、");

export const zh: Messages = {
  lang: "zh",
  answer: "结论",
  evidence: "证据",
  settings: "设置与来源",
  questionHeading: "问题",
  allQuestions: "← 全部问题",
  indexTitle: "cnnlab：在 Fashion-MNIST 上研究现代卷积神经网络",
  indexIntro:
    "作业的每个问题对应一页。所有数字均由 cnnlab 为本报告实测；原提交的数字标注为“原报告”，与我们的结果并列。",
  readPage: "阅读全文 →",
  generated: "生成于",
  otherLanguage: "English",
  otherLanguageHref: "../",
  preset: "预设",
  backend: "后端",
  device: "设备",
  precision: "精度",
  perLayer: (bf16: number, all: number) => `${all} 个卷积和矩阵乘中测得 bf16 更快的 ${bf16} 个用 bf16，其余用 fp32`,
  deviceName: (device: string) =>
    device.replace(/(\d+) cores?\b/g, "$1 核").replace(/(\d+) threads?\b/g, "$1 线程")
      .replace(/ via /g, " 经由 ").replace(/software fallback adapter/g, "软件回退适配器")
      .replace(/pure JS/g, "纯 JS").replace(/max binding/g, "最大绑定").replace(/, /g, "，").replace(/ \(/g, "（")
      .replace(/\)/g, "）"),
  optimText: (optimizer: string, lr: number, momentum?: number, weightDecay?: number) =>
    `${({ sgd: "SGD", momentum: "动量 SGD", adam: "Adam", rmsprop: "RMSprop" } as Record<string, string>)[optimizer] ??
      optimizer}，学习率 ${lr}${momentum !== undefined ? `，动量 ${momentum}` : ""}${
      weightDecay ? `，权重衰减 ${weightDecay}` : ""
    }`,
  scheduleText: (schedule: string, warmupEpochs?: number) =>
    `${({ constant: "恒定", step: "分段衰减", cosine: "余弦退火" } as Record<string, string>)[schedule] ?? schedule}${
      warmupEpochs ? `，预热 ${warmupEpochs} 轮` : ""
    }`,
  reasonKey: (key: string) =>
    ({ optim: "优化器", variant: "变体", epochs: "轮数", model: "模型", schedule: "学习率调度" } as Record<string, string>)[
      key
    ] ?? key,
  widthScale: "宽度（相对各模型原宽度的倍数）",
  denseWidth: "全连接层宽度",
  modelsOwn: "各模型原值",
  total: "合计",
  modelFacts: (input: number, params: string, macs: string) => `，输入尺寸 ${input}：参数量 ${params}，每张图像乘加 ${macs} 次`,
  seeds: "随机种子",
  versions: "版本",
  commit: "提交",
  runs: "运行次数",
  trainedOn: "训练于",
  presetChanged: "本预设相对 full 预设（作业给定的规模，作业未给定处取教材的设置）的改动",
  knob: "设置",
  value: "本页",
  assignment: "full 预设",
  why: "原因",
  experiment: "实验",
  model: "模型",
  input: "输入",
  width: "宽度",
  trainImages: "训练图像",
  testImages: "测试图像",
  epochs: "轮数",
  batch: "批大小",
  optimizer: "优化器",
  schedule: "学习率调度",
  recipeWhy: "训练配方的理由",
  classNames: ["T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"],
  statsNote: (df: number) =>
    `区间均为 95% 区间，合并了种子间的波动（Student t 分布，种子方差在本页各实验间合并估计，自由度 ${df}）与测试集抽样误差（二项分布，按不配对计算）。只有当区间不含零时，才认为差异真实存在。停在随机水平（准确率 ≤ 0.15）或发散的运行按种子单独列出，不计入任何均值。`,
  colTestAcc: "测试准确率（95% 区间）",
  colDelta: (vs: string) => `相对 ${vs} 的差（百分点，95% 区间）`,
  colTrainAcc: "训练准确率",
  colGap: "训练 − 测试",
  colSecondsPerEpoch: "秒 / 轮",
  colParams: "参数量",
  colMacs: "每图乘加次数",
  colSpeedup: "相对第 1 步的加速",
  colReported: "原报告",
  colOurs: "本实验",
  colSeed: "种子",
  colStatus: "状态",
  colAngle: "角度",
  colMeasured: "本页的实测",
  colType: "类型",
  colConv: "卷积层",
  colChannels: "卷积通道",
  colDense: "全连接层",
  status: (flag: string) => ({ ok: "正常", chance: "随机水平", diverged: "发散", interrupted: "中断" })[flag] ?? flag,
  diff: (c: Comparison): string =>
    c.significant === null
      ? c.excludesZero === null && Number.isFinite(c.delta)
        ? `${points(c.delta)} 个百分点（各只有一个种子：无区间，不作判断）`
        : "未比较（没有可用的运行）"
      : `${points(c.delta)} 个百分点（95% 区间 ${points(c.lo)} 至 ${points(c.hi)}）`,
  verdict: (c: Comparison): string =>
    c.significant === null ? "不作判断" : c.significant ? "在此训练预算下是真实差异" : "与无差异无法区分",
  excluded: (items: string[]) =>
    items.length ? `以下运行未计入均值（在下方按种子列出，不参与平均）：${items.join("；")}。` : "",
  runFlag: (seed: number, flag: string, accuracy: string) =>
    `种子 ${seed} ${flag === "chance" ? "停在随机水平" : flag === "diverged" ? "发散" : "被中断"}（${accuracy}）`,
  underTrained: (labels: string[], bar: string) =>
    `${zhList(labels)}明显低于教材的 ${bar}：在此预设下训练不足，其数字反映的既是模型设计，也是训练预算。`,
  missingRuns: "缺少运行结果，无法给出结论（请运行该笔记本或 `deno task exp run`）。",
  ratioCi: (r: string, lo: string, hi: string) => `${r}（95% 置信区间 ${lo}–${hi}）`,
  runsWhere: (device: string, others: number | null) =>
    `${device}，${
      others === null
        ? "未记录同时训练的其他运行"
        : others === 0
        ? "没有其他运行同时训练"
        : `最多有 ${others} 个其他运行同时训练`
    }`,
  timedHow: (device: string, backend: string, others: number) =>
    `在 ${device} 上逐个配置计时训练步，后端 ${backend}，${
      others === 0 ? "计时期间没有其他训练" : `计时期间另有 ${others} 个运行在训练`
    }`,
  axisTestAcc: "测试准确率（均值，95% 区间）",
  axisEpoch: "轮次",
  axisTestAccEpoch: "测试准确率（各种子均值）",
  axisTrainAccEpoch: "训练准确率，推理模式（各种子均值）",
  axisSecondsPerEpoch: "每轮秒数（60,000 张图像）",
  axisParamsM: "可训练参数（百万）",
  axisRf: "感受野（像素）",
  axisProbe: "线性探针准确率（2×2 池化后的块输出）",
  q1a: {
    title: "问题 1a — LeNet 与 AlexNet",
    anglesCaption: "四个角度：文献中的做法与本页的实测",
    angles: [
      [
        "数据",
        "LeNet（1998）在 60,000 张居中的 28×28 手写数字上训练，无数据增强；AlexNet（2012）使用 120 万张 ImageNet 图像，随机裁剪为 224、水平翻转并加 PCA 颜色噪声",
        "q1a/augment（翻转 + 裁剪）；数据规模与颜色噪声未测",
      ],
      ["激活函数", "LeNet：sigmoid/tanh；AlexNet：ReLU（其论文中在 CIFAR-10 上达到 25% 误差快 6 倍）", "q1a/relu"],
      [
        "训练方法",
        "LeNet：普通梯度下降；AlexNet：动量 0.9、权重衰减 5e-4 的 SGD，全连接层 dropout 0.5，两块 GPU 训练六天",
        "q1a/sgd、q1a/momentum 与 Adam 对比；q1a/dropout；GPU 未测",
      ],
      [
        "模型结构",
        "LeNet：2 个卷积层、平均池化、6–16 个通道；AlexNet：5 个卷积层、重叠的 3/2 最大池化、96–384 个通道、局部响应归一化",
        "q1a/maxpool、q1a/deeper、q1a/wider；LRN 与重叠池化未测",
      ],
    ] as [string, string, string][],
    sources:
      "文献：LeCun 等 1998（LeNet-5）；Krizhevsky、Sutskever 与 Hinton 2012（AlexNet）；Xiao、Rasul 与 Vollgraf 2017（Fashion-MNIST）。",
    structureCaption: "结构：按 cnnlab 模型库在各网络常用输入尺寸下实际统计",
    structureSentence: (convs: number, params: string, macs: string, inputs: string) =>
      `AlexNet 比 LeNet 多 ${convs} 个卷积层，参数量是其 ${params}，每张图像的乘加次数是其 ${macs}（${inputs}）。`,
    ablationsCaption: "把 AlexNet 的每个要素单独加到 ReLU LeNet 上（数据、轮数与批大小相同）",
    curvesTitle: "每轮的测试与训练准确率",
    optimCaption: "训练方法：同一个 ReLU LeNet 使用三种优化器",
    relu: (a: string, b: string, epochs: number, c: Comparison) =>
      `把 sigmoid 换成 ReLU 后，LeNet 训练 ${epochs} 轮的测试准确率从 ${a} 变为 ${b}：${zh.diff(c)}，${
        zh.verdict(c)
      }。`,
    refLead: (images: string, epochs: number, seeds: number, relu: string, best: string | null) =>
      `按教材的规模——参考运行使用全部 ${images} 张训练图像、${epochs} 轮、每组 ${seeds} 个种子——ReLU 比 sigmoid 高 ${relu}${
        best
          ? `；在 ReLU LeNet 上单独加入一项 AlexNet 做法，效应最大的是 ${best}`
          : "；在 ReLU LeNet 上单独加入任何一项 AlexNet 做法，准确率的变化都不显著"
      }。`,
    refVerdicts: (held: number, of: number, changed: string[]) =>
      changed.length === 0
        ? `下面本预设运行的 ${of} 个结论在该规模下全部成立。`
        : `下面本预设运行的 ${of} 个结论中有 ${held} 个在该规模下成立；两者不同时以参考运行为准（网络相同，数据更多、训练轮数更多）：${
          changed.join("；")
        }。`,
    changed: (label: string, here: string, there: string) => `“${label}”在本预设下${here}，在参考规模下${there}`,
    verdictWord: (v: string) => (v === "better" ? "更好" : v === "worse" ? "更差" : "没有显著差异"),
    replication: "以下是本预设的运行及其置信区间：",
    colReference: "参考运行（full）",
    colReferenceDelta: "差，参考运行",
    largest: "这是本页测得的最大单项效应。",
    notLargest: (label: string) => `本页测得的最大单项效应是“${label}”。`,
    helped: (labels: string[]) => `单独加到 ReLU LeNet 上时，${zhList(labels)}使测试准确率的提升超出了 95% 区间。`,
    noneHelped: "单独加到 ReLU LeNet 上时，在此训练预算下没有其他要素使测试准确率的提升超出 95% 区间。",
    hurt: (labels: string[]) => `${zhList(labels)}使其下降且超出区间。`,
    allUnderfit: (all: string, relu: string, tAll: string, tRelu: string, width: number) =>
      `所有要素合在一起达到 ${all}，而 ReLU LeNet 为 ${relu}；其训练准确率（${tAll}，推理模式）也低于 ReLU LeNet（${tRelu}）：在此预算下组合模型欠拟合——dropout、数据增强和 ${width} 倍的通道数需要比小型 LeNet 更多的训练轮数。`,
    allOverfit: (all: string, relu: string, gAll: string, gRelu: string) =>
      `所有要素合在一起达到 ${all}，而 ReLU LeNet 为 ${relu}，训练−测试差距更大（${gAll} 对 ${gRelu}）：在此预算下额外的容量导致过拟合。`,
    allBetter: (all: string, relu: string, c: Comparison) =>
      `所有要素合在一起达到 ${all}，ReLU LeNet 为 ${relu}：${zh.diff(c)}，${zh.verdict(c)}。`,
    allSame: (all: string, relu: string, c: Comparison) =>
      `所有要素合在一起达到 ${all}，ReLU LeNet 为 ${relu}：${zh.diff(c)}，${zh.verdict(c)}。`,
    optim: (sgd: string, mom: string, adam: string, cm: Comparison, ca: Comparison) =>
      `ReLU LeNet 上的训练方法：普通 SGD ${sgd}；使用 AlexNet 的动量与权重衰减的 SGD ${mom}（相对普通 SGD ${
        zh.diff(cm)
      }，${zh.verdict(cm)}）；Adam ${adam}（相对普通 SGD ${zh.diff(ca)}，${zh.verdict(ca)}）。`,
    why: (helped: string[]) =>
      `按这些数字，AlexNet 更好的原因：在这种规模的 Fashion-MNIST 上，${
        helped.length ? zhList(helped) : "激活函数"
      }有可测的作用；本页无法测量的因素（ImageNet 的 120 万张图像、GPU）正是 2012 年让 AlexNet 的深度和宽度得以训练的条件。`,
  },
  q1b: {
    title: "问题 1b — 简化 AlexNet",
    ladderCaption: "简化阶梯：先是本预设自身的缩小（a–c 行，仅计时），然后是各简化步骤（实际训练）。",
    timingNote: (how: string) =>
      `“计时”列：在全部 60,000 张训练图像上每轮的秒数，来自简化阶梯的计时记录（${how}；用随机批次计时一个训练步，不含构造批次，再乘以每轮步数）；“训练中”列：训练运行自身每轮的秒数，为各轮与各种子的均值。`,
    colTimed: "秒 / 轮（计时）",
    colTrained: (images: string) => `秒 / 轮（训练中，${images} 张图像）`,
    reportedCaption: "原提交的数字（单 GPU、PyTorch、224 像素、3 轮；每轮秒数为其总时间 ÷ 3，原报告）与本实验并列",
    chartTitle: "每轮秒数（计时）与测试准确率（虚线：作业要求的 85%）",
    notTrained: "仅计时",
    rungFull: (size: number) => `原始 AlexNet（10 类输出），${size} 像素`,
    rungInput: (size: number) => `…… 输入 ${size} 像素`,
    rungWidth: (size: number, width: number, dense: string) =>
      `…… 输入 ${size} 像素，通道数为原来的 ${width} 倍，全连接 ${dense}（本预设的第 1 步）`,
    floorOk: (k: number, n: number, labels: string[]) =>
      k === n
        ? `全部 ${n} 个训练过的步骤的测试准确率都不低于 85%，且整个 95% 置信区间都在此线之上。`
        : `${n} 个训练过的步骤中有 ${k} 个的整个 95% 置信区间都在 85% 之上；${zhList(labels)}没有做到。`,
    fastest: (label: string, seconds: string, speedup: string, a: string, how: string) =>
      `仍高于 85% 的最快步骤是“${label}”：在全部 60,000 张图像上每轮 ${seconds} 秒，比第 1 步快 ${speedup}，测试准确率 ${a}（时间：${how}）。`,
    runsRatio: (speedup: string, agree: boolean, device: string) =>
      agree
        ? `训练运行自身的各轮用时（${device}）与此一致：在那里同一步骤比第 1 步快 ${speedup}。`
        : `训练运行自身的各轮用时（${device}）给出不同的加速比 ${speedup}：它们的计时条件（机器、同时占用 CPU 核心的其他运行）与计时记录不同，而计时记录以同一方式测量每一级，因此本页的加速比取自计时记录。`,
    noneAbove: (best: string) =>
      `没有任何步骤的 95% 置信区间完全高于 85%（最好为 ${best}）：本预设的训练预算低于该问题的要求。`,
    sameNet: (times: string, spread: string, from: string, to: string) =>
      `第 3、4、5 步训练的是同一个网络，只是学习率不同，计时结果也没有差异（每轮 ${times} 秒；最慢 ÷ 最快为 ${spread}，区间包含 1），所以原提交在第 4 步每轮从 ${from} 秒降到 ${to} 秒（原报告）不能用学习率来解释（一定改变了别的东西，例如数据加载或 GPU 负载）。`,
    sameNetNoisy: (times: string, spread: string) =>
      `第 3、4、5 步训练的是同一个网络，只是学习率不同，但计时结果有差异（每轮 ${times} 秒；最慢 ÷ 最快为 ${spread}，区间高于 1）：计时期间机器状态发生了变化，其他步骤之间同等大小的时间差异说明不了什么。`,
    shrink: (
      full: string,
      small: string,
      speedup: string,
      from: number,
      to: number,
      width: number,
      more: boolean,
    ) =>
      `本预设自身的缩小——输入从 ${from} 降到 ${to} 像素、通道数变为原来的 ${width} 倍——把每轮用时从 ${full} 秒降到 ${small} 秒（${speedup}），${
        more ? "超过任何一个简化步骤" : "不及最大的一个简化步骤"
      }。`,
  },
  q2: {
    title: "问题 2 — VGG 块与输入分辨率",
    mapsCaption: (preset: string, size: number) =>
      `同一批测试图像在 ${size}×${size} 下的特征图，均来自训练好的模型（预设 ${preset}，种子 1）：LeNet（5×5）与 AlexNet（11×11/4）的第一层，然后是 VGG 的每个块。每张图按自身范围缩放（见色条）；灰色小块为死通道（对该图像全为零）。`,
    colourBar: "弱 → 强激活",
    deadKey: "死通道",
    dead: (n: number, of: number) => `所示 ${of} 个通道中有 ${n} 个对该图像是死通道`,
    rfCaption: "各层 / 各块的感受野与线性探针准确率",
    probeSources: (list: string, devices: string) =>
      `被探测和绘制的网络是种子 1 运行的最后一个检查点（测试准确率 ${list}；在 ${devices} 上训练）。`,
    probeNote: (n: string) =>
      `线性探针：在每个块的输出经平均池化到 2×2 后训练逻辑回归（${n} 张训练图像训练，${n} 张测试图像评分），衡量在粗糙的 2×2 分辨率下还保留多少类别信息。`,
    rf: (block: string, rf: number, last: string, lastRf: number, input: number) =>
      `堆叠的 3×3 卷积在 ${block} 达到 AlexNet 第一层 11×11 的视野（${rf} 像素）；${last} 的感受野为 ${lastRf} 像素，覆盖整个 ${input} 像素的输入。`,
    probeKept: (first: string, pf: string, last: string, pl: string, alex: string, pa: string) =>
      `在 2×2 池化的粗糙输出上，线性探针从 ${first} 读出类别的准确率为 ${pf}，从 ${last} 为 ${pl}（AlexNet 的 11×11 第一层：${pa}，${alex}）：VGG 固定的 3×3 设计并没有丢失粗粒度信息，而是随深度逐步构建，而不是依靠一个大的第一层卷积核。`,
    probeLost: (first: string, pf: string, last: string, pl: string, alex: string, pa: string) =>
      `在 2×2 池化的粗糙输出上，线性探针从 ${first} 读出类别的准确率为 ${pf}，而从 ${last} 只有 ${pl}（AlexNet 的 11×11 第一层：${pa}，${alex}）：在此预算下，深层块保留的可线性读出的粗粒度信息少于第一块。`,
    paramsCaption: "VGG-11/8：224 与 96 输入下各层的参数量与乘加次数",
    params: (layer: string, p224: string, p96: string, share: string, macs: string) =>
      `只有 ${layer} 随输入尺寸变化（参数从 ${p224} 变为 ${p96}，因为展平后的特征变小）；卷积层的权重与输入尺寸无关。总参数量降至 ${share}，乘加次数降至 ${macs}。`,
    resultsCaption: "224 与 96：本实验与原报告并列",
    curvesTitle: "学习曲线：224 与 96 像素下的 VGG-11/8",
    time: (speedup: string, macs: string, how: string) =>
      `计时结果：224 像素下一个训练步的用时是 96 像素下的 ${speedup}（${how}），而乘加次数之比为 ${macs}：`,
    runsTime: (r: string, agree: boolean, device: string) =>
      agree
        ? `训练运行自身的各轮用时（${device}）与此一致（224 ÷ 96：${r}）。`
        : `训练运行自身的各轮用时（${device}）给出 ${r}（224 ÷ 96）：它们的计时条件（机器、同时占用 CPU 核心的其他运行）与计时记录不同，而计时记录以同一方式测量两种尺寸，因此这一比较取自计时记录。`,
    timeAboveMacs: "用时缩小得比乘加次数还多（更大的输入除了计算量，还带来额外的内存访问）。",
    timeBelowMacs: (groups: string[]) =>
      `部分算子的用时缩小得比乘加次数少——${
        zhList(groups)
      }（224 / 96 的时间比，见下方按算子的计时）：受内存带宽限制的工作和每步固定的开销不随计算量按比例缩小。`,
    timeBelowUnknown: "其余时间的去向见下方按算子的计时。",
    timeOutsideKernels: (kernels: string, ms: string, share: string) =>
      `各算子合计的用时大致随乘加次数缩小（${kernels}，见下方按算子的计时），但一个训练步中算子之外的时间——96 像素下 ${ms} 毫秒，占该步的 ${share}（调度、梯度记录、创建张量）——不随输入缩小。`,
    timeAtMacs: "用时与乘加次数成比例。",
    accuracy: (a224: string, a96: string, c: Comparison) =>
      `测试准确率：224 像素 ${a224}，96 像素 ${a96}：${zh.diff(c)}，${zh.verdict(c)}。`,
    reference: (a224: string, a96: string, agree: boolean, images: string, epochs: number, n224: number, n96: number) =>
      `按作业设置的参考运行（全部 ${images} 张图像、${epochs} 轮；${
        n224 === n96
          ? (n224 === 1 ? "一个种子" : `每种尺寸 ${n224} 个种子`)
          : `224 像素 ${n224} 个种子，96 像素 ${n96} 个种子`
      }）得到 ${a224} 对 ${a96}${agree ? "，结论相同" : "；其结论与本预设不同，因此本预设的结论不可信"}。`,
    noReference: "尚未保存按作业设置的参考运行（deno task exp run q2b --preset full）。",
    kernelsCaption: (batch: number, how: string) =>
      `一个训练步的时间按算子组分解：224 与 96 像素（批大小 ${batch}，对一个训练步做剖析，取 3 次平均；${how}）`,
    colTimedStep: "毫秒 / 步（计时）",
    colRunEpoch: "秒 / 轮（训练中）",
    macRatio: (r: string) => `乘加次数之比 ${r}`,
    vggBlock: (k: number) => `VGG 第 ${k} 块`,
    firstLayer: (family: string, kernel: string) => `${family} 第 1 层卷积（${kernel}）`,
    colReference: "参考运行（full 预设）",
    colLayer: "层",
    kernelGroup: (g: string) =>
      ({
        "conv 1 (1 channel): filter gradient": "第 1 层卷积（1 个通道）：卷积核梯度",
        "conv: filter gradient": "卷积：卷积核梯度",
        "conv: input gradient": "卷积：输入梯度",
        "conv 1 (1 channel): forward": "第 1 层卷积（1 个通道）：前向",
        "conv: forward": "卷积：前向",
        "pooling (+ gradient)": "池化（含梯度）",
        "activation (+ gradient)": "激活（含梯度）",
        dense: "全连接",
        resize: "缩放",
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
    oneByOneCaption: "GoogLeNet 中 1×1 卷积按作用划分",
    counterCaption: "反事实参数量（实际构建并统计，而非估算）",
    chartTitle: "参数都在哪里",
    roleReduction: "3×3 / 5×5 之前的降维",
    roleBranch: "1×1 分支",
    roleProjection: "池化投影",
    roleStem: "主干中的 1×1",
    colRole: "作用",
    colShare: "占全部参数",
    colConvK: "k×k 卷积",
    colConv1: "1×1 卷积",
    colDenseShare: "全连接占比",
    colGap: "全局平均池化",
    colCounterfactual: "反事实",
    colActual: "实际",
    colTimes: "倍数",
    colEpoch1: "第 1 轮后的测试准确率",
    cfNoReductions: "去掉 1×1 降维的 GoogLeNet（3×3 与 5×5 直接作用于全部输入通道）",
    cfDenseHead: (model: string) => `使用 AlexNet 分类器的 ${model}（展平 → 4096 → 4096 → 10）`,
    gapCaption: "全局平均池化与全连接头：同一个 ReLU LeNet，相同训练配方",
    gapCurves: "学习曲线：GAP 头与全连接头",
    dense: (alex: string, vgg: string, nin: string, goog: string) =>
      `全连接层占 AlexNet 参数的 ${alex}、VGG-11 的 ${vgg}；NiN 为 ${nin}，GoogLeNet 为 ${goog}：差别在分类器，而不在卷积层。`,
    oneByOne: (reduce: string, without: string, withIt: string) =>
      `在 GoogLeNet 中，位于 3×3 与 5×5 分支之前起降维作用的 1×1 卷积占参数的 ${reduce}；如果没有它们（3×3 和 5×5 直接作用于全部输入通道），参数量将是 ${without}，而不是 ${withIt}。`,
    macs: (nin: string, alex: string, gp: string, gm: string) =>
      `参数少不等于计算少：NiN 每张图像需要 ${nin} 次乘加，AlexNet 为 ${alex}，因为其 1×1 层在大特征图的每个位置上都要计算；GoogLeNet 的参数量是 AlexNet 的 ${gp}，乘加次数却是其 ${gm}。`,
    gapSlower: (e1g: string, e1d: string, c1: Comparison, fg: string, fd: string, cf: Comparison) =>
      `全局平均池化会减慢训练吗？在 ReLU LeNet 上，训练一轮后 GAP 头达到 ${e1g}，全连接头为 ${e1d}（${zh.diff(c1)}，${
        zh.verdict(c1)
      }）；训练结束时为 ${fg} 对 ${fd}（${zh.diff(cf)}，${zh.verdict(cf)}）。`,
    gapYes: "在这里确实如此：GAP 头起步落后，到最后赶了上来。",
    gapWorse: "GAP 头到最后仍然落后：在此预算下它是更弱的分类器，这不只是训练更慢。",
    gapNo: "在这里它没有可测地减慢训练。",
    gapFaster: "在这里 GAP 头反而学得更快。",
  },
  q3b: {
    title: "问题 3b — GoogLeNet 及其后续版本",
    tableCaption: (width: string, input: number, epochs: number) =>
      `统一宽度（${width}）与输入尺寸（${input}×${input}）下的 Inception 系列，各训练 ${epochs} 轮；ResNet-18 作为参照`,
    seedsCaption: "按种子列出（因为种子之间结论不一致或有运行被排除）",
    curvesTitle: "学习曲线：批量归一化能加快早期训练吗？",
    changed: {
      "q3b/googlenet": "基线：Inception 模块，无批量归一化",
      "q3b/bn-inception": "每个卷积后加批量归一化；5×5 换成两个 3×3",
      "q3b/inception-v3": "分解的 n×n 卷积、高效的网格缩减",
      "q3b/inception-resnet": "在 Inception 块外加残差连接",
      "q3b/resnet18": "普通残差块（参照）",
    } as Record<string, string>,
    colChanged: "改动",
    overview: (items: string[], width: string, input: number, epochs: number) =>
      `在相同宽度（${width}）、相同输入尺寸（${input} 像素）和 ${epochs} 轮训练下：${items.join("；")}。`,
    beat: (labels: string[]) => `${zhList(labels)}超过 GoogLeNet，且超出 95% 区间。`,
    noneBeat: "在此训练预算下，没有模型以超出 95% 区间的幅度超过 GoogLeNet。",
    behind: (labels: string[]) => `${zhList(labels)}落后于它且超出区间。`,
    chartTitle: "相同宽度与输入尺寸下的最终测试准确率",
    bnEarly: (bn: string, g: string, c: Comparison) =>
      `训练一轮后 BN-Inception 达到 ${bn}，GoogLeNet 为 ${g}：${zh.diff(c)}，${zh.verdict(c)}${
        c.significant && c.delta > 0 ? "——在这里批量归一化加快了早期训练" : ""
      }。`,
  },
};
