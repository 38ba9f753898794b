// Identity-balanced morph weights: a pattern search over MorphMix parts.
#include "facemix/identity_balance.h"

#include <algorithm>
#include <cmath>
#include <list>

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/progress.h"

namespace facemix {
namespace {

// The parts the search moves: the geometry and the appearance of each of the
// four face regions (the backdrop keeps the requested weights; the crop's
// border points, which `shape` alone moves, are the same in every face). With
// options.shape_by_region false: one geometry (shape) and the four appearances.
int searched_parts(const IdentityBalanceOptions& o) { return o.shape_by_region ? 2 * kFaceRegionCount : 1 + kFaceRegionCount; }

std::vector<double>& part_of(MorphMix& mix, int part, const IdentityBalanceOptions& o) {
  if (!o.shape_by_region) return part == 0 ? mix.shape : mix.regions[part - 1];
  return part < kFaceRegionCount ? mix.shape_regions[part] : mix.regions[part - kFaceRegionCount];
}
const std::vector<double>& part_of(const MorphMix& mix, int part, const IdentityBalanceOptions& o) {
  if (!o.shape_by_region) return part == 0 ? mix.shape : mix.regions[part - 1];
  return part < kFaceRegionCount ? mix.shape_of(part) : mix.regions[part - kFaceRegionCount];
}

// Moves `w` a share `step` of the way toward input j: w <- (1 - step) w + step e_j,
// then lifts every weight to at least `floor` (renormalised).
std::vector<double> toward(const std::vector<double>& w, std::size_t j, double step, double floor) {
  std::vector<double> out(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) out[i] = (1.0 - step) * w[i] + (i == j ? step : 0.0);
  double sum = 0.0;
  for (double& x : out) sum += (x = std::max(x, floor));
  for (double& x : out) x /= sum;
  return out;
}

struct Scored {
  MorphMix mix;
  std::vector<double> distances;
  double objective = 0.0;
};

class Search {
 public:
  Search(const std::vector<MorphFace>& faces, const std::vector<Descriptor>& targets, const IdentityModel& model,
         const std::vector<double>& requested, const IdentityBalanceOptions& o)
      : targets_(targets), model_(model), requested_(requested), options_(o), morpher_(shrink(faces, o.search_size)) {}

  // Renders and describes every candidate (one batch through the network).
  std::vector<Scored> score(const std::vector<MorphMix>& mixes) {
    std::vector<cv::Mat> chips;
    for (const auto& m : mixes) {
      check_interrupt();
      const MorphResult r = m.is_uniform() ? morpher_.render(m) : morpher_.render(geometry_of(m), m);
      chips.push_back(face_chip(r.image, r.landmarks));
    }
    const std::vector<Descriptor> d = describe_chips(model_, chips);
    candidates_ += static_cast<int>(mixes.size());
    std::vector<Scored> out;
    for (std::size_t c = 0; c < mixes.size(); ++c) {
      Scored s{mixes[c], {}, 0.0};
      double worst = 0.0, sum = 0.0;
      for (const auto& t : targets_) {
        s.distances.push_back(descriptor_distance(d[c], t));
        worst = std::max(worst, s.distances.back());
        sum += s.distances.back();
      }
      s.objective = worst + options_.mean_share * sum / static_cast<double>(targets_.size()) +
                    options_.stay_near * departure(mixes[c]);
      out.push_back(s);
    }
    return out;
  }

  int candidates() const { return candidates_; }

 private:
  static std::vector<MorphFace> shrink(const std::vector<MorphFace>& faces, int size) {
    std::vector<MorphFace> out;
    for (const auto& f : faces) {
      if (size <= 0 || f.image.cols <= size) {
        out.push_back(f);
        continue;
      }
      const double s = static_cast<double>(size) / f.image.cols;
      MorphFace small;
      cv::resize(f.image, small.image, cv::Size(size, static_cast<int>(std::lround(f.image.rows * s))), 0, 0,
                 cv::INTER_AREA);
      // Pixel centres: x' = (x + 0.5) s - 0.5.
      for (int k = 0; k < 68; ++k) small.landmarks[k] = (f.landmarks[k] + cv::Point2d(0.5, 0.5)) * s - cv::Point2d(0.5, 0.5);
      out.push_back(small);
    }
    return out;
  }

  // The warped faces for m's geometry: candidates that move only appearance
  // weights share them, so each geometry is warped once (the last few kept).
  const MorphGeometry& geometry_of(const MorphMix& m) {
    std::vector<double> key = m.shape;
    for (int r = 0; r < kFaceRegionCount; ++r) key.insert(key.end(), m.shape_of(r).begin(), m.shape_of(r).end());
    for (std::size_t i = 0; i < m.backdrop.size(); ++i) key.push_back(m.uses(i) ? 1.0 : 0.0);
    for (auto it = geometries_.begin(); it != geometries_.end(); ++it)
      if (it->first == key) {
        geometries_.splice(geometries_.begin(), geometries_, it);  // most recently used first
        return geometries_.front().second;
      }
    geometries_.emplace_front(key, morpher_.geometry(m));
    if (geometries_.size() > 8) geometries_.pop_back();
    return geometries_.front().second;
  }

  // Mean over the searched parts of the squared distance from the requested weights.
  double departure(const MorphMix& mix) const {
    double sum = 0.0;
    const int parts = searched_parts(options_);
    for (int p = 0; p < parts; ++p)
      for (std::size_t i = 0; i < requested_.size(); ++i) {
        const double d = part_of(mix, p, options_)[i] - requested_[i];
        sum += d * d;
      }
    return sum / parts;
  }

  const std::vector<Descriptor>& targets_;
  const IdentityModel& model_;
  std::vector<double> requested_;
  IdentityBalanceOptions options_;
  Morpher morpher_;
  std::list<std::pair<std::vector<double>, MorphGeometry>> geometries_;
  int candidates_ = 0;
};

const Scored& best_of(const std::vector<Scored>& s) {
  // First minimum: ties keep the earlier (simpler) candidate, deterministically.
  return *std::min_element(s.begin(), s.end(), [](const Scored& a, const Scored& b) { return a.objective < b.objective; });
}

}  // namespace

Descriptor describe_morph(const IdentityModel& model, const MorphResult& result) {
  return describe_face(model, result.image, result.landmarks);
}

IdentityBalance balance_identity(const std::vector<MorphFace>& faces, const std::vector<Descriptor>& targets,
                                 const IdentityModel& model, const std::vector<double>& requested,
                                 const IdentityBalanceOptions& options) {
  const std::size_t n = faces.size();
  if (n < 2 || targets.size() != n || requested.size() != n)
    throw Error("balance_identity: one descriptor and one requested weight per face, at least two faces");
  Search search(faces, targets, model, requested, options);
  const int parts = searched_parts(options);
  Scored best = search.score({MorphMix::uniform(requested)}).front();
  if (options.shape_by_region)
    for (auto& r : best.mix.shape_regions) r = requested;  // the parts the search moves
  IdentityBalance result;
  result.requested_distances = best.distances;

  // 1. Everything toward one input, a few step sizes: the blend's overall
  //    resemblance moves toward whoever it resembles least.
  std::vector<MorphMix> joint;
  for (double step : options.joint_steps)
    for (std::size_t j = 0; j < n; ++j) {
      MorphMix m = best.mix;
      for (int p = 0; p < parts; ++p)
        part_of(m, p, options) = toward(part_of(best.mix, p, options), j, step, options.min_weight);
      joint.push_back(m);
    }
  if (!joint.empty()) {
    const Scored candidate = best_of(search.score(joint));
    if (candidate.objective < best.objective) best = candidate;
  }

  // 2. Pattern search: each part alone toward each input; take the best
  //    improvement, keep the step while it improves, then shrink it.
  for (double step : options.part_steps) {
    for (int round = 0; round < options.max_rounds; ++round) {
      std::vector<MorphMix> moves;
      for (int p = 0; p < parts; ++p)
        for (std::size_t j = 0; j < n; ++j) {
          MorphMix m = best.mix;
          part_of(m, p, options) = toward(part_of(best.mix, p, options), j, step, options.min_weight);
          if (part_of(m, p, options) != part_of(best.mix, p, options)) moves.push_back(m);
        }
      if (options.paired_moves)
        for (int p = 0; p < parts; ++p)
          for (int q = p + 1; q < parts; ++q)
            for (std::size_t j = 0; j < n; ++j)
              for (std::size_t k = 0; k < n; ++k) {
                if (j == k) continue;
                MorphMix m = best.mix;
                part_of(m, p, options) = toward(part_of(best.mix, p, options), j, step, options.min_weight);
                part_of(m, q, options) = toward(part_of(best.mix, q, options), k, step, options.min_weight);
                moves.push_back(m);
              }
      if (moves.empty()) break;
      const Scored candidate = best_of(search.score(moves));
      if (!(candidate.objective < best.objective - 1e-4)) break;
      best = candidate;
    }
  }
  result.mix = best.mix;
  result.distances = best.distances;
  result.candidates = search.candidates();
  return result;
}

}  // namespace facemix
