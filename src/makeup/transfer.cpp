// The per-region makeup transfer in the aligned frame (makeup.h explains the
// method; docs/makeup.md the choices and the figures).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "facemix/makeup.h"
#include "facemix/morph.h"
#include "makeup_internal.h"

namespace facemix {
namespace {

using makeup_detail::LabLayers;
using makeup_detail::SkinStats;

// How each region moves towards the reference.
struct RegionRule {
  double chroma;     // share of the reference's chroma (a, b) at the region's scale
  double lightness;  // share of the reference's base lightness relative to its own skin
  double detail;     // share of the reference's detail layer (lashes, liner, gloss)
};
constexpr RegionRule kEyes{1.0, 0.6, 0.5};
// Lips take the reference's median lip colour, not its pixels: the two
// mouths rarely match (a smile's teeth onto closed lips), and the photo's own
// lip shading then stays.
constexpr double kLipLightness = 0.7;  // share of the absolute lightness difference
constexpr double kLipChromaVariation = 0.5;  // share of the photo's own chroma variation kept
constexpr double kFoundationChroma = 0.5;     // skin tone moves halfway
constexpr double kFoundationLightness = 0.25; // and a quarter of the skin lightness difference

// a and b channels of a Lab image, smoothed with a Gaussian of `sigma`; large
// sigmas run on a quarter-size copy (same result up to interpolation, 16x cheaper).
cv::Mat smoothed_chroma(const cv::Mat& lab, double sigma) {
  cv::Mat ab;
  const int from_to[] = {1, 0, 2, 1};
  ab.create(lab.size(), CV_32FC2);
  cv::mixChannels(&lab, 1, &ab, 1, from_to, 2);
  cv::Mat out;
  if (sigma < 8) {
    cv::GaussianBlur(ab, out, cv::Size(), sigma);
    return out;
  }
  cv::Mat small;
  cv::resize(ab, small, cv::Size((lab.cols + 3) / 4, (lab.rows + 3) / 4), 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(), sigma / 4);
  cv::resize(small, out, lab.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat part_weight(const cv::Mat& region, const cv::Mat& confidence, bool wanted) {
  if (!wanted) return cv::Mat(region.size(), CV_32F, cv::Scalar(0));
  return region.mul(confidence);
}

// The reference crop warped onto the photo's control shape (the morph
// engine's mesh). A landmark a pixel or two from the crop's edge (a chin on
// the bottom row) can leave slivers of the edge in no triangle; those pixels
// lie outside every face region and simply keep the reference's own pixel.
cv::Mat reference_on_photo_shape(const MakeupCrop& reference, const MakeupCrop& photo) {
  const cv::Size size = photo.image.size();
  const Shape from = control_shape(reference.landmarks, size), to = control_shape(photo.landmarks, size);
  cv::Mat map = piecewise_affine_map(from, to, delaunay_triangles(to), size);
  for (int y = 0; y < map.rows; ++y) {
    auto* m = map.ptr<cv::Vec2f>(y);
    for (int x = 0; x < map.cols; ++x)
      if (std::isnan(m[x][0]) || std::isnan(m[x][1])) m[x] = cv::Vec2f(static_cast<float>(x), static_cast<float>(y));
  }
  cv::Mat out;
  cv::remap(reference.image, out, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

void check_crop(const MakeupCrop& c, const char* what) {
  if (c.image.type() != CV_8UC3 || c.image.rows != c.image.cols || c.image.rows < 64)
    throw std::invalid_argument(std::string("transfer_makeup: ") + what + " must be a CV_8UC3 square >= 64 px");
}

}  // namespace

AlignedMakeup transfer_makeup(const MakeupCrop& reference, const MakeupCrop& photo, const MakeupOptions& options) {
  check_crop(reference, "reference");
  check_crop(photo, "photo");
  if (reference.image.size() != photo.image.size())
    throw std::invalid_argument("transfer_makeup: reference and photo crops differ in size");
  if ((options.parts & kMakeupAll) == 0) throw std::invalid_argument("transfer_makeup: no parts");
  const cv::Size size = photo.image.size();
  const double unit = makeup_detail::eye_distance(photo.landmarks);

  AlignedMakeup m;
  m.before = photo.image;
  // The reference's face laid onto the photo's face shape (the morph engine's mesh).
  m.reference = reference_on_photo_shape(reference, photo);
  m.change = cv::Mat(size, CV_32FC3, cv::Scalar::all(0));
  m.weight = cv::Mat(size, CV_32F, cv::Scalar(0));

  const MakeupRegions full = makeup_regions(photo.landmarks, size);
  cv::Rect roi = cv::boundingRect(full.face > 0);
  if (roi.empty()) {
    m.image = photo.image.clone();
    return m;
  }
  const int margin = cvRound(0.2 * unit);  // filters look this far beyond the face
  roi = (roi + cv::Size(2 * margin, 2 * margin) - cv::Point(margin, margin)) & cv::Rect(cv::Point(0, 0), size);

  const LabLayers p = makeup_detail::split_layers(photo.image(roi), unit);
  const LabLayers r = makeup_detail::split_layers(m.reference(roi), unit);
  const cv::Mat skin = full.skin(roi);
  const cv::Mat stats_area = makeup_detail::upper_skin(skin, cvRound(photo.landmarks[33].y) - roi.y);
  const SkinStats ps = makeup_detail::skin_stats(p, stats_area), rs = makeup_detail::skin_stats(r, stats_area);
  // Occluders in either face (beard, glasses) keep the photo's own pixels.
  const cv::Mat photo_confidence = makeup_detail::plausibility(p, ps, skin, unit);
  const cv::Mat confidence = photo_confidence.mul(makeup_detail::plausibility(r, rs, skin, unit));
  const unsigned parts = options.parts;
  const cv::Mat w_skin = part_weight(skin, confidence, parts & kMakeupSkin);
  const cv::Mat w_blush = part_weight(full.blush(roi), confidence, parts & kMakeupBlush);
  const cv::Mat w_eyes = part_weight(full.eyes(roi), confidence, parts & kMakeupEyes);
  const cv::Mat lips = full.lips(roi);
  const makeup_detail::LipStats pl_stats = makeup_detail::lip_stats(p, lips), rl_stats = makeup_detail::lip_stats(r, lips);
  const cv::Mat w_lips = part_weight(lips, photo_confidence.mul(makeup_detail::lip_likeness(p, pl_stats)),
                                     parts & kMakeupLips);
  const cv::Mat p_fine = smoothed_chroma(p.lab, 0.02 * unit), r_fine = smoothed_chroma(r.lab, 0.02 * unit);
  const cv::Mat p_coarse = smoothed_chroma(p.lab, 0.15 * unit), r_coarse = smoothed_chroma(r.lab, 0.15 * unit);
  const double skin_shift_l = kFoundationLightness * (rs.base_l - ps.base_l);
  const cv::Vec2f skin_shift_ab(static_cast<float>(rs.lab[1] - ps.lab[1]), static_cast<float>(rs.lab[2] - ps.lab[2]));

  // The lips' lightness: mostly the lipstick's own (it is opaque), partly
  // relative to each face's skin (so a darker photo keeps darker lips).
  const double lip_absolute = rl_stats.base_l - pl_stats.base_l;
  const double lip_relative = (rl_stats.base_l - rs.base_l) - (pl_stats.base_l - ps.base_l);
  const float lip_shift_l = static_cast<float>(kLipLightness * lip_absolute + (1 - kLipLightness) * lip_relative);
  const cv::Vec2f lip_ab(rl_stats.ab), photo_lip_ab(pl_stats.ab);
  const auto lip_keep = static_cast<float>(kLipChromaVariation);

  cv::Mat out = p.lab.clone();
  cv::Mat weight_roi = m.weight(roi);
  for (int y = 0; y < roi.height; ++y) {
    const auto* pl = p.lab.ptr<cv::Vec3f>(y);
    const auto* pb = p.base.ptr<float>(y);
    const auto* pd = p.detail.ptr<float>(y);
    const auto* rb = r.base.ptr<float>(y);
    const auto* rd = r.detail.ptr<float>(y);
    const auto* pf = p_fine.ptr<cv::Vec2f>(y);
    const auto* rf = r_fine.ptr<cv::Vec2f>(y);
    const auto* pc = p_coarse.ptr<cv::Vec2f>(y);
    const auto* rc = r_coarse.ptr<cv::Vec2f>(y);
    const float* w[4] = {w_skin.ptr<float>(y), w_blush.ptr<float>(y), w_eyes.ptr<float>(y), w_lips.ptr<float>(y)};
    auto* o = out.ptr<cv::Vec3f>(y);
    auto* wt = weight_roi.ptr<float>(y);
    for (int x = 0; x < roi.width; ++x) {
      if (w[0][x] <= 0 && w[1][x] <= 0 && w[2][x] <= 0 && w[3][x] <= 0) continue;
      const cv::Vec3f photo_px = pl[x];
      cv::Vec3f v = photo_px;
      // Lightness of the reference relative to its own skin, minus the photo's:
      // the makeup's darkening or lightening without the reference's lighting.
      const float relative = static_cast<float>((rb[x] - rs.base_l) - (pb[x] - ps.base_l));
      const auto blend = [&](float k, const cv::Vec3f& target) { v += k * (target - v); };
      const cv::Vec2f coarse_shift = rc[x] - pc[x], fine_shift = rf[x] - pf[x];
      blend(w[0][x], {static_cast<float>(photo_px[0] + skin_shift_l),
                      photo_px[1] + static_cast<float>(kFoundationChroma) * coarse_shift[0],
                      photo_px[2] + static_cast<float>(kFoundationChroma) * coarse_shift[1]});
      // Blush: the reference's cheek colour relative to its skin tone.
      blend(w[1][x], {photo_px[0], photo_px[1] + coarse_shift[0] - skin_shift_ab[0],
                      photo_px[2] + coarse_shift[1] - skin_shift_ab[1]});
      blend(w[2][x], {static_cast<float>(photo_px[0] + kEyes.lightness * relative + kEyes.detail * (rd[x] - pd[x])),
                      photo_px[1] + static_cast<float>(kEyes.chroma) * fine_shift[0],
                      photo_px[2] + static_cast<float>(kEyes.chroma) * fine_shift[1]});
      blend(w[3][x], {photo_px[0] + lip_shift_l, lip_ab[0] + lip_keep * (photo_px[1] - photo_lip_ab[0]),
                      lip_ab[1] + lip_keep * (photo_px[2] - photo_lip_ab[1])});
      o[x] = v;
      wt[x] = 1.f - (1.f - w[0][x]) * (1.f - w[1][x]) * (1.f - w[2][x]) * (1.f - w[3][x]);
    }
  }

  // The change in BGR: both sides through the same Lab -> BGR conversion, so
  // untouched pixels give exactly 0.
  cv::Mat out_bgr, photo_bgr;
  cv::cvtColor(out, out_bgr, cv::COLOR_Lab2BGR);
  cv::cvtColor(p.lab, photo_bgr, cv::COLOR_Lab2BGR);
  out_bgr = cv::min(cv::max(out_bgr, 0.0), 1.0);
  photo_bgr = cv::min(cv::max(photo_bgr, 0.0), 1.0);
  cv::Mat change = out_bgr - photo_bgr;
  change.setTo(cv::Scalar::all(0), weight_roi <= 0);
  change.copyTo(m.change(roi));
  m.image = aligned_with_makeup(m, 1.0);
  return m;
}

cv::Mat aligned_with_makeup(const AlignedMakeup& makeup, double amount) {
  cv::Mat f, out;
  makeup.before.convertTo(f, CV_32FC3);
  f += makeup.change * (255.0 * amount);
  f.convertTo(out, CV_8UC3);
  return out;
}

}  // namespace facemix
