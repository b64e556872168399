/**
 * Figures of the original submission (`shared/seed`, restated in `shared/assignment/BRIEF.md`),
 * quoted so that our measurements can stand beside them, always labelled "reported".
 * They were measured on one GPU at input 224 (1b) or 224/96 (2b); they are not ours.
 */
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

export const REPORTED_2B = [
  { inputSize: 224, trainSeconds: 96.7, testAcc: 0.911, experiment: "q2b/vgg11-r8@224" },
  { inputSize: 96, trainSeconds: 25.5, testAcc: 0.912, experiment: "q2b/vgg11-r8@96" },
];

export const REPORTED_SOURCE = "reported by the original submission (one GPU, PyTorch)";
