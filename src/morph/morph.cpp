// The morph engine: average shape, per-face warp, cross-dissolve.
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/morph.h"

namespace facemix {
namespace {

double signed_area2(const Shape& s, const Triangle& t) {
  const cv::Point2f a = s[t[0]], b = s[t[1]], c = s[t[2]];
  return static_cast<double>(b.x - a.x) * (c.y - a.y) - static_cast<double>(b.y - a.y) * (c.x - a.x);
}

// A mesh triangulated on one shape still tiles another with the same border
// when no triangle flips or collapses there.
bool mesh_valid_for(const std::vector<Triangle>& mesh, const Shape& mesh_shape, const Shape& target) {
  for (const auto& t : mesh) {
    const double before = signed_area2(mesh_shape, t), after = signed_area2(target, t);
    if (std::abs(after) < 1e-6 || (before > 0) != (after > 0)) return false;
  }
  return true;
}

bool fully_covered(const cv::Mat& map) {
  cv::Mat finite;
  cv::compare(map.reshape(1), map.reshape(1), finite, cv::CMP_EQ);  // NaN != NaN
  return cv::countNonZero(finite) == static_cast<int>(map.total() * 2);
}

}  // namespace

Morpher::Morpher(std::vector<MorphFace> faces, const std::vector<double>& mesh_weights)
    : faces_(std::move(faces)) {
  if (faces_.empty()) throw std::invalid_argument("Morpher: no faces");
  size_ = faces_.front().image.size();
  if (size_.width < 2 || size_.height < 2) throw std::invalid_argument("Morpher: image too small");
  for (const auto& f : faces_) {
    if (f.image.type() != CV_8UC3 || f.image.size() != size_)
      throw std::invalid_argument("Morpher: every face must be CV_8UC3 of one size");
    shapes_.push_back(control_shape(f.landmarks, size_));
  }
  const std::vector<double> w = mesh_weights.empty() ? equal_weights(faces_.size()) : mesh_weights;
  if (w.size() != faces_.size()) throw std::invalid_argument("Morpher: one mesh weight per face");
  mesh_shape_ = average_shape(shapes_, w);
  mesh_ = delaunay_triangles(mesh_shape_);
}

std::vector<cv::Mat> Morpher::warp_all(const Shape& target, const std::vector<bool>& use) const {
  std::vector<Triangle> local;
  const std::vector<Triangle>* triangles = &mesh_;
  auto use_own_triangulation = [&] {
    local = delaunay_triangles(target);
    triangles = &local;
  };
  if (!mesh_valid_for(mesh_, mesh_shape_, target)) {
    spdlog::debug("morph: the fixed mesh folds at these weights; triangulating this target");
    use_own_triangulation();
  }
  std::vector<cv::Mat> warped(faces_.size());
  for (std::size_t i = 0; i < faces_.size(); ++i) {
    if (!use[i]) continue;
    if (shapes_[i] == target) {
      warped[i] = faces_[i].image;  // identity warp: keep the pixels exact
      continue;
    }
    cv::Mat map = piecewise_affine_map(shapes_[i], target, *triangles, size_);
    if (!fully_covered(map) && triangles == &mesh_) {
      // A landmark outside the crop moved and opened a gap along the mesh's
      // boundary: the target's own Delaunay triangulation covers its hull.
      spdlog::debug("morph: fixed mesh leaves gaps; triangulating this target");
      use_own_triangulation();
      map = piecewise_affine_map(shapes_[i], target, *triangles, size_);
    }
    if (!fully_covered(map)) throw std::logic_error("morph: triangulation leaves pixels uncovered");
    cv::remap(faces_[i].image, warped[i], map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  }
  return warped;
}

MorphResult Morpher::render(const std::vector<double>& weights) const {
  if (weights.size() != faces_.size())
    throw std::invalid_argument("Morpher::render: one weight per face");
  const Shape target = average_shape(shapes_, weights);
  std::vector<bool> use(faces_.size());
  for (std::size_t i = 0; i < faces_.size(); ++i) use[i] = weights[i] != 0.0;
  const std::vector<cv::Mat> warped = warp_all(target, use);

  cv::Mat sum(size_, CV_32FC3, cv::Scalar::all(0));
  cv::Mat as_float;
  for (std::size_t i = 0; i < faces_.size(); ++i) {
    if (!use[i]) continue;
    warped[i].convertTo(as_float, CV_32FC3);
    cv::scaleAdd(as_float, weights[i], sum, sum);
  }
  MorphResult result;
  sum.convertTo(result.image, CV_8UC3);  // rounds and saturates (extrapolated weights)
  for (int k = 0; k < 68; ++k) result.landmarks[k] = cv::Point2d(target[k]);
  return result;
}

MorphGeometry Morpher::geometry(const MorphMix& mix) const {
  const std::size_t n = faces_.size();
  auto check = [n](const std::vector<double>& w) {
    if (w.size() != n) throw std::invalid_argument("Morpher: one weight per face in every part of the mix");
  };
  check(mix.shape);
  check(mix.backdrop);
  for (const auto& r : mix.regions) check(r);
  for (int r = 0; r < kFaceRegionCount; ++r) check(mix.shape_of(r));
  MorphGeometry g;
  g.target = average_shape(shapes_, mix.shape);
  for (int r = 0; r < kFaceRegionCount; ++r) {
    if (mix.shape_of(r) == mix.shape) continue;
    const Shape region_target = average_shape(shapes_, mix.shape_of(r));
    for (int k = 0; k < 68; ++k)
      if (landmark_shape_region(k) == r) g.target[static_cast<std::size_t>(k)] = region_target[static_cast<std::size_t>(k)];
  }
  for (int k = 0; k < 68; ++k) g.landmarks[k] = cv::Point2d(g.target[static_cast<std::size_t>(k)]);
  g.masks = face_region_masks(g.landmarks, size_);
  cv::Mat face_share(size_, CV_32FC1, cv::Scalar::all(0));
  for (const auto& m : g.masks) face_share += m;
  g.backdrop_share = 1.0 - face_share;
  g.used.resize(n);
  for (std::size_t i = 0; i < n; ++i) g.used[i] = mix.uses(i);
  g.warped = warp_all(g.target, g.used);
  return g;
}

MorphResult Morpher::render(const MorphGeometry& g, const MorphMix& mix) const {
  const std::size_t n = faces_.size();
  if (g.warped.size() != n || mix.backdrop.size() != n)
    throw std::invalid_argument("Morpher::render: geometry and mix must be for this morpher's faces");
  cv::Mat sum(size_, CV_32FC3, cv::Scalar::all(0));
  cv::Mat as_float, weight_map, weight3;
  for (std::size_t i = 0; i < n; ++i) {
    if (!mix.uses(i)) continue;
    if (!g.used[i]) throw std::invalid_argument("Morpher::render: the geometry left out a face this mix uses");
    weight_map = g.backdrop_share * mix.backdrop[i];
    for (int r = 0; r < kFaceRegionCount; ++r) cv::scaleAdd(g.masks[r], mix.regions[r][i], weight_map, weight_map);
    cv::merge(std::vector<cv::Mat>{weight_map, weight_map, weight_map}, weight3);
    g.warped[i].convertTo(as_float, CV_32FC3);
    sum += as_float.mul(weight3);
  }
  MorphResult result;
  sum.convertTo(result.image, CV_8UC3);
  result.landmarks = g.landmarks;
  return result;
}

MorphResult Morpher::render(const MorphMix& mix) const {
  if (mix.is_uniform()) return render(mix.shape);
  return render(geometry(mix), mix);
}

MorphResult morph_faces(const std::vector<MorphFace>& faces, const std::vector<double>& weights) {
  return Morpher(faces, weights).render(weights);
}

}  // namespace facemix
