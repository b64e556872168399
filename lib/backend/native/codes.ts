/**
 * The contract between the TypeScript kernels and cnnlab_native.cpp, defined here only: op
 * codes (activations, element-wise ops) and the order of each integer parameter block.
 * `deno task setup` writes them as C++ enums to build/native/cnnlab_codes.h, which the
 * library includes (and whose text is part of the library's source hash), so the two sides
 * cannot drift apart.
 */

/** Activations applied as oneDNN post-ops (conv, matmul) and by the unary kernels. C++: enum Act, A_<NAME>. */
export const ACT = { linear: 0, relu: 1, sigmoid: 2, elu: 3, relu6: 4, leakyrelu: 5 } as const;

/** cn_unary codes, by tfjs kernel name. C++: enum Unary, U_<NAME>. */
export const UNARY = {
  Relu: 0,
  Sigmoid: 1,
  Exp: 2,
  Log: 3,
  Sqrt: 4,
  Rsqrt: 5,
  Square: 6,
  Neg: 7,
  Step: 8,
  Abs: 9,
  Tanh: 10,
  Reciprocal: 11,
  Relu6: 12,
  Elu: 13,
  LeakyRelu: 14,
} as const;

/**
 * cn_binary codes: tfjs's element-wise binary kernels, then the activation gradients from
 * (dy, y) (ReLU's mask, sigmoid's dy·y(1 − y)). C++: enum Binary, B_<NAME>.
 */
export const BINARY = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
  ReluBackprop: 7,
  SigmoidBackprop: 8,
} as const;

/** cn_pool_fwd's kind. C++: enum PoolKind, POOL_<NAME>. */
export const POOL = { max: 0, avg: 1 } as const;

/**
 * Integer parameter blocks, in the order the C++ reads them (C++: an anonymous enum of these
 * names, then N<BLOCK> = their count). Convolution: batch, input H W, channels in/out, kernel,
 * strides, dilations (1 = none), padding top/left/bottom/right, output H W, activation, bf16.
 */
export const CONV_PARAMS = [
  "N_",
  "H_",
  "W_",
  "CI",
  "CO",
  "KH",
  "KW",
  "SH",
  "SW",
  "DH",
  "DW",
  "PT",
  "PL",
  "PB",
  "PR",
  "OH",
  "OW",
  "ACT",
  "BF16",
] as const;
/** Matmul: C[b] = op(A[b]) × op(B[b]): batches of A and B, M K N, transposes, activation, bf16. */
export const MATMUL_PARAMS = ["MBA", "MBB", "MM", "MK", "MN", "MTA", "MTB", "MACT", "MBF16"] as const;
/** Pooling (NHWC): batch, input H W C, window, strides, padding top/left, output H W. */
export const POOL_PARAMS = ["PN", "PH", "PW", "PC", "PKH", "PKW", "PSH", "PSW", "PPT", "PPL", "POH", "POW"] as const;

/** An Int32Array of a parameter block, its values given by name (a missing one is an error). */
export function pack<N extends string>(names: readonly N[], values: Record<N, number>): Int32Array {
  return Int32Array.from(names, (n) => {
    const v = values[n];
    if (!Number.isInteger(v)) throw new Error(`native parameter ${n} must be an integer, got ${v}`);
    return v;
  });
}

const cName = (s: string) => s.replace(/[^A-Za-z0-9]/g, "").toUpperCase();

function codeEnum(name: string, prefix: string, codes: Record<string, number>): string {
  const items = Object.entries(codes).map(([k, v]) => `  ${prefix}${cName(k)} = ${v},`);
  return `enum ${name} {\n${items.join("\n")}\n};`;
}

function paramEnum(count: string, names: readonly string[]): string {
  return `enum {\n${names.map((n, i) => `  ${n} = ${i},`).join("\n")}\n  ${count} = ${names.length}\n};`;
}

/** The C++ header the library is compiled with. */
export function cppHeader(): string {
  return [
    "// Generated from lib/backend/native/codes.ts by deno task setup. Do not edit.",
    "#pragma once",
    codeEnum("Act", "A_", ACT),
    codeEnum("Unary", "U_", UNARY),
    codeEnum("Binary", "B_", BINARY),
    codeEnum("PoolKind", "POOL_", POOL),
    paramEnum("NCONV", CONV_PARAMS),
    paramEnum("NMM", MATMUL_PARAMS),
    paramEnum("NPOOL", POOL_PARAMS),
    "",
  ].join("\n");
}
