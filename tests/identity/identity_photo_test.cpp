// Identity on real photos (../shared/faces and a fixed sample of the
// portraits): the same face verifies against its mirror image and a shrunken
// copy, the derived copies of a person verify against the originals, and
// different people mostly do not (the distribution is printed; bench_identity
// reports it over every portrait pair).
#include <algorithm>
#include <cstdio>
#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/image_io.h"
#include "identity_fixture.h"
#include "test_support.h"

namespace facemix::test {
namespace {

const FaceDetector& detector() {
  static const FaceDetector d;
  return d;
}

Descriptor describe_image(const cv::Mat& image, const std::string& what) {
  const auto faces = detector().detect(image);
  const Face& face = select_face(faces, 0, what);
  return describe_face(shipped_model(), image, face.landmarks);
}

Descriptor describe_file(const std::string& path) { return describe_image(read_image(path), path); }

// One photo per person (the derived copies are checked separately).
const std::vector<std::string> kPeople = {
    "congress_A000370_hat.jpg",    "congress_C000537_glasses_older.jpg", "congress_C001080.jpg",
    "congress_K000389_flag.jpg",   "congress_N000179_older.jpg",         "congress_N000189_beard_glasses.jpg",
    "congress_O000173_headscarf.jpg", "congress_S001223_glasses.jpg",    "nasa_astronaut_portrait.png",
    "portraits/A000369.jpg",       "portraits/B000944.jpg",              "portraits/B001267.jpg",
    "portraits/C001047.jpg"};

TEST(IdentityPhotos, MirrorAndShrunkenCopiesVerify) {
  for (const auto& name : kPeople) {
    const cv::Mat photo = read_image(faces_dir() + "/" + name);
    const Descriptor original = describe_image(photo, name);
    cv::Mat mirrored, shrunk;
    cv::flip(photo, mirrored, 1);
    cv::resize(photo, shrunk, cv::Size(), 0.4, 0.4, cv::INTER_AREA);
    const double dm = descriptor_distance(original, describe_image(mirrored, name + " (mirrored)"));
    const double ds = descriptor_distance(original, describe_image(shrunk, name + " (40%)"));
    std::printf("identity %-36s mirror %.3f  40%% copy %.3f\n", name.c_str(), dm, ds);
    EXPECT_LT(dm, kSamePersonThreshold) << name;
    EXPECT_LT(ds, kSamePersonThreshold) << name;
  }
}

TEST(IdentityPhotos, DerivedCopiesVerifyAgainstTheirOriginals) {
  const std::map<std::string, std::string> pairs = {
      {"derived_small_face_N000189.jpg", "congress_N000189_beard_glasses.jpg"},
      {"derived_alpha_cutout_S001223.png", "congress_S001223_glasses.jpg"},
      {"derived_exif_orientation6_C000537.jpg", "congress_C000537_glasses_older.jpg"}};
  for (const auto& [copy, original] : pairs) {
    const double d = descriptor_distance(describe_file(faces_dir() + "/" + copy), describe_file(faces_dir() + "/" + original));
    std::printf("identity %s vs %s: %.3f\n", copy.c_str(), original.c_str(), d);
    EXPECT_LT(d, kSamePersonThreshold) << copy;
  }
}

TEST(IdentityPhotos, DifferentPeopleMostlyDoNotVerify) {
  std::vector<Descriptor> d;
  for (const auto& name : kPeople) d.push_back(describe_file(faces_dir() + "/" + name));
  std::vector<double> distances;
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::size_t k = 0; k < i; ++k) distances.push_back(descriptor_distance(d[i], d[k]));
  std::sort(distances.begin(), distances.end());
  const auto under = std::count_if(distances.begin(), distances.end(), [](double x) { return x < kSamePersonThreshold; });
  std::printf("identity different people: %zu pairs, min %.3f median %.3f max %.3f, %ld under 0.6\n",
              distances.size(), distances.front(), distances[distances.size() / 2], distances.back(),
              static_cast<long>(under));
  EXPECT_GT(distances[distances.size() / 2], 0.7);
  EXPECT_LE(under, static_cast<long>(distances.size() / 20));  // dlib: ~99% on LFW
}

}  // namespace
}  // namespace facemix::test
