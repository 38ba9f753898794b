// `facemix makeup` end to end on the shared photos.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "facemix/image_io.h"
#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;

namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }
const std::string kReference = face("portraits/M001228.jpg");
const std::string kPhoto = face("portraits/C001088.jpg");

}  // namespace

TEST(MakeupCli, AmountZeroWritesThePhotosPixels) {
  ScratchDir dir;
  const CliResult r = run_facemix({"makeup", kReference, kPhoto, "--amount", "0", "--size", "256", "-o", dir.file("out.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dir.file("out.png") + "\n");
  const cv::Mat out = facemix::read_image(dir.file("out.png"));
  EXPECT_EQ(cv::norm(out, facemix::read_image(kPhoto), cv::NORM_INF), 0.0);
}

TEST(MakeupCli, FacelessReferenceIsRefusedWithNoOutput) {
  ScratchDir dir;
  const CliResult r = run_facemix({"makeup", face("noface_coffee.png"), kPhoto, "-o", dir.file("out.png")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("noface_coffee.png"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST(MakeupCli, ProfilePhotoIsRefusedWithNoOutput) {
  ScratchDir dir;
  const CliResult r = run_facemix({"makeup", kReference, face("oldpics_profile_gray_alpha.png"), "-o", dir.file("out.png")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("oldpics_profile_gray_alpha.png"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST(MakeupCli, BadOptionsAreUsageErrors) {
  ScratchDir dir;
  EXPECT_EQ(run_facemix({"makeup", kReference, kPhoto, "--parts", "lips,nose", "-o", dir.file("o.png")}).exit_code, 2);
  EXPECT_EQ(run_facemix({"makeup", kReference, kPhoto, "--amount", "1.5", "-o", dir.file("o.png")}).exit_code, 2);
  EXPECT_EQ(run_facemix({"makeup", kReference, kPhoto, "-o", dir.file("o.gif")}).exit_code, 2);  // no --frames
  EXPECT_TRUE(dir.list().empty());
}

TEST(MakeupCli, SequenceAndAlignedCrops) {
  ScratchDir dir;
  fs::create_directory(dir.file("crops"));
  const CliResult r = run_facemix({"makeup", kReference, kPhoto, "--parts", "lips,eyes", "--size", "256", "--frames", "3",
                                   "--keep-aligned", dir.file("crops"), "-o", dir.file("look.gif")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(fs::file_size(dir.file("look.gif")), 1000u);
  EXPECT_TRUE(fs::exists(dir.file("crops/C001088_aligned.png")));
  EXPECT_TRUE(fs::exists(dir.file("crops/C001088_makeup.png")));
}

// One reference onto a folder, then again: the second run skips what is done.
TEST(MakeupBatch, FolderOnceThenResumed) {
  ScratchDir dir;
  fs::create_directory(dir.file("photos"));
  fs::copy_file(kPhoto, dir.file("photos/man.jpg"));
  fs::copy_file(face("portraits/B001315.jpg"), dir.file("photos/woman.jpg"));
  fs::copy_file(face("noface_coffee.png"), dir.file("photos/coffee.png"));
  const std::vector<std::string> args = {"batch", "--makeup", kReference, dir.file("photos"), "-o", dir.file("out"),
                                         "--size", "256", "--parts", "lips", "--report", dir.file("report.jsonl")};
  const CliResult first = run_facemix(args);
  EXPECT_EQ(first.exit_code, 1) << first.err;  // the coffee cup has no face
  EXPECT_NE(first.err.find("coffee.png"), std::string::npos) << first.err;
  EXPECT_TRUE(fs::exists(dir.file("out/man.png")));
  EXPECT_TRUE(fs::exists(dir.file("out/woman.png")));
  EXPECT_FALSE(fs::exists(dir.file("out/coffee.png")));
  const cv::Mat man = facemix::read_image(dir.file("out/man.png"));
  EXPECT_EQ(man.size(), facemix::read_image(kPhoto).size());
  EXPECT_GT(cv::norm(man, facemix::read_image(kPhoto), cv::NORM_INF), 0.0);

  fs::remove(dir.file("photos/coffee.png"));
  const CliResult second = run_facemix(args);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  const std::string report = read_file(dir.file("report.jsonl"));
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 2);
  EXPECT_NE(report.find("\"skipped\""), std::string::npos) << report;
}
