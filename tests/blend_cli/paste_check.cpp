#include "paste_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/face.h"
#include "facemix/image_io.h"

namespace facemix::test {

PasteChanges paste_changes(const std::string& photo_path, const std::string& pasted_path) {
  PasteChanges c;
  const cv::Mat photo = facemix::read_image(photo_path);
  const cv::Mat pasted = cv::imread(pasted_path);
  EXPECT_EQ(pasted.size(), photo.size());
  if (pasted.size() != photo.size()) return c;
  const facemix::FaceDetector detector;
  const auto faces = detector.detect(photo);
  EXPECT_FALSE(faces.empty());
  if (faces.empty()) return c;
  std::vector<cv::Point2f> pts;
  for (const auto& p : faces[0].landmarks) pts.emplace_back(p);
  const cv::Rect box = cv::boundingRect(pts);
  const int margin = std::max(box.width, box.height) / 4;
  const cv::Rect region(box.x - margin, box.y - margin, box.width + 2 * margin, box.height + 2 * margin);
  cv::Mat diff;
  cv::absdiff(pasted, photo, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  for (int y = 0; y < diff.rows; ++y)
    for (int x = 0; x < diff.cols; ++x)
      if (diff.at<uchar>(y, x)) (region.contains({x, y}) ? c.inside : c.outside)++;
  c.face_area = box.area();
  return c;
}

}  // namespace facemix::test
