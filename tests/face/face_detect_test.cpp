// Face detection and landmarks on every shared photo, against the by-eye face
// counts in ../shared/faces/MANIFEST.md.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix {
namespace {

std::string face_file(const std::string& name) { return test::faces_dir() + "/" + name; }

class FaceDetection : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { detector_ = std::make_unique<FaceDetector>(); }
  static void TearDownTestSuite() { detector_.reset(); }
  static std::vector<Face> detect(const std::string& name) {
    return detector_->detect(read_image(face_file(name)));
  }
  static std::unique_ptr<FaceDetector> detector_;
};
std::unique_ptr<FaceDetector> FaceDetection::detector_;

// A plausible frontal face: landmarks inside the box (with some slack), eyes
// above the nose tip above the mouth, left eye left of the right eye.
void expect_plausible(const Face& f, const std::string& what) {
  const cv::Rect2d slack(f.box.x - 0.25 * f.box.width, f.box.y - 0.25 * f.box.height,
                         1.5 * f.box.width, 1.5 * f.box.height);
  for (const auto& p : f.landmarks) EXPECT_TRUE(slack.contains(p)) << what << " " << p;
  const double eyes_y = (f.landmarks[36].y + f.landmarks[45].y) / 2;
  EXPECT_LT(eyes_y, f.landmarks[30].y) << what;
  EXPECT_LT(f.landmarks[30].y, f.landmarks[62].y) << what;
  EXPECT_LT(f.landmarks[36].x, f.landmarks[45].x) << what;
}

TEST_F(FaceDetection, CountsAgreeWithTheManifest) {
  const std::map<std::string, int> by_eye{
      {"nasa_astronaut_portrait.png", 1},         {"congress_S001223_glasses.jpg", 1},
      {"congress_C000537_glasses_older.jpg", 1},  {"congress_C001080.jpg", 1},
      {"congress_O000173_headscarf.jpg", 1},      {"congress_K000389_flag.jpg", 1},
      {"congress_N000179_older.jpg", 1},          {"congress_A000370_hat.jpg", 1},
      {"congress_N000189_beard_glasses.jpg", 1},  {"congress_E000295_large_3884x4920.jpg", 1},
      {"whitehouse_two_faces.jpg", 2},            {"nara_1879_grayscale_large.jpg", 1},
      {"derived_small_face_N000189.jpg", 1},      {"derived_alpha_cutout_S001223.png", 1},
      {"derived_exif_orientation6_C000537.jpg", 1}};
  for (const auto& [name, count] : by_eye) {
    const auto faces = detect(name);
    EXPECT_EQ(static_cast<int>(faces.size()), count) << name;
    for (const auto& f : faces) expect_plausible(f, name);
  }
}

TEST_F(FaceDetection, ProfileAndNoFacePhotosGiveNoFaceError) {
  for (const std::string name : {"oldpics_profile_gray_alpha.png", "noface_coffee.png"}) {
    const auto faces = detect(name);
    EXPECT_TRUE(faces.empty()) << name;
    try {
      select_face(faces, 0, face_file(name));
      ADD_FAILURE() << name;
    } catch (const NoFaceError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(face_file(name), 0), 0u) << e.what();
      EXPECT_EQ(e.exit_code(), kExitNoFace);
    }
  }
}

TEST_F(FaceDetection, WeakDetectionBesideTheAstronautIsNotSelected) {
  // Upsampled, dlib's HOG detector also fires weakly on the spacesuit below
  // the face (MANIFEST: dlib up1 = 2). The face is in the upper half.
  const auto faces = detect("nasa_astronaut_portrait.png");
  ASSERT_FALSE(faces.empty());
  const Face& f = select_face(faces, 0, "astronaut");
  EXPECT_LT(f.box.y + f.box.height, 256);
  EXPECT_GT(f.score, 0.5);
}

TEST_F(FaceDetection, LargestFaceFirstAndFaceIndexSelects) {
  const auto faces = detect("whitehouse_two_faces.jpg");
  ASSERT_EQ(faces.size(), 2u);
  EXPECT_GE(faces[0].box.area(), faces[1].box.area());
  EXPECT_NE(select_face(faces, 1, "w").box.x, select_face(faces, 0, "w").box.x);
  EXPECT_THROW(select_face(faces, 2, "w"), NoFaceError);
  EXPECT_THROW(select_face(faces, -1, "w"), NoFaceError);
}

TEST_F(FaceDetection, SmallFaceIsFoundByUpsampling) {
  const auto faces = detect("derived_small_face_N000189.jpg");  // 72x88, face ~40 px
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_GT(faces[0].box.width, 25);
  EXPECT_LT(faces[0].box.width, 60);
}

TEST_F(FaceDetection, LargeImageCoordinatesRefertoTheFullImage) {
  const cv::Mat img = read_image(face_file("congress_E000295_large_3884x4920.jpg"));
  const auto faces = detector_->detect(img);
  ASSERT_EQ(faces.size(), 1u);
  // The face spans about a quarter of the width, well inside the frame.
  EXPECT_GT(faces[0].box.width, 800);
  EXPECT_LT(faces[0].box.width, 1600);
  EXPECT_TRUE(cv::Rect2d(0, 0, img.cols, img.rows).contains(faces[0].box.tl()));
  expect_plausible(faces[0], "large");
}

TEST_F(FaceDetection, ExifRotatedCopyGivesTheSameFace) {
  const auto rotated = detect("derived_exif_orientation6_C000537.jpg");
  const auto upright = detect("congress_C000537_glasses_older.jpg");
  ASSERT_EQ(rotated.size(), 1u);
  ASSERT_EQ(upright.size(), 1u);
  // The rotated copy was re-encoded, so the detector's box can move by a HOG
  // cell or so and the landmarks follow it a little. Tolerance, relative to the
  // box width (~450 px): mean distance under 2%, largest under 5%.
  double worst = 0, sum = 0;
  for (std::size_t i = 0; i < 68; ++i) {
    const double d = cv::norm(rotated[0].landmarks[i] - upright[0].landmarks[i]);
    worst = std::max(worst, d);
    sum += d;
  }
  const double w = upright[0].box.width;
  EXPECT_LT(sum / 68, 0.02 * w);
  EXPECT_LT(worst, 0.05 * w);
}

TEST(LandmarksModel, MissingOrInvalidModelIsAModelError) {
  test::ScratchDir dir;
  try {
    FaceDetector d(dir.file("none.dat"));
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("none.dat")), std::string::npos);
    EXPECT_EQ(e.exit_code(), kExitModel);
  }
  test::write_file(dir.file("junk.dat"), "this is not a shape predictor");
  EXPECT_THROW(FaceDetector d(dir.file("junk.dat")), ModelError);
  // $FACEMIX_LANDMARKS is used when no path is given.
  ::setenv("FACEMIX_LANDMARKS", dir.file("env.dat").c_str(), 1);
  try {
    resolve_landmarks_model();
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("FACEMIX_LANDMARKS"), std::string::npos) << e.what();
  }
  ::unsetenv("FACEMIX_LANDMARKS");
  EXPECT_EQ(resolve_landmarks_model(), "/usr/share/dlib/shape_predictor_68_face_landmarks.dat");
}

}  // namespace
}  // namespace facemix
