// A synthetic face hanging off the top-left corner of a 160x120 image: eyes
// and mouth lie outside it, so FFHQ alignment must pad (more than the crop's
// own size, so the reflection wraps more than once).
#pragma once

#include <cstddef>

#include "facemix/align.h"

namespace facemix::test {

inline Landmarks corner_face_landmarks() {
  Landmarks lm{};
  for (auto& p : lm) p = cv::Point2d(20, 20);
  for (int i = 36; i < 42; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(-34 + (i - 36), -14 + (i % 2));
  for (int i = 42; i < 48; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(-4 + (i - 42), -15 + (i % 2));
  lm[48] = cv::Point2d(-26, 20);
  lm[54] = cv::Point2d(-6, 19);
  return lm;
}

}  // namespace facemix::test
