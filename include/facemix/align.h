// FFHQ face alignment, exactly as NVIDIA's ffhq-dataset procedure defines it,
// plus the exact inverse mapping (aligned pixel -> original pixel) that
// paste-back needs.
//
//   auto plan = facemix::plan_ffhq_alignment(face.landmarks, image.size(), {1024});
//   facemix::AlignedFace a = facemix::align_face(image, face.landmarks, {1024});
//   cv::Point2d p = a.alignment.to_original({512, 512});
#pragma once

#include <array>

#include <opencv2/core.hpp>

#include "facemix/face.h"

namespace facemix {

struct AlignOptions {
  int output_size = 1024;    // side of the square aligned image
  int transform_size = 0;    // supersampled quad-transform size; 0 = 4 x output_size (FFHQ: 4096 for 1024)
  bool enable_padding = true;
};

// Every decision of the FFHQ procedure, computed from landmarks alone.
struct AlignmentPlan {
  // The oriented crop square in original-image coordinates, corners in the
  // order top-left, bottom-left, bottom-right, top-right of the aligned image.
  std::array<cv::Point2d, 4> quad;
  double qsize = 0;            // side of the quad in original pixels
  int shrink = 1;              // integer pre-shrink factor (1 = none)
  cv::Size shrunk_size;        // image size after the shrink
  cv::Rect crop;               // crop in shrunk-image pixels
  cv::Vec4i pad{0, 0, 0, 0};   // reflect padding left, top, right, bottom (0 when not padded)
  int border = 0;
  int output_size = 1024;
  int transform_size = 4096;

  // Exact affine maps between aligned-image and original-image pixel
  // coordinates, both in the detector's convention (pixel centres at integer
  // coordinates), composed through shrink, crop, pad and the quad transform.
  cv::Matx23d aligned_to_original;
  cv::Matx23d original_to_aligned;

  cv::Point2d to_original(cv::Point2d aligned) const;
  cv::Point2d to_aligned(cv::Point2d original) const;
};

// requires: image_size non-empty; options.output_size in [16, 4096].
AlignmentPlan plan_ffhq_alignment(const Landmarks& landmarks, cv::Size image_size,
                                  const AlignOptions& options = {});

struct AlignedFace {
  cv::Mat image;            // CV_8UC3 BGR, output_size x output_size
  Landmarks landmarks;      // the detected landmarks mapped into aligned coordinates
  AlignmentPlan alignment;  // how it was made; to_original() inverts it
};

// Runs the plan on the image (shrink, crop, pad with reflect + blur + median
// blending, quad transform at transform_size, antialiased resize).
// requires: image is CV_8UC3 BGR.
AlignedFace align_face(const cv::Mat& image, const Landmarks& landmarks,
                       const AlignOptions& options = {});

}  // namespace facemix
