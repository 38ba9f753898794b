// Paste-back: composites a blended face (an aligned crop) into one input's
// photo at the photo's full resolution, through the exact inverse of that
// photo's FFHQ alignment.
//
//   facemix::AlignedFace target = facemix::align_face(photo, face.landmarks, {1024});
//   cv::Mat out = facemix::paste_back(photo, target.alignment, blended.image, blended.landmarks);
//
// The face region is the convex hull of the blended face's 68 landmarks (jaw,
// brows, nose, eyes, mouth: forehead and hair stay the photo's), feathered
// inwards so the mask is 0 on the hull and rises to 1 inside. Before
// compositing, the face's colours are matched to the photo's under the mask
// (per-channel mean and standard deviation in CIE Lab), so skin tone and
// lighting continue across the seam. Pixels outside the hull are the photo's,
// bit for bit.
#pragma once

#include <opencv2/core.hpp>

#include "facemix/align.h"
#include "facemix/face.h"

namespace facemix {

struct PasteOptions {
  double feather = 0.08;      // feather width as a fraction of the hull's size (its bounding box diagonal)
  bool match_colour = true;   // Lab mean/std transfer towards the photo inside the mask
};

// The feathered face mask in the crop's pixel frame: CV_32F of `size`, 0
// outside the convex hull of `landmarks` and on it, rising smoothly to 1 at
// `feather` (fraction of the hull's bounding-box diagonal) inside it.
// requires: size non-empty; feather > 0.
cv::Mat face_mask(const Landmarks& landmarks, cv::Size size, double feather);

// requires: photo CV_8UC3; face CV_8UC3 of plan.output_size square; plan is the
//           alignment of `photo` (plan_ffhq_alignment / align_face on it);
//           face_landmarks in the face crop's pixels.
// ensures:  CV_8UC3 of photo's size; pixel p is the photo's wherever the mask
//           mapped through plan.original_to_aligned is 0 (outside the face
//           region), else a blend of the photo and the colour-matched face
//           sampled at plan.original_to_aligned * p (bilinear; the face is
//           first area-downsampled when the photo's face is smaller than the
//           crop). Deterministic.
// throws:   std::invalid_argument when the requirements are not met.
cv::Mat paste_back(const cv::Mat& photo, const AlignmentPlan& plan, const cv::Mat& face,
                   const Landmarks& face_landmarks, const PasteOptions& options = {});

// Adds a change made to the photo's own aligned crop (e.g. makeup) back onto
// the photo, keeping the photo's full-resolution pixels under it: pixel p
// becomes photo(p) + 255 * gain * change(plan.original_to_aligned * p),
// sampled like paste_back() samples the face.
// requires: photo CV_8UC3; change CV_32FC3 of plan.output_size square (BGR
//           difference / 255), 0 outside the convex hull of `face_landmarks`;
//           plan is the alignment of `photo`.
// ensures:  CV_8UC3 of photo's size; pixels whose sampled change is exactly 0
//           (everything outside the hull) are the photo's, bit for bit; gain
//           0 returns the photo's pixels. Deterministic.
// throws:   std::invalid_argument when the requirements are not met.
cv::Mat paste_back_change(const cv::Mat& photo, const AlignmentPlan& plan, const cv::Mat& change,
                          const Landmarks& face_landmarks, double gain = 1.0);

}  // namespace facemix
