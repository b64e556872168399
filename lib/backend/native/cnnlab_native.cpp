// cnnlab's native CPU kernels: oneDNN convolutions and matmuls plus OpenMP loops for
// pooling, element-wise ops (any broadcast), reductions, batch norm (inference and the training
// pair with its gradient) and a fused Adam update.
// Loaded by lib/backend/native/ffi.ts with Deno.dlopen; built by `deno task setup` (with the op codes and
// parameter orders of lib/backend/native/codes.ts written to cnnlab_codes.h).
//
// Conventions (all calls are synchronous and serialised by the single JS thread):
// - Tensors are plain row-major float32 buffers owned by the caller (NHWC activations,
//   HWIO filters, [batch, rows, cols] matrices); the library never keeps a pointer.
// - Integer parameters arrive in one int32 array; every entry returns 0 on success or -1
//   with a message retrievable by cn_error (copied into the caller's buffer: reading a
//   returned char* would need unscoped --allow-ffi).
// - oneDNN primitives are created with scratchpad_mode::user, cached by (shape, threads,
//   precision). On AVX2, convolutions take fp32 activations in NHWC as they are (act_tag);
//   otherwise, and for weights, format_tag::any (blocked layouts), with the user's
//   NHWC/HWIO data reordered in and out around each call. The thread count is re-applied
//   on every entry because omp_set_num_threads is per OS thread.
#include <dnnl.hpp>
#include <omp.h>

#include "cnnlab_codes.h"  // op codes and parameter orders, generated from codes.ts

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

std::string g_error;
int g_threads = 1;
engine& eng() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
stream& strm() {
  static stream s(eng());
  return s;
}

// One scratchpad shared by every primitive (calls are serialised).
std::vector<uint8_t> g_scratch;
void* scratch(size_t bytes) {
  if (g_scratch.size() < bytes) g_scratch.resize(bytes + 64);
  return g_scratch.data();
}

primitive_attr user_scratch_attr() {
  primitive_attr a;
  a.set_scratchpad_mode(scratchpad_mode::user);
  return a;
}

// An argument of a primitive: the caller's plain buffer and, when the primitive wants
// another layout or data type, an internal buffer plus the reorder between them. Internal
// buffers live only for one call (filled by the reorder in, or emptied by the reorder out),
// so every primitive's are carved from one shared arena at run time instead of each owning
// its own: per-primitive copies of every weight in its blocked layout (forward, backward-data
// and the filter gradient: three per convolution, 135 MB for ResNet-18) and, on AVX-512 and
// in bf16, of every activation, were most of the native backend's peak RSS above PyTorch's.
struct Arg {
  int id;
  bool output;
  memory user;
  memory inner;  // no handle of its own: set to a slice of g_inner by run()
  bool reordered = false;
  reorder rd;
  memory::desc rd_scratch;
};

struct Prim {
  primitive p;
  memory::desc scratch_md;
  std::vector<Arg> args;
  Prim() = default;
};

void add_arg(Prim& pr, int id, bool output, const memory::desc& user_md, const memory::desc& prim_md) {
  Arg a;
  a.id = id;
  a.output = output;
  a.user = memory(user_md, eng(), DNNL_MEMORY_NONE);
  if (user_md != prim_md) {
    a.reordered = true;
    a.inner = memory(prim_md, eng(), DNNL_MEMORY_NONE);
    auto attr = user_scratch_attr();
    auto rpd = output ? reorder::primitive_desc(eng(), prim_md, eng(), user_md, attr)
                      : reorder::primitive_desc(eng(), user_md, eng(), prim_md, attr);
    a.rd = reorder(rpd);
    a.rd_scratch = rpd.scratchpad_desc();
  }
  pr.args.push_back(std::move(a));
}

// The arena behind every primitive's internal buffers (calls are serialised).
std::vector<uint8_t> g_inner;
// One slice of im2col columns (conv1ch_bwd_weights).
std::vector<float> g_col;
constexpr size_t ALIGN = 64;
size_t aligned(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

void run(Prim& pr, const std::vector<void*>& ptrs) {
  auto& s = strm();
  for (size_t i = 0; i < pr.args.size(); i++) pr.args[i].user.set_data_handle(ptrs[i]);
  size_t need = 0;
  for (auto& a : pr.args)
    if (a.reordered) need += aligned(a.inner.get_desc().get_size());
  if (need) {
    if (g_inner.size() < need + ALIGN) g_inner.resize(need + ALIGN);
    auto* base = reinterpret_cast<uint8_t*>(aligned(reinterpret_cast<uintptr_t>(g_inner.data())));
    for (auto& a : pr.args) {
      if (!a.reordered) continue;
      a.inner.set_data_handle(base);
      base += aligned(a.inner.get_desc().get_size());
    }
  }
  for (auto& a : pr.args) {
    if (!a.reordered || a.output) continue;
    memory sp(a.rd_scratch, eng(), scratch(a.rd_scratch.get_size()));
    a.rd.execute(s, {{DNNL_ARG_FROM, a.user}, {DNNL_ARG_TO, a.inner}, {DNNL_ARG_SCRATCHPAD, sp}});
  }
  std::unordered_map<int, memory> m;
  for (auto& a : pr.args) m[a.id] = a.reordered ? a.inner : a.user;
  m[DNNL_ARG_SCRATCHPAD] = memory(pr.scratch_md, eng(), scratch(pr.scratch_md.get_size()));
  pr.p.execute(s, m);
  for (auto& a : pr.args) {
    if (!a.reordered || !a.output) continue;
    memory sp(a.rd_scratch, eng(), scratch(a.rd_scratch.get_size()));
    a.rd.execute(s, {{DNNL_ARG_FROM, a.inner}, {DNNL_ARG_TO, a.user}, {DNNL_ARG_SCRATCHPAD, sp}});
  }
  s.wait();
}

std::unordered_map<std::string, std::unique_ptr<Prim>> g_cache;

std::string key_of(const char* op, const int32_t* p, int n, int extra) {
  std::string k(op);
  for (int i = 0; i < n; i++) k += "," + std::to_string(p[i]);
  k += "|" + std::to_string(extra) + "|" + std::to_string(g_threads);
  return k;
}

void set_threads() { omp_set_num_threads(g_threads); }

template <typename F>
int guard(F&& f) {
  try {
    set_threads();
    f();
    return 0;
  } catch (const dnnl::error& e) {
    g_error = std::string("oneDNN: ") + e.what();
  } catch (const std::exception& e) {
    g_error = e.what();
  } catch (...) {
    g_error = "unknown native error";
  }
  return -1;
}

// ---- convolution ---------------------------------------------------------------------
// p: CONV_PARAMS (codes.ts): N H W Ci Co KH KW sh sw dh dw pt pl pb pr OH OW act bf16 (dilation as tfjs: 1 = none)

struct ConvDims {
  memory::dims src, wei, dst, bias, strides, dil, pl, pr;
  dt cdt;
};

ConvDims conv_dims(const int32_t* p) {
  ConvDims d;
  d.src = {p[N_], p[CI], p[H_], p[W_]};
  d.wei = {p[CO], p[CI], p[KH], p[KW]};
  d.dst = {p[N_], p[CO], p[OH], p[OW]};
  d.bias = {p[CO]};
  d.strides = {p[SH], p[SW]};
  d.dil = {p[DH] - 1, p[DW] - 1};
  d.pl = {p[PT], p[PL]};
  // Right/bottom padding consistent with the output size tfjs computed.
  const int effh = (p[KH] - 1) * p[DH] + 1, effw = (p[KW] - 1) * p[DW] + 1;
  d.pr = {(p[OH] - 1) * p[SH] + effh - p[H_] - p[PT], (p[OW] - 1) * p[SW] + effw - p[W_] - p[PL]};
  d.cdt = p[BF16] ? dt::bf16 : dt::f32;
  return d;
}

// Layout oneDNN sees for convolution activations. On AVX2 CPUs, fp32: our own NHWC, so that
// no reorder runs around a convolution: oneDNN 2.6's AVX2 jit kernels take NHWC directly,
// and with the blocked layouts it would pick, reorders NHWC <-> nChw8c took 21% of oneDNN's
// time in a GoogLeNet@48 step (AMD EPYC). Elsewhere tag::any as before: on AVX-512 oneDNN
// 2.6 ran NHWC descriptors as im2col + GEMM at 0.4-0.75x the blocked kernels' speed
// (measured on the project's AVX-512 Xeon), and bf16 changes the data type anyway. Also blocked where the right
// or bottom padding is negative (a strided window that stops short of the edge, e.g. 1x1/2
// on an even map): there the NHWC 1x1 kernel computes wrong filter gradients for some
// channel counts (3 -> 5 on 8x8: 41% error; tests/kernel_cases.ts). CNNLAB_CONV_LAYOUT=blocked
// restores blocked layouts everywhere, for benchmarks.
tag act_tag(const ConvDims& d) {
  static const bool nhwc_isa = [] {
    const char* v = getenv("CNNLAB_CONV_LAYOUT");
    if (v != nullptr && std::string(v) == "blocked") return false;
    const auto isa = get_effective_cpu_isa();
    return isa == cpu_isa::avx2 || isa == cpu_isa::avx2_vnni;
  }();
  const bool negative_pad = d.pr[0] < 0 || d.pr[1] < 0;
  return nhwc_isa && d.cdt == dt::f32 && !negative_pad ? tag::nhwc : tag::any;
}

void add_act(post_ops& po, int act, float alpha) {
  switch (act) {
    case A_LINEAR:
      break;
    case A_RELU:
      po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      break;
    case A_SIGMOID:
      po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f);
      break;
    case A_ELU:
      po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f);
      break;
    case A_RELU6:
      po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f);
      break;
    case A_LEAKYRELU:
      po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f);
      break;
    default:
      throw std::runtime_error("unknown activation code " + std::to_string(act));
  }
}

convolution_forward::primitive_desc conv_fwd_pd(const ConvDims& d, bool bias, const primitive_attr& attr) {
  auto src = memory::desc(d.src, d.cdt, act_tag(d));
  auto wei = memory::desc(d.wei, d.cdt, tag::any);
  auto dst = memory::desc(d.dst, dt::f32, act_tag(d));
  if (bias) {
    auto b = memory::desc(d.bias, dt::f32, tag::x);
    return convolution_forward::primitive_desc(
        convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, b, dst,
                                  d.strides, d.dil, d.pl, d.pr),
        attr, eng());
  }
  return convolution_forward::primitive_desc(
      convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst, d.strides,
                                d.dil, d.pl, d.pr),
      attr, eng());
}

Prim& conv_fwd(const int32_t* p, bool bias, float alpha) {
  auto key = key_of("cf", p, NCONV, bias + (int)(alpha * 1e6f) * 2);
  auto& slot = g_cache[key];
  if (!slot) {
    auto d = conv_dims(p);
    auto attr = user_scratch_attr();
    post_ops po;
    add_act(po, p[ACT], alpha);
    attr.set_post_ops(po);
    auto pd = conv_fwd_pd(d, bias, attr);
    auto pr = std::make_unique<Prim>();
    pr->p = convolution_forward(pd);
    pr->scratch_md = pd.scratchpad_desc();
    add_arg(*pr, DNNL_ARG_SRC, false, memory::desc(d.src, dt::f32, tag::nhwc), pd.src_desc());
    add_arg(*pr, DNNL_ARG_WEIGHTS, false, memory::desc(d.wei, dt::f32, tag::hwio), pd.weights_desc());
    if (bias) add_arg(*pr, DNNL_ARG_BIAS, false, memory::desc(d.bias, dt::f32, tag::x), pd.bias_desc());
    add_arg(*pr, DNNL_ARG_DST, true, memory::desc(d.dst, dt::f32, tag::nhwc), pd.dst_desc());
    slot = std::move(pr);
  }
  return *slot;
}

Prim& conv_bwd_data(const int32_t* p) {
  auto key = key_of("cd", p, NCONV, 0);
  auto& slot = g_cache[key];
  if (!slot) {
    auto d = conv_dims(p);
    auto hint = conv_fwd_pd(d, false, primitive_attr());
    auto dsrc = memory::desc(d.src, dt::f32, act_tag(d));
    auto wei = memory::desc(d.wei, d.cdt, tag::any);
    auto ddst = memory::desc(d.dst, d.cdt, act_tag(d));
    auto pd = convolution_backward_data::primitive_desc(
        convolution_backward_data::desc(algorithm::convolution_direct, dsrc, wei, ddst, d.strides, d.dil, d.pl, d.pr),
        user_scratch_attr(), eng(), hint);
    auto pr = std::make_unique<Prim>();
    pr->p = convolution_backward_data(pd);
    pr->scratch_md = pd.scratchpad_desc();
    add_arg(*pr, DNNL_ARG_DIFF_DST, false, memory::desc(d.dst, dt::f32, tag::nhwc), pd.diff_dst_desc());
    add_arg(*pr, DNNL_ARG_WEIGHTS, false, memory::desc(d.wei, dt::f32, tag::hwio), pd.weights_desc());
    add_arg(*pr, DNNL_ARG_DIFF_SRC, true, memory::desc(d.src, dt::f32, tag::nhwc), pd.diff_src_desc());
    slot = std::move(pr);
  }
  return *slot;
}

Prim& conv_bwd_weights(const int32_t* p, bool bias) {
  auto key = key_of("cw", p, NCONV, bias);
  auto& slot = g_cache[key];
  if (!slot) {
    auto d = conv_dims(p);
    auto hint = conv_fwd_pd(d, bias, primitive_attr());
    auto src = memory::desc(d.src, d.cdt, act_tag(d));
    auto dwei = memory::desc(d.wei, dt::f32, tag::any);
    auto ddst = memory::desc(d.dst, d.cdt, act_tag(d));
    auto attr = user_scratch_attr();
    auto pd = bias ? convolution_backward_weights::primitive_desc(
                         convolution_backward_weights::desc(algorithm::convolution_direct, src, dwei,
                                                            memory::desc(d.bias, dt::f32, tag::x), ddst, d.strides,
                                                            d.dil, d.pl, d.pr),
                         attr, eng(), hint)
                   : convolution_backward_weights::primitive_desc(
                         convolution_backward_weights::desc(algorithm::convolution_direct, src, dwei, ddst, d.strides,
                                                            d.dil, d.pl, d.pr),
                         attr, eng(), hint);
    auto pr = std::make_unique<Prim>();
    pr->p = convolution_backward_weights(pd);
    pr->scratch_md = pd.scratchpad_desc();
    add_arg(*pr, DNNL_ARG_SRC, false, memory::desc(d.src, dt::f32, tag::nhwc), pd.src_desc());
    add_arg(*pr, DNNL_ARG_DIFF_DST, false, memory::desc(d.dst, dt::f32, tag::nhwc), pd.diff_dst_desc());
    add_arg(*pr, DNNL_ARG_DIFF_WEIGHTS, true, memory::desc(d.wei, dt::f32, tag::hwio), pd.diff_weights_desc());
    if (bias) add_arg(*pr, DNNL_ARG_DIFF_BIAS, true, memory::desc(d.bias, dt::f32, tag::x), pd.diff_bias_desc());
    slot = std::move(pr);
  }
  return *slot;
}

// ---- matmul --------------------------------------------------------------------------
// p: MATMUL_PARAMS (codes.ts): batchA batchB M K N transA transB act bf16; C[b] = op(A[b]) x op(B[b]) (+ bias[N]).

// accumulate: C += A x B (a sum post-op), for a product computed in slices of K.
Prim& matmul_prim(const int32_t* p, bool bias, float alpha, bool accumulate = false) {
  auto key = key_of(accumulate ? "mm+" : "mm", p, NMM, bias + (int)(alpha * 1e6f) * 2);
  auto& slot = g_cache[key];
  if (!slot) {
    const memory::dim ba = p[MBA], bb = p[MBB], M = p[MM], K = p[MK], N = p[MN];
    const memory::dim B = std::max(ba, bb);
    auto a_user = memory::desc({ba, M, K}, dt::f32, p[MTA] ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
    auto b_user = memory::desc({bb, K, N}, dt::f32, p[MTB] ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
    auto c_user = memory::desc({B, M, N}, dt::f32, tag::abc);
    const dt cdt = p[MBF16] ? dt::bf16 : dt::f32;
    auto a_prim = cdt == dt::f32 ? a_user : memory::desc({ba, M, K}, cdt, tag::abc);
    auto b_prim = cdt == dt::f32 ? b_user : memory::desc({bb, K, N}, cdt, tag::abc);
    auto bias_md = memory::desc({1, 1, N}, dt::f32, tag::abc);
    auto attr = user_scratch_attr();
    post_ops po;
    if (accumulate) po.append_sum(1.f);
    add_act(po, p[MACT], alpha);
    attr.set_post_ops(po);
    auto pd = bias ? matmul::primitive_desc(matmul::desc(a_prim, b_prim, bias_md, c_user), attr, eng())
                   : matmul::primitive_desc(matmul::desc(a_prim, b_prim, c_user), attr, eng());
    auto pr = std::make_unique<Prim>();
    pr->p = matmul(pd);
    pr->scratch_md = pd.scratchpad_desc();
    add_arg(*pr, DNNL_ARG_SRC, false, a_user, pd.src_desc());
    add_arg(*pr, DNNL_ARG_WEIGHTS, false, b_user, pd.weights_desc());
    if (bias) add_arg(*pr, DNNL_ARG_BIAS, false, bias_md, pd.bias_desc());
    add_arg(*pr, DNNL_ARG_DST, true, c_user, pd.dst_desc());
    slot = std::move(pr);
  }
  return *slot;
}

// ---- pooling (NHWC, own loops: reorders around oneDNN pooling cost more than pooling) --
// p: POOL_PARAMS (codes.ts): N H W C KH KW sh sw pt pl OH OW

// In-bounds taps [begin, end) of the window of output position o along an axis of size n.
struct Span {
  int64_t begin, end;
};
inline Span window(int64_t o, int32_t stride, int32_t pad, int32_t k, int64_t n) {
  const int64_t s = o * stride - pad;
  return {std::max<int64_t>(s, 0), std::min<int64_t>(s + k, n)};
}

template <typename F>
void for_rows(int64_t rows, F&& f) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) f(r);
}

// Adds rows [ra, rb) of channels c0 .. c0+W-1 with the running sums held in locals (registers)
// instead of in a0/a1, whose every update would otherwise wait on the previous row's store.
template <int W, typename F>
inline void sum_block(int64_t ra, int64_t rb, int64_t c0, F& f, double* a0, double* a1) {
  double b0[W], b1[W];
  for (int k = 0; k < W; k++) b0[k] = a0[c0 + k], b1[k] = a1[c0 + k];
  for (int64_t r = ra; r < rb; r++) f(std::integral_constant<int, W>{}, r, c0, b0, b1);
  for (int k = 0; k < W; k++) a0[c0 + k] = b0[k], a1[c0 + k] = b1[k];
}

// Per-channel sums over the rows of a [rows, C] array, in double, split across threads
// by rows (at least `min_rows` per thread): f(w, r, c0, b0, b1) adds the terms of row r's
// channels c0 .. c0+w-1 into b0[0..w) and b1[0..w), w being a compile-time width
// (std::integral_constant) or C itself; s0/s1 receive the totals. Every channel's terms are
// added in row order within a thread and the threads' partial sums in thread order, so both
// loops below give the same bits. Below 64 channels a row is too short to hide the latency
// of sums kept in memory (ten times slower at 8 channels: 73,728 rows in 616 us against 60,
// AMD EPYC, 2 threads): there the rows go in cache-sized chunks, each chunk channel block by
// channel block with the block's sums in registers. From 64 channels on, row by row (the
// blocked loop measured up to 2x slower there for the gradient's sums).
template <typename F>
void channel_sums(int64_t rows, int64_t C, int64_t min_rows, F&& f, std::vector<double>& s0,
                  std::vector<double>& s1) {
  const int T = std::max(1, std::min<int>(g_threads, (int)std::max<int64_t>(1, rows / min_rows)));
  std::vector<double> part((size_t)T * 2 * C, 0.0);
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double* a0 = part.data() + (size_t)t * 2 * C;
    double* a1 = a0 + C;
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (C >= 64) {
      for (int64_t r = r0; r < r1; r++) f(C, r, 0, a0, a1);
    } else {
      const int64_t chunk = std::max<int64_t>(16, 2048 / C);  // 8 KB of each input per chunk
      for (int64_t ra = r0; ra < r1; ra += chunk) {
        const int64_t rb = std::min(r1, ra + chunk);
        int64_t c0 = 0;
        for (; c0 + 16 <= C; c0 += 16) sum_block<16>(ra, rb, c0, f, a0, a1);
        for (; c0 + 8 <= C; c0 += 8) sum_block<8>(ra, rb, c0, f, a0, a1);
        for (; c0 + 4 <= C; c0 += 4) sum_block<4>(ra, rb, c0, f, a0, a1);
        for (; c0 < C; c0++) sum_block<1>(ra, rb, c0, f, a0, a1);
      }
    }
  }
  s0.assign(C, 0.0);
  s1.assign(C, 0.0);
  for (int t = 0; t < T; t++)
    for (int64_t c = 0; c < C; c++) {
      s0[c] += part[(size_t)t * 2 * C + c];
      s1[c] += part[(size_t)t * 2 * C + C + c];
    }
}

// Element-wise passes with per-channel coefficients over a [rows, C] array: below 64 channels
// a row's loop is too short to vectorise well (batch norm's normalisation of 73,728 rows of 8
// channels: ~470 us row by row, ~50 so), so the coefficients are repeated k times and the
// pass runs over groups of k rows (L = k C values) as if they were one row; the value at each
// position is computed by the same expression either way. `repeat(v)` extends a coefficient
// vector to length L.
struct Tiled {
  int64_t C, k, L;
  explicit Tiled(int64_t C_) : C(C_), k(C_ >= 64 ? 1 : (64 + C_ - 1) / C_), L(C_ * k) {}
  void repeat(std::vector<float>& v) const {
    v.resize(L);
    for (int64_t i = C; i < L; i++) v[i] = v[i - C];
  }
  // g(offset, len): the element-wise pass over values [offset, offset + len), len = L or C.
  template <typename G>
  void run(int64_t rows, G&& g) const {
    const int64_t groups = rows / k;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < groups; i++) g(i * L, L);
    for (int64_t r = groups * k; r < rows; r++) g(r * C, C);
  }
};

// y = (x - mean) * rsqrt(var + eps) * scale + offset per channel of the innermost axis of a
// [rows, C] array (scale/offset may be null), folded into one multiply-add per element.
void bn_apply(const float* x, int64_t rows, int64_t C, const float* mean, const float* var, const float* scale,
              const float* offset, float eps, float* y) {
  const Tiled t(C);
  std::vector<float> mul(C), add(C);
  for (int64_t c = 0; c < C; c++) {
    const float inv = 1.f / std::sqrt(var[c] + eps);
    mul[c] = inv * (scale ? scale[c] : 1.f);
    add[c] = (offset ? offset[c] : 0.f) - mean[c] * mul[c];
  }
  t.repeat(mul);
  t.repeat(add);
  const float* m = mul.data();
  const float* a = add.data();
  t.run(rows, [&](int64_t o, int64_t len) {
    const float* in = x + o;
    float* out = y + o;
#pragma omp simd
    for (int64_t i = 0; i < len; i++) out[i] = in[i] * m[i] + a[i];
  });
}

// ---- kernel taps that only ever read padding ------------------------------------------
// A kernel larger than its input, e.g. a 3x3 "same" convolution on a 1x1 map (ResNet-18's last
// stage at 32 px, GoogLeNet's 5a/5b at 32 px), multiplies most of its taps by padding only.
// oneDNN 2.6 runs them all, and its backward-weights kernel falls back to im2col + GEMM there:
// 39 of the 112 ms oneDNN spent in a ResNet-18@32 batch-32 step (AMD EPYC, AVX2). The
// convolution is therefore run with the kernel cut to the rows and columns that some output
// reads from the input; the taps cut off add exact zeros forward and backward-data, and their
// filter gradient is exactly zero. The output size, and so the right/bottom padding derived
// from it in conv_dims, stay the same.
struct Crop {
  bool on = false;
  int32_t q[NCONV];  // the cut convolution's parameters
  int r0 = 0, r1 = 0, c0 = 0, c1 = 0;
};

// First and last of K taps (stride s, leading padding pad, O outputs) that read one of the n
// input positions; false when none does (an all-padding convolution: left to oneDNN).
bool taps_used(int K, int s, int pad, int O, int n, int& lo, int& hi) {
  lo = hi = -1;
  for (int r = 0; r < K; r++) {
    const int k = r >= pad ? 0 : (pad - r + s - 1) / s;  // first output whose window reaches row 0
    if (k < O && k * s + r - pad < n) {
      if (lo < 0) lo = r;
      hi = r;
    }
  }
  return lo >= 0;
}

Crop crop_of(const int32_t* p) {
  Crop c;
  if (p[DH] != 1 || p[DW] != 1) return c;
  if (!taps_used(p[KH], p[SH], p[PT], p[OH], p[H_], c.r0, c.r1)) return c;
  if (!taps_used(p[KW], p[SW], p[PL], p[OW], p[W_], c.c0, c.c1)) return c;
  if (c.r0 == 0 && c.c0 == 0 && c.r1 == p[KH] - 1 && c.c1 == p[KW] - 1) return c;
  std::memcpy(c.q, p, sizeof c.q);
  c.q[KH] = c.r1 - c.r0 + 1;
  c.q[KW] = c.c1 - c.c0 + 1;
  c.q[PT] = p[PT] - c.r0;
  c.q[PL] = p[PL] - c.c0;
  c.q[PB] = p[PB] - (p[KH] - 1 - c.r1);
  c.q[PR] = p[PR] - (p[KW] - 1 - c.c1);
  c.on = true;
  return c;
}

// HWIO rows r0..r1, columns c0..c1 of w, copied to one of two buffers (weights, filter gradient).
std::vector<float> g_crop[2];
float* crop_buffer(const int32_t* p, const Crop& c, int which) {
  auto& v = g_crop[which];
  const size_t n = (size_t)c.q[KH] * c.q[KW] * p[CI] * p[CO];
  if (v.size() < n) v.resize(n);
  return v.data();
}

template <typename Fn>
void for_crop_rows(const int32_t* p, const Crop& c, Fn&& fn) {
  const size_t tap = (size_t)p[CI] * p[CO], len = (size_t)c.q[KW] * tap;
  for (int r = c.r0; r <= c.r1; r++) fn((size_t)(r - c.r0) * len, ((size_t)r * p[KW] + c.c0) * tap, len);
}

const float* crop_weights(const int32_t* p, const Crop& c, const float* w) {
  float* wc = crop_buffer(p, c, 0);
  for_crop_rows(p, c, [&](size_t to, size_t from, size_t len) { std::memcpy(wc + to, w + from, len * 4); });
  return wc;
}

void uncrop_gradient(const int32_t* p, const Crop& c, const float* dwc, float* dw) {
  std::memset(dw, 0, (size_t)p[KH] * p[KW] * p[CI] * p[CO] * 4);
  for_crop_rows(p, c, [&](size_t to, size_t from, size_t len) { std::memcpy(dw + from, dwc + to, len * 4); });
}

}  // namespace

extern "C" {

// Free the cached primitives (with their internal reorder buffers) and the scratchpad: a
// finished model's shapes will not come back, and a worker trains many models in turn.
int cn_release() {
  return guard([&] {
    g_cache.clear();
    std::vector<uint8_t>().swap(g_scratch);
    std::vector<uint8_t>().swap(g_inner);
    std::vector<float>().swap(g_col);
    for (auto& v : g_crop) std::vector<float>().swap(v);
  });
}

// oneDNN's per-primitive log (level 2: every execution with its time in ms) on stdout, for
// `deno task bench --profile`; stdout is flushed on every switch so the lines stay in order
// with the caller's own output.
int cn_verbose(int level) {
  return guard([&] {
    std::fflush(stdout);
    if (dnnl_set_verbose(level) != dnnl_success) throw std::runtime_error("dnnl_set_verbose failed");
  });
}

int cn_set_threads(int n) {
  g_threads = n > 0 ? n : 1;
  omp_set_num_threads(g_threads);
  return g_threads;
}

int cn_error(char* buf, int len) {
  const int n = std::min<int>(len - 1, (int)g_error.size());
  if (n >= 0) {
    std::memcpy(buf, g_error.data(), n);
    buf[n] = 0;
  }
  return n;
}

// Largest ISA oneDNN dispatches to, e.g. "avx512_core_bf16" (for the device description).
int cn_isa(char* buf, int len) {
  const char* s = "unknown";
  switch (get_effective_cpu_isa()) {
    case cpu_isa::avx512_core_amx: s = "avx512_core_amx"; break;
    case cpu_isa::avx512_core_bf16: s = "avx512_core_bf16"; break;
    case cpu_isa::avx512_core_vnni: s = "avx512_core_vnni"; break;
    case cpu_isa::avx512_core: s = "avx512_core"; break;
    case cpu_isa::avx2_vnni: s = "avx2_vnni"; break;
    case cpu_isa::avx2: s = "avx2"; break;
    case cpu_isa::avx: s = "avx"; break;
    case cpu_isa::sse41: s = "sse41"; break;
    default: break;
  }
  const int n = std::min<int>(len - 1, (int)std::strlen(s));
  std::memcpy(buf, s, n);
  buf[n] = 0;
  return n;
}

int cn_conv_fwd(const int32_t* p, const float* x, const float* w, const float* bias, float* y, float alpha) {
  return guard([&] {
    const Crop c = crop_of(p);
    if (c.on) {
      w = crop_weights(p, c, w);
      p = c.q;
    }
    auto& pr = conv_fwd(p, bias != nullptr, alpha);
    if (bias)
      run(pr, {(void*)x, (void*)w, (void*)bias, y});
    else
      run(pr, {(void*)x, (void*)w, y});
  });
}

int cn_conv_bwd_data(const int32_t* p, const float* dy, const float* w, float* dx) {
  return guard([&] {
    const Crop c = crop_of(p);
    if (c.on) {
      w = crop_weights(p, c, w);
      p = c.q;
    }
    run(conv_bwd_data(p), {(void*)dy, (void*)w, dx});
  });
}

// Filter gradient of a one-input-channel convolution (every network's first layer here) as
// im2col + GEMM on CPUs without AVX-512: oneDNN 2.6's direct backward-weights kernel
// runs such a layer at ~13 GFLOP/s on AVX2 (AlexNet's conv1 at 224: 0.7 s per step); the
// GEMM runs at ~100+. With AVX-512 oneDNN's own kernel is the faster one (AlexNet@224's
// conv1: 45 ms against 92, GoogLeNet@96's: 15 against 29, LeNet's: 0.75 against 2.5).
// The columns go COL_SLICE floats at a time (whole output rows), each slice's product added
// to dW: the whole im2col matrix was N·OH·OW·KH·KW floats, 180 MB for AlexNet@224 at batch
// 128 and 231 MB for VGG's 3×3 at 224, held for the process's life, where a slice fits in
// cache.
constexpr int64_t COL_SLICE = (int64_t)1 << 20;
void conv1ch_bwd_weights(const int32_t* p, const float* x, const float* dy, float* dw) {
  const int64_t N = p[N_], H = p[H_], W = p[W_], KHh = p[KH], KWw = p[KW], OHh = p[OH], OWw = p[OW];
  const int64_t K = KHh * KWw, rows = N * OHh;
  const int64_t per = std::max<int64_t>(1, std::min<int64_t>(rows, COL_SLICE / (OWw * K)));
  if ((int64_t)g_col.size() < per * OWw * K) g_col.resize(per * OWw * K);
  float* col = g_col.data();
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t n_rows = std::min(per, rows - r0);
    for_rows(n_rows, [&](int64_t i) {
      const int64_t r = r0 + i, n = r / OHh, oh = r % OHh;
      for (int64_t ow = 0; ow < OWw; ow++) {
        float* c = col + (i * OWw + ow) * K;
        for (int64_t kh = 0; kh < KHh; kh++) {
          const int64_t h = oh * p[SH] - p[PT] + kh;
          for (int64_t kw = 0; kw < KWw; kw++) {
            const int64_t w = ow * p[SW] - p[PL] + kw;
            c[kh * KWw + kw] = (h >= 0 && h < H && w >= 0 && w < W) ? x[(n * H + h) * W + w] : 0.f;
          }
        }
      }
    });
    // dW[K, Co] (+)= col[P, K]^T x dy[P, Co] over this slice's P = n_rows·OW output pixels
    const int32_t mp[NMM] = {1, 1, (int32_t)K, (int32_t)(n_rows * OWw), p[CO], 1, 0, A_LINEAR, 0};
    run(matmul_prim(mp, false, 0.f, r0 > 0), {(void*)col, (void*)(dy + r0 * OWw * p[CO]), dw});
  }
}

int cn_conv_bwd_weights(const int32_t* p, const float* x, const float* dy, float* dw, float* db) {
  return guard([&] {
    const int32_t* full = p;
    float* dw_full = dw;
    const Crop c = crop_of(p);
    if (c.on) {
      dw = crop_buffer(full, c, 1);
      p = c.q;
    }
    static const bool avx512 = get_effective_cpu_isa() >= cpu_isa::avx512_core;
    if (!avx512 && p[CI] == 1 && p[DH] == 1 && p[DW] == 1 && !p[BF16] && !db &&
        (int64_t)p[N_] * p[OH] * p[OW] < (int64_t)1 << 31) {
      conv1ch_bwd_weights(p, x, dy, dw);
    } else {
      auto& pr = conv_bwd_weights(p, db != nullptr);
      if (db)
        run(pr, {(void*)x, (void*)dy, dw, db});
      else
        run(pr, {(void*)x, (void*)dy, dw});
    }
    if (c.on) uncrop_gradient(full, c, dw, dw_full);
  });
}

int cn_matmul(const int32_t* p, const float* a, const float* b, const float* bias, float* c, float alpha) {
  return guard([&] {
    auto& pr = matmul_prim(p, bias != nullptr, alpha);
    if (bias)
      run(pr, {(void*)a, (void*)b, (void*)bias, c});
    else
      run(pr, {(void*)a, (void*)b, c});
  });
}

// Max (POOL_MAX) or average (POOL_AVG) pooling forward. Average divides by the number of
// in-bounds taps, as tfjs does.
int cn_pool_fwd(const int32_t* p, int kind, const float* x, float* y) {
  return guard([&] {
    const int64_t N = p[PN], H = p[PH], W = p[PW], C = p[PC];
    const int64_t OHh = p[POH], OWw = p[POW];
    for_rows(N * OHh, [&](int64_t r) {
      const int64_t n = r / OHh, oh = r % OHh;
      const auto [hs, he] = window(oh, p[PSH], p[PPT], p[PKH], H);
      std::vector<float> acc(C);
      for (int64_t ow = 0; ow < OWw; ow++) {
        const auto [ws, we] = window(ow, p[PSW], p[PPL], p[PKW], W);
        float* out = y + ((n * OHh + oh) * OWw + ow) * C;
        if (kind == POOL_MAX) {
          std::fill(acc.begin(), acc.end(), -INFINITY);
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) {
              const float* in = x + ((n * H + h) * W + w) * C;
              for (int64_t c = 0; c < C; c++) acc[c] = in[c] > acc[c] ? in[c] : acc[c];
            }
          std::copy(acc.begin(), acc.end(), out);
        } else {
          std::fill(acc.begin(), acc.end(), 0.f);
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) {
              const float* in = x + ((n * H + h) * W + w) * C;
              for (int64_t c = 0; c < C; c++) acc[c] += in[c];
            }
          const float inv = 1.f / float((he - hs) * (we - ws));
          for (int64_t c = 0; c < C; c++) out[c] = acc[c] * inv;
        }
      }
    });
  });
}

// Output positions [lo, hi) along an axis whose windows contain input index i.
inline Span windows_over(int64_t i, int32_t stride, int32_t pad, int32_t k, int64_t no) {
  const int64_t a = i + pad - k + 1;  // o * stride >= a
  return {a <= 0 ? 0 : (a + stride - 1) / stride, std::min<int64_t>((i + pad) / stride + 1, no)};
}

// Bitwise select: `mask` is all ones (take a) or all zeros (take b). Written with integer
// masks because GCC turns `m[c] = gt ? v : m[c]` into AVX masked stores (vmaskmovps), which
// are ~10× slower than plain stores on AMD CPUs: that alone made this kernel 15× slower than
// the forward pass.
inline float select_bits(int32_t mask, float a, float b) {
  int32_t ab, bb;
  std::memcpy(&ab, &a, 4);
  std::memcpy(&bb, &b, 4);
  const int32_t r = (ab & mask) | (bb & ~mask);
  float out;
  std::memcpy(&out, &r, 4);
  return out;
}

// Offset in the image (NHWC, W columns, C channels) of the first maximum per channel of
// one window, or -1 where every tap is -inf or NaN: a strict `>` scan in tap order, with
// m as scratch for the running maximum.
inline void first_max(const float* xn, int64_t W, int64_t C, Span hs, Span ws, float* m, int32_t* at) {
  std::fill(m, m + C, -INFINITY);
  std::fill(at, at + C, -1);
  for (int64_t h = hs.begin; h < hs.end; h++)
    for (int64_t w = ws.begin; w < ws.end; w++) {
      const int32_t off = int32_t((h * W + w) * C);
      const float* in = xn + off;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) {
        const int32_t gt = -int32_t(in[c] > m[c]);  // all ones where in[c] is a new maximum
        m[c] = select_bits(gt, in[c], m[c]);
        at[c] = ((off + int32_t(c)) & gt) | (at[c] & ~gt);
      }
    }
}

// Max-pool gradient: dy goes to the first maximum of each window of x (tfjs's rule; a
// window whose taps are all -inf or NaN passes nothing). Per image (images in parallel):
// first the position of each window's first maximum per channel (a strict `>` scan in tap
// order), then a gather per input pixel over the windows that contain it, in the windows'
// row-major order, so each dx value is the same sum, in the same order, as a scatter would
// give (disjoint windows: each window's taps written right after its scan). Channels
// innermost and branch-free in both passes.
int cn_max_pool_bwd(const int32_t* p, const float* x, const float* dy, float* dx) {
  return guard([&] {
    const int64_t N = p[PN], H = p[PH], W = p[PW], C = p[PC];
    const int64_t OHh = p[POH], OWw = p[POW];
    // Window spans per output row/column and the windows over each input row/column, once.
    std::vector<Span> hwin(OHh), wwin(OWw), hover(H), wover(W);
    for (int64_t o = 0; o < OHh; o++) hwin[o] = window(o, p[PSH], p[PPT], p[PKH], H);
    for (int64_t o = 0; o < OWw; o++) wwin[o] = window(o, p[PSW], p[PPL], p[PKW], W);
    for (int64_t i = 0; i < H; i++) hover[i] = windows_over(i, p[PSH], p[PPT], p[PKH], OHh);
    for (int64_t i = 0; i < W; i++) wover[i] = windows_over(i, p[PSW], p[PPL], p[PKW], OWw);
    // Windows never overlap (VGG's and AlexNet's 2×2/2 pools): each pixel takes the gradient of
    // at most one window, written while the window's taps are in cache.
    const bool disjoint = p[PSH] >= p[PKH] && p[PSW] >= p[PKW];
    for_rows(N, [&](int64_t n) {
      float* dxn = dx + n * H * W * C;
      const float* xn = x + n * H * W * C;
      const float* gn = dy + n * OHh * OWw * C;
      // Offset in the image of each window's first maximum per channel, or -1 (one window at a
      // time when windows are disjoint); reused across calls so that large maps do not fault in
      // fresh pages for every image.
      thread_local std::vector<int32_t> where;
      thread_local std::vector<float> best;
      where.resize(disjoint ? C : OHh * OWw * C);
      best.resize(C);
      float* m = best.data();
      if (disjoint) {
        int32_t* at = where.data();
        for (int64_t h = 0; h < H; h++)  // pixels in no window (the edges a valid pool drops)
          for (int64_t w = 0; w < W; w++)
            if (hover[h].begin >= hover[h].end || wover[w].begin >= wover[w].end)
              std::fill(dxn + (h * W + w) * C, dxn + (h * W + w + 1) * C, 0.f);
        for (int64_t oh = 0; oh < OHh; oh++)
          for (int64_t ow = 0; ow < OWw; ow++) {
            first_max(xn, W, C, hwin[oh], wwin[ow], m, at);
            const float* g = gn + (oh * OWw + ow) * C;
            for (int64_t h = hwin[oh].begin; h < hwin[oh].end; h++)
              for (int64_t w = wwin[ow].begin; w < wwin[ow].end; w++) {
                const int32_t off = int32_t((h * W + w) * C);
                float* d = dxn + off;
#pragma omp simd
                for (int64_t c = 0; c < C; c++) d[c] = 0.f + select_bits(-int32_t(at[c] == off + int32_t(c)), g[c], 0.f);
              }
          }
        return;
      }
      for (int64_t oh = 0; oh < OHh; oh++)
        for (int64_t ow = 0; ow < OWw; ow++)
          first_max(xn, W, C, hwin[oh], wwin[ow], m, where.data() + (oh * OWw + ow) * C);
      for (int64_t h = 0; h < H; h++) {
        const auto [ohs, ohe] = hover[h];
        for (int64_t w = 0; w < W; w++) {
          const auto [ows, owe] = wover[w];
          const int32_t off = int32_t((h * W + w) * C);
          float* d = dxn + off;
          std::fill(d, d + C, 0.f);
          for (int64_t oh = ohs; oh < ohe; oh++)
            for (int64_t ow = ows; ow < owe; ow++) {
              const int32_t* at = where.data() + (oh * OWw + ow) * C;
              const float* g = gn + (oh * OWw + ow) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; c++) d[c] += select_bits(-int32_t(at[c] == off + int32_t(c)), g[c], 0.f);
            }
        }
      }
    });
  });
}

// Average-pool gradient with tfjs's divisor: the full window, padded taps included.
int cn_avg_pool_bwd(const int32_t* p, const float* dy, float* dx) {
  return guard([&] {
    const int64_t N = p[PN], H = p[PH], W = p[PW], C = p[PC];
    const int64_t OHh = p[POH], OWw = p[POW];
    const float inv = 1.f / float(p[PKH] * p[PKW]);
    std::memset(dx, 0, sizeof(float) * N * H * W * C);
    for_rows(N, [&](int64_t n) {
      for (int64_t oh = 0; oh < OHh; oh++) {
        const auto [hs, he] = window(oh, p[PSH], p[PPT], p[PKH], H);
        for (int64_t ow = 0; ow < OWw; ow++) {
          const auto [ws, we] = window(ow, p[PSW], p[PPL], p[PKW], W);
          const float* g = dy + ((n * OHh + oh) * OWw + ow) * C;
          for (int64_t h = hs; h < he; h++)
            for (int64_t w = ws; w < we; w++) {
              float* d = dx + ((n * H + h) * W + w) * C;
              for (int64_t c = 0; c < C; c++) d[c] += g[c] * inv;
            }
        }
      }
    });
  });
}

// Constant padding of a 4-D array: pads p = [before0, after0, ..., before3, after3].
int cn_pad4(const int32_t* shape, const int32_t* p, const float* x, float* y, float value) {
  return guard([&] {
    const int64_t D0 = shape[0], D1 = shape[1], D2 = shape[2], D3 = shape[3];
    const int64_t O1 = D1 + p[2] + p[3], O2 = D2 + p[4] + p[5], O3 = D3 + p[6] + p[7];
    const int64_t O0 = D0 + p[0] + p[1];
    for_rows(O0 * O1, [&](int64_t r) {
      const int64_t i0 = r / O1 - p[0], i1 = r % O1 - p[2];
      float* out = y + r * O2 * O3;
      if (i0 < 0 || i0 >= D0 || i1 < 0 || i1 >= D1) {
        std::fill(out, out + O2 * O3, value);
        return;
      }
      std::fill(out, out + p[4] * O3, value);
      const float* in = x + (i0 * D1 + i1) * D2 * D3;
      if (p[6] == 0 && p[7] == 0) {
        // No channel padding (NHWC spatial padding): the row is one block. Copying it per
        // pixel made padding a 1-channel image cost 8 ns a pixel in call overhead.
        std::memcpy(out + p[4] * O3, in, sizeof(float) * D2 * D3);
      } else {
        for (int64_t i2 = 0; i2 < D2; i2++) {
          float* o = out + (i2 + p[4]) * O3;
          std::fill(o, o + p[6], value);
          std::memcpy(o + p[6], in + i2 * D3, sizeof(float) * D3);
          std::fill(o + p[6] + D3, o + O3, value);
        }
      }
      std::fill(out + (D2 + p[4]) * O3, out + O2 * O3, value);
    });
  });
}

// Copy a rows x len block between row-major arrays with row strides ss/ds (SplitV, Concat).
int cn_copy_block(const float* src, int64_t ss, float* dst, int64_t ds, int64_t rows, int64_t len) {
  return guard([&] {
    if (rows == 1) {
      std::memcpy(dst, src, sizeof(float) * len);
      return;
    }
    for_rows(rows, [&](int64_t r) { std::memcpy(dst + r * ds, src + r * ss, sizeof(float) * len); });
  });
}

// Tile a 4-D array: out[i] = x[i mod shape] for an output of shape shape * reps.
int cn_tile4(const int32_t* shape, const int32_t* reps, const float* x, float* y) {
  return guard([&] {
    const int64_t d0 = shape[0], d1 = shape[1], d2 = shape[2], d3 = shape[3];
    const int64_t o1 = d1 * reps[1], o2 = d2 * reps[2], o3 = d3 * reps[3];
    const int64_t rows = d0 * reps[0] * o1 * o2;
    for_rows(rows, [&](int64_t r) {
      const int64_t i2 = r % o2, i1 = (r / o2) % o1, i0 = r / (o2 * o1);
      const float* src = x + (((i0 % d0) * d1 + i1 % d1) * d2 + i2 % d2) * d3;
      float* dst = y + r * o3;
      for (int64_t k = 0; k < reps[3]; k++) std::memcpy(dst + k * d3, src, sizeof(float) * d3);
    });
  });
}

// Bilinear resize of NHWC images, s = [N H W C] to [N OH OW C], with the arithmetic of
// tfjs's cpu kernel (tfjs-backend-cpu ResizeBilinear.js): source positions, weights and the
// interpolation in double, each output rounded once to float. So a batch resized here has
// the bits of one resized by tf.image.resizeBilinear on cpu, and the runs recorded with the
// JavaScript kernel replay exactly. FMA contraction would round differently: it is off here.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
int cn_resize_bilinear(const int32_t* s, int32_t OH, int32_t OW, int32_t align_corners,
                       int32_t half_pixel, const float* x, float* y) {
  return guard([&] {
    const int64_t N = s[0], H = s[1], W = s[2], C = s[3];
    const bool ar = align_corners && OH > 1, ac = align_corners && OW > 1;
    const double row_ratio = double(ar ? H - 1 : H) / double(ar ? OH - 1 : OH);
    const double col_ratio = double(ac ? W - 1 : W) / double(ac ? OW - 1 : OW);
    struct Tap {
      int64_t lo, hi;
      double frac;
    };
    auto tap = [&](double ratio, int64_t o, int64_t n) {
      const double src = half_pixel ? ratio * (double(o) + 0.5) - 0.5 : ratio * double(o);
      const double lo = std::max(0.0, std::floor(src));
      return Tap{int64_t(lo), std::min<int64_t>(n - 1, int64_t(std::ceil(src))), src - lo};
    };
    std::vector<Tap> cols(OW);
    for (int64_t c = 0; c < OW; c++) cols[c] = tap(col_ratio, c, W);
    for_rows(N * OH, [&](int64_t r) {
      const int64_t b = r / OH;
      const Tap t = tap(row_ratio, r % OH, H);
      const float* top = x + (b * H + t.lo) * W * C;
      const float* bot = x + (b * H + t.hi) * W * C;
      float* o = y + r * OW * C;
      for (int64_t c = 0; c < OW; c++) {
        const Tap& u = cols[c];
        for (int64_t d = 0; d < C; d++) {
          const double tl = top[u.lo * C + d], tr = top[u.hi * C + d];
          const double bl = bot[u.lo * C + d], br = bot[u.hi * C + d];
          const double upper = tl + (tr - tl) * u.frac;
          const double lower = bl + (br - bl) * u.frac;
          o[c * C + d] = float(upper + (lower - upper) * t.frac);
        }
      }
    });
  });
}
#pragma GCC pop_options

// ---- element-wise --------------------------------------------------------------------
// Op codes: the Unary and Binary enums of cnnlab_codes.h (generated from codes.ts).

int cn_unary(int op, const float* x, float* y, int64_t n, float alpha) {
  return guard([&] {
#define LOOP(expr)                                  \
  _Pragma("omp parallel for simd schedule(static)") \
  for (int64_t i = 0; i < n; i++) {                 \
    const float v = x[i];                           \
    y[i] = (expr);                                  \
  }                                                 \
  break;
    switch (op) {
      case U_RELU: LOOP(v > 0.f ? v : 0.f)
      case U_SIGMOID: LOOP(1.f / (1.f + std::exp(-v)))
      case U_EXP: LOOP(std::exp(v))
      case U_LOG: LOOP(std::log(v))
      case U_SQRT: LOOP(std::sqrt(v))
      case U_RSQRT: LOOP(1.f / std::sqrt(v))
      case U_SQUARE: LOOP(v * v)
      case U_NEG: LOOP(-v)
      case U_STEP: LOOP(v > 0.f ? 1.f : (v != v ? v : alpha))
      case U_ABS: LOOP(std::fabs(v))
      case U_TANH: LOOP(std::tanh(v))
      case U_RECIPROCAL: LOOP(1.f / v)
      case U_RELU6: LOOP(v < 0.f ? 0.f : (v > 6.f ? 6.f : v))
      case U_ELU: LOOP(v >= 0.f ? v : std::exp(v) - 1.f)
      case U_LEAKYRELU: LOOP(v >= 0.f ? v : alpha * v)
      default:
        throw std::runtime_error("unknown unary op " + std::to_string(op));
    }
#undef LOOP
  });
}

}  // extern "C"

namespace {

// B_RELUBACKPROP and B_SIGMOIDBACKPROP: an activation's input gradient from a = dy and b = the
// activation's output.

template <int OP>
inline float bin(float x, float y) {
  if constexpr (OP == B_ADD) return x + y;
  if constexpr (OP == B_SUB) return x - y;
  if constexpr (OP == B_MULTIPLY) return x * y;
  if constexpr (OP == B_REALDIV) return x / y;
  if constexpr (OP == B_MAXIMUM) return x > y ? x : (x != x ? x : y);
  if constexpr (OP == B_MINIMUM) return x < y ? x : (x != x ? x : y);
  if constexpr (OP == B_SQUAREDDIFFERENCE) return (x - y) * (x - y);
  if constexpr (OP == B_RELUBACKPROP) return y > 0.f ? x : 0.f;
  if constexpr (OP == B_SIGMOIDBACKPROP) return x * (y * (1.f - y));
  return 0.f;
}

// One run of the innermost axis; SA/SB: the operands' strides there (1, or 0 = broadcast).
template <int OP, int SA, int SB>
inline void bin_run(const float* a, const float* b, float* z, int64_t len) {
#pragma omp simd
  for (int64_t j = 0; j < len; j++) z[j] = bin<OP>(a[j * SA], b[j * SB]);
}

// out = a op b with broadcasting: out has shape dims[0..nd), and operand element (i0, ...)
// sits at sum(i_k * as[k]) (stride 0 along a broadcast axis). kernels/elementwise.ts merges axes first,
// so the innermost axis is as long as possible. Parallel over tiles of at most 16k
// elements of one innermost run.
template <int OP>
void binary_nd(const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out, const int64_t* dims,
               int nd) {
  const int64_t inner = dims[nd - 1];
  int64_t rows = 1;
  for (int k = 0; k < nd - 1; k++) rows *= dims[k];
  const int64_t T = 16384, per_row = (inner + T - 1) / T;
  const int64_t sa = as[nd - 1], sb = bs[nd - 1];
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < rows * per_row; t++) {
    const int64_t r = t / per_row, j0 = (t % per_row) * T, len = std::min(T, inner - j0);
    int64_t oa = 0, ob = 0, rest = r;
    for (int k = nd - 2; k >= 0; k--) {
      const int64_t i = rest % dims[k];
      rest /= dims[k];
      oa += i * as[k];
      ob += i * bs[k];
    }
    const float* pa = a + oa + j0 * sa;
    const float* pb = b + ob + j0 * sb;
    float* z = out + r * inner + j0;
    if (sa && sb)
      bin_run<OP, 1, 1>(pa, pb, z, len);
    else if (sa)
      bin_run<OP, 1, 0>(pa, pb, z, len);
    else if (sb)
      bin_run<OP, 0, 1>(pa, pb, z, len);
    else
      bin_run<OP, 0, 0>(pa, pb, z, len);
  }
}

}  // namespace

extern "C" {

int cn_binary(int op, const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
              const int64_t* dims, int nd) {
  return guard([&] {
    if (nd < 1) throw std::runtime_error("binary op needs at least one axis");
    switch (op) {
      case B_ADD: binary_nd<B_ADD>(a, as, b, bs, out, dims, nd); break;
      case B_SUB: binary_nd<B_SUB>(a, as, b, bs, out, dims, nd); break;
      case B_MULTIPLY: binary_nd<B_MULTIPLY>(a, as, b, bs, out, dims, nd); break;
      case B_REALDIV: binary_nd<B_REALDIV>(a, as, b, bs, out, dims, nd); break;
      case B_MAXIMUM: binary_nd<B_MAXIMUM>(a, as, b, bs, out, dims, nd); break;
      case B_MINIMUM: binary_nd<B_MINIMUM>(a, as, b, bs, out, dims, nd); break;
      case B_SQUAREDDIFFERENCE: binary_nd<B_SQUAREDDIFFERENCE>(a, as, b, bs, out, dims, nd); break;
      case B_RELUBACKPROP: binary_nd<B_RELUBACKPROP>(a, as, b, bs, out, dims, nd); break;
      case B_SIGMOIDBACKPROP: binary_nd<B_SIGMOIDBACKPROP>(a, as, b, bs, out, dims, nd); break;
      default:
        throw std::runtime_error("unknown binary op " + std::to_string(op));
    }
  });
}

// Sum (mean when `mean`) over the middle axis of an [outer, rows, inner] array, in double.
int cn_reduce_rows(const float* x, int64_t outer, int64_t rows, int64_t inner, float* out, int mean) {
  return guard([&] {
    if (outer > 1) {
      for_rows(outer, [&](int64_t o) {
        const float* xo = x + o * rows * inner;
        std::vector<double> acc(inner, 0.0);
        for (int64_t r = 0; r < rows; r++) {
          const float* row = xo + r * inner;
          for (int64_t j = 0; j < inner; j++) acc[j] += row[j];
        }
        const double scale = mean ? 1.0 / double(rows) : 1.0;
        for (int64_t j = 0; j < inner; j++) out[o * inner + j] = float(acc[j] * scale);
      });
      return;
    }
    std::vector<double> sum, unused;
    channel_sums(
        rows, inner, 8,
        [&](auto w, int64_t r, int64_t c0, double* acc, double*) {
          const int64_t n = w;
          const float* row = x + r * inner + c0;
#pragma omp simd
          for (int64_t j = 0; j < n; j++) acc[j] += row[j];
        },
        sum, unused);
    const double scale = mean ? 1.0 / double(rows) : 1.0;
    for (int64_t j = 0; j < inner; j++) out[j] = float(sum[j] * scale);
  });
}

// Batch norm (inference formula tfjs uses for both modes): y = (x - mean) * rsqrt(var + eps)
// * scale + offset, per channel of the innermost axis; scale/offset may be null.
int cn_batch_norm(const float* x, int64_t rows, int64_t C, const float* mean, const float* var, const float* scale,
                  const float* offset, float eps, float* y) {
  return guard([&] { bn_apply(x, rows, C, mean, var, scale, offset, eps, y); });
}

// Batch norm in training over a [rows, C] array: the batch's mean and (biased) variance
// per channel, as tf.moments gives them (sums of x and x^2 in double: one pass), then
// y = (x - mean) / sqrt(var + eps) * gamma + beta.
int cn_bn_train_fwd(const float* x, int64_t rows, int64_t C, const float* gamma, const float* beta, float eps,
                    float* y, float* mean, float* var) {
  return guard([&] {
    std::vector<double> s, ss;
    channel_sums(
        rows, C, 64,
        [&](auto w, int64_t r, int64_t c0, double* a0, double* a1) {
          const int64_t n = w;
          const float* in = x + r * C + c0;
#pragma omp simd
          for (int64_t c = 0; c < n; c++) {
            const double v = in[c];
            a0[c] += v;
            a1[c] += v * v;
          }
        },
        s, ss);
    for (int64_t c = 0; c < C; c++) {
      const double m = s[c] / double(rows);
      mean[c] = float(m);
      var[c] = float(std::max(0.0, ss[c] / double(rows) - m * m));
    }
    bn_apply(x, rows, C, mean, var, gamma, beta, eps, y);
  });
}

// Gradient of cn_bn_train_fwd. With xhat = (x - mean) / sqrt(var + eps) and M = rows:
// dbeta = sum dy, dgamma = sum dy * xhat, and (when dx is given)
// dx = gamma / sqrt(var + eps) * (dy - dbeta / M - xhat * dgamma / M)
//      + dmean / M + dvar * 2 (x - mean) / M
// (dmean, dvar: gradients reaching the mean and variance outputs; may be null).
int cn_bn_train_bwd(const float* x, const float* dy, int64_t rows, int64_t C, const float* mean, const float* var,
                    const float* gamma, const float* dmean, const float* dvar, float eps, float* dx, float* dgamma,
                    float* dbeta) {
  return guard([&] {
    std::vector<float> inv(C);
    for (int64_t c = 0; c < C; c++) inv[c] = 1.f / std::sqrt(var[c] + eps);
    const float* iv = inv.data();
    std::vector<double> sdy, sdyx;
    channel_sums(
        rows, C, 64,
        [&](auto w, int64_t r, int64_t c0, double* a0, double* a1) {
          const int64_t n = w;
          const float* in = x + r * C + c0;
          const float* g = dy + r * C + c0;
          const float *mc = mean + c0, *ic = iv + c0;
#pragma omp simd
          for (int64_t c = 0; c < n; c++) {
            a0[c] += g[c];
            a1[c] += double(g[c]) * double((in[c] - mc[c]) * ic[c]);
          }
        },
        sdy, sdyx);
    for (int64_t c = 0; c < C; c++) {
      dbeta[c] = float(sdy[c]);
      dgamma[c] = float(sdyx[c]);
    }
    if (!dx) return;
    // dx = k1 dy + k2 xhat + k3, per channel.
    std::vector<float> k1(C), k2(C), k3(C);
    const double M = double(rows);
    for (int64_t c = 0; c < C; c++) {
      const double a = double(gamma[c]) * iv[c];
      k1[c] = float(a);
      k2[c] = float(-a * sdyx[c] / M + (dvar ? 2.0 * dvar[c] / (M * iv[c]) : 0.0));
      k3[c] = float(-a * sdy[c] / M + (dmean ? dmean[c] / M : 0.0));
    }
    std::vector<float> mn(mean, mean + C);
    const Tiled t(C);
    for (auto* v : {&k1, &k2, &k3, &mn, &inv}) t.repeat(*v);
    const float *p1 = k1.data(), *p2 = k2.data(), *p3 = k3.data(), *mt = mn.data(), *it = inv.data();
    t.run(rows, [&](int64_t o, int64_t len) {
      const float* in = x + o;
      const float* g = dy + o;
      float* out = dx + o;
#pragma omp simd
      for (int64_t i = 0; i < len; i++) out[i] = p1[i] * g[i] + p2[i] * ((in[i] - mt[i]) * it[i]) + p3[i];
    });
  });
}

// One Adam step exactly as tfjs's AdamOptimizer computes it, fused into a single pass:
// m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2; w' = w - lr (m'/(1-b1^t)) / (sqrt(v'/(1-b2^t)) + eps).
// Writes w', m', v' to new buffers (tfjs tensors are immutable).
int cn_adam(int64_t n, const float* w, const float* g, const float* m, const float* v, float* w2, float* m2, float* v2,
            float lr, float b1, float b2, float c1, float c2, float eps) {
  return guard([&] {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float gi = g[i];
      const float mi = b1 * m[i] + (1.f - b1) * gi;
      const float vi = b2 * v[i] + (1.f - b2) * (gi * gi);
      m2[i] = mi;
      v2[i] = vi;
      w2[i] = w[i] - lr * (mi / c1) / (std::sqrt(vi / c2) + eps);
    }
  });
}

}  // extern "C"
