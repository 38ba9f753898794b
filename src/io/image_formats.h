// Internal to src/io: recognising image files from their bytes, reading their
// dimensions and EXIF orientation from headers, checking that they are
// complete, and the format-specific decoders. Every function that can fail
// throws IoError whose message starts with `path`.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace facemix::io {

enum class ImageFormat { kUnknown, kPng, kJpeg, kWebp, kBmp, kTiff };

// Identifies the format from the leading bytes (magic numbers), never from the
// file name. Throws IoError for recognised-but-unsupported formats (GIF, JPEG
// 2000, HEIF/AVIF, ...) and for contents that are not an image at all.
ImageFormat sniff_format(const std::string& bytes, const std::string& path);

const char* format_name(ImageFormat format);

// Width and height as stored in the header. Throws IoError when the header is
// cut short or malformed, or declares a zero size.
cv::Size header_size(ImageFormat format, const std::string& bytes, const std::string& path);

// Cheap structural completeness check on the container, so truncated files are
// refused before any decoding: a PNG's chunks must reach IEND, a JPEG's
// segments must be well formed up to the first scan, a WebP's RIFF size must
// fit the file, a BMP's pixel array must fit the file.
void check_complete(ImageFormat format, const std::string& bytes, const std::string& path);

// EXIF orientation (1..8; 1 = as stored, also when absent or unreadable) from
// a JPEG APP1, PNG eXIf or WebP EXIF block, or a TIFF's own Orientation tag.
int exif_orientation(ImageFormat format, const std::string& bytes);

// A TIFF's Orientation tag (as exif_orientation), which it then sets to 1 in
// `bytes`: decoders disagree on whether they apply it (OpenCV 4.6 does), so
// the decoder is given the stored layout and apply_exif_orientation() turns
// it upright, as for the other formats.
// requires: sniff_format(bytes) is kTiff.
int take_tiff_orientation(std::string& bytes);

// Applies an EXIF orientation value so the result is upright.
cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation);

// libjpeg decoder: CV_8UC1 (grayscale) or CV_8UC3 BGR. Refuses truncated data
// (premature end of file) and damaged entropy-coded data; logs harmless
// warnings at debug level instead of printing them.
cv::Mat decode_jpeg(const std::string& bytes, const std::string& path);

// libpng decoder: CV_8U or CV_16U with 1 (grey), 2 (grey + alpha), 3 (BGR) or
// 4 (BGRA) channels. Warnings (e.g. odd colour profiles) are logged at debug
// level, never printed.
cv::Mat decode_png(const std::string& bytes, const std::string& path);

}  // namespace facemix::io
