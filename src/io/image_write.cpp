// write_image and output-path helpers.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "facemix/output.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::vector<int> encoder_params(const std::string& ext) {
  if (ext == ".jpg" || ext == ".jpeg") return {cv::IMWRITE_JPEG_QUALITY, 95};
  if (ext == ".webp") return {cv::IMWRITE_WEBP_QUALITY, 95};
  // zlib level 4 with the filtered strategy: a 1024 px blend encodes in 0.11 s
  // instead of 0.32 s at level 6 (a fifth of a plain morph's run time), and the
  // file is 0.8 % larger (measured on a blend and a photo; docs/performance.md).
  if (ext == ".png") return {cv::IMWRITE_PNG_COMPRESSION, 4, cv::IMWRITE_PNG_STRATEGY, cv::IMWRITE_PNG_STRATEGY_FILTERED};
  return {};
}

}  // namespace

const std::vector<std::string>& image_output_extensions() {
  static const std::vector<std::string> exts{".png", ".jpg", ".jpeg", ".webp",
                                             ".bmp", ".tif", ".tiff"};
  return exts;
}

void check_image_output_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  const auto& ok = image_output_extensions();
  if (std::find(ok.begin(), ok.end(), ext) != ok.end()) return;
  std::string list;
  for (const auto& e : ok) list += (list.empty() ? "" : " ") + e;
  throw UsageError(path + ": unsupported output image extension '" + ext + "' (use one of " +
                   list + ")");
}

void write_image(const std::string& path, const cv::Mat& bgr) {
  check_image_output_extension(path);
  if (bgr.empty() || bgr.depth() != CV_8U || (bgr.channels() != 3 && bgr.channels() != 1))
    throw IoError(path + ": internal error: image to write is not 8-bit BGR");
  const std::vector<int> params = encoder_params(lower_extension(path));
  write_file_atomic(path, [&](const std::string& tmp) {
    bool ok = false;
    try {
      ok = cv::imwrite(tmp, bgr, params);
    } catch (const cv::Exception& e) {
      throw IoError(path + ": cannot write image: " + e.err);
    }
    if (!ok) throw IoError(path + ": cannot write image (encoder failed or directory not writable)");
  });
}

std::string derived_output_path(const std::string& input, const std::string& out_dir,
                                const std::string& suffix, const std::string& extension) {
  const std::string name = fs::path(input).stem().string() + suffix + extension;
  return (fs::path(out_dir) / name).string();
}

}  // namespace facemix
