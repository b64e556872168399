/**
 * Question 1a — LeNet vs AlexNet: four angles with sources, the structure from the zoo, one
 * ablation per claimed difference on LeNet, the training method under three optimisers, and
 * learning curves that tell under-fitting from regularisation.
 */
import type { RunRecord } from "../exp/store.ts";
import { buildModel } from "../models/registry.ts";
import { summarize } from "../models/inspect.ts";
import { showHtml } from "./display.ts";
import { acc, fixed, type Lang, type Messages, points, ratio, thousandsOf, withHalf } from "./i18n.ts";
import { TRAIN_EVAL_PER_CLASS } from "../data/fashion_mnist.ts";
import type { PageContext } from "./shared.ts";
import { referenceRuns } from "../exp/records.ts";
import { experiment, questionExperiments } from "../exp/experiments.ts";
import { esc, tableHtml } from "./render.ts";
import {
  accOf,
  accuracyChartHtml,
  byName,
  curvePoints,
  curvesHtml,
  deltaCell,
  exclusions,
  seedRows,
  showAnswer,
  summaries,
  underTrainedSentence,
  versus,
} from "./shared.ts";
import type { Comparison, Summary } from "./analysis.ts";

/** The ablations: sigmoid LeNet, ReLU LeNet, then each AlexNet ingredient added alone to ReLU LeNet, then all. */
/** The training method: ReLU LeNet under plain SGD, SGD with AlexNet's momentum and weight decay (and Adam = q1a/relu); sigmoid LeNet under plain SGD (crossed with Adam = q1a/lenet). */
export const Q1A_OPTIM = ["q1a/sgd", "q1a/momentum", "q1a/sigmoid-sgd"];
/** Every Q1a experiment, in the registry's order (lib/exp/experiments.ts). */
export const Q1A_ALL: string[] = questionExperiments("1a").map((e) => e.name);
export const Q1A: string[] = Q1A_ALL.filter((n) => !Q1A_OPTIM.includes(n));

const INGREDIENTS = Q1A.slice(2, 7);

/** The comparisons the answer rests on, as [baseline, variant]: ReLU vs sigmoid, each ingredient, all of them, the optimisers. */
const COMPARISONS: [string, string][] = [
  ["q1a/lenet", "q1a/relu"],
  ...INGREDIENTS.map((n): [string, string] => ["q1a/relu", n]),
  ["q1a/relu", "q1a/alexnet-style"],
  ["q1a/relu", "q1a/sgd"],
  ["q1a/relu", "q1a/momentum"],
  ["q1a/sigmoid-sgd", "q1a/sgd"],
];

type Verdict = "better" | "worse" | "same";
const verdictOf = (c: { significant: boolean | null; delta: number }): Verdict | null =>
  c.significant === null ? null : !c.significant ? "same" : c.delta > 0 ? "better" : "worse";

/** The reference runs (full preset: all 60,000 images, the textbook's 10 epochs) this page sets before its own. */
export function q1aReferenceRuns(ctx: PageContext): Promise<RunRecord[]> {
  return referenceRuns(ctx.records, Q1A_ALL);
}

/**
 * The verdict at scale, first: ReLU against sigmoid and the largest ingredient effect in the
 * reference runs, with their intervals; then which of this preset's verdicts hold there and
 * which change (the reference holds where they differ: same designs, more data and epochs).
 * Nothing when the reference lacks the sigmoid or the ReLU baseline.
 */
export function q1aReferenceSentences(m: Messages, runs: RunRecord[], reference: RunRecord[], lang: Lang): string[] {
  const ref = summaries(reference, Q1A_ALL, lang), lap = summaries(runs, Q1A_ALL, lang);
  const r = byName(ref), l = byName(lap);
  const base = r.get("q1a/lenet"), relu = r.get("q1a/relu");
  if (!base?.n || !relu?.n) return [];
  const effects = INGREDIENTS.flatMap((n) => {
    const x = r.get(n);
    return x?.n ? [{ x, c: versus(relu, x, ref) }] : [];
  }).filter((e) => e.c.significant).sort((a, b) => Math.abs(b.c.delta) - Math.abs(a.c.delta));
  const seeds = Math.min(...ref.filter((x) => x.n).map((x) => x.n));
  const images = thousandsOf(relu.trainImages);
  const out = [
    m.q1a.refLead(
      images,
      relu.epochs,
      seeds,
      m.diff(versus(base, relu, ref)),
      effects[0] ? `“${effects[0].x.label}” ${m.diff(effects[0].c)}` : null,
    ),
  ];
  const held: string[] = [], changed: string[] = [];
  for (const [a, b] of COMPARISONS) {
    const ra = r.get(a), rb = r.get(b), la = l.get(a), lb = l.get(b);
    if (!ra?.n || !rb?.n || !la?.n || !lb?.n) continue;
    const vr = verdictOf(versus(ra, rb, ref)), vl = verdictOf(versus(la, lb, lap));
    if (!vr || !vl) continue;
    if (vr === vl) held.push(rb.label);
    else changed.push(m.q1a.changed(rb.label, m.q1a.verdictWord(vl), m.q1a.verdictWord(vr)));
  }
  if (held.length + changed.length) out.push(m.q1a.refVerdicts(held.length, held.length + changed.length, changed));
  return out;
}

/** The answer's sentences, generated from the records; each carries the condition it depends on. */
export function q1aAnswer(m: Messages, runs: RunRecord[], lang: Lang, reference: RunRecord[] = []): string[] {
  const page = summaries(runs, Q1A_ALL, lang);
  const s = byName(page);
  const base = s.get("q1a/lenet"), relu = s.get("q1a/relu");
  if (!base?.n || !relu?.n) return [m.missingRuns];
  const out: string[] = [];
  const cRelu = versus(base, relu, page);
  out.push(m.q1a.relu(acc(base.testAcc), acc(relu.testAcc), relu.epochs, cRelu));
  const effects = INGREDIENTS.flatMap((n) => {
    const x = s.get(n);
    return x?.n ? [{ x, c: versus(relu, x, page) }] : [];
  });
  // The largest effect among ReLU, each ingredient and the optimiser (Adam against plain SGD, both on
  // ReLU LeNet); called the largest only when its interval clears the runner-up's, else a tie.
  const sgd = s.get("q1a/sgd"), mom = s.get("q1a/momentum");
  const optimEffect = sgd?.n ? [{ x: relu, c: versus(sgd, relu, page), label: m.q1a.adamEffect }] : [];
  const real = [
    { x: relu, c: cRelu, label: relu.label },
    ...effects.map((e) => ({ ...e, label: e.x.label })),
    ...optimEffect,
  ]
    .filter((e) => e.c.significant).sort((a, b) => Math.abs(b.c.delta) - Math.abs(a.c.delta));
  const [first, second] = real;
  const low = (c: Comparison) => Math.min(Math.abs(c.lo), Math.abs(c.hi)),
    high = (c: Comparison) => Math.max(Math.abs(c.lo), Math.abs(c.hi));
  if (first && second && low(first.c) <= high(second.c)) {
    out.push(m.q1a.largestTie(first.label, points(first.c.delta), second.label, points(second.c.delta)));
  } else if (first) out.push(first.c === cRelu ? m.q1a.largest : m.q1a.notLargest(first.label));
  const helped = effects.filter((e) => e.c.significant && e.c.delta > 0).map((e) => e.x.label);
  const hurt = effects.filter((e) => e.c.significant && e.c.delta < 0).map((e) => e.x.label);
  out.push(helped.length ? m.q1a.helped(helped) : m.q1a.noneHelped);
  if (hurt.length) out.push(m.q1a.hurt(hurt));
  const all = s.get("q1a/alexnet-style");
  if (all?.n) {
    // The reference's runs of the same two networks (10 epochs), where stored: both sentences read them.
    const ref = byName(summaries(reference, ["q1a/relu", "q1a/alexnet-style"], lang));
    out.push(...allSentences(m, all, relu, page, ref));
    out.push(imageNetSentence(m, all, relu, page, ref) ?? "");
  }
  const crossed = crossing(m, s, page);
  if (crossed) out.push(crossed);
  if (sgd?.n && mom?.n) {
    out.push(m.q1a.optim(accOf(sgd), accOf(mom), accOf(relu), versus(sgd, mom, page), versus(sgd, relu, page)));
  }
  // Each against its own bar: the sigmoid LeNets against d2l's sigmoid LeNet, the ReLU ones against a ReLU LeNet's.
  const sigmoid = ["q1a/lenet", "q1a/sigmoid-sgd"];
  const sigmoids = page.filter((x) => sigmoid.includes(x.experiment));
  const relus = page.filter((x) => !sigmoid.includes(x.experiment) && x.experiment !== "q1a/sgd");
  out.push(underTrainedSentence(m, sigmoids, "lenet") ?? "", underTrainedSentence(m, relus, "reluLenet") ?? "");
  out.push(exclusions(m, page));
  return out.filter(Boolean);
}

/**
 * Why "all of the above" scores where it does, from the inference-mode train accuracy (on a fixed
 * subset of the training images): below ReLU LeNet's train accuracy too → held down (by the
 * regularisers it adds, or too few epochs: the reference's longer runs, where stored, tell which);
 * a larger train − test gap → over-fitting; otherwise the comparison alone.
 */
function allSentences(
  m: Messages,
  all: Summary,
  relu: Summary,
  page: Summary[],
  ref: Map<string, Summary>,
): string[] {
  const c = versus(relu, all, page);
  if (c.significant && c.delta < 0) {
    if (Number.isFinite(all.trainAcc) && all.trainAcc < relu.trainAcc - 0.005) {
      // The combination's own learning rate, where its recipe differs from ReLU LeNet's (a second change).
      const held = m.q1a.allHeldDown(
        acc(all.testAcc),
        acc(relu.testAcc),
        acc(all.trainAcc),
        acc(relu.trainAcc),
        thousandsOf(TRAIN_EVAL_PER_CLASS * 10),
        experiment(all.experiment).optim.lr,
        experiment(relu.experiment).optim.lr,
      );
      // More epochs: the reference's runs of the same two networks, where stored, test it.
      const rr = ref.get("q1a/relu"), ra = ref.get("q1a/alexnet-style");
      if (!rr?.n || !ra?.n || ra.epochs <= all.epochs) return [held, m.q1a.allEpochsUntested];
      const rc = versus(rr, ra, [...ref.values()]);
      return [
        held,
        m.q1a.allMoreEpochs(ra.epochs, acc(ra.testAcc), acc(rr.testAcc), rc, acc(ra.trainAcc), acc(rr.trainAcc)),
      ];
    }
    if (Number.isFinite(all.gap) && all.gap > relu.gap + 0.005) {
      return [m.q1a.allOverfit(acc(all.testAcc), acc(relu.testAcc), acc(all.gap), acc(relu.gap))];
    }
  }
  return [
    c.significant && c.delta > 0
      ? m.q1a.allBetter(acc(all.testAcc), acc(relu.testAcc), c)
      : m.q1a.allSame(acc(all.testAcc), acc(relu.testAcc), c),
  ];
}

/**
 * Why AlexNet wins on ImageNet but its ingredients together do not beat ReLU LeNet here: said only
 * where, at the largest scale stored (the reference runs, else this preset), "all of the above" is not
 * significantly better than ReLU LeNet; with both networks' train accuracy, which shows whether the
 * small network already fits these images.
 */
function imageNetSentence(
  m: Messages,
  all: Summary,
  relu: Summary,
  page: Summary[],
  ref: Map<string, Summary>,
): string | null {
  const [a, r, pool] = ref.get("q1a/alexnet-style")?.n && ref.get("q1a/relu")?.n
    ? [ref.get("q1a/alexnet-style")!, ref.get("q1a/relu")!, [...ref.values()]]
    : [all, relu, page];
  const c = versus(r, a, pool);
  if (c.significant !== false && !(c.significant && c.delta < 0)) return null;
  return m.q1a.imageNet(
    r.epochs,
    acc(a.testAcc),
    acc(r.testAcc),
    m.diff(c),
    acc(r.trainAcc),
    thousandsOf(r.trainImages),
  );
}

/**
 * Activation × optimiser, crossed: ReLU's gain over sigmoid under Adam (q1a/lenet → q1a/relu) and
 * under plain SGD (q1a/sigmoid-sgd → q1a/sgd), each with its interval; null until both pairs ran.
 */
function crossing(m: Messages, s: Map<string, Summary>, page: Summary[]): string | null {
  const sa = s.get("q1a/lenet"), ra = s.get("q1a/relu"), ss = s.get("q1a/sigmoid-sgd"), rs = s.get("q1a/sgd");
  if (!sa?.n || !ra?.n || !ss?.n || !rs?.n) return null;
  const adam = versus(sa, ra, page), sgd = versus(ss, rs, page);
  // The two gains differ when their intervals do not overlap.
  const differ = adam.significant !== null && sgd.significant !== null && (adam.lo > sgd.hi || sgd.lo > adam.hi);
  return m.q1a.crossed(acc(ss.testAcc), acc(rs.testAcc), sgd, acc(sa.testAcc), acc(ra.testAcc), adam, differ);
}

export async function q1aAnswerBlock(ctx: PageContext, runs: RunRecord[], reference: RunRecord[] = []): Promise<void> {
  const lead = q1aReferenceSentences(ctx.m, runs, reference, ctx.lang);
  await showAnswer(ctx.m, [
    ...lead,
    ...(lead.length ? [ctx.m.q1a.replication] : []),
    ...q1aAnswer(ctx.m, runs, ctx.lang, reference),
  ]);
}

/** The four angles, with sources and what measures each. */
export async function q1aAngles(ctx: PageContext): Promise<void> {
  const m = ctx.m;
  await showHtml(
    tableHtml(m.q1a.angles.map(([angle, lit, measured]) => ({ angle, lit, measured })), [
      { label: m.colAngle, cell: (r) => String(r.angle), numeric: false },
      { label: "LeNet · AlexNet", cell: (r) => String(r.lit), numeric: false },
      { label: m.colMeasured, cell: (r) => String(r.measured), numeric: false },
    ], m.q1a.anglesCaption) + `<p class="sources">${esc(m.q1a.sources)}</p>`,
    m.q1a.anglesCaption,
  );
}

/** LeNet vs AlexNet structure, measured from the zoo at their usual input sizes. */
export async function q1aStructure(ctx: PageContext): Promise<void> {
  const m = ctx.m;
  const rows = [["LeNet", "lenet"], ["AlexNet", "alexnet"]].map(([label, name]) => {
    const model = buildModel(name);
    const s = summarize(model);
    const convs = s.layers.filter((l) => l.type === "Conv2D");
    const row = {
      model: label,
      input: `${s.inputSize}×${s.inputSize}`,
      convs: convs.length,
      channels: convs.map((l) => l.outputShape[2]).join("-"),
      dense: s.layers.filter((l) => l.type === "Dense").length,
      params: s.trainable,
      macs: s.macs,
    };
    model.dispose();
    return row;
  });
  const [l, a] = rows;
  await showHtml(
    tableHtml(rows, [
      { label: m.model, cell: (r) => String(r.model), numeric: false, code: true },
      { label: m.input, cell: (r) => String(r.input), numeric: true },
      { label: m.colConv, cell: (r) => String(r.convs), numeric: true },
      { label: m.colChannels, cell: (r) => String(r.channels), numeric: false },
      { label: m.colDense, cell: (r) => String(r.dense), numeric: true },
      { label: m.colParams, cell: (r) => thousandsOf(Number(r.params)), numeric: true },
      { label: m.colMacs, cell: (r) => thousandsOf(Number(r.macs)), numeric: true },
    ], m.q1a.structureCaption) +
      `<p>${
        esc(
          m.q1a.structureSentence(
            a.convs - l.convs,
            ratio(a.params / l.params),
            ratio(a.macs / l.macs),
            `${a.input} / ${l.input}`,
          ),
        )
      }</p>`,
    m.q1a.structureCaption,
  );
}

/** The ablation table (no provenance columns: those are in Settings), the chart and the curves. */
export async function q1aEvidence(ctx: PageContext, runs: RunRecord[], reference: RunRecord[] = []): Promise<void> {
  const m = ctx.m;
  const page = summaries(runs, Q1A_ALL, ctx.lang);
  const s = byName(page);
  const refPage = summaries(reference, Q1A_ALL, ctx.lang);
  const ref = byName(refPage);
  const relu = s.get("q1a/relu");
  // In the optimiser tables the Adam runs are named by their optimiser (their labels name the ablation).
  const adamLabels: Record<string, string> = { "q1a/relu": m.q1a.reluAdam, "q1a/lenet": m.q1a.sigmoidAdam };
  const table = (names: string[], vs: Summary | undefined, caption: string, labels: Record<string, string> = {}) =>
    tableHtml<Summary>(names.flatMap((n) => s.get(n) ?? []), [
      { label: m.experiment, cell: (x) => labels[x.experiment] ?? x.label, numeric: false },
      { label: m.colTestAcc, cell: (x) => withHalf(x.testAcc, x.testAccHalf), numeric: true },
      {
        label: m.colDelta(vs ? labels[vs.experiment] ?? vs.label : ""),
        cell: (x) => (vs && x !== vs ? deltaCell(versus(vs, x, page)) : ""),
        numeric: true,
      },
      { label: m.colTrainAcc, cell: (x) => acc(x.trainAcc), numeric: true },
      { label: m.colGap, cell: (x) => acc(x.gap), numeric: true },
      { label: m.colSecondsPerEpoch, cell: (x) => fixed(x.secondsPerEpoch), numeric: true },
      ...(names.some((n) => ref.get(n)?.n)
        ? [
          { label: m.q1a.colReference, cell: (x: Summary) => accOf(ref.get(x.experiment)), numeric: true },
          {
            label: m.q1a.colReferenceDelta,
            cell: (x: Summary) => {
              const a = vs && ref.get(vs.experiment), b = ref.get(x.experiment);
              return a && b && a !== b ? deltaCell(versus(a, b, refPage)) : "";
            },
            numeric: true,
          },
        ]
        : []),
    ], caption);
  const seeds = seedRows(page, runs);
  await showHtml(
    table(Q1A, relu, m.q1a.ablationsCaption) +
      accuracyChartHtml(m, Q1A.flatMap((n) => s.get(n) ?? []), m.q1a.ablationsCaption) +
      curvesHtml(
        m,
        curvePoints(m, runs, ["q1a/lenet", "q1a/relu", "q1a/dropout", "q1a/alexnet-style"], ctx.lang),
        m.q1a.curvesTitle,
      ) +
      table(["q1a/sgd", "q1a/momentum", "q1a/relu"], s.get("q1a/sgd"), m.q1a.optimCaption, adamLabels) +
      table(
        ["q1a/sigmoid-sgd", "q1a/sgd", "q1a/lenet", "q1a/relu"],
        s.get("q1a/sigmoid-sgd"),
        m.q1a.crossCaption,
        adamLabels,
      ) +
      (seeds.length
        ? tableHtml(seeds, [
          { label: m.experiment, cell: (r) => String(r.label), numeric: false },
          { label: m.colSeed, cell: (r) => String(r.seed), numeric: true },
          { label: m.colStatus, cell: (r) => m.status(String(r.status)), numeric: false },
          { label: m.colTestAcc, cell: (r) => acc(Number(r.testAcc)), numeric: true },
        ])
        : ""),
    m.q1a.ablationsCaption,
  );
}
