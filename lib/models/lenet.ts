/**
 * LeNet-5 as in d2l (Fashion-MNIST version): conv 6@5×5 pad 2 → act → pool 2 →
 * conv 16@5×5 → act → pool 2 → dense 120 → 84 → 10.
 * Options for question 1a's ablations: activation, pooling, batch norm, dropout.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Activation,
  ACTIVATIONS,
  Builder,
  checkChoice,
  checkInputSize,
  outSide,
  type Pooling,
  POOLINGS,
} from "./common.ts";

export interface LeNetOptions {
  inputSize?: number;
  activation?: Activation;
  pooling?: Pooling;
  /** BN after every conv and hidden dense layer (BN-LeNet, d2l 8.5). */
  batchNorm?: boolean;
  /** Dropout rate after each hidden dense layer (0 = none). */
  dropout?: number;
  seed?: number;
}

export const LENET_DEFAULT_SIZE = 28;

export function lenetFits(n: number): boolean {
  const a = Math.floor(n / 2); // conv1 keeps the size (pad 2), pool halves
  const b = outSide(a, 5);
  return b >= 2 && Math.floor(b / 2) >= 1;
}

export function lenet(opts: LeNetOptions = {}): tf.LayersModel {
  const size = opts.inputSize ?? LENET_DEFAULT_SIZE;
  checkInputSize("LeNet", size, lenetFits);
  const act = checkChoice("activation", opts.activation ?? "sigmoid", ACTIVATIONS);
  const pool = checkChoice("pooling", opts.pooling ?? "avg", POOLINGS);
  const bn = opts.batchNorm ?? false;
  const drop = opts.dropout ?? 0;
  const b = new Builder(opts.seed ?? 0);
  const input = tf.input({ shape: [size, size, 1], name: "input" });
  let x = input as tf.SymbolicTensor;
  const convBlock = (filters: number, padding: "same" | "valid", block: string) => {
    x = b.conv(filters, 5, { padding, activation: bn ? "linear" : act, name: `${block}_conv` }).apply(
      x,
    ) as tf.SymbolicTensor;
    if (bn) {
      x = b.batchNorm(`${block}_bn`).apply(x) as tf.SymbolicTensor;
      x = tf.layers.activation({ activation: act, name: `${block}_act` }).apply(x) as tf.SymbolicTensor;
    }
    x = b.pool(pool, 2, 2, "valid", `${block}_pool`).apply(x) as tf.SymbolicTensor;
  };
  convBlock(6, "same", "block1");
  convBlock(16, "valid", "block2");
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  for (const [i, units] of [[1, 120], [2, 84]] as const) {
    x = b.dense(units, bn ? "linear" : act, `fc${i}`).apply(x) as tf.SymbolicTensor;
    if (bn) {
      x = b.batchNorm(`fc${i}_bn`).apply(x) as tf.SymbolicTensor;
      x = tf.layers.activation({ activation: act, name: `fc${i}_act` }).apply(x) as tf.SymbolicTensor;
    }
    if (drop > 0) x = b.dropout(drop, `fc${i}_dropout`).apply(x) as tf.SymbolicTensor;
  }
  const out = b.dense(10, "linear", "output").apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "lenet" });
}
