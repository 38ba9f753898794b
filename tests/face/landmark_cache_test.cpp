// The landmark model's and the HOG detector's fast-loading copies
// (facemix/face.h): faces and landmarks found through them are exactly
// dlib's, and a changed, corrupt or missing copy is rebuilt.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;

namespace {

const char* kPhotos[] = {"congress_C001080.jpg", "congress_N000189_beard_glasses.jpg", "congress_A000370_hat.jpg"};

std::vector<facemix::Landmarks> landmarks_of(const facemix::FaceDetector& d) {
  std::vector<facemix::Landmarks> out;
  for (const char* name : kPhotos)
    for (const auto& f : d.detect(facemix::read_image(faces_dir() + "/" + name))) out.push_back(f.landmarks);
  return out;
}

}  // namespace

TEST(LandmarkCache, CopyGivesExactlyDlibsLandmarksAndIsRebuiltWhenStale) {
  ScratchDir dir;
  // The model is copied so that the test can change its time without touching the system's.
  const std::string model = dir.file("model.dat");
  fs::copy_file(facemix::resolve_landmarks_model(), model);
  const std::string cache = dir.file("cache");
  const std::string copy = facemix::landmarks_cache_path(cache, model);

  const auto reference = landmarks_of(facemix::FaceDetector(model, std::string()));  // dlib's loader
  ASSERT_GE(reference.size(), 3u);
  EXPECT_FALSE(fs::exists(copy));

  EXPECT_EQ(landmarks_of(facemix::FaceDetector(model, cache)), reference);  // writes the copy
  ASSERT_TRUE(fs::is_regular_file(copy));
  int files = 0;
  for (const auto& e : fs::directory_iterator(cache)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 2);  // the landmark model's copy and the HOG detector's
  const auto written = fs::last_write_time(copy);
  EXPECT_EQ(landmarks_of(facemix::FaceDetector(model, cache)), reference);  // reads it
  EXPECT_EQ(fs::last_write_time(copy), written);

  // The source changes (its time here): the copy is stale and rewritten.
  fs::last_write_time(model, fs::last_write_time(model) + std::chrono::hours(1));
  EXPECT_EQ(landmarks_of(facemix::FaceDetector(model, cache)), reference);
  EXPECT_NE(fs::last_write_time(copy), written);

  // A corrupt copy is ignored and rewritten.
  const std::string good = read_file(copy);
  std::string bad = good.substr(0, good.size() / 2);
  write_file(copy, bad);
  EXPECT_EQ(landmarks_of(facemix::FaceDetector(model, cache)), reference);
  EXPECT_EQ(read_file(copy), good);
}

TEST(LandmarkCache, ANonModelFileIsAModelErrorWithOrWithoutACache) {
  ScratchDir dir;
  const std::string junk = dir.file("junk.dat");
  write_file(junk, std::string(1000, 'x'));
  EXPECT_THROW(facemix::FaceDetector(junk, dir.file("cache")), facemix::ModelError);
  EXPECT_THROW(facemix::FaceDetector(junk, std::string()), facemix::ModelError);
  EXPECT_FALSE(fs::exists(facemix::landmarks_cache_path(dir.file("cache"), junk)));
}
