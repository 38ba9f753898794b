// read_image: file checks, format sniffing, the pixel-limit check on the
// header, decoding, and normalisation to upright 8-bit BGR.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "io/image_formats.h"

namespace facemix {
namespace {

// Files larger than this are refused before reading (no supported image under
// the default pixel limit comes close).
constexpr std::int64_t kMaxFileBytes = std::int64_t{2} << 30;

std::string read_whole_file(const std::string& path) {
  if (path.empty()) throw IoError("(empty path): no such file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw IoError(path + ": no such file");
    if (err == EACCES || err == EPERM) throw IoError(path + ": permission denied (cannot read)");
    throw IoError(path + ": cannot open: " + std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError(path + ": cannot read: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw IoError(path + ": is a directory, not an image file");
  if (S_ISREG(st.st_mode) && st.st_size > kMaxFileBytes)
    throw IoError(path + ": file too large (" + std::to_string(st.st_size) + " bytes)");

  std::string bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path + ": read error: " + std::strerror(errno));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
    if (static_cast<std::int64_t>(bytes.size()) > kMaxFileBytes)
      throw IoError(path + ": file too large");
  }
  if (bytes.empty()) throw IoError(path + ": empty file (0 bytes)");
  return bytes;
}

void quiet_opencv_logging() {
  // OpenCV's codecs log their own warnings on stderr; facemix reports
  // problems itself, one line per file.
  static std::once_flag once;
  std::call_once(once, [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  });
}

// cv::imdecode writes decoder failures straight to std::cerr; while it runs,
// std::cerr goes into a buffer whose text is logged at debug level instead.
class CerrCapture {
 public:
  CerrCapture() : old_(std::cerr.rdbuf(text_.rdbuf())) {}
  ~CerrCapture() { std::cerr.rdbuf(old_); }
  CerrCapture(const CerrCapture&) = delete;
  CerrCapture& operator=(const CerrCapture&) = delete;
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* old_;
};

cv::Mat decode_with_opencv(const std::string& bytes, const std::string& path, const char* format) {
  quiet_opencv_logging();
  static std::mutex cerr_mutex;  // one capture at a time: std::cerr is process-wide
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat out;
  std::string chatter, error;
  {
    const std::lock_guard<std::mutex> lock(cerr_mutex);
    CerrCapture capture;
    try {
      out = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      error = e.err;
    }
    chatter = capture.text();
  }
  while (!chatter.empty() && std::isspace(static_cast<unsigned char>(chatter.back()))) chatter.pop_back();
  if (!chatter.empty()) spdlog::debug("{}: OpenCV: {}", path, chatter);
  if (!error.empty()) throw IoError(path + ": corrupt " + format + " file (" + error + ")");
  if (out.empty()) throw IoError(path + ": corrupt " + format + " file (cannot decode the image data)");
  return out;
}

// Any decoded layout -> CV_8UC3 BGR. Alpha is composited over mid-grey in
// floating point (before 16-bit values are reduced to 8 bits).
cv::Mat to_bgr8(const cv::Mat& decoded, const std::string& path) {
  cv::Mat img = decoded;
  double scale;  // to the 0..255 range
  switch (img.depth()) {
    case CV_8U: scale = 1.0; break;
    case CV_16U: scale = 255.0 / 65535.0; break;
    case CV_32F: scale = 255.0; break;  // float TIFF: nominal range 0..1
    default:
      throw IoError(path + ": unsupported sample format (only 8/16-bit integer and 32-bit float)");
  }
  const int ch = img.channels();
  if (ch == 2 || ch == 4) {
    cv::Mat f;
    img.convertTo(f, CV_32F, scale);
    std::vector<cv::Mat> planes;
    cv::split(f, planes);
    cv::Mat alpha = planes.back() / 255.0f;
    cv::Mat inv = 1.0f - alpha;
    planes.pop_back();
    for (auto& p : planes) p = p.mul(alpha) + inv * static_cast<float>(kAlphaBackgroundGrey);
    cv::merge(planes, f);
    f.convertTo(img, CV_8U);  // rounds and saturates
  } else if (img.depth() != CV_8U) {
    cv::Mat c;
    img.convertTo(c, CV_8U, scale);
    img = c;
  }
  if (img.channels() == 1) {
    cv::Mat c;
    cv::cvtColor(img, c, cv::COLOR_GRAY2BGR);
    img = c;
  }
  if (img.type() != CV_8UC3) throw IoError(path + ": unsupported channel layout");
  return img;
}

}  // namespace

cv::Size read_image_header_size(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  return io::header_size(io::sniff_format(bytes, path), bytes, path);
}

cv::Mat read_image(const std::string& path, const ImageReadOptions& opts) {
  std::string bytes = read_whole_file(path);
  const io::ImageFormat format = io::sniff_format(bytes, path);
  const char* name = io::format_name(format);
  const cv::Size size = io::header_size(format, bytes, path);
  const std::int64_t pixels = static_cast<std::int64_t>(size.width) * size.height;
  if (pixels > opts.max_pixels)
    throw IoError(path + ": image too large: " + std::to_string(size.width) + "x" +
                  std::to_string(size.height) + " pixels is over the limit of " +
                  std::to_string(opts.max_pixels) + " (--max-pixels)");
  io::check_complete(format, bytes, path);
  const int orientation =
      format == io::ImageFormat::kTiff ? io::take_tiff_orientation(bytes) : io::exif_orientation(format, bytes);

  cv::Mat decoded;
  switch (format) {
    case io::ImageFormat::kJpeg: decoded = io::decode_jpeg(bytes, path); break;
    case io::ImageFormat::kPng: decoded = io::decode_png(bytes, path); break;
    default: decoded = decode_with_opencv(bytes, path, name); break;
  }
  if (decoded.size() != size)
    throw IoError(path + ": corrupt " + std::string(name) + " file (decoded size differs from header)");
  cv::Mat bgr = to_bgr8(decoded, path);
  return io::apply_exif_orientation(bgr, orientation);
}

}  // namespace facemix
