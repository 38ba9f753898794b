// The makeup transfer on real portraits (../shared): a reference with red
// lipstick onto a photo without, through the library.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include <opencv2/imgproc.hpp>

#include "facemix/face.h"
#include "facemix/makeup.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::faces_dir;

namespace {

constexpr int kSize = 512;  // the transfer's crop; small keeps the tests fast

struct Fixture {
  FaceDetector detector;
  MakeupFace reference, photo;
  AlignedMakeup makeup;
  cv::Mat result;
};

const Fixture& fixture() {
  static const std::unique_ptr<Fixture> f = [] {
    auto x = std::make_unique<Fixture>();
    // M001228 wears bright red lipstick; C001088 is a man with no makeup.
    x->reference = load_makeup_face(x->detector, faces_dir() + "/portraits/M001228.jpg", 0, kSize);
    x->photo = load_makeup_face(x->detector, faces_dir() + "/portraits/C001088.jpg", 0, kSize);
    x->makeup = transfer_makeup({x->reference.aligned.image, x->reference.aligned.landmarks},
                                {x->photo.aligned.image, x->photo.aligned.landmarks}, {});
    x->result = paste_makeup(x->photo, x->makeup, 1.0);
    return x;
  }();
  return *f;
}

// The photo's landmarks in its own pixels (from the aligned ones).
Landmarks original_landmarks(const MakeupFace& f) {
  Landmarks lm;
  for (std::size_t i = 0; i < lm.size(); ++i) lm[i] = f.aligned.alignment.to_original(f.aligned.landmarks[i]);
  return lm;
}

cv::Mat changed_pixels(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff, gray;
  cv::absdiff(a, b, diff);
  cv::cvtColor(diff, gray, cv::COLOR_BGR2GRAY);
  return gray > 0;
}

}  // namespace

TEST(MakeupPhoto, AmountZeroReturnsThePhotoExactly) {
  const Fixture& f = fixture();
  const cv::Mat out = paste_makeup(f.photo, f.makeup, 0.0);
  EXPECT_EQ(cv::norm(out, f.photo.photo, cv::NORM_INF), 0.0);
}

TEST(MakeupPhoto, OnlyTheFaceRegionsChange) {
  const Fixture& f = fixture();
  ASSERT_EQ(f.result.size(), f.photo.photo.size());
  const cv::Mat changed = changed_pixels(f.result, f.photo.photo);
  EXPECT_GT(cv::countNonZero(changed), 1000);
  // Where the transfer put any weight, mapped into the photo (one pixel of slack
  // for the bilinear sampling).
  cv::Mat weight;
  cv::warpAffine(f.makeup.weight, weight, cv::Mat(f.photo.aligned.alignment.original_to_aligned),
                 f.photo.photo.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  cv::dilate(weight, weight, cv::Mat());
  EXPECT_EQ(cv::countNonZero(changed & (weight <= 0)), 0);
}

TEST(MakeupPhoto, LipsAndEyesMoveTowardsTheReference) {
  const Fixture& f = fixture();
  AlignOptions options;
  options.output_size = kSize;
  const cv::Mat after = align_face(f.result, original_landmarks(f.photo), options).image;
  const MakeupRegions r = makeup_regions(f.photo.aligned.landmarks, {kSize, kSize});
  const cv::Vec3d lipstick = lip_colour({f.reference.aligned.image, f.reference.aligned.landmarks});
  const double lips_before = mean_ciede2000(f.photo.aligned.image, lipstick, r.lips);
  const double lips_after = mean_ciede2000(after, lipstick, r.lips);
  EXPECT_LT(lips_after, 0.75 * lips_before) << lips_before << " -> " << lips_after;
  const double eyes_before = mean_ciede2000(f.photo.aligned.image, f.makeup.reference, r.eyes);
  const double eyes_after = mean_ciede2000(after, f.makeup.reference, r.eyes);
  EXPECT_LT(eyes_after, eyes_before) << eyes_before << " -> " << eyes_after;
}

// The geometry that carries identity stays: the detector finds the same
// landmarks on the result as on the photo. (The identity network's distance
// is measured by the benchmark script once `facemix score` exists.)
TEST(MakeupPhoto, FaceGeometryIsKept) {
  const Fixture& f = fixture();
  const std::vector<Face> found = f.detector.detect(f.result);
  ASSERT_FALSE(found.empty());
  const Landmarks before = original_landmarks(f.photo);
  double sum = 0;
  // Jaw, brows, nose and eyes (the lip points follow the lipstick's contour),
  // within the detector's own jitter: a few per cent of the eye distance.
  for (std::size_t i = 0; i < 48; ++i) sum += cv::norm(found[0].landmarks[i] - before[i]);
  const double eyes = cv::norm((before[36] + before[39]) * 0.5 - (before[42] + before[45]) * 0.5);
  EXPECT_LT(sum / 48, 0.04 * eyes) << "eye distance " << eyes;
}

// Beard and glasses are flagged as occluders; a clean face's skin is not.
TEST(MakeupPhoto, BeardAndGlassesAreImplausible) {
  const Fixture& f = fixture();
  const auto lower_skin_plausibility = [](const MakeupFace& face) {
    const Landmarks& lm = face.aligned.landmarks;
    const MakeupRegions r = makeup_regions(lm, face.aligned.image.size());
    const cv::Mat p = makeup_plausibility(face.aligned.image, lm, r);
    cv::Mat below_nose = r.skin > 0.5;
    below_nose.rowRange(0, cvRound(lm[33].y)).setTo(0);
    return cv::mean(p, below_nose)[0];
  };
  const double clean = lower_skin_plausibility(f.photo);
  const double bearded = lower_skin_plausibility(
      load_makeup_face(f.detector, faces_dir() + "/congress_N000189_beard_glasses.jpg", 0, kSize));
  EXPECT_GT(clean, 0.7);
  EXPECT_LT(bearded, 0.5 * clean) << "clean " << clean << " bearded " << bearded;
}
