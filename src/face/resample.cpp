// Pillow-equivalent resampling, written from Pillow's documented behaviour
// and the arithmetic it performs (so that FFHQ alignment matches the Python
// reference bit for bit):
//  * resize with LANCZOS: per output pixel, a window of Lanczos-3 weights whose
//    support is scaled by the downscale factor, normalised to sum 1, converted
//    to 22-bit fixed point; horizontal pass first; each pass rounds to 8 bits.
//  * QUAD transform with BILINEAR: the output pixel centre is mapped bilinearly
//    onto the quad; the sample point is interpolated between the four nearest
//    pixel centres (edge pixels repeated), truncated to 8 bits; points outside
//    the image give black.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "face/resample.h"
#include "facemix/align.h"
#include "facemix/errors.h"

namespace facemix {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // room for 8-bit values and negative lobes
constexpr double kLanczosSupport = 3.0;

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

double lanczos3(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3.0);
  return 0.0;
}

inline std::uint8_t clip8(std::int32_t acc) {
  const std::int32_t v = acc >> kPrecisionBits;  // arithmetic shift: floor division
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// One axis of the resize: for output index i, taps start[i] .. start[i]+count[i]-1
// with weights k[i * ksize + j].
struct Kernel {
  int ksize = 0;
  std::vector<int> start, count;
  std::vector<std::int32_t> k;
};

Kernel lanczos_kernel(int in_size, int out_size) {
  Kernel K;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = kLanczosSupport * filterscale;
  K.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  K.start.resize(static_cast<std::size_t>(out_size));
  K.count.resize(static_cast<std::size_t>(out_size));
  K.k.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(K.ksize), 0);
  std::vector<double> w(static_cast<std::size_t>(K.ksize));
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Truncation toward zero, then clamping, as the reference does.
    int lo = static_cast<int>(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = hi - lo;
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      w[static_cast<std::size_t>(j)] = lanczos3((j + lo - center + 0.5) * ss);
      sum += w[static_cast<std::size_t>(j)];
    }
    std::int32_t* kk = &K.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(K.ksize)];
    for (int j = 0; j < n; ++j) {
      double v = w[static_cast<std::size_t>(j)];
      if (sum != 0.0) v /= sum;
      const double fixed = v * (1 << kPrecisionBits);
      kk[j] = static_cast<std::int32_t>(v < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    K.start[static_cast<std::size_t>(i)] = lo;
    K.count[static_cast<std::size_t>(i)] = n;
  }
  return K;
}

template <int C>
void horizontal_row(const std::uint8_t* in, std::uint8_t* out, const Kernel& K, int out_w) {
  for (int i = 0; i < out_w; ++i) {
    const std::int32_t* kk = &K.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(K.ksize)];
    const std::uint8_t* p = in + static_cast<std::ptrdiff_t>(K.start[static_cast<std::size_t>(i)]) * C;
    const int n = K.count[static_cast<std::size_t>(i)];
    std::int32_t acc[C];
    for (int c = 0; c < C; ++c) acc[c] = 1 << (kPrecisionBits - 1);
    for (int j = 0; j < n; ++j, p += C)
      for (int c = 0; c < C; ++c) acc[c] += p[c] * kk[j];
    for (int c = 0; c < C; ++c) out[i * C + c] = clip8(acc[c]);
  }
}

void horizontal_row_any(const std::uint8_t* in, std::uint8_t* out, int channels, const Kernel& K,
                        int out_w) {
  switch (channels) {
    case 1: horizontal_row<1>(in, out, K, out_w); break;
    case 2: horizontal_row<2>(in, out, K, out_w); break;
    case 3: horizontal_row<3>(in, out, K, out_w); break;
    default: horizontal_row<4>(in, out, K, out_w); break;
  }
}

// Output row `i` of the vertical pass over `in` (rows of `row_len` bytes).
void vertical_row(const cv::Mat& in, std::uint8_t* out, const Kernel& K, int i,
                  std::vector<std::int32_t>& acc) {
  const std::size_t row_len = static_cast<std::size_t>(in.cols) * static_cast<std::size_t>(in.channels());
  acc.assign(row_len, 1 << (kPrecisionBits - 1));
  const std::int32_t* kk = &K.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(K.ksize)];
  const int lo = K.start[static_cast<std::size_t>(i)], n = K.count[static_cast<std::size_t>(i)];
  for (int j = 0; j < n; ++j) {
    const std::uint8_t* p = in.ptr<std::uint8_t>(lo + j);
    const std::int32_t w = kk[j];
    for (std::size_t x = 0; x < row_len; ++x) acc[x] += p[x] * w;
  }
  for (std::size_t x = 0; x < row_len; ++x) out[x] = clip8(acc[x]);
}

cv::Mat horizontal_pass(const cv::Mat& in, int out_w) {
  const Kernel K = lanczos_kernel(in.cols, out_w);
  cv::Mat out(in.rows, out_w, in.type());
  cv::parallel_for_(cv::Range(0, in.rows), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y)
      horizontal_row_any(in.ptr<std::uint8_t>(y), out.ptr<std::uint8_t>(y), in.channels(), K, out_w);
  });
  return out;
}

cv::Mat vertical_pass(const cv::Mat& in, int out_h) {
  const Kernel K = lanczos_kernel(in.rows, out_h);
  cv::Mat out(out_h, in.cols, in.type());
  cv::parallel_for_(cv::Range(0, out_h), [&](const cv::Range& r) {
    std::vector<std::int32_t> acc;
    for (int y = r.start; y < r.end; ++y) vertical_row(in, out.ptr<std::uint8_t>(y), K, y, acc);
  });
  return out;
}

// PIL's QUAD data: (x0, (ne.x - x0)/w, (sw.x - x0)/h, (se.x - sw.x - ne.x + x0)/(w h), same for y),
// evaluated in the same order so the doubles come out identical.
struct QuadCoeffs {
  double a[8];
};

QuadCoeffs quad_coeffs(const std::array<cv::Point2d, 4>& q, int size) {
  const cv::Point2d nw = q[0], sw = q[1], se = q[2], ne = q[3];
  const double As = 1.0 / size, At = 1.0 / size;
  QuadCoeffs c{};
  c.a[0] = nw.x;
  c.a[1] = (ne.x - nw.x) * As;
  c.a[2] = (sw.x - nw.x) * At;
  c.a[3] = (se.x - sw.x - ne.x + nw.x) * As * At;
  c.a[4] = nw.y;
  c.a[5] = (ne.y - nw.y) * As;
  c.a[6] = (sw.y - nw.y) * At;
  c.a[7] = (se.y - sw.y - ne.y + nw.y) * As * At;
  return c;
}

// floor() for values well inside int range, without a libm call.
inline int floor_int(double v) {
  const int i = static_cast<int>(v);
  return v < i ? i - 1 : i;
}

void quad_row(const cv::Mat& img, const QuadCoeffs& q, int y, int size, std::uint8_t* out) {
  const double* a = q.a;
  const int w = img.cols, h = img.rows;
  const double yin = y + 0.5;
  for (int x = 0; x < size; ++x, out += 3) {
    const double xin = x + 0.5;
    double sx = a[0] + a[1] * xin + a[2] * yin + a[3] * xin * yin;
    double sy = a[4] + a[5] * xin + a[6] * yin + a[7] * xin * yin;
    if (sx < 0.0 || sx >= w || sy < 0.0 || sy >= h) {
      out[0] = out[1] = out[2] = 0;
      continue;
    }
    sx -= 0.5;
    sy -= 0.5;
    const int ix = floor_int(sx), iy = floor_int(sy);
    const double dx = sx - ix, dy = sy - iy;
    if (ix >= 0 && ix + 1 < w && iy >= 0 && iy + 1 < h) {  // interior: no clamping needed
      const std::uint8_t* p0 = img.ptr<std::uint8_t>(iy) + ix * 3;
      const std::uint8_t* p1 = img.ptr<std::uint8_t>(iy + 1) + ix * 3;
      for (int c = 0; c < 3; ++c) {
        const double v1 = p0[c] + (p0[c + 3] - p0[c]) * dx;
        const double v2 = p1[c] + (p1[c + 3] - p1[c]) * dx;
        out[c] = static_cast<std::uint8_t>(v1 + (v2 - v1) * dy);  // truncation, as the reference
      }
      continue;
    }
    // Edges: neighbours outside the image repeat the edge pixel.
    const int x0 = std::clamp(ix, 0, w - 1) * 3, x1 = std::clamp(ix + 1, 0, w - 1) * 3;
    const std::uint8_t* r0 = img.ptr<std::uint8_t>(std::clamp(iy, 0, h - 1));
    const bool has_r1 = iy + 1 >= 0 && iy + 1 < h;
    const std::uint8_t* r1 = has_r1 ? img.ptr<std::uint8_t>(iy + 1) : r0;
    for (int c = 0; c < 3; ++c) {
      const double v1 = r0[x0 + c] + (r0[x1 + c] - r0[x0 + c]) * dx;
      const double v2 = has_r1 ? r1[x0 + c] + (r1[x1 + c] - r1[x0 + c]) * dx : v1;
      out[c] = static_cast<std::uint8_t>(v1 + (v2 - v1) * dy);
    }
  }
}

}  // namespace

cv::Mat resize_antialias(const cv::Mat& image, cv::Size size) {
  if (image.empty() || image.depth() != CV_8U || image.channels() > 4 || size.width <= 0 ||
      size.height <= 0)
    throw Error("resize_antialias: needs a non-empty 8-bit image and a non-empty size");
  cv::Mat img = image;
  if (img.cols != size.width) img = horizontal_pass(img, size.width);
  if (img.rows != size.height) img = vertical_pass(img, size.height);
  return img.data == image.data ? image.clone() : img;
}

cv::Mat transform_quad_bilinear(const cv::Mat& image, int size,
                                const std::array<cv::Point2d, 4>& quad_pil) {
  if (image.empty() || image.type() != CV_8UC3 || size <= 0)
    throw Error("transform_quad_bilinear: needs a non-empty CV_8UC3 image and size > 0");
  const QuadCoeffs q = quad_coeffs(quad_pil, size);
  cv::Mat out(size, size, CV_8UC3);
  cv::parallel_for_(cv::Range(0, size), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) quad_row(image, q, y, size, out.ptr<std::uint8_t>(y));
  });
  return out;
}

namespace detail {

cv::Mat transform_quad_and_resize(const cv::Mat& image, int transform_size,
                                  const std::array<cv::Point2d, 4>& quad_pil, int output_size) {
  if (output_size == transform_size) return transform_quad_bilinear(image, transform_size, quad_pil);
  if (image.empty() || image.type() != CV_8UC3 || output_size <= 0 || output_size > transform_size)
    throw Error("transform_quad_and_resize: bad arguments");
  const QuadCoeffs q = quad_coeffs(quad_pil, transform_size);
  const Kernel K = lanczos_kernel(transform_size, output_size);
  // Horizontal pass of each supersampled row as soon as it is produced.
  cv::Mat narrow(transform_size, output_size, CV_8UC3);
  cv::parallel_for_(cv::Range(0, transform_size), [&](const cv::Range& r) {
    std::vector<std::uint8_t> row(static_cast<std::size_t>(transform_size) * 3);
    for (int y = r.start; y < r.end; ++y) {
      quad_row(image, q, y, transform_size, row.data());
      horizontal_row<3>(row.data(), narrow.ptr<std::uint8_t>(y), K, output_size);
    }
  });
  return vertical_pass(narrow, output_size);
}

}  // namespace detail
}  // namespace facemix
