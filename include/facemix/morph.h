// The landmark morph engine: blends N aligned faces without any model.
//
//   std::vector<facemix::MorphFace> faces = {{crop_a, lm_a}, {crop_b, lm_b}};
//   std::vector<double> w = facemix::parse_weights("0.7,0.3", faces.size());
//   facemix::MorphResult r = facemix::morph_faces(faces, w);   // r.image, r.landmarks
//
// How: every face's shape is its 68 landmarks plus fixed points on the crop
// border (corners and points along each edge). The shapes are averaged with the
// weights, the average is Delaunay-triangulated, every face is warped onto it
// one affine map per triangle (rasterised into one dense map per face, then a
// single cv::remap, so the warp is continuous across triangle edges), and the
// warped faces are cross-dissolved with the weights.
//
// Background: the border points pin the crop's frame, so the triangles tile the
// whole crop and everything outside the face (hair, neck, backdrop) is warped
// by the same field and cross-dissolved too. The result is a full-frame crop
// like the GAN engine's; backgrounds that differ show as soft double exposures.
// --paste-back keeps only the face region.
//
// Everything here is deterministic: same inputs, same bytes.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facemix/face.h"

namespace facemix {

// One input of the morph: an aligned crop and its landmarks in crop pixels.
struct MorphFace {
  cv::Mat image;        // CV_8UC3; every face of one morph has the same size
  Landmarks landmarks;  // pixel centres at integer coordinates
};

// ---- weights -------------------------------------------------------------

// Parses the -w option: comma-separated numbers, one per input ("0.7,0.3").
// requires: count >= 1.
// ensures:  returns normalize_weights() of the numbers.
// throws:   UsageError naming -w when a field is not a finite number, when
//           there are not exactly `count` of them, or when they sum to ~0.
std::vector<double> parse_weights(const std::string& text, std::size_t count);

// ensures: the weights divided by their sum (so they sum to 1). Logs one
//          warning when a normalised weight lies outside [0,1]: the morph then
//          extrapolates beyond the inputs (allowed, often ugly).
// throws:  UsageError when empty, not finite, or the sum is ~0.
std::vector<double> normalize_weights(const std::vector<double>& weights);

// ensures: `count` weights of 1/count. requires: count >= 1.
std::vector<double> equal_weights(std::size_t count);

// ---- shapes and triangles ---------------------------------------------------

using Shape = std::vector<cv::Point2f>;
using Triangle = std::array<int, 3>;  // indices into a Shape

// Border points per crop edge, not counting the corners.
constexpr int kMorphPointsPerEdge = 3;
// Points of a control shape: 68 landmarks, 4 corners, kMorphPointsPerEdge per edge.
constexpr int kMorphShapePoints = 68 + 4 + 4 * kMorphPointsPerEdge;

// The control shape of a face in a crop of `size`: its 68 landmarks, then the
// crop's corners at the pixel-centre extremes (0,0)..(w-1,h-1), then evenly
// spaced points along each edge. The border points are the same for every face
// of one size, which pins the frame during the warp.
// requires: size.width >= 2 and size.height >= 2.
Shape control_shape(const Landmarks& landmarks, cv::Size size);

// ensures: sum_i weights[i] * shapes[i], point by point.
// requires: shapes non-empty and of equal length; weights.size() == shapes.size().
Shape average_shape(const std::vector<Shape>& shapes, const std::vector<double>& weights);

// Delaunay triangulation (cv::Subdiv2D) of `shape`, as indices into it.
// Duplicate points are triangulated once (the first index is used).
// ensures: no triangle has (near) zero area; the triangles tile the convex
//          hull of `shape`, so a control_shape()'s triangles cover every pixel
//          centre of its crop.
std::vector<Triangle> delaunay_triangles(const Shape& shape);

// ---- warping -----------------------------------------------------------------

// The dense backward map of a piecewise-affine warp: for every pixel centre p
// of a `size` image that lies in triangle t of `to`, map(p) is the point with
// the same barycentric coordinates in triangle t of `from`.
// ensures: CV_32FC2 of `size`; pixels in no triangle hold NaN (none do when
//          `to` is a control_shape() triangulated by delaunay_triangles()).
//          Pixels on a shared edge take the later triangle's value, which is
//          equal up to rounding, so the warp is continuous. Deterministic.
// requires: from.size() == to.size(); triangle indices valid.
cv::Mat piecewise_affine_map(const Shape& from, const Shape& to,
                             const std::vector<Triangle>& triangles, cv::Size size);

// Warps `image` (whose shape is `from`) onto shape `to` with
// piecewise_affine_map() and one bilinear cv::remap (border: replicate).
// Always computes the map, even when from == to.
// throws: std::invalid_argument when the map has holes (a caller bug).
cv::Mat warp_to_shape(const cv::Mat& image, const Shape& from, const Shape& to,
                      const std::vector<Triangle>& triangles);

// ---- morphing ------------------------------------------------------------------

struct MorphResult {
  cv::Mat image;        // CV_8UC3, the size of the inputs
  Landmarks landmarks;  // the averaged landmarks, in the same pixel frame
};

// ---- separate shape and appearance ------------------------------------------------

// Facial regions whose appearance can be mixed with their own weights. kFace is
// the rest of the face (cheeks, forehead, chin, jaw); everything outside the
// face (hair, ears, neck, backdrop) is the backdrop.
enum FaceRegion : int { kRegionEyes = 0, kRegionNose, kRegionMouth, kRegionFace };
constexpr int kFaceRegionCount = 4;
const char* face_region_name(int region);  // "eyes", "nose", "mouth", "face"

// What a morph mixes, each with its own weights over the inputs (each vector
// one weight per input, normally summing to 1): the landmark geometry every
// face is warped to, the backdrop's appearance, and each region's appearance.
// The geometry can also be mixed per region (shape_regions): the landmarks of
// the eyes and brows (17-26, 36-47), the nose (27-35), the mouth (48-67) and
// the jaw line (0-16, "face") each averaged with their own weights; an empty
// vector there means `shape`.
struct MorphMix {
  std::vector<double> shape;
  std::vector<double> backdrop;
  std::array<std::vector<double>, kFaceRegionCount> regions;
  std::array<std::vector<double>, kFaceRegionCount> shape_regions;

  // Every part mixed with `weights` (shape_regions empty): renders exactly as render(weights).
  static MorphMix uniform(const std::vector<double>& weights);
  bool is_uniform() const;
  // The weights of region r's landmark geometry (shape_regions[r], else shape).
  const std::vector<double>& shape_of(int region) const;
  // Whether face i shows anywhere: a non-zero backdrop or region weight.
  bool uses(std::size_t i) const;
};

// The region (FaceRegion) whose geometry weights move landmark k (0..67).
int landmark_shape_region(int k);

// Feathered masks of the regions on a face with `landmarks` in an image of
// `size`: CV_32FC1 in [0, 1], built from the landmark polygons (eyes with
// brows; nose bridge to nostrils; lips; the face hull for kFace, less the other
// three), blurred by a few percent of the eye distance. Their sum is at most 1
// everywhere; 1 - sum is the backdrop's share. Deterministic.
std::array<cv::Mat, kFaceRegionCount> face_region_masks(const Landmarks& landmarks, cv::Size size);

// The geometry of one morph target: the target shape, the faces warped onto
// it and the region masks there. Several appearance mixes that share their
// geometry weights can be rendered from one (Morpher::geometry / render).
struct MorphGeometry {
  Shape target;
  Landmarks landmarks;                           // the target's 68 landmarks
  std::vector<cv::Mat> warped;                   // per face; empty where not used
  std::vector<bool> used;                        // which faces were warped
  std::array<cv::Mat, kFaceRegionCount> masks;   // face_region_masks(landmarks)
  cv::Mat backdrop_share;                        // 1 - the sum of the masks
};

// A fixed set of faces whose mesh (triangulation) is computed once, for
// rendering many weightings of them, e.g. the frames of a sequence, without
// the triangulation changing between frames.
class Morpher {
 public:
  // requires: faces non-empty, every image CV_8UC3 of one size (>= 2x2).
  //           mesh_weights: which average shape to triangulate (empty = equal).
  // throws:   std::invalid_argument when the requirements are not met.
  explicit Morpher(std::vector<MorphFace> faces, const std::vector<double>& mesh_weights = {});

  // Morphs with `weights` (normalised; faces().size() of them).
  // ensures: the averaged shape is warped to with the fixed mesh when that
  //          mesh stays a valid tiling there, otherwise with a triangulation
  //          of the averaged shape itself; faces of weight 0 are skipped; a
  //          face whose shape equals the target is used unwarped, so one-hot
  //          weights return that face's image exactly. Deterministic.
  MorphResult render(const std::vector<double>& weights) const;

  // Morphs with separate shape and appearance weights: every face is warped to
  // the `mix.shape` average, then each pixel dissolves the warped faces with
  // the weights of its region (face_region_masks of the target shape, feathered
  // into the backdrop's weights). A uniform mix renders exactly as
  // render(mix.shape). requires: every vector of `mix` has faces().size() weights.
  MorphResult render(const MorphMix& mix) const;

  // The two halves of render(mix) for a non-uniform mix: geometry() warps the
  // faces that any appearance weight of `mix` uses onto its target shape;
  // render(g, mix) dissolves them. render(geometry(m), m2) equals render(m2)
  // for every non-uniform m2 with m's geometry weights (shape, shape_regions)
  // that uses no face m left out (that throws std::invalid_argument).
  MorphGeometry geometry(const MorphMix& mix) const;
  MorphResult render(const MorphGeometry& geometry, const MorphMix& mix) const;

  const std::vector<MorphFace>& faces() const { return faces_; }
  const std::vector<Triangle>& mesh() const { return mesh_; }

 private:
  // The faces with use[i] warped onto `target` (an empty Mat where not used).
  std::vector<cv::Mat> warp_all(const Shape& target, const std::vector<bool>& use) const;

  std::vector<MorphFace> faces_;
  std::vector<Shape> shapes_;
  Shape mesh_shape_;  // the shape mesh_ was triangulated on
  std::vector<Triangle> mesh_;
  cv::Size size_;
};

// One morph: Morpher(faces, weights).render(weights), i.e. the weighted
// average shape is the one triangulated.
MorphResult morph_faces(const std::vector<MorphFace>& faces, const std::vector<double>& weights);

}  // namespace facemix
