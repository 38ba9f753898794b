// Reading and writing images.
//
//   cv::Mat bgr = facemix::read_image("photo.jpg");          // upright 8-bit BGR
//   facemix::check_image_output_extension("out.png");        // before any work
//   facemix::write_image("out.png", bgr);                    // atomic
//
// read_image accepts PNG, JPEG, WebP, BMP and TIFF, 8 or 16 bits per channel,
// grayscale, colour, with or without alpha, and always returns CV_8UC3 BGR:
// grayscale is copied into three channels, alpha is composited over a neutral
// mid-grey background, and the orientation (EXIF in JPEG, PNG and WebP, the
// Orientation tag of a TIFF) is applied so the pixels are upright as a viewer
// shows them. Every refusal is one IoError line that names the file and the
// problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace facemix {

struct ImageReadOptions {
  // Refuse images with more pixels than this (decompression-bomb guard). The
  // check uses the dimensions from the file header, before anything is decoded.
  std::int64_t max_pixels = 100'000'000;
};

// The grey level alpha is composited over (the same on every channel).
constexpr int kAlphaBackgroundGrey = 128;

// requires: nothing (every problem is reported by exception).
// ensures:  returns a non-empty CV_8UC3 BGR image, upright per its orientation tag.
// throws:   IoError naming `path` when the file is missing, a directory,
//           unreadable (permissions), empty, not an image, in an unsupported
//           format, truncated or corrupt, or larger than opts.max_pixels.
cv::Mat read_image(const std::string& path, const ImageReadOptions& opts = {});

// Image dimensions (as stored, before EXIF orientation) from the file header
// alone, without decoding pixels.
// throws: IoError as read_image does for files that cannot be identified.
cv::Size read_image_header_size(const std::string& path);

// Output file extensions write_image understands (lower case, with the dot):
// .png .jpg .jpeg .webp .bmp .tif .tiff
const std::vector<std::string>& image_output_extensions();

// requires: nothing.
// ensures:  returns normally when `path` ends in one of
//           image_output_extensions() (case-insensitive).
// throws:   UsageError naming `path` and listing the supported extensions.
void check_image_output_extension(const std::string& path);

// requires: bgr is a non-empty CV_8UC3 (or CV_8UC1) image; `path` passes
//           check_image_output_extension.
// ensures:  `path` holds the encoded image (format from the extension; PNG
//           lossless, JPEG/WebP quality 95), written atomically: a failure
//           leaves no file behind. Same pixels -> same bytes.
// throws:   UsageError for an unsupported extension; IoError when encoding or
//           writing fails.
void write_image(const std::string& path, const cv::Mat& bgr);

// The output path a command derives for `input` when writing into `out_dir`:
// out_dir/<input stem><suffix><extension>, e.g.
// derived_output_path("a/photo.jpg", "out", "_aligned", ".png") == "out/photo_aligned.png".
// requires: extension starts with '.'.
std::string derived_output_path(const std::string& input, const std::string& out_dir,
                                const std::string& suffix, const std::string& extension);

}  // namespace facemix
