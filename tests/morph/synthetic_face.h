// Synthetic faces for the morph tests: a plausible 68-point layout drawn into
// an image (skin, eyes, brows, mouth, nose marker, textured background), so
// warps move visible content to known places without any detector.
#pragma once

#include <opencv2/core.hpp>

#include "facemix/morph.h"

namespace facemix::test {

struct FaceParams {
  double eye_spacing = 0.24;  // distance between eye centres, fraction of the side
  double jaw_width = 0.30;    // jaw half-width
  double mouth_y = 0.70;      // mouth centre height
  double nose_y = 0.58;       // nose tip height
  cv::Scalar skin{120, 160, 210};
  cv::Scalar background{200, 120, 60};
};

// 68 landmarks in the iBUG order for a crop of side `side`.
Landmarks synthetic_landmarks(int side, const FaceParams& p = {});

// A face image whose features sit at synthetic_landmarks(side, p); a green
// disc of radius side/40 marks the nose tip (landmark 30).
MorphFace synthetic_face(int side, const FaceParams& p = {});

// Centroid of pure-green marker pixels (G > 200, B and R < 80); (-1,-1) when none.
cv::Point2d green_centroid(const cv::Mat& bgr);

}  // namespace facemix::test
