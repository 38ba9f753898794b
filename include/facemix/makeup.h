// Makeup transfer: puts the makeup of a reference face (lipstick, eye shadow
// and liner, foundation tone, blush) on the face of a photo, keeping the
// photo's lighting, skin texture and identity. Classical, no model needed.
//
//   facemix::FaceDetector detector;
//   facemix::MakeupFace ref = facemix::load_makeup_face(detector, "look.jpg", 0);
//   facemix::MakeupFace me = facemix::load_makeup_face(detector, "me.jpg", 0);
//   facemix::AlignedMakeup m = facemix::transfer_makeup(ref.aligned, me.aligned, {});
//   cv::Mat out = facemix::paste_makeup(me, m, 1.0);     // me.photo's size
//
// How (docs/makeup.md has the details and the measured figures): both faces
// are FFHQ-aligned; the reference crop is warped onto the photo's landmarks
// with the morph engine's mesh; both are converted to CIE Lab and split into
// a base layer (self-guided filter on L: lighting and structure) and a detail
// layer (L minus base: pores, lashes, gloss). Region by region (feathered
// masks built from the landmarks) the photo takes the reference's chroma and
// its lightness relative to its own skin, and for lips and eyes a share of its
// detail; the photo's base (its lighting) and, on skin, its detail stay.
// Where either face's region does not look like skin of that face (texture or
// darkness far from its own skin statistics: beards, glasses frames) the
// photo's own pixels are kept. The change is pasted back at the photo's full
// resolution through the inverse alignment (paste_back_change).
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/image_io.h"

namespace facemix {

class FaceDetector;

// Which parts of the makeup move (bit flags).
enum MakeupPart : unsigned {
  kMakeupLips = 1,   // lipstick: outer lip contour minus the inner mouth (teeth stay)
  kMakeupEyes = 2,   // eye shadow up to the brows and liner round the eye, never the eye itself
  kMakeupSkin = 4,   // foundation: face minus eyes, brows and mouth
  kMakeupBlush = 8,  // blush: soft ellipses on the cheeks
  kMakeupAll = 15,
};

// Parses --parts: a comma-separated list of lips, eyes, skin, blush, or "all".
// ensures: a non-zero combination of MakeupPart bits.
// throws:  UsageError naming --parts and the unknown word, or an empty list.
unsigned parse_makeup_parts(const std::string& list);

struct MakeupOptions {
  unsigned parts = kMakeupAll;  // MakeupPart bits
};

// The feathered region masks of one face, CV_32F in 0..1, in the pixel frame
// of its landmarks. Every mask is 0 outside the convex hull of the landmarks
// (and on it), so nothing outside the face can change.
struct MakeupRegions {
  cv::Mat lips, eyes, skin, blush;
  cv::Mat face;  // the hull of the landmarks, feathered inwards (paste_back.h face_mask)
};

// requires: size at least 64 x 64; landmarks of a frontal face inside `size`.
// ensures:  the masks above; eyes excludes the eye polygons (irises, whites)
//           and lips excludes the inner mouth polygon (teeth), both exactly
//           0 there. Deterministic.
MakeupRegions makeup_regions(const Landmarks& landmarks, cv::Size size);

// How much each pixel looks like the face's own skin-or-makeup rather than an
// occluder: CV_32F in 0..1 (1 = plausible). Texture energy of the detail layer
// far above the face's median skin texture, or lightness far below its median
// skin lightness on skin regions, marks an occluder (beard, glasses frame).
// requires: bgr CV_8UC3; landmarks and regions (makeup_regions()) of its face.
cv::Mat makeup_plausibility(const cv::Mat& bgr, const Landmarks& landmarks, const MakeupRegions& regions);

// One input of the transfer: an aligned crop and its landmarks.
struct MakeupCrop {
  cv::Mat image;        // CV_8UC3 square crop
  Landmarks landmarks;  // in crop pixels
};

struct AlignedMakeup {
  cv::Mat image;      // CV_8UC3: the photo's crop wearing the makeup (full strength)
  cv::Mat before;     // CV_8UC3: the photo's crop
  cv::Mat reference;  // CV_8UC3: the reference crop warped onto the photo's landmarks
  cv::Mat change;     // CV_32FC3: image - before in BGR / 255, 0 wherever nothing changes
  cv::Mat weight;     // CV_32F: how much of the makeup each pixel took (0..1)
};

// The transfer in the aligned frame.
// requires: reference.image and photo.image CV_8UC3 squares of one size >= 64;
//           options.parts non-zero.
// ensures:  result.image equals photo.image wherever weight is 0 (outside the
//           face regions, inside the eyes and the mouth opening); same inputs
//           give the same bytes.
// throws:   std::invalid_argument when the requirements are not met.
AlignedMakeup transfer_makeup(const MakeupCrop& reference, const MakeupCrop& photo,
                              const MakeupOptions& options);

// A face ready for makeup: the photo and its aligned crop.
struct MakeupFace {
  cv::Mat photo;  // CV_8UC3 at the file's full resolution
  AlignedFace aligned;
};

// Reads `path`, picks face `face_index` (0 = largest) and aligns it at `size`.
// throws: IoError (unreadable input), NoFaceError naming `path` when there is
//         no face, index out of range, or the face is turned too far to the
//         side for makeup (a profile), Error from alignment.
MakeupFace load_makeup_face(const FaceDetector& detector, const std::string& path, int face_index,
                            int size = 1024, const ImageReadOptions& read_options = {});

// The photo at full resolution with `amount` (0..1) of the makeup's change
// added through the inverse alignment.
// ensures: amount == 0 returns photo.photo's pixels exactly; pixels outside
//          the face hull are the photo's, bit for bit. Deterministic.
// throws:  UsageError when amount is outside [0, 1].
cv::Mat paste_makeup(const MakeupFace& photo, const AlignedMakeup& makeup, double amount);

// The aligned crop with `amount` of the makeup (for --keep-aligned).
cv::Mat aligned_with_makeup(const AlignedMakeup& makeup, double amount);

// ---- measuring ---------------------------------------------------------------

// CIEDE2000 colour difference between two CIE Lab colours (L 0..100).
double ciede2000(const cv::Vec3d& lab1, const cv::Vec3d& lab2);

// The median CIE Lab colour of a face's lips (its lip region, teeth and the
// mouth's inside left out): what a lipstick looks like on that face.
// requires: face.image CV_8UC3 square >= 64 with its landmarks.
cv::Vec3d lip_colour(const MakeupCrop& face);

// Mean CIEDE2000 between the pixels of a CV_8UC3 BGR image where mask
// (CV_32F) > 0.5 and one Lab colour. ensures: NaN when no pixel is selected.
double mean_ciede2000(const cv::Mat& bgr, const cv::Vec3d& lab, const cv::Mat& mask);

// Mean per-pixel CIEDE2000 between two CV_8UC3 BGR images of one size over the
// pixels where mask (CV_32F) > 0.5. ensures: NaN when no pixel is selected.
double mean_ciede2000(const cv::Mat& bgr1, const cv::Mat& bgr2, const cv::Mat& mask);

}  // namespace facemix
