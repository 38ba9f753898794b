// Pieces of the makeup stage shared between its files (not a public seam).
#pragma once

#include <opencv2/core.hpp>

#include "facemix/face.h"

namespace facemix::makeup_detail {

// A face crop in CIE Lab split into layers (all CV_32F, the crop's size).
struct LabLayers {
  cv::Mat lab;      // CV_32FC3, L 0..100
  cv::Mat base;     // L smoothed edge-preservingly: lighting and structure
  cv::Mat detail;   // L - base: pores, lashes, gloss
  cv::Mat texture;  // local RMS of detail: how busy the surface is
};

// requires: bgr CV_8UC3; unit > 0 (the face's eye distance in pixels).
LabLayers split_layers(const cv::Mat& bgr, double unit);

// The skin above the nose tip's row: its statistics hold even when a beard
// covers the lower face.
cv::Mat upper_skin(const cv::Mat& skin, int nose_row);

// Median Lab colour and texture of a face's skin (pixels where skin > 0.5).
struct SkinStats {
  cv::Vec3d lab{0, 0, 0};
  double base_l = 0;
  double texture = 0;
};
SkinStats skin_stats(const LabLayers& layers, const cv::Mat& skin);

// Median colour of a face's lips (pixels where lips > 0.5), leaving out what
// is not lip (teeth, the mouth's inside: bright or grey next to the lips).
struct LipStats {
  double base_l = 0;
  cv::Vec2d ab{0, 0};
  double chroma = 0;
};
LipStats lip_stats(const LabLayers& layers, const cv::Mat& lips);

// 0..1 per pixel of a lip region: 1 where the pixel has the colour of its
// face's lips, 0 on teeth (much brighter or greyer than the lip median).
cv::Mat lip_likeness(const LabLayers& layers, const LipStats& stats);

// 0..1 per pixel, 1 where the crop looks like its own skin or makeup
// (makeup_plausibility in makeup.h); `skin` weights the darkness test.
cv::Mat plausibility(const LabLayers& layers, const SkinStats& stats, const cv::Mat& skin, double unit);

double eye_distance(const Landmarks& landmarks);  // between the eye centres, pixels

}  // namespace facemix::makeup_detail
