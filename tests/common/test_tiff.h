// Hand-made TIFF files for tests: the layout, byte order and Orientation tag
// are chosen by the test, not by whatever encoder is installed.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace facemix::test {

// An uncompressed 8-bit RGB TIFF of `bgr` in one strip, its directory before
// the pixels (OpenCV's writer puts it at the end), so that a cut-off copy still
// has a readable header and fails in the decoder itself. orientation 1..8 adds
// an Orientation tag with that value; 0 leaves the tag out.
// requires: bgr is CV_8UC3.
std::string uncompressed_tiff(const cv::Mat& bgr, int orientation = 0, bool big_endian = false);

}  // namespace facemix::test
