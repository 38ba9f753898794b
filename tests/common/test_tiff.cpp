#include "test_tiff.h"

#include <cstdint>

namespace facemix::test {

std::string uncompressed_tiff(const cv::Mat& bgr, int orientation, bool big_endian) {
  std::string t = big_endian ? std::string("MM\0*", 4) : std::string("II*\0", 4);
  auto u16 = [&](std::uint32_t v) {
    const char lo = static_cast<char>(v & 0xFF), hi = static_cast<char>((v >> 8) & 0xFF);
    t += big_endian ? hi : lo;
    t += big_endian ? lo : hi;
  };
  auto u32 = [&](std::uint32_t v) {
    u16(big_endian ? v >> 16 : v & 0xFFFF);
    u16(big_endian ? v & 0xFFFF : v >> 16);
  };
  const std::uint32_t w = static_cast<std::uint32_t>(bgr.cols), h = static_cast<std::uint32_t>(bgr.rows);
  const std::uint32_t entries = orientation > 0 ? 10 : 9, ifd = 8;
  const std::uint32_t bits_at = ifd + 2 + entries * 12 + 4, data_at = bits_at + 6;
  u32(ifd);
  u16(entries);
  auto entry = [&](std::uint32_t tag, std::uint32_t type, std::uint32_t count, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(count);
    if (type == 3 && count == 1) {
      u16(value);  // a SHORT sits in the first two bytes of the value field
      u16(0);
    } else {
      u32(value);
    }
  };
  entry(256, 4, 1, w);             // width
  entry(257, 4, 1, h);             // height
  entry(258, 3, 3, bits_at);       // 8,8,8 bits per sample
  entry(259, 3, 1, 1);             // no compression
  entry(262, 3, 1, 2);             // RGB
  entry(273, 4, 1, data_at);       // one strip
  if (orientation > 0) entry(274, 3, 1, static_cast<std::uint32_t>(orientation));
  entry(277, 3, 1, 3);             // samples per pixel
  entry(278, 4, 1, h);             // rows per strip
  entry(279, 4, 1, w * h * 3);     // strip bytes
  u32(0);                          // no next directory
  u16(8);
  u16(8);
  u16(8);
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
      t += static_cast<char>(p[2]);
      t += static_cast<char>(p[1]);
      t += static_cast<char>(p[0]);
    }
  return t;
}

}  // namespace facemix::test
