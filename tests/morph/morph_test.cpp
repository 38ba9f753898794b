// Unit tests of the morph engine on synthetic faces.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/errors.h"
#include "facemix/morph.h"
#include "synthetic_face.h"

using namespace facemix;
using facemix::test::FaceParams;
using facemix::test::green_centroid;
using facemix::test::synthetic_face;

namespace {

constexpr int kSide = 256;

FaceParams other_params() {
  FaceParams p;
  p.eye_spacing = 0.30;
  p.jaw_width = 0.36;
  p.mouth_y = 0.76;
  p.nose_y = 0.63;
  p.skin = {90, 130, 190};
  return p;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  double m = 0;
  cv::Mat d;
  cv::absdiff(a, b, d);
  cv::minMaxLoc(d.reshape(1), nullptr, &m);
  return m;
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && max_abs_diff(a, b) == 0;
}

bool map_complete(const cv::Mat& map) {
  for (int y = 0; y < map.rows; ++y)
    for (int x = 0; x < map.cols; ++x) {
      const auto v = map.at<cv::Vec2f>(y, x);
      if (!std::isfinite(v[0]) || !std::isfinite(v[1])) return false;
    }
  return true;
}

}  // namespace

TEST(Weights, ParsesAndNormalises) {
  auto w = parse_weights("0.7,0.3", 2);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NEAR(w[0], 0.7, 1e-12);
  EXPECT_NEAR(w[1], 0.3, 1e-12);
  w = parse_weights(" 1, 1 ,2", 3);
  EXPECT_NEAR(w[0], 0.25, 1e-12);
  EXPECT_NEAR(w[2], 0.5, 1e-12);
  w = parse_weights("2,1", 2);  // ratios are fine
  EXPECT_NEAR(w[0], 2.0 / 3, 1e-12);
  w = parse_weights("1.5,-0.5", 2);  // extrapolation: allowed (warns)
  EXPECT_NEAR(w[0], 1.5, 1e-12);
  EXPECT_NEAR(w[1], -0.5, 1e-12);
}

TEST(Weights, RejectsBadText) {
  EXPECT_THROW(parse_weights("0.7,0.3", 3), UsageError);
  EXPECT_THROW(parse_weights("0.7", 2), UsageError);
  EXPECT_THROW(parse_weights("a,b", 2), UsageError);
  EXPECT_THROW(parse_weights("0.5,", 2), UsageError);
  EXPECT_THROW(parse_weights("0.5,,0.5", 3), UsageError);
  EXPECT_THROW(parse_weights("nan,1", 2), UsageError);
  EXPECT_THROW(parse_weights("inf,1", 2), UsageError);
  EXPECT_THROW(parse_weights("1,-1", 2), UsageError);  // zero sum
  EXPECT_THROW(parse_weights("0,0", 2), UsageError);
  EXPECT_THROW(parse_weights("0.5x,0.5", 2), UsageError);
  try {
    parse_weights("1,2,3", 2);
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("-w"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(Weights, Equal) {
  auto w = equal_weights(4);
  for (double v : w) EXPECT_DOUBLE_EQ(v, 0.25);
}

TEST(Mesh, ControlShapeHasBorderPoints) {
  const auto face = synthetic_face(kSide);
  const Shape s = control_shape(face.landmarks, {kSide, kSide});
  ASSERT_EQ(static_cast<int>(s.size()), kMorphShapePoints);
  EXPECT_EQ(s[68], cv::Point2f(0, 0));
  EXPECT_EQ(s[70], cv::Point2f(kSide - 1, kSide - 1));
  int on_border = 0;
  for (std::size_t i = 68; i < s.size(); ++i)
    on_border += (s[i].x == 0 || s[i].y == 0 || s[i].x == kSide - 1 || s[i].y == kSide - 1);
  EXPECT_EQ(on_border, kMorphShapePoints - 68);
}

TEST(Mesh, TrianglesTileTheWholeCrop) {
  for (const auto& params : {FaceParams{}, other_params()}) {
    const auto face = synthetic_face(kSide, params);
    const Shape s = control_shape(face.landmarks, {kSide, kSide});
    const auto tris = delaunay_triangles(s);
    ASSERT_GT(tris.size(), 100u);
    double area = 0;
    for (const auto& t : tris) {
      const cv::Point2f a = s[t[0]], b = s[t[1]], c = s[t[2]];
      area += std::abs((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)) / 2;
    }
    // The hull of a control shape is the crop's pixel-centre square.
    EXPECT_NEAR(area, (kSide - 1.0) * (kSide - 1.0), 1e-2 * kSide);
    const cv::Mat map = piecewise_affine_map(s, s, tris, {kSide, kSide});
    ASSERT_TRUE(map_complete(map)) << "holes in the rasterised triangles";
    for (int y = 0; y < kSide; y += 7)
      for (int x = 0; x < kSide; x += 5) {
        const auto v = map.at<cv::Vec2f>(y, x);
        ASSERT_NEAR(v[0], x, 1e-3);
        ASSERT_NEAR(v[1], y, 1e-3);
      }
  }
}

TEST(Mesh, DuplicatePointsDoNotBreakTriangulation) {
  auto face = synthetic_face(kSide);
  face.landmarks[61] = face.landmarks[67];  // closed lips: coincident points
  const Shape s = control_shape(face.landmarks, {kSide, kSide});
  const auto tris = delaunay_triangles(s);
  EXPECT_TRUE(map_complete(piecewise_affine_map(s, s, tris, {kSide, kSide})));
}

TEST(Warp, ToItsOwnShapeIsIdentity) {
  const auto face = synthetic_face(kSide);
  const Shape s = control_shape(face.landmarks, {kSide, kSide});
  const cv::Mat out = warp_to_shape(face.image, s, s, delaunay_triangles(s));
  EXPECT_LE(max_abs_diff(out, face.image), 1.0);
}

TEST(Warp, MapIsCompleteBetweenDifferentShapes) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  const Shape sa = control_shape(a.landmarks, {kSide, kSide}), sb = control_shape(b.landmarks, {kSide, kSide});
  const Shape mid = average_shape({sa, sb}, {0.5, 0.5});
  const cv::Mat map = piecewise_affine_map(sa, mid, delaunay_triangles(mid), {kSide, kSide});
  ASSERT_TRUE(map_complete(map));
  // The border is pinned: the map is the identity along it.
  for (int x = 0; x < kSide; ++x) {
    EXPECT_NEAR(map.at<cv::Vec2f>(0, x)[0], x, 1e-3);
    EXPECT_NEAR(map.at<cv::Vec2f>(kSide - 1, x)[1], kSide - 1, 1e-3);
  }
}

TEST(Morph, OneHotWeightsReturnThatFace) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  EXPECT_TRUE(identical(morph_faces({a, b}, {1.0, 0.0}).image, a.image));
  EXPECT_TRUE(identical(morph_faces({a, b}, {0.0, 1.0}).image, b.image));
  const auto r = morph_faces({a, b}, {1.0, 0.0});
  for (int k = 0; k < 68; ++k) EXPECT_NEAR(r.landmarks[k].x, a.landmarks[k].x, 1e-3);
}

TEST(Morph, FaceWithItselfIsItself) {
  const auto a = synthetic_face(kSide);
  EXPECT_LE(max_abs_diff(morph_faces({a, a}, {0.5, 0.5}).image, a.image), 1.0);
  EXPECT_LE(max_abs_diff(morph_faces({a, a, a}, equal_weights(3)).image, a.image), 1.0);
}

TEST(Morph, FeaturesMoveToTheAverageShape) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  const auto r = morph_faces({a, b}, {0.5, 0.5});
  const cv::Point2d expected = (a.landmarks[30] + b.landmarks[30]) * 0.5;
  ASSERT_GT(cv::norm(a.landmarks[30] - expected), 5.0);  // the test can tell a shift
  const cv::Point2d found = green_centroid(r.image);
  EXPECT_LT(cv::norm(found - expected), 1.0) << found << " vs " << expected;
  EXPECT_NEAR(r.landmarks[30].x, expected.x, 1e-3);
  EXPECT_NEAR(r.landmarks[30].y, expected.y, 1e-3);
  // Weighted: the marker sits 70/30 between the faces.
  const auto r73 = morph_faces({a, b}, {0.7, 0.3});
  const cv::Point2d expected73 = a.landmarks[30] * 0.7 + b.landmarks[30] * 0.3;
  EXPECT_LT(cv::norm(green_centroid(r73.image) - expected73), 1.0);
}

TEST(Morph, CrossDissolvesColours) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  const auto r = morph_faces({a, b}, {0.5, 0.5});
  // A forehead pixel is skin in both: the result is their average colour.
  const cv::Vec3b px = r.image.at<cv::Vec3b>(static_cast<int>(0.3 * kSide), kSide / 2);
  EXPECT_NEAR(px[0], 105, 1);
  EXPECT_NEAR(px[1], 145, 1);
  EXPECT_NEAR(px[2], 200, 1);
}

TEST(Morph, ThreeInputsAnyWeights) {
  FaceParams p3;
  p3.eye_spacing = 0.2;
  p3.mouth_y = 0.66;
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params()), c = synthetic_face(kSide, p3);
  const auto r = morph_faces({a, b, c}, parse_weights("1,1,2", 3));
  ASSERT_EQ(r.image.size(), a.image.size());
  const cv::Point2d expected = a.landmarks[30] * 0.25 + b.landmarks[30] * 0.25 + c.landmarks[30] * 0.5;
  EXPECT_LT(cv::norm(green_centroid(r.image) - expected), 1.0);
}

TEST(Morph, ExtrapolationSaturatesWithoutFailing) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  const auto r = morph_faces({a, b}, {1.5, -0.5});
  EXPECT_EQ(r.image.type(), CV_8UC3);
  EXPECT_FALSE(identical(r.image, a.image));
}

TEST(Morph, IsDeterministicAcrossThreadCounts) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  const cv::Mat first = morph_faces({a, b}, {0.6, 0.4}).image;
  const int threads = cv::getNumThreads();
  cv::setNumThreads(1);
  const cv::Mat single = morph_faces({a, b}, {0.6, 0.4}).image;
  cv::setNumThreads(threads);
  EXPECT_TRUE(identical(first, single));
  EXPECT_TRUE(identical(first, morph_faces({a, b}, {0.6, 0.4}).image));
}

TEST(Morpher, FixedMeshMatchesSingleMorphAtItsWeights) {
  const auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  Morpher m({a, b});
  EXPECT_TRUE(identical(m.render({0.5, 0.5}).image, morph_faces({a, b}, {0.5, 0.5}).image));
  EXPECT_TRUE(identical(m.render({1.0, 0.0}).image, a.image));
  EXPECT_TRUE(identical(m.render({0.0, 1.0}).image, b.image));
}

TEST(Morpher, LandmarkOutsideTheCropLeavesNoHoles) {
  // A chin below the crop's edge in one face and inside in the other: the
  // fixed mesh's boundary moves into the crop during the morph.
  auto a = synthetic_face(kSide), b = synthetic_face(kSide, other_params());
  a.landmarks[8].y = kSide + 30;
  a.landmarks[7].y = kSide + 10;
  Morpher m({a, b});
  for (double t : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    const auto r = m.render({1 - t, t});
    EXPECT_EQ(r.image.size(), a.image.size());
  }
}

TEST(Morpher, RejectsMismatchedInputs) {
  const auto a = synthetic_face(kSide), small = synthetic_face(kSide / 2);
  EXPECT_THROW(Morpher({a, small}), std::invalid_argument);
  EXPECT_THROW(Morpher({}), std::invalid_argument);
  Morpher m({a, a});
  EXPECT_THROW(m.render({1.0}), std::invalid_argument);
}
