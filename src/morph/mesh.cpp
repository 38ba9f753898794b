// Control shapes and their Delaunay triangulation.
#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "facemix/morph.h"

namespace facemix {

Shape control_shape(const Landmarks& landmarks, cv::Size size) {
  if (size.width < 2 || size.height < 2)
    throw std::invalid_argument("control_shape: crop must be at least 2x2");
  Shape shape;
  shape.reserve(kMorphShapePoints);
  for (const auto& p : landmarks)
    shape.emplace_back(static_cast<float>(p.x), static_cast<float>(p.y));
  // Pixel centres run from 0 to size-1; the border points sit on those extremes
  // so that the tiling covers every pixel centre of the crop.
  const float r = static_cast<float>(size.width - 1), b = static_cast<float>(size.height - 1);
  shape.insert(shape.end(), {{0, 0}, {r, 0}, {r, b}, {0, b}});
  for (int i = 1; i <= kMorphPointsPerEdge; ++i) {
    const float t = static_cast<float>(i) / (kMorphPointsPerEdge + 1);
    shape.emplace_back(t * r, 0.f);
    shape.emplace_back(r, t * b);
    shape.emplace_back(t * r, b);
    shape.emplace_back(0.f, t * b);
  }
  return shape;
}

Shape average_shape(const std::vector<Shape>& shapes, const std::vector<double>& weights) {
  if (shapes.empty() || weights.size() != shapes.size())
    throw std::invalid_argument("average_shape: need one weight per shape");
  const std::size_t n = shapes.front().size();
  Shape out(n);
  for (std::size_t j = 0; j < n; ++j) {
    double x = 0, y = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      if (shapes[i].size() != n) throw std::invalid_argument("average_shape: shapes differ in length");
      if (weights[i] == 0.0) continue;  // exactness: 0 * anything adds nothing
      x += weights[i] * shapes[i][j].x;
      y += weights[i] * shapes[i][j].y;
    }
    out[j] = {static_cast<float>(x), static_cast<float>(y)};
  }
  return out;
}

std::vector<Triangle> delaunay_triangles(const Shape& shape) {
  if (shape.size() < 3) throw std::invalid_argument("delaunay_triangles: need 3 points or more");
  float x0 = shape[0].x, y0 = shape[0].y, x1 = x0, y1 = y0;
  for (const auto& p : shape) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y))
      throw std::invalid_argument("delaunay_triangles: non-finite point");
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  // Subdiv2D rejects points on or beyond its rectangle's far edges: add a margin.
  const int left = static_cast<int>(std::floor(x0)) - 2, top = static_cast<int>(std::floor(y0)) - 2;
  const cv::Rect bounds(left, top, static_cast<int>(std::ceil(x1)) - left + 4,
                        static_cast<int>(std::ceil(y1)) - top + 4);
  cv::Subdiv2D subdiv(bounds);
  std::map<std::pair<float, float>, int> index_of;  // exact vertex coordinates -> first index
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    index_of.emplace(std::make_pair(shape[i].x, shape[i].y), i);
    subdiv.insert(shape[i]);
  }
  std::vector<cv::Vec6f> list;
  subdiv.getTriangleList(list);
  std::vector<Triangle> triangles;
  triangles.reserve(list.size());
  for (const auto& t : list) {
    Triangle tri{};
    bool ours = true;
    for (int k = 0; k < 3 && ours; ++k) {
      auto it = index_of.find({t[2 * k], t[2 * k + 1]});
      ours = it != index_of.end();
      if (ours) tri[k] = it->second;
    }
    if (!ours) continue;  // touches one of Subdiv2D's virtual outer vertices
    const cv::Point2f a = shape[tri[0]], b = shape[tri[1]], c = shape[tri[2]];
    const double area2 = static_cast<double>(b.x - a.x) * (c.y - a.y) -
                         static_cast<double>(b.y - a.y) * (c.x - a.x);
    if (std::abs(area2) < 1e-6) continue;
    triangles.push_back(tri);
  }
  return triangles;
}

}  // namespace facemix
