// Identity-balanced morph weights: a pattern search over MorphMix parts.
#include "facemix/identity_balance.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/progress.h"

namespace facemix {
namespace {

// The parts the search moves: shape and the four face regions (the backdrop
// keeps the requested weights).
constexpr int kSearchedParts = 1 + kFaceRegionCount;

std::vector<double>& part_of(MorphMix& mix, int part) { return part == 0 ? mix.shape : mix.regions[part - 1]; }
const std::vector<double>& part_of(const MorphMix& mix, int part) {
  return part == 0 ? mix.shape : mix.regions[part - 1];
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
      const MorphResult r = morpher_.render(m);
      chips.push_back(face_chip(r.image, r.landmarks));
    }
    const std::vector<Descriptor> d = describe_chips(model_, chips);
    candidates_ += static_cast<int>(mixes.size());
    std::vector<Scored> out;
    for (std::size_t c = 0; c < mixes.size(); ++c) {
      Scored s{mixes[c], {}, 0.0};
      double worst = 0.0;
      for (const auto& t : targets_) {
        s.distances.push_back(descriptor_distance(d[c], t));
        worst = std::max(worst, s.distances.back());
      }
      s.objective = worst + options_.stay_near * departure(mixes[c]);
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

  // Mean over the searched parts of the squared distance from the requested weights.
  double departure(const MorphMix& mix) const {
    double sum = 0.0;
    for (int p = 0; p < kSearchedParts; ++p)
      for (std::size_t i = 0; i < requested_.size(); ++i) {
        const double d = part_of(mix, p)[i] - requested_[i];
        sum += d * d;
      }
    return sum / kSearchedParts;
  }

  const std::vector<Descriptor>& targets_;
  const IdentityModel& model_;
  std::vector<double> requested_;
  IdentityBalanceOptions options_;
  Morpher morpher_;
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
  Scored best = search.score({MorphMix::uniform(requested)}).front();
  IdentityBalance result;
  result.requested_distances = best.distances;

  // 1. Everything toward one input, a few step sizes: the blend's overall
  //    resemblance moves toward whoever it resembles least.
  std::vector<MorphMix> joint;
  for (double step : options.joint_steps)
    for (std::size_t j = 0; j < n; ++j) {
      MorphMix m = best.mix;
      for (int p = 0; p < kSearchedParts; ++p) part_of(m, p) = toward(part_of(best.mix, p), j, step, options.min_weight);
      joint.push_back(m);
    }
  if (!joint.empty()) {
    const Scored candidate = best_of(search.score(joint));
    if (candidate.objective < best.objective) best = candidate;
  }

  // 2. Pattern search: each part alone toward each input; take the best
  //    improvement, keep the step while it improves, then shrink it.
  for (double step : options.part_steps) {
    for (int round = 0; round < 4; ++round) {
      std::vector<MorphMix> moves;
      for (int p = 0; p < kSearchedParts; ++p)
        for (std::size_t j = 0; j < n; ++j) {
          MorphMix m = best.mix;
          part_of(m, p) = toward(part_of(best.mix, p), j, step, options.min_weight);
          if (part_of(m, p) != part_of(best.mix, p)) moves.push_back(m);
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
