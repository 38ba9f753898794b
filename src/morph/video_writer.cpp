// MP4 output through OpenCV's VideoWriter (FFmpeg backend), and frame
// directories of numbered PNGs.
#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "frame_writers.h"

namespace fs = std::filesystem;

namespace facemix::detail {
namespace {

class Mp4Writer : public FrameWriter {
 public:
  Mp4Writer(std::string path, double fps) : path_(std::move(path)), fps_(fps) {}

  void add(const cv::Mat& bgr) override {
    if (bgr.type() != CV_8UC3 || bgr.empty())
      throw std::invalid_argument("MP4 writer: frames must be CV_8UC3");
    if (frames_ == 0) {
      size_ = bgr.size();
      open();
    } else if (bgr.size() != size_) {
      throw std::invalid_argument("MP4 writer: frames differ in size");
    }
    // 4:2:0 video needs even sides: odd ones get their last row/column repeated.
    if (padded_ != size_) {
      cv::copyMakeBorder(bgr, scratch_, 0, padded_.height - size_.height, 0,
                         padded_.width - size_.width, cv::BORDER_REPLICATE);
      writer_.write(scratch_);
    } else {
      writer_.write(bgr);
    }
    ++frames_;
  }

  void close() override {
    if (frames_ == 0) throw IoError(path_ + ": no frames to write");
    writer_.release();
    std::error_code ec;
    if (fs::file_size(path_, ec) == 0 || ec) throw IoError(path_ + ": the video encoder wrote nothing");
  }

 private:
  void open() {
    padded_ = cv::Size(size_.width + size_.width % 2, size_.height + size_.height % 2);
    if (padded_ != size_)
      spdlog::debug("{}: padding {}x{} frames to even size for the video codec", path_, size_.width,
                    size_.height);
    if (writer_.open(path_, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('a', 'v', 'c', '1'), fps_, padded_))
      return;
    spdlog::warn("{}: H.264 ('avc1') is not available in this OpenCV build; writing MPEG-4 part 2 ('mp4v')",
                 path_);
    if (writer_.open(path_, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps_, padded_))
      return;
    throw IoError(path_ + ": cannot encode MP4: neither H.264 ('avc1') nor MPEG-4 ('mp4v') is "
                  "available through OpenCV's FFmpeg backend; write a .gif or a frame directory instead");
  }

  std::string path_;
  double fps_;
  cv::VideoWriter writer_;
  cv::Size size_, padded_;
  cv::Mat scratch_;
  int frames_ = 0;
};

class FrameDirectoryWriter : public FrameWriter {
 public:
  FrameDirectoryWriter(std::string dir, int expected_frames)
      : dir_(std::move(dir)), expected_(expected_frames) {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) throw IoError(dir_ + ": not a directory");
  }

  void add(const cv::Mat& bgr) override {
    if (bgr.type() != CV_8UC3 || bgr.empty())
      throw std::invalid_argument("frame directory writer: frames must be CV_8UC3");
    if (frames_ == 0)
      size_ = bgr.size();
    else if (bgr.size() != size_)
      throw std::invalid_argument("frame directory writer: frames differ in size");
    // Every name gets the width the expected count needs, so names sort.
    const std::string file =
        (fs::path(dir_) / frame_file_name(frames_, std::max(expected_, frames_ + 1))).string();
    bool ok = false;
    try {
      ok = cv::imwrite(file, bgr);
    } catch (const cv::Exception& e) {
      throw IoError(file + ": cannot write PNG: " + e.what());
    }
    if (!ok) throw IoError(file + ": cannot write PNG (disk full?)");
    ++frames_;
  }

  void close() override {
    if (frames_ == 0) throw IoError(dir_ + ": no frames to write");
  }

 private:
  std::string dir_;
  int expected_;
  cv::Size size_;
  int frames_ = 0;
};

}  // namespace

std::string frame_file_name(int index, int count) {
  int digits = 4;
  for (int n = count; n >= 10000; n /= 10) ++digits;
  std::string number = std::to_string(index + 1);
  if (static_cast<int>(number.size()) < digits) number.insert(0, digits - number.size(), '0');
  return "frame_" + number + ".png";
}

std::unique_ptr<FrameWriter> make_mp4_writer(const std::string& path, double fps) {
  return std::make_unique<Mp4Writer>(path, fps);
}

std::unique_ptr<FrameWriter> make_frame_directory_writer(const std::string& dir, int expected_frames) {
  return std::make_unique<FrameDirectoryWriter>(dir, expected_frames);
}

}  // namespace facemix::detail
