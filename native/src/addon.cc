// N-API entry points of the native backend: a few functions that run one oneDNN kernel on
// Float32Arrays that JavaScript allocated (so the garbage collector owns all memory). Every
// argument is checked; a bad call throws a JavaScript error, never crashes.
#include <napi.h>
#include <omp.h>

#include <cmath>

#include "grouped_direct.h"
#include "kernels.h"
#include "layout_policy.h"

namespace {
using resnext::ConvGeometry;

// `what` as a Float32Array (a TypeError naming it otherwise).
Napi::Float32Array float32Array(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a Float32Array");
  return v.As<Napi::Float32Array>();
}

float* floats(const Napi::Value& v, size_t expected, const char* what, bool nullable = false) {
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  auto a = float32Array(v, what);
  if (a.ElementLength() != expected)
    throw Napi::RangeError::New(v.Env(), std::string("native: ") + what + " has " + std::to_string(a.ElementLength()) + " elements, expected " + std::to_string(expected));
  return a.Data();
}

// A Float32Array of at least `minimum` elements: a stored activation (a bf16 or int8 one fills
// only the front of the float32 array its tensor owns).
float* storedFloats(const Napi::Value& v, size_t minimum, const char* what) {
  auto a = float32Array(v, what);
  if (a.ElementLength() < minimum)
    throw Napi::RangeError::New(v.Env(), std::string("native: ") + what + " has " + std::to_string(a.ElementLength()) + " elements, expected at least " + std::to_string(minimum));
  return a.Data();
}

ConvGeometry geometry(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || v.As<Napi::Int32Array>().ElementLength() != 16)
    throw Napi::TypeError::New(v.Env(), "native: geometry must be an Int32Array of 16 values");
  auto a = v.As<Napi::Int32Array>();
  ConvGeometry g{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]};
  for (int i = 0; i < 16; i++) if (a[i] < 0) throw Napi::RangeError::New(v.Env(), "native: negative geometry value");
  if (g.groups < 1 || g.c % g.groups || g.o % g.groups) throw Napi::RangeError::New(v.Env(), "native: channels not divisible by groups");
  return g;
}

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    // "unimplemented": oneDNN has no kernel for this shape — the caller may decline to the reference
    // backend; every other status is a real error
    if (e.status == dnnl_unimplemented) throw Napi::Error::New(info.Env(), std::string("oneDNN declined: ") + e.what());
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("native: ") + e.what());
  }
  return info.Env().Undefined();
}

bool flag(const Napi::Value& v, const char* what) {
  if (!v.IsBoolean()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// A number argument (alpha, eps, learning rate, …).
float number(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a number");
  return v.As<Napi::Number>().FloatValue();
}

// The element count of a Float32Array argument whose size sets the others' (elementwise kernels).
size_t lengthOf(const Napi::Value& v, const char* what) { return float32Array(v, what).ElementLength(); }

// A non-negative integer argument (sizes).
int64_t count(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a number");
  int64_t n = v.As<Napi::Number>().Int64Value();
  if (n < 0) throw Napi::RangeError::New(v.Env(), std::string("native: ") + what + " must be ≥ 0");
  return n;
}

// A JavaScript array of numbers.
Napi::Array numbers(const Napi::Env& env, const std::vector<double>& values) {
  auto out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) out.Set(static_cast<uint32_t>(i), values[i]);
  return out;
}

// conv2d(x, w, bias | null, y, geometry)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  ConvGeometry g = geometry(info[4]);
  const float* x = floats(info[0], g.n * g.c * g.h * g.w, "x");
  const float* w = floats(info[1], g.o * (g.c / g.groups) * g.kh * g.kw, "weight");
  const float* b = floats(info[2], g.o, "bias", true);
  float* y = floats(info[3], g.n * g.o * g.oh * g.ow, "y");
  return guarded(info, [&] { resnext::conv2dForward(g, x, w, b, y); });
}

// conv2dFused(x, w, bias, residual | null, y, relu, geometry)
Napi::Value Conv2dFused(const Napi::CallbackInfo& info) {
  ConvGeometry g = geometry(info[6]);
  const float* x = floats(info[0], g.n * g.c * g.h * g.w, "x");
  const float* w = floats(info[1], g.o * (g.c / g.groups) * g.kh * g.kw, "weight");
  const float* b = floats(info[2], g.o, "bias");
  const float* r = floats(info[3], g.n * g.o * g.oh * g.ow, "residual", true);
  float* y = floats(info[4], g.n * g.o * g.oh * g.ow, "y");
  const bool relu = flag(info[5], "relu");
  if (r == y) throw Napi::RangeError::New(info.Env(), "native: residual and y must be different arrays");
  return guarded(info, [&] { resnext::conv2dFused(g, x, w, b, r, relu, y); });
}

int layoutArg(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "native: layout must be a number");
  return v.As<Napi::Number>().Int32Value();
}

// Physical elements of a [n, c, h, w] tensor stored in `layout` (0: plain).
size_t physicalSize(const Napi::Env& env, int layout, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (layout == 0) return n * c * h * w;
  std::vector<int64_t> d;
  try { d = resnext::layoutDims(layout); } catch (const std::exception& e) { throw Napi::RangeError::New(env, std::string("native: ") + e.what()); }
  if (d.size() != 5 || d[0] != n || d[1] != c || d[2] != h || d[3] != w) throw Napi::RangeError::New(env, "native: layout " + std::to_string(layout) + " does not match the tensor's dimensions");
  return d[4];
}

// A fused convolution's arithmetic: undefined/null for float32, {kind: 'bf16'}, or {kind: 'int8',
// id, srcScale, srcSigned, dstScale, dstSigned, residualScale, residualSigned, weightScales}.
resnext::Precision precision(const Napi::Value& v, int64_t outChannels) {
  using Kind = resnext::Precision::Kind;
  resnext::Precision pr;
  if (v.IsNull() || v.IsUndefined()) return pr;
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "native: precision must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string kind = o.Get("kind").IsString() ? o.Get("kind").As<Napi::String>().Utf8Value() : "";
  if (kind == "bf16") { pr.kind = Kind::bf16; return pr; }
  if (kind != "int8") throw Napi::RangeError::New(v.Env(), "native: precision.kind must be 'bf16' or 'int8', got '" + kind + "'");
  pr.kind = Kind::int8;
  pr.id = static_cast<int>(count(o.Get("id"), "precision.id"));
  auto scale = [&](const char* name) {
    const float s = number(o.Get(name), name);
    if (!(s > 0.0f) || !std::isfinite(s)) throw Napi::RangeError::New(v.Env(), std::string("native: precision.") + name + " must be a positive finite number");
    return s;
  };
  pr.srcScale = scale("srcScale");
  pr.dstScale = scale("dstScale");
  pr.residualScale = scale("residualScale");
  pr.srcSigned = flag(o.Get("srcSigned"), "precision.srcSigned");
  pr.dstSigned = flag(o.Get("dstSigned"), "precision.dstSigned");
  pr.residualSigned = flag(o.Get("residualSigned"), "precision.residualSigned");
  const float* ws = floats(o.Get("weightScales"), outChannels, "precision.weightScales");
  pr.weightScales.assign(ws, ws + outChannels);
  for (float s : pr.weightScales) {
    if (!(s > 0.0f) || !std::isfinite(s)) throw Napi::RangeError::New(v.Env(), "native: precision.weightScales must be positive finite numbers");
  }
  return pr;
}

// blockedPlan(geometry, residual, relu, precision?) -> [dstLayout, dstElements, weightElements, plan]
Napi::Value BlockedPlan(const Napi::CallbackInfo& info) {
  ConvGeometry g = geometry(info[0]);
  bool residual = flag(info[1], "residual"), relu = flag(info[2], "relu");
  const resnext::Precision pr = precision(info[3], g.o);
  resnext::BlockedInfo p{};
  guarded(info, [&] { p = resnext::blockedPlan(g, residual, relu, pr); });
  return numbers(info.Env(), {static_cast<double>(p.dstLayout), static_cast<double>(p.dstElements),
                              static_cast<double>(p.weightElements), static_cast<double>(p.plan)});
}

// Plan number `v` and the operands it expects (a RangeError for a number blockedPlan never returned).
std::pair<int, resnext::BlockedOperands> planArg(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "native: plan must be a number");
  const int plan = v.As<Napi::Number>().Int32Value();
  try {
    return {plan, resnext::blockedOperands(plan)};
  } catch (const std::exception& e) {
    throw Napi::RangeError::New(v.Env(), std::string("native: ") + e.what());
  }
}

// blockedPrepareWeights(plan, w, out): plain (G)OIHW weights into the plan's layout and type (int8:
// w holds the integer values)
Napi::Value BlockedPrepareWeights(const Napi::CallbackInfo& info) {
  const auto planned = planArg(info[0]);
  const int plan = planned.first;
  const resnext::BlockedOperands& p = planned.second;
  const ConvGeometry& g = p.g;
  const float* w = floats(info[1], g.o * (g.c / g.groups) * g.kh * g.kw, "weight");
  float* out = floats(info[2], p.weightElements, "prepared weight");
  return guarded(info, [&] { resnext::blockedPrepareWeights(plan, w, out); });
}

// conv2dFusedBlocked(plan, x, xLayout, preparedWeight, bias, residual | null, residualLayout, y)
Napi::Value Conv2dFusedBlocked(const Napi::CallbackInfo& info) {
  const auto planned = planArg(info[0]);
  const int plan = planned.first;
  const resnext::BlockedOperands& p = planned.second;
  const ConvGeometry& g = p.g;
  const bool hasResidual = !(info[5].IsNull() || info[5].IsUndefined());
  if (hasResidual != p.residual)
    throw Napi::TypeError::New(info.Env(), std::string("native: this plan ") + (p.residual ? "needs" : "takes no") + " residual");
  const int xLayout = layoutArg(info[2]), rLayout = layoutArg(info[6]);
  const float* x = storedFloats(info[1], physicalSize(info.Env(), xLayout, g.n, g.c, g.h, g.w), "x");
  const float* w = floats(info[3], p.weightElements, "prepared weight");
  const float* b = floats(info[4], g.o, "bias");
  const float* r = hasResidual ? storedFloats(info[5], physicalSize(info.Env(), rLayout, g.n, g.o, g.oh, g.ow), "residual") : nullptr;
  float* y = storedFloats(info[7], p.dstElements, "y");
  if (r == y || x == y) throw Napi::RangeError::New(info.Env(), "native: y must not alias an input");
  return guarded(info, [&] { resnext::conv2dFusedBlocked(plan, x, xLayout, w, b, r, rLayout, y); });
}

// layoutDims(layout) -> [dims..., physical elements]
Napi::Value LayoutDims(const Napi::CallbackInfo& info) {
  std::vector<int64_t> d;
  guarded(info, [&] { d = resnext::layoutDims(layoutArg(info[0])); });
  return numbers(info.Env(), std::vector<double>(d.begin(), d.end()));
}

// layoutToPlain(src, layout, dst)
Napi::Value LayoutToPlain(const Napi::CallbackInfo& info) {
  const int layout = layoutArg(info[1]);
  std::vector<int64_t> d;
  guarded(info, [&] { d = resnext::layoutDims(layout); });
  if (d.size() != 5) throw Napi::RangeError::New(info.Env(), "native: only 4-D layouts are supported");
  const float* src = storedFloats(info[0], d[4], "src");
  float* dst = floats(info[2], d[0] * d[1] * d[2] * d[3], "dst");
  return guarded(info, [&] { resnext::layoutToPlain(layout, src, dst); });
}

// conv2dBackwardData(dy, w, dx, geometry)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  ConvGeometry g = geometry(info[3]);
  const float* dy = floats(info[0], g.n * g.o * g.oh * g.ow, "dy");
  const float* w = floats(info[1], g.o * (g.c / g.groups) * g.kh * g.kw, "weight");
  float* dx = floats(info[2], g.n * g.c * g.h * g.w, "dx");
  return guarded(info, [&] { resnext::conv2dBackwardData(g, dy, w, dx); });
}

// conv2dBackwardWeight(dy, x, dw, geometry)
Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  ConvGeometry g = geometry(info[3]);
  const float* dy = floats(info[0], g.n * g.o * g.oh * g.ow, "dy");
  const float* x = floats(info[1], g.n * g.c * g.h * g.w, "x");
  float* dw = floats(info[2], g.o * (g.c / g.groups) * g.kh * g.kw, "dw");
  return guarded(info, [&] { resnext::conv2dBackwardWeight(g, dy, x, dw); });
}

// matmul(a, b, c, m, k, n, transA, transB): c = op(a)·op(b), row-major (dnnl_sgemm)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  int64_t m = count(info[3], "m"), k = count(info[4], "k"), n = count(info[5], "n");
  bool ta = flag(info[6], "transA"), tb = flag(info[7], "transB");
  if (m < 1 || k < 1 || n < 1) throw Napi::RangeError::New(info.Env(), "native: matmul sizes must be positive");
  const float* a = floats(info[0], m * k, "a");
  const float* b = floats(info[1], k * n, "b");
  float* c = floats(info[2], m * n, "c");
  dnnl_status_t s = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
  if (s != dnnl_success) throw Napi::Error::New(info.Env(), "oneDNN: sgemm failed with status " + std::to_string(s));
  return info.Env().Undefined();
}


// relu(x, y) / reluBackward(dy, y, dx)
Napi::Value Relu(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0], "x");
  resnext::relu(floats(info[0], n, "x"), floats(info[1], n, "y"), n);
  return info.Env().Undefined();
}
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0], "dy");
  resnext::reluBackward(floats(info[0], n, "dy"), floats(info[1], n, "y"), floats(info[2], n, "dx"), n);
  return info.Env().Undefined();
}
// addScaled(a, b | null, out, alpha, beta)
Napi::Value AddScaled(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0], "a");
  resnext::addScaled(floats(info[0], n, "a"), floats(info[1], n, "b", true), floats(info[2], n, "out"), n,
                     number(info[3], "alpha"), number(info[4], "beta"));
  return info.Env().Undefined();
}
// channelSum(x, out, n, c, hw)
Napi::Value ChannelSum(const Napi::CallbackInfo& info) {
  int64_t n = count(info[2], "n"), c = count(info[3], "c"), hw = count(info[4], "hw");
  resnext::channelSum(floats(info[0], n * c * hw, "x"), floats(info[1], c, "out"), n, c, hw);
  return info.Env().Undefined();
}
// batchNormStats(x, mean, var, n, c, hw)
Napi::Value BatchNormStats(const Napi::CallbackInfo& info) {
  int64_t n = count(info[3], "n"), c = count(info[4], "c"), hw = count(info[5], "hw");
  resnext::batchNormStats(floats(info[0], n * c * hw, "x"), floats(info[1], c, "mean"), floats(info[2], c, "var"), n, c, hw);
  return info.Env().Undefined();
}
// batchNormForward(x, mean, var, gamma | null, beta | null, eps, y, n, c, hw)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  int64_t n = count(info[7], "n"), c = count(info[8], "c"), hw = count(info[9], "hw");
  resnext::batchNormForward(floats(info[0], n * c * hw, "x"), floats(info[1], c, "mean"), floats(info[2], c, "var"), floats(info[3], c, "gamma", true),
                            floats(info[4], c, "beta", true), number(info[5], "eps"), floats(info[6], n * c * hw, "y"), n, c, hw);
  return info.Env().Undefined();
}
// batchNormBackward(dy, x, mean, var, gamma | null, eps, batchStats, dx, dgamma, dbeta, n, c, hw)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  int64_t n = count(info[10], "n"), c = count(info[11], "c"), hw = count(info[12], "hw");
  resnext::batchNormBackward(floats(info[0], n * c * hw, "dy"), floats(info[1], n * c * hw, "x"), floats(info[2], c, "mean"), floats(info[3], c, "var"),
                             floats(info[4], c, "gamma", true), number(info[5], "eps"), flag(info[6], "batchStats"),
                             floats(info[7], n * c * hw, "dx"), floats(info[8], c, "dgamma"), floats(info[9], c, "dbeta"), n, c, hw);
  return info.Env().Undefined();
}

resnext::PoolGeometry poolGeometry(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || v.As<Napi::Int32Array>().ElementLength() != 12)
    throw Napi::TypeError::New(v.Env(), "native: pool geometry must be an Int32Array of 12 values");
  auto a = v.As<Napi::Int32Array>();
  for (int i = 0; i < 12; i++) if (a[i] < 0) throw Napi::RangeError::New(v.Env(), "native: negative pool geometry value");
  return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]};
}

// maxPool2d(x, y, geometry) / maxPool2dBackward(dy, x, dx, geometry)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[2]);
  resnext::maxPool2d(g, floats(info[0], g.n * g.c * g.h * g.w, "x"), floats(info[1], g.n * g.c * g.oh * g.ow, "y"));
  return info.Env().Undefined();
}
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[3]);
  resnext::maxPool2dBackward(g, floats(info[0], g.n * g.c * g.oh * g.ow, "dy"), floats(info[1], g.n * g.c * g.h * g.w, "x"), floats(info[2], g.n * g.c * g.h * g.w, "dx"));
  return info.Env().Undefined();
}
// adaptiveAvgPool2d(x, y, geometry) / adaptiveAvgPool2dBackward(dy, dx, geometry)
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[2]);
  if (g.oh < 1 || g.ow < 1) throw Napi::RangeError::New(info.Env(), "native: adaptive pool output must be ≥ 1");
  resnext::adaptiveAvgPool2d(g, floats(info[0], g.n * g.c * g.h * g.w, "x"), floats(info[1], g.n * g.c * g.oh * g.ow, "y"));
  return info.Env().Undefined();
}
Napi::Value AdaptiveAvgPool2dBackward(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[2]);
  if (g.oh < 1 || g.ow < 1) throw Napi::RangeError::New(info.Env(), "native: adaptive pool output must be ≥ 1");
  resnext::adaptiveAvgPool2dBackward(g, floats(info[0], g.n * g.c * g.oh * g.ow, "dy"), floats(info[1], g.n * g.c * g.h * g.w, "dx"));
  return info.Env().Undefined();
}
// logSoftmax(x, y, rows, cols) / logSoftmaxBackward(dy, y, dx, rows, cols)
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  int64_t rows = count(info[2], "rows"), cols = count(info[3], "cols");
  resnext::logSoftmax(floats(info[0], rows * cols, "x"), floats(info[1], rows * cols, "y"), rows, cols);
  return info.Env().Undefined();
}
Napi::Value LogSoftmaxBackward(const Napi::CallbackInfo& info) {
  int64_t rows = count(info[3], "rows"), cols = count(info[4], "cols");
  resnext::logSoftmaxBackward(floats(info[0], rows * cols, "dy"), floats(info[1], rows * cols, "y"), floats(info[2], rows * cols, "dx"), rows, cols);
  return info.Env().Undefined();
}
// addRowBias(x, bias, y, rows, cols)
Napi::Value AddRowBias(const Napi::CallbackInfo& info) {
  int64_t rows = count(info[3], "rows"), cols = count(info[4], "cols");
  resnext::addRowBias(floats(info[0], rows * cols, "x"), floats(info[1], cols, "bias"), floats(info[2], rows * cols, "y"), rows, cols);
  return info.Env().Undefined();
}
// mul(a, b, out)
Napi::Value Mul(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0], "a");
  resnext::mul(floats(info[0], n, "a"), floats(info[1], n, "b"), floats(info[2], n, "out"), n);
  return info.Env().Undefined();
}
// sgdStep(param, grad, bufIn | null, paramOut, bufOut | null, lr, momentum, dampening, weightDecay, nesterov)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0], "param");
  resnext::sgdStep(floats(info[0], n, "param"), floats(info[1], n, "grad"), floats(info[2], n, "momentum buffer", true), floats(info[3], n, "param out"),
                   floats(info[4], n, "momentum buffer out", true), n, number(info[5], "lr"), number(info[6], "momentum"),
                   number(info[7], "dampening"), number(info[8], "weightDecay"), flag(info[9], "nesterov"));
  return info.Env().Undefined();
}

// info(): oneDNN version, CPU ISA, threads
Napi::Value Info(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  const dnnl_version_t* v = dnnl_version();
  o.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("isa", static_cast<int>(dnnl_get_effective_cpu_isa()));
  o.Set("threads", omp_get_max_threads());
  const std::vector<std::string> kernels = resnext::directGroupedKernelsBuilt();
  auto grouped = Napi::Array::New(info.Env(), kernels.size());
  for (size_t i = 0; i < kernels.size(); i++) grouped.Set(static_cast<uint32_t>(i), kernels[i]);
  o.Set("groupedKernels", grouped);
  return o;
}

// setGroupedTrainingNhwc(on): the layout policy's switch for grouped training convolutions
Napi::Value SetGroupedTrainingNhwc(const Napi::CallbackInfo& info) {
  resnext::setGroupedTrainingNhwc(flag(info[0], "on"));
  return info.Env().Undefined();
}

// setDirectGroupedConv(on): whether our grouped 3x3 kernel (grouped_direct.h) runs where it applies
Napi::Value SetDirectGroupedConv(const Napi::CallbackInfo& info) {
  resnext::setDirectGroupedConv(flag(info[0], "on"));
  return info.Env().Undefined();
}

// setThreads(n)
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = count(info[0], "threads");
  if (n < 1 || n > 4096) throw Napi::RangeError::New(info.Env(), "native: threads must be between 1 and 4096");
  omp_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// maxPoolBlockedPlan(geometry, xLayout) -> [dstLayout, dstElements]
Napi::Value MaxPoolBlockedPlan(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[0]);
  resnext::BlockedInfo p{};
  guarded(info, [&] { p = resnext::maxPoolBlockedPlan(g, layoutArg(info[1])); });
  return numbers(info.Env(), {static_cast<double>(p.dstLayout), static_cast<double>(p.dstElements)});
}

// maxPoolBlocked(x, xLayout, y, geometry)
Napi::Value MaxPoolBlocked(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[3]);
  const int xLayout = layoutArg(info[1]);
  if (xLayout < 1) throw Napi::RangeError::New(info.Env(), "native: maxPoolBlocked needs a blocked input");
  resnext::BlockedInfo p{};
  guarded(info, [&] { p = resnext::maxPoolBlockedPlan(g, xLayout); });
  const float* x = storedFloats(info[0], physicalSize(info.Env(), xLayout, g.n, g.c, g.h, g.w), "x");
  float* y = storedFloats(info[2], p.dstElements, "y");
  return guarded(info, [&] { resnext::maxPoolBlocked(g, x, xLayout, y); });
}

// globalAvgPoolStored(x, layout, y, geometry): adaptive average pooling to 1x1 of a stored activation
Napi::Value GlobalAvgPoolStored(const Napi::CallbackInfo& info) {
  auto g = poolGeometry(info[3]);
  const int layout = layoutArg(info[1]);
  if (layout < 1) throw Napi::RangeError::New(info.Env(), "native: globalAvgPoolStored needs a stored (non-plain) layout");
  if (g.oh != 1 || g.ow != 1) throw Napi::RangeError::New(info.Env(), "native: globalAvgPoolStored pools to 1x1 only");
  const float* x = storedFloats(info[0], physicalSize(info.Env(), layout, g.n, g.c, g.h, g.w), "x");
  float* y = floats(info[2], g.n * g.c, "y");
  return guarded(info, [&] { resnext::globalAvgPoolStored(layout, g.n, g.c, g.h, g.w, x, y); });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight));
  exports.Set("conv2dFused", Napi::Function::New(env, Conv2dFused));
  exports.Set("blockedPlan", Napi::Function::New(env, BlockedPlan));
  exports.Set("blockedPrepareWeights", Napi::Function::New(env, BlockedPrepareWeights));
  exports.Set("conv2dFusedBlocked", Napi::Function::New(env, Conv2dFusedBlocked));
  exports.Set("maxPoolBlockedPlan", Napi::Function::New(env, MaxPoolBlockedPlan));
  exports.Set("maxPoolBlocked", Napi::Function::New(env, MaxPoolBlocked));
  exports.Set("layoutDims", Napi::Function::New(env, LayoutDims));
  exports.Set("layoutToPlain", Napi::Function::New(env, LayoutToPlain));
  exports.Set("globalAvgPoolStored", Napi::Function::New(env, GlobalAvgPoolStored));
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("relu", Napi::Function::New(env, Relu));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("addScaled", Napi::Function::New(env, AddScaled));
  exports.Set("channelSum", Napi::Function::New(env, ChannelSum));
  exports.Set("batchNormStats", Napi::Function::New(env, BatchNormStats));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward));
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New(env, AdaptiveAvgPool2d));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvgPool2dBackward));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax));
  exports.Set("logSoftmaxBackward", Napi::Function::New(env, LogSoftmaxBackward));
  exports.Set("addRowBias", Napi::Function::New(env, AddRowBias));
  exports.Set("mul", Napi::Function::New(env, Mul));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setGroupedTrainingNhwc", Napi::Function::New(env, SetGroupedTrainingNhwc));
  exports.Set("setDirectGroupedConv", Napi::Function::New(env, SetDirectGroupedConv));
  return exports;
}
}  // namespace

NODE_API_MODULE(resnext_native, Init)
