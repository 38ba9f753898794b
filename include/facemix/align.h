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

  // Added detail (what the steps above produce), for reports and tests.
  cv::Size image_size;             // the original image
  cv::Vec2d shrink_scale{1, 1};    // original pixels per shrunk pixel: (w / shrunk w, h / shrunk h)
  double work_qsize = 0;           // qsize after the shrink
  bool padded = false;             // whether the reflect/blur/median padding ran
  double blur_sigma = 0;           // its Gaussian sigma (work_qsize * 0.02)
  cv::Size work_size;              // image size after shrink, crop and pad
  // The quad in work-image coordinates (pixel centres at integers); the
  // transform samples it with PIL's convention, i.e. at work_quad + 0.5.
  std::array<cv::Point2d, 4> work_quad;

  // Exact affine maps between aligned-image and original-image pixel
  // coordinates, both in the detector's convention (pixel centres at integer
  // coordinates), composed through shrink, crop, pad and the quad transform.
  cv::Matx23d aligned_to_original;
  cv::Matx23d original_to_aligned;

  cv::Point2d to_original(cv::Point2d aligned) const;
  cv::Point2d to_aligned(cv::Point2d original) const;
};

// requires: image_size non-empty; options.output_size in [16, 4096];
//           options.transform_size 0 or in [output_size, 16384].
// ensures:  every number of the FFHQ procedure (quad, shrink, crop, pad) for
//           these landmarks, and the exact maps between the two images.
// throws:   UsageError for options out of range; Error when the landmarks put
//           the crop entirely outside the image or are degenerate (eyes and
//           mouth coincide).
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
// ensures:  result.image is output_size x output_size CV_8UC3; equal inputs
//           give equal bytes (multi-threaded, but every pixel is computed the
//           same way regardless of the thread count).
// throws:   as plan_ffhq_alignment; Interrupted when a stop was requested.
// Memory: about 3 x transform_size x output_size bytes for the supersampled
// stage (48 MiB at 1024), plus the padded work image in float when padding runs.
AlignedFace align_face(const cv::Mat& image, const Landmarks& landmarks,
                       const AlignOptions& options = {});

// ---- PIL-equivalent building blocks (also used by other stages) ----------

// Pillow's Image.resize(size, LANCZOS) (= ANTIALIAS) for 8-bit images:
// separable Lanczos-3 whose support widens by the downscale factor, fixed-point
// coefficients, horizontal pass first, each pass rounded to 8 bits.
// requires: image is CV_8UC1/2/3/4, non-empty; size non-empty.
// ensures:  bit-identical to Pillow 9.x for the same pixels.
cv::Mat resize_antialias(const cv::Mat& image, cv::Size size);

// Pillow's Image.transform((size, size), QUAD, quad_pil, BILINEAR): output
// pixel centre (u + 0.5, v + 0.5) maps bilinearly onto the quad whose corners
// are given in PIL's convention (pixel centres at +0.5) in the order top-left,
// bottom-left, bottom-right, top-right; samples outside the image are black.
// requires: image is CV_8UC3, non-empty; size > 0.
// ensures:  bit-identical to Pillow 9.x.
cv::Mat transform_quad_bilinear(const cv::Mat& image, int size,
                                const std::array<cv::Point2d, 4>& quad_pil);

}  // namespace facemix
