// Identity-balanced morph weights on real photo pairs of ../shared/faces: the
// balanced blend's largest identity distance to the inputs is lower than the
// plain 50/50 morph's, and the search is deterministic.
#include <cstdio>

#include <gtest/gtest.h>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/identity_balance.h"
#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix::test {
namespace {

struct Input {
  MorphFace aligned;
  Descriptor descriptor;  // from the photo itself
};

const IdentityModel& model() {
  static const IdentityModel m = load_identity_model(find_identity_model(""));
  return m;
}

Input prepare(const std::string& name) {
  static const FaceDetector detector;
  const std::string path = faces_dir() + "/" + name;
  const cv::Mat photo = read_image(path);
  const std::vector<Face> found = detector.detect(photo);
  const Face& face = select_face(found, 0, path);
  AlignOptions o;
  o.output_size = 512;
  const AlignedFace a = align_face(photo, face.landmarks, o);
  return {{a.image, a.landmarks}, describe_face(model(), photo, face.landmarks)};
}

double max_distance(const MorphResult& r, const std::vector<Input>& inputs) {
  const Descriptor d = describe_morph(model(), r);
  double worst = 0.0;
  for (const auto& in : inputs) worst = std::max(worst, descriptor_distance(d, in.descriptor));
  return worst;
}

TEST(IdentityBalance, LowersTheLargestDistanceOnRealPairs) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"congress_A000370_hat.jpg", "congress_K000389_flag.jpg"},
      {"congress_A000370_hat.jpg", "nara_1879_grayscale_large.jpg"},
      {"congress_C001080.jpg", "congress_N000179_older.jpg"}};
  double plain_sum = 0.0, balanced_sum = 0.0;
  for (const auto& [a, b] : pairs) {
    const std::vector<Input> inputs = {prepare(a), prepare(b)};
    const std::vector<MorphFace> faces = {inputs[0].aligned, inputs[1].aligned};
    const std::vector<Descriptor> targets = {inputs[0].descriptor, inputs[1].descriptor};
    const std::vector<double> equal = {0.5, 0.5};
    const IdentityBalance bal = balance_identity(faces, targets, model(), equal);
    EXPECT_EQ(bal.mix.backdrop, equal);
    const double plain = max_distance(Morpher(faces, equal).render(equal), inputs);
    const double balanced = max_distance(Morpher(faces, bal.mix.shape).render(bal.mix), inputs);
    std::printf("identity balance %s + %s: max distance 50/50 %.3f -> balanced %.3f (search %.3f -> %.3f, %d candidates)\n",
                a.c_str(), b.c_str(), plain, balanced,
                std::max(bal.requested_distances[0], bal.requested_distances[1]),
                std::max(bal.distances[0], bal.distances[1]), bal.candidates);
    EXPECT_LE(std::max(bal.distances[0], bal.distances[1]),
              std::max(bal.requested_distances[0], bal.requested_distances[1]));
    EXPECT_LE(balanced, plain + 0.005) << a << " + " << b;
    plain_sum += plain;
    balanced_sum += balanced;
  }
  EXPECT_LT(balanced_sum, plain_sum - 0.03);
}

TEST(IdentityBalance, IsDeterministic) {
  const std::vector<Input> inputs = {prepare("congress_C001080.jpg"), prepare("congress_K000389_flag.jpg")};
  const std::vector<MorphFace> faces = {inputs[0].aligned, inputs[1].aligned};
  const std::vector<Descriptor> targets = {inputs[0].descriptor, inputs[1].descriptor};
  const IdentityBalance x = balance_identity(faces, targets, model(), {0.5, 0.5});
  const IdentityBalance y = balance_identity(faces, targets, model(), {0.5, 0.5});
  EXPECT_EQ(x.mix.shape, y.mix.shape);
  for (int r = 0; r < kFaceRegionCount; ++r) EXPECT_EQ(x.mix.regions[r], y.mix.regions[r]);
  EXPECT_EQ(x.distances, y.distances);
}

}  // namespace
}  // namespace facemix::test
