// dlib's own model file: a .dat written with dlib's serialiser from the shipped
// weights reads back into the same parameters, and the LibTorch network fed
// dlib-style (/256) matches dlib's own network code on the golden chips.
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "identity_fixture.h"
#include "test_support.h"

namespace facemix::test {
namespace {

class DlibDat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    dat_ = dir_->file("dlib_face_recognition_resnet_model_v1.dat");
    save_dlib_identity_model(shipped_model(), dat_);
  }
  static void TearDownTestSuite() { delete dir_; }
  static ScratchDir* dir_;
  static std::string dat_;
};
ScratchDir* DlibDat::dir_ = nullptr;
std::string DlibDat::dat_;

TEST_F(DlibDat, RoundTripKeepsEveryParameter) {
  const IdentityModel back = load_identity_model(dat_);
  EXPECT_EQ(back.source_format, "dlib .dat");
  EXPECT_EQ(back.net->normalisation().scale, 256.0);
  const auto a = shipped_model().net->named_parameters();
  const auto b = back.net->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key(), b[i].key());
    EXPECT_TRUE(torch::equal(a[i].value(), b[i].value())) << a[i].key();
  }
}

TEST_F(DlibDat, TorchNetworkMatchesDlibsOwnCode) {
  const IdentityModel back = load_identity_model(dat_);
  std::vector<cv::Mat> chips;
  for (const auto& g : golden_chips()) chips.push_back(g.chip);
  const auto ours = describe_chips(back, chips);
  const auto dlibs = describe_chips_with_dlib(dat_, chips);
  ASSERT_EQ(ours.size(), dlibs.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    worst = std::max(worst, max_abs_diff(ours[i], dlibs[i]));
    EXPECT_LT(max_abs_diff(ours[i], dlibs[i]), 1e-4) << i;
  }
  std::printf("identity vs dlib's network code: max |diff| %.3g over %zu chips\n", worst, chips.size());
}

TEST_F(DlibDat, NormalisationIsTheSourcesOwn) {
  // The same weights fed face-api-style (/255) and dlib-style (/256) differ
  // measurably but stay the same identity.
  const IdentityModel back = load_identity_model(dat_);
  const auto golden = golden_chips();
  const auto d256 = describe_chips(back, {golden[0].chip})[0];
  const auto d255 = describe_chips(shipped_model(), {golden[0].chip})[0];
  const double gap = descriptor_distance(d255, d256);
  EXPECT_GT(gap, 1e-4);
  EXPECT_LT(gap, 0.05);
}

TEST_F(DlibDat, DamagedDatIsRefused) {
  const std::string bytes = read_file(dat_);
  const std::string cut = dir_->file("cut.dat");
  write_file(cut, bytes.substr(0, bytes.size() / 3));
  try {
    load_identity_model(cut);
    ADD_FAILURE() << "a truncated .dat loaded";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.dat"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facemix::test
