/**
 * Backend 'native': tfjs's pure-JS cpu backend with its hot kernels replaced by calls into
 * cnnlab's oneDNN library (lib/backend/native/cnnlab_native.cpp) through Deno FFI.
 *
 * Tensor data stays in JS Float32Arrays (the cpu backend's storage), which FFI passes by
 * pointer without copying; so there is no 4 GiB wasm heap limit and every kernel the
 * library lacks still works (the cpu implementation runs). Replaced: Conv2D, FusedConv2D,
 * Conv2DBackpropInput/Filter, BatchMatMul, _FusedMatMul, MaxPool(+Grad), AvgPool(+Grad),
 * FusedBatchNorm, PadV2, SplitV, Concat, Tile, the element-wise ops a training step uses
 * (any broadcast), Sum/Mean over one run of contiguous axes, AddN, and a fused Adam update
 * (in place, or kernel `CnnlabAdam`; used by FusedAdam in optim.ts). Added kernels for the
 * fused training path: `CnnlabActivationBackprop` (lib/ops/fused_conv.ts) and the batch-norm
 * training pair `CnnlabBatchNormTrain`/`CnnlabBatchNormGrad` (lib/ops/batch_norm.ts). Small
 * tensors stay in JS: below ~2k elements an FFI round trip is not worth it.
 *
 * The pieces, under native/: ffi.ts (symbols, loading, settings), codes.ts (op codes and
 * parameter orders shared with the C++), buffers.ts (the output pool), backend.ts (the
 * backend class and kernel helpers), kernels/*.ts (one file per family, each a list of
 * `{kernelName, kernelFunc}`), precision_plan.ts (bf16 per layer), register.ts. This module
 * is their public face.
 */
export {
  isaHasBf16,
  NATIVE,
  NativeError,
  nativeSettings,
  parsePrecision,
  type Precision,
  PRECISIONS,
  setNativePrecision,
  setNativeThreads,
  setNativeVerbose,
} from "./native/ffi.ts";
export { freshBufferCount, pooledMegabytes } from "./native/buffers.ts";
export { NativeBackend } from "./native/backend.ts";
export { broadcastPlan } from "./native/kernels/elementwise.ts";
export { ADAM_KERNEL, adamInPlace } from "./native/kernels/adam.ts";
export {
  bf16Flag,
  choosePlan,
  compareLayer,
  convKey,
  type LayerPlan,
  type LayerPlanSummary,
  type LayerTime,
  LayerTimings,
  makeLayerPlan,
  matmulKey,
  planSummary,
  recordLayers,
  type SeenLayer,
  setLayerPlan,
} from "./native/precision_plan.ts";
export { NATIVE_KERNELS, prepareNative, registerNative, releaseNativeMemory } from "./native/register.ts";
