#include "upfir.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace facemix::gan::upfir {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

const auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// dst[j] = (a[j] + 3 b[j] + 3 c[j] + d[j]) / 4: the [1, 3, 3, 1] / 4 taps.
inline void taps(float* dst, const float* a, const float* b, const float* c, const float* d, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j] = (a[j] + 3.0f * b[j] + 3.0f * c[j] + d[j]) * 0.25f;
}

// dst[j] = (a[j] + 3 b[j]) / 4 and the mirror (3 a[j] + b[j]) / 4.
inline void taps2(float* dst, const float* a, const float* b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j] = (a[j] + 3.0f * b[j]) * 0.25f;
}

// Rows of a [rows, width] block; out-of-range rows read `zero`.
struct Rows {
  const float* base;
  int64_t rows, width;
  const float* zero;
  const float* operator()(int64_t r) const { return (r < 0 || r >= rows) ? zero : base + r * width; }
};

// One sample of the conv0 FIR, channels-last. Each row of a part is contiguous
// (width * C values); a "pixel" is C contiguous values.
void forward_sample(const float* ee, const float* eo, const float* oe, const float* oo, float* z, int64_t H,
                    int64_t W, int64_t C) {
  const int64_t wE = (W + 1) * C, wO = W * C;
  at::parallel_for(0, 2 * H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> zero(wE, 0.0f), ve(wE), vo(wO + 2 * C, 0.0f);  // vo padded by one pixel each side
    const Rows EE{ee, H + 1, wE, zero.data()}, OE{oe, H, wE, zero.data()};
    const Rows EO{eo, H + 1, wO, zero.data()}, OO{oo, H, wO, zero.data()};
    for (int64_t m = begin; m < end; ++m) {
      const int64_t a = m / 2;
      if (m % 2 == 0) {
        taps(ve.data(), OE(a - 1), EE(a), OE(a), EE(a + 1), wE);
        taps(vo.data() + C, OO(a - 1), EO(a), OO(a), EO(a + 1), wO);
      } else {
        taps(ve.data(), EE(a), OE(a), EE(a + 1), OE(a + 1), wE);
        taps(vo.data() + C, EO(a), OO(a), EO(a + 1), OO(a + 1), wO);
      }
      float* zr = z + m * 2 * W * C;
      for (int64_t b = 0; b < W; ++b) {
        const float* e0 = ve.data() + b * C;  // VE[b]
        const float* e1 = e0 + C;             // VE[b+1]
        const float* o0 = vo.data() + b * C;  // VO[b-1]
        const float* o1 = o0 + C;             // VO[b]
        const float* o2 = o1 + C;             // VO[b+1]
        taps(zr + 2 * b * C, o0, e0, o1, e1, C);
        taps(zr + (2 * b + 1) * C, e0, o1, e1, o2, C);
      }
    }
  });
}

// Horizontal adjoint of one gz row (2W pixels) into a gVE row (W+1 pixels) and
// a gVO row (W pixels). `padded` has room for 2W + 4 pixels.
void horizontal_adjoint(const float* g, float* ve, float* vo, float* padded, int64_t W, int64_t C) {
  std::copy_n(g, 2 * W * C, padded + 2 * C);  // padded pixel i + 2 = g pixel i
  auto px = [&](int64_t i) { return padded + (i + 2) * C; };
  for (int64_t a = 0; a <= W; ++a) taps(ve + a * C, px(2 * a - 2), px(2 * a - 1), px(2 * a), px(2 * a + 1), C);
  for (int64_t a = 0; a < W; ++a) taps(vo + a * C, px(2 * a - 1), px(2 * a), px(2 * a + 1), px(2 * a + 2), C);
}

void backward_sample(const float* gz, float* ee, float* eo, float* oe, float* oo, int64_t H, int64_t W, int64_t C) {
  const int64_t wE = (W + 1) * C, wO = W * C;
  // Part row a needs gV rows 2a-2 .. 2a+2; they are recomputed per task (cheap)
  // instead of storing all 2H of them.
  at::parallel_for(0, H + 1, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> padded((2 * W + 4) * C, 0.0f), zero(wE, 0.0f), ve(5 * wE), vo(5 * wO);
    for (int64_t a = begin; a < end; ++a) {
      for (int64_t k = 0; k < 5; ++k) {
        const int64_t r = 2 * a - 2 + k;
        if (r >= 0 && r < 2 * H)
          horizontal_adjoint(gz + r * 2 * W * C, ve.data() + k * wE, vo.data() + k * wO, padded.data(), W, C);
      }
      auto vE = [&](int64_t r) { return (r < 0 || r >= 2 * H) ? zero.data() : ve.data() + (r - 2 * a + 2) * wE; };
      auto vO = [&](int64_t r) { return (r < 0 || r >= 2 * H) ? zero.data() : vo.data() + (r - 2 * a + 2) * wO; };
      taps(ee + a * wE, vE(2 * a - 2), vE(2 * a - 1), vE(2 * a), vE(2 * a + 1), wE);
      taps(eo + a * wO, vO(2 * a - 2), vO(2 * a - 1), vO(2 * a), vO(2 * a + 1), wO);
      if (a < H) {
        taps(oe + a * wE, vE(2 * a - 1), vE(2 * a), vE(2 * a + 1), vE(2 * a + 2), wE);
        taps(oo + a * wO, vO(2 * a - 1), vO(2 * a), vO(2 * a + 1), vO(2 * a + 2), wO);
      }
    }
  });
}

// Skip-image up-sampling of one NCHW plane [H, W] -> [2H, 2W].
void upsample_plane(const float* x, float* z, int64_t H, int64_t W, float* row, const float* zero) {
  const Rows X{x, H, W, zero};
  for (int64_t m = 0; m < 2 * H; ++m) {
    const int64_t a = m / 2;
    if (m % 2 == 0) taps2(row + 1, X(a - 1), X(a), W);
    else taps2(row + 1, X(a + 1), X(a), W);  // (3 x[a] + x[a+1]) / 4
    float* zr = z + m * 2 * W;  // row[b + 1] = v[b], row[0] = row[W + 1] = 0
    for (int64_t b = 0; b < W; ++b) {
      zr[2 * b] = (row[b] + 3.0f * row[b + 1]) * 0.25f;
      zr[2 * b + 1] = (3.0f * row[b + 1] + row[b + 2]) * 0.25f;
    }
  }
}

// Adjoint per plane: g [2H, 2W] -> gx [H, W]; per axis gx[a] = (g[2a-1] + 3 g[2a] + 3 g[2a+1] + g[2a+2]) / 4.
void upsample_plane_adjoint(const float* g, float* gx, int64_t H, int64_t W, float* tmp, float* padded,
                            const float* zero) {
  for (int64_t r = 0; r < 2 * H; ++r) {  // horizontal: tmp [2H, W]
    std::copy_n(g + r * 2 * W, 2 * W, padded + 1);  // padded[i + 1] = g[i]
    float* t = tmp + r * W;
    for (int64_t a = 0; a < W; ++a)
      t[a] = (padded[2 * a] + 3.0f * padded[2 * a + 1] + 3.0f * padded[2 * a + 2] + padded[2 * a + 3]) * 0.25f;
  }
  const Rows T{tmp, 2 * H, W, zero};
  for (int64_t a = 0; a < H; ++a) taps(gx + a * W, T(2 * a - 1), T(2 * a), T(2 * a + 1), T(2 * a + 2), W);
}

class UpsampleImageFn : public torch::autograd::Function<UpsampleImageFn> {
 public:
  static torch::Tensor forward(AutogradContext*, torch::Tensor x) {
    x = x.contiguous();
    const int64_t P = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
    torch::Tensor z = torch::empty({x.size(0), x.size(1), 2 * H, 2 * W}, x.options());
    const float* xp = x.data_ptr<float>();
    float* zp = z.data_ptr<float>();
    at::parallel_for(0, P, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> row(W + 2, 0.0f), zero(W, 0.0f);
      for (int64_t p = begin; p < end; ++p) upsample_plane(xp + p * H * W, zp + p * 4 * H * W, H, W, row.data(), zero.data());
    });
    return z;
  }

  static tensor_list backward(AutogradContext*, tensor_list grads) {
    const torch::Tensor g = grads[0].contiguous();
    const int64_t P = g.size(0) * g.size(1), H = g.size(2) / 2, W = g.size(3) / 2;
    torch::Tensor gx = torch::empty({g.size(0), g.size(1), H, W}, g.options());
    const float* gp = g.data_ptr<float>();
    float* gxp = gx.data_ptr<float>();
    at::parallel_for(0, P, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> tmp(2 * H * W), padded(2 * W + 2, 0.0f), zero(W, 0.0f);
      for (int64_t p = begin; p < end; ++p)
        upsample_plane_adjoint(gp + p * 4 * H * W, gxp + p * H * W, H, W, tmp.data(), padded.data(), zero.data());
    });
    return {gx};
  }
};

}  // namespace

torch::Tensor forward(const std::array<torch::Tensor, 4>& p) {
  const int64_t B = p[0].size(0), C = p[0].size(1), H = p[3].size(2), W = p[3].size(3);
  std::array<torch::Tensor, 4> c;
  for (int i = 0; i < 4; ++i) c[i] = p[i].contiguous(kChannelsLast);
  torch::Tensor z = torch::empty({B, C, 2 * H, 2 * W}, p[0].options().memory_format(kChannelsLast));
  for (int64_t n = 0; n < B; ++n)
    forward_sample(c[0].data_ptr<float>() + n * C * (H + 1) * (W + 1), c[1].data_ptr<float>() + n * C * (H + 1) * W,
                   c[2].data_ptr<float>() + n * C * H * (W + 1), c[3].data_ptr<float>() + n * C * H * W,
                   z.data_ptr<float>() + n * C * 4 * H * W, H, W, C);
  return z;
}

std::array<torch::Tensor, 4> backward(const torch::Tensor& gz_in) {
  const torch::Tensor gz = gz_in.contiguous(kChannelsLast);
  const int64_t B = gz.size(0), C = gz.size(1), H = gz.size(2) / 2, W = gz.size(3) / 2;
  auto opts = gz.options().memory_format(kChannelsLast);
  std::array<torch::Tensor, 4> g{torch::empty({B, C, H + 1, W + 1}, opts), torch::empty({B, C, H + 1, W}, opts),
                                 torch::empty({B, C, H, W + 1}, opts), torch::empty({B, C, H, W}, opts)};
  for (int64_t n = 0; n < B; ++n)
    backward_sample(gz.data_ptr<float>() + n * C * 4 * H * W, g[0].data_ptr<float>() + n * C * (H + 1) * (W + 1),
                    g[1].data_ptr<float>() + n * C * (H + 1) * W, g[2].data_ptr<float>() + n * C * H * (W + 1),
                    g[3].data_ptr<float>() + n * C * H * W, H, W, C);
  return g;
}

torch::Tensor upsample_image(const torch::Tensor& x) { return UpsampleImageFn::apply(x); }

}  // namespace facemix::gan::upfir
