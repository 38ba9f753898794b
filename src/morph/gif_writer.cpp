// Animated GIF output through giflib: one 256-colour palette per frame
// (giflib's median-cut GifQuantizeBuffer), NETSCAPE2.0 loop extension.
#include <gif_lib.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "frame_writers.h"

namespace facemix::detail {
namespace {

std::string gif_error(int code) {
  const char* s = GifErrorString(code);
  return s ? s : "unknown giflib error";
}

class GifWriter : public FrameWriter {
 public:
  GifWriter(const std::string& path, double fps) : path_(path), fps_(fps) {
    int err = 0;
    gif_ = EGifOpenFileName(path.c_str(), false, &err);
    if (!gif_) throw IoError(path + ": cannot create GIF: " + gif_error(err));
    EGifSetGifVersion(gif_, true);  // GIF89a: needed for delays and looping
    if (fps > 50.0)
      spdlog::warn("{}: GIF frame delays are at least 2/100 s; {} fps plays at 50 fps", path, fps);
  }
  ~GifWriter() override {
    if (gif_) {
      int err = 0;
      EGifCloseFile(gif_, &err);
    }
  }

  void add(const cv::Mat& bgr) override {
    if (bgr.type() != CV_8UC3 || bgr.empty())
      throw std::invalid_argument("GIF writer: frames must be CV_8UC3");
    if (frames_ == 0) {
      size_ = bgr.size();
      start();
    } else if (bgr.size() != size_) {
      throw std::invalid_argument("GIF writer: frames differ in size");
    }
    // Delays in whole centiseconds, rounded against the running total so the
    // average rate stays exact (25 fps: 4,4,4,...; 30 fps: 3,4,3,...).
    const long t0 = std::lround(frames_ * 100.0 / fps_), t1 = std::lround((frames_ + 1) * 100.0 / fps_);
    const int delay = static_cast<int>(std::max(2L, t1 - t0));
    const GifByteType control[4] = {0x04,  // disposal: leave in place; no transparency
                                    static_cast<GifByteType>(delay & 0xff),
                                    static_cast<GifByteType>((delay >> 8) & 0xff), 0};
    check(EGifPutExtension(gif_, GRAPHICS_EXT_FUNC_CODE, 4, control), "frame delay");

    const int w = size_.width, h = size_.height;
    cv::Mat planes[3];
    cv::split(bgr.isContinuous() ? bgr : bgr.clone(), planes);
    std::vector<GifByteType> indices(static_cast<std::size_t>(w) * h);
    std::vector<GifColorType> palette(256);
    int colours = 256;
    // GifQuantizeBuffer reads R, G, B planes; OpenCV's are B, G, R.
    if (GifQuantizeBuffer(w, h, &colours, planes[2].ptr<GifByteType>(), planes[1].ptr<GifByteType>(),
                          planes[0].ptr<GifByteType>(), indices.data(), palette.data()) == GIF_ERROR)
      throw IoError(path_ + ": GIF colour quantisation failed");
    ColorMapObject* map = GifMakeMapObject(256, palette.data());  // unused entries stay black
    if (!map) throw std::bad_alloc();
    const int put = EGifPutImageDesc(gif_, 0, 0, w, h, false, map);
    GifFreeMapObject(map);
    check(put, "frame header");
    for (int y = 0; y < h; ++y)
      check(EGifPutLine(gif_, indices.data() + static_cast<std::size_t>(y) * w, w), "frame pixels");
    ++frames_;
  }

  void close() override {
    if (frames_ == 0) throw IoError(path_ + ": no frames to write");
    int err = 0;
    GifFileType* gif = gif_;
    gif_ = nullptr;
    if (EGifCloseFile(gif, &err) == GIF_ERROR) throw IoError(path_ + ": cannot finish GIF: " + gif_error(err));
  }

 private:
  void start() {
    check(EGifPutScreenDesc(gif_, size_.width, size_.height, 8, 0, nullptr), "screen descriptor");
    // NETSCAPE2.0 application extension: loop count 0 = forever.
    static const char kApp[] = "NETSCAPE2.0";
    const GifByteType loop[3] = {1, 0, 0};
    check(EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE), "loop extension");
    check(EGifPutExtensionBlock(gif_, 11, kApp), "loop extension");
    check(EGifPutExtensionBlock(gif_, 3, loop), "loop extension");
    check(EGifPutExtensionTrailer(gif_), "loop extension");
  }
  void check(int rc, const char* what) const {
    if (rc == GIF_ERROR) throw IoError(path_ + ": cannot write GIF " + what + ": " + gif_error(gif_->Error));
  }

  std::string path_;
  double fps_;
  GifFileType* gif_ = nullptr;
  cv::Size size_;
  int frames_ = 0;
};

}  // namespace

std::unique_ptr<FrameWriter> make_gif_writer(const std::string& path, double fps) {
  return std::make_unique<GifWriter>(path, fps);
}

}  // namespace facemix::detail
