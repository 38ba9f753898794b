// Piecewise-affine warping through one dense map per image.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/morph.h"

namespace facemix {
namespace {

// One triangle, prepared: its destination bounding rows/columns and the affine
// map from destination pixel to source point, via barycentric coordinates.
struct PreparedTriangle {
  int x0, x1, y0, y1;           // inclusive pixel bounds, clipped to the image
  double ox, oy;                // destination vertex 0
  double i00, i01, i10, i11;    // inverse of [d1-d0, d2-d0]
  cv::Point2d s0, e1, e2;       // source vertex 0 and edges s1-s0, s2-s0
};

bool prepare(const Shape& from, const Shape& to, const Triangle& t, cv::Size size,
             PreparedTriangle& p) {
  const cv::Point2d d0 = to[t[0]], d1 = to[t[1]], d2 = to[t[2]];
  const double ax = d1.x - d0.x, ay = d1.y - d0.y, bx = d2.x - d0.x, by = d2.y - d0.y;
  const double det = ax * by - bx * ay;
  if (std::abs(det) < 1e-9) return false;  // zero area covers no pixel centre of its own
  p.i00 = by / det, p.i01 = -bx / det, p.i10 = -ay / det, p.i11 = ax / det;
  p.ox = d0.x, p.oy = d0.y;
  p.s0 = from[t[0]];
  p.e1 = cv::Point2d(from[t[1]]) - p.s0;
  p.e2 = cv::Point2d(from[t[2]]) - p.s0;
  const double minx = std::min({d0.x, d1.x, d2.x}), maxx = std::max({d0.x, d1.x, d2.x});
  const double miny = std::min({d0.y, d1.y, d2.y}), maxy = std::max({d0.y, d1.y, d2.y});
  p.x0 = std::max(0, static_cast<int>(std::ceil(minx - 1e-4)));
  p.x1 = std::min(size.width - 1, static_cast<int>(std::floor(maxx + 1e-4)));
  p.y0 = std::max(0, static_cast<int>(std::ceil(miny - 1e-4)));
  p.y1 = std::min(size.height - 1, static_cast<int>(std::floor(maxy + 1e-4)));
  return p.x0 <= p.x1 && p.y0 <= p.y1;
}

// Barycentric slack: pixel centres exactly on an edge (the crop border, shared
// edges) must count as inside despite rounding; overlap is harmless.
constexpr double kEdgeSlack = 1e-7;

}  // namespace

cv::Mat piecewise_affine_map(const Shape& from, const Shape& to,
                             const std::vector<Triangle>& triangles, cv::Size size) {
  if (from.size() != to.size()) throw std::invalid_argument("piecewise_affine_map: shape sizes differ");
  const int n = static_cast<int>(to.size());
  std::vector<PreparedTriangle> prepared;
  prepared.reserve(triangles.size());
  for (const auto& t : triangles) {
    for (int k : t)
      if (k < 0 || k >= n) throw std::invalid_argument("piecewise_affine_map: bad triangle index");
    PreparedTriangle p;
    if (prepare(from, to, t, size, p)) prepared.push_back(p);
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  cv::Mat map(size, CV_32FC2, cv::Scalar(nan, nan));
  // Row bands in parallel; within a band the triangles go in order, so the
  // result does not depend on the thread count.
  cv::parallel_for_(cv::Range(0, size.height), [&](const cv::Range& rows) {
    for (const auto& p : prepared) {
      const int ya = std::max(p.y0, rows.start), yb = std::min(p.y1, rows.end - 1);
      for (int y = ya; y <= yb; ++y) {
        auto* out = map.ptr<cv::Vec2f>(y);
        const double dy = y - p.oy;
        for (int x = p.x0; x <= p.x1; ++x) {
          const double dx = x - p.ox;
          const double l1 = p.i00 * dx + p.i01 * dy, l2 = p.i10 * dx + p.i11 * dy;
          if (l1 < -kEdgeSlack || l2 < -kEdgeSlack || l1 + l2 > 1.0 + kEdgeSlack) continue;
          out[x] = cv::Vec2f(static_cast<float>(p.s0.x + l1 * p.e1.x + l2 * p.e2.x),
                             static_cast<float>(p.s0.y + l1 * p.e1.y + l2 * p.e2.y));
        }
      }
    }
  });
  return map;
}

cv::Mat warp_to_shape(const cv::Mat& image, const Shape& from, const Shape& to,
                      const std::vector<Triangle>& triangles) {
  const cv::Mat map = piecewise_affine_map(from, to, triangles, image.size());
  cv::Mat finite;
  cv::compare(map.reshape(1), map.reshape(1), finite, cv::CMP_EQ);  // NaN != NaN
  if (cv::countNonZero(finite) != static_cast<int>(map.total() * 2))
    throw std::invalid_argument("warp_to_shape: the triangles leave pixels uncovered");
  cv::Mat out;
  cv::remap(image, out, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

}  // namespace facemix
