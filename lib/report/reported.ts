/**
 * Figures of the original submission (`shared/seed`, restated in `shared/assignment/BRIEF.md`),
 * quoted so that our measurements can stand beside them, always labelled "reported".
 * They were measured on one GPU at input 224 (1b) or 224/96 (2b); they are not ours.
 */
/** The original submission trained every ladder step for 3 epochs (its step 1: "3 epochs"). */
export const REPORTED_1B_EPOCHS = 3;

export const REPORTED_1B = [
  {
    step: 1,
    what: "output layer 1000 → 10 classes, 3 epochs",
    trainSeconds: 265.6,
    testAcc: 0.863,
    experiment: "q1b/alexnet",
  },
  {
    step: 2,
    what: "remove the 4096 → 4096 dense layer",
    trainSeconds: 213.5,
    testAcc: 0.887,
    experiment: "q1b/drop-fc2",
  },
  { step: 3, what: "remove the 384 → 384 conv", trainSeconds: 190.9, testAcc: 0.886, experiment: "q1b/drop-conv4" },
  { step: 4, what: "learning rate 0.001 → 0.004", trainSeconds: 80.0, testAcc: 0.89, experiment: "q1b/lr-0.004" },
  { step: 5, what: "learning rate 0.004 → 0.002", trainSeconds: 80.3, testAcc: 0.908, experiment: "q1b/lr-0.002" },
];

/** The original submission trained VGG-11/8 for 5 epochs at each size. */
export const REPORTED_2B_EPOCHS = 5;

export const REPORTED_2B = [
  { inputSize: 224, trainSeconds: 96.7, testAcc: 0.911, experiment: "q2b/vgg11-r8@224" },
  { inputSize: 96, trainSeconds: 25.5, testAcc: 0.912, experiment: "q2b/vgg11-r8@96" },
];

export const REPORTED_SOURCE = "reported by the original submission (one GPU, PyTorch)";

/**
 * Where Inception v3's paper (Szegedy et al. 2016, "Rethinking the Inception Architecture", §3.2)
 * found its n×1 factorisation to work: on medium grids, m×m with m between 12 and 20.
 */
export const V3_FACTORISATION_GRID = { min: 12, max: 20 } as const;

/**
 * The course textbook's accuracies on full Fashion-MNIST (Dive into Deep Learning, d2l, 10
 * epochs), the bar a default report should reach: a page whose numbers are clearly below says
 * that it measures under-training. ReLU LeNet's 0.89 is not d2l's (its LeNet is sigmoid) but what
 * a ReLU LeNet reaches with a schedule on the full data.
 */
export const TEXTBOOK = {
  lenet: { acc: 0.82, source: { en: "d2l's sigmoid LeNet", zh: "d2l 的 sigmoid LeNet" } },
  reluLenet: { acc: 0.89, source: { en: "a ReLU LeNet on the full data", zh: "在完整数据上训练的 ReLU LeNet" } },
  alexnet: { acc: 0.88, source: { en: "d2l's AlexNet", zh: "d2l 的 AlexNet" } },
  vgg: { acc: 0.92, source: { en: "d2l's VGG", zh: "d2l 的 VGG" } },
  googlenet: { acc: 0.89, source: { en: "d2l's GoogLeNet", zh: "d2l 的 GoogLeNet" } },
  resnet: { acc: 0.89, source: { en: "d2l's ResNet-18", zh: "d2l 的 ResNet-18" } },
} as const;
