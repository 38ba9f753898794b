// read_image on files crafted in a scratch directory: every supported layout
// comes back as upright 8-bit BGR, and every bad file is one IoError naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "test_support.h"
#include "test_tiff.h"

namespace facemix {
namespace {

using test::ScratchDir;
using test::write_file;

// An asymmetric test pattern, so every flip and rotation is distinguishable.
cv::Mat pattern(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x * 255 / (w - 1)),
                                        static_cast<uchar>(y * 255 / (h - 1)),
                                        static_cast<uchar>((x * 7 + y * 13) % 256));
  return m;
}

std::string encode(const std::string& ext, const cv::Mat& m, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params));
  return std::string(buf.begin(), buf.end());
}

void expect_same(const cv::Mat& a, const cv::Mat& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.type(), b.type());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

// Expects read_image(path) to throw IoError whose message names the file and
// contains `what`.
void expect_refused(const std::string& path, const std::string& what, const ImageReadOptions& o = {}) {
  try {
    read_image(path, o);
    ADD_FAILURE() << path << " was accepted";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path, 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    EXPECT_EQ(e.exit_code(), kExitIo);
  }
}

std::uint32_t crc32(const std::string& data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

// TIFF-structured EXIF block holding only the Orientation tag (little endian).
std::string exif_tiff(int orientation) {
  std::string t("II*\0", 4);
  t += std::string("\x08\0\0\0", 4);       // IFD0 at offset 8
  t += std::string("\x01\0", 2);           // one entry
  t += std::string("\x12\x01\x03\0", 4);   // tag 0x0112, type SHORT
  t += std::string("\x01\0\0\0", 4);       // count 1
  t += std::string(1, static_cast<char>(orientation)) + std::string("\0\0\0", 3);
  t += std::string("\0\0\0\0", 4);         // no next IFD
  return t;
}

std::string with_png_exif(const std::string& png, int orientation) {
  // eXIf goes before IDAT: right after the 8-byte signature and 25-byte IHDR chunk.
  return png.substr(0, 33) + png_chunk("eXIf", exif_tiff(orientation)) + png.substr(33);
}

std::string with_jpeg_exif(const std::string& jpeg, int orientation) {
  const std::string payload = std::string("Exif\0\0", 6) + exif_tiff(orientation);
  const std::size_t len = payload.size() + 2;
  const std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(len >> 8) +
                           static_cast<char>(len & 0xFF) + payload;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

// What a viewer shows for EXIF orientation o, written from the EXIF
// definitions: D(x, y) = S(sx, sy) with S the stored W x H image.
cv::Mat displayed(const cv::Mat& s, int o) {
  const int W = s.cols, H = s.rows;
  const bool swap = o >= 5;
  cv::Mat d(swap ? W : H, swap ? H : W, s.type());
  for (int y = 0; y < d.rows; ++y)
    for (int x = 0; x < d.cols; ++x) {
      int sx = x, sy = y;
      switch (o) {
        case 2: sx = W - 1 - x; break;
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;
        case 4: sy = H - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = H - 1 - x; break;
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;
        case 8: sx = W - 1 - y; sy = x; break;
        default: break;
      }
      d.at<cv::Vec3b>(y, x) = s.at<cv::Vec3b>(sy, sx);
    }
  return d;
}

TEST(ReadImage, LosslessFormatsRoundTrip) {
  ScratchDir dir;
  const cv::Mat img = pattern(37, 23);
  const std::vector<std::pair<std::string, std::vector<int>>> formats{
      {".png", {}}, {".bmp", {}}, {".tif", {}}, {".webp", {cv::IMWRITE_WEBP_QUALITY, 101}}};
  for (const auto& [ext, params] : formats) {
    const std::string path = dir.file("img" + ext);
    write_file(path, encode(ext, img, params));
    SCOPED_TRACE(ext);
    expect_same(read_image(path), img);
  }
}

TEST(ReadImage, JpegDecodesToBgr) {
  ScratchDir dir;
  const cv::Mat img = pattern(64, 48);
  write_file(dir.file("a.jpg"), encode(".jpg", img, {cv::IMWRITE_JPEG_QUALITY, 98}));
  const cv::Mat got = read_image(dir.file("a.jpg"));
  ASSERT_EQ(got.type(), CV_8UC3);
  ASSERT_EQ(got.size(), img.size());
  // OpenCV's own JPEG path (same libjpeg, its own colour handling) agrees exactly.
  expect_same(got, cv::imread(dir.file("a.jpg"), cv::IMREAD_COLOR));
  // And the channels are in BGR order: far closer to the source than its RGB swap.
  cv::Mat swapped;
  cv::cvtColor(img, swapped, cv::COLOR_BGR2RGB);
  EXPECT_LT(3 * cv::norm(got, img, cv::NORM_L1), cv::norm(got, swapped, cv::NORM_L1));
}

TEST(ReadImage, GrayscaleBecomesThreeEqualChannels) {
  ScratchDir dir;
  cv::Mat gray(20, 30, CV_8UC1);
  cv::randu(gray, 0, 256);
  for (const std::string ext : {".png", ".jpg", ".bmp"}) {
    write_file(dir.file("g" + ext), encode(ext, gray));
    const cv::Mat got = read_image(dir.file("g" + ext));
    ASSERT_EQ(got.type(), CV_8UC3) << ext;
    std::vector<cv::Mat> ch;
    cv::split(got, ch);
    EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0) << ext;
    EXPECT_EQ(cv::norm(ch[0], ch[2], cv::NORM_INF), 0.0) << ext;
    if (ext != ".jpg") {
      EXPECT_EQ(cv::norm(ch[0], gray, cv::NORM_INF), 0.0) << ext;
    }
  }
}

TEST(ReadImage, SixteenBitIsScaledToEightBit) {
  ScratchDir dir;
  cv::Mat img16(4, 4, CV_16UC3);
  for (int i = 0; i < 16; ++i) img16.at<cv::Vec3w>(i / 4, i % 4) = cv::Vec3w(static_cast<ushort>(i * 4369), 65535, 257 * 100 + 128);
  for (const std::string ext : {".png", ".tif"}) {
    write_file(dir.file("w" + ext), encode(ext, img16));
    const cv::Mat got = read_image(dir.file("w" + ext));
    ASSERT_EQ(got.type(), CV_8UC3) << ext;
    for (int i = 0; i < 16; ++i) {
      const cv::Vec3b p = got.at<cv::Vec3b>(i / 4, i % 4);
      EXPECT_EQ(p[0], i * 17) << ext;  // 4369 = 257 * 17
      EXPECT_EQ(p[1], 255) << ext;
      EXPECT_EQ(p[2], 100) << ext;  // 25828 / 257 = 100.498 -> 100
    }
  }
}

TEST(ReadImage, AlphaIsCompositedOverMidGrey) {
  ScratchDir dir;
  cv::Mat bgra(1, 3, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = cv::Vec4b(10, 200, 250, 255);  // opaque: colour kept
  bgra.at<cv::Vec4b>(0, 1) = cv::Vec4b(10, 200, 250, 0);    // transparent: background
  bgra.at<cv::Vec4b>(0, 2) = cv::Vec4b(0, 255, 100, 51);    // 20% opaque
  for (const std::string ext : {".png", ".webp", ".tif"}) {
    std::vector<int> params;
    if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};
    write_file(dir.file("a" + ext), encode(ext, bgra, params));
    const cv::Mat got = read_image(dir.file("a" + ext));
    ASSERT_EQ(got.type(), CV_8UC3) << ext;
    EXPECT_EQ(got.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 200, 250)) << ext;
    const int g = kAlphaBackgroundGrey;
    EXPECT_EQ(got.at<cv::Vec3b>(0, 1), cv::Vec3b(g, g, g)) << ext;
    // 0.2 * c + 0.8 * 128
    EXPECT_EQ(got.at<cv::Vec3b>(0, 2), cv::Vec3b(102, 153, 122)) << ext;
  }
}

TEST(ReadImage, SixteenBitAlphaIsCompositedBeforeReducing) {
  ScratchDir dir;
  cv::Mat bgra(1, 1, CV_16UC4, cv::Scalar(65535, 0, 32768, 32768));  // ~50% opaque
  write_file(dir.file("a.png"), encode(".png", bgra));
  const cv::Vec3b p = read_image(dir.file("a.png")).at<cv::Vec3b>(0, 0);
  // 255 * 0.50001 + 128 * 0.49999 = 191.5; 0 + 64.0; 127.5 * 0.5 + 64 = 127.75
  EXPECT_NEAR(p[0], 192, 1);
  EXPECT_EQ(p[1], 64);
  EXPECT_EQ(p[2], 128);
}

TEST(ReadImage, ExifOrientationIsAppliedForPngAndJpeg) {
  ScratchDir dir;
  const cv::Mat stored = pattern(6, 4);
  const std::string png = encode(".png", stored);
  const cv::Mat big = pattern(48, 32);
  const std::string jpeg = encode(".jpg", big, {cv::IMWRITE_JPEG_QUALITY, 95});
  write_file(dir.file("plain.jpg"), jpeg);
  const cv::Mat jpeg_pixels = read_image(dir.file("plain.jpg"));
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE("orientation " + std::to_string(o));
    write_file(dir.file("o.png"), with_png_exif(png, o));
    expect_same(read_image(dir.file("o.png")), displayed(stored, o));
    write_file(dir.file("o.jpg"), with_jpeg_exif(jpeg, o));
    expect_same(read_image(dir.file("o.jpg")), displayed(jpeg_pixels, o));
  }
}

TEST(ReadImage, TiffOrientationTagIsApplied) {
  ScratchDir dir;
  const cv::Mat stored = pattern(6, 4);
  for (const bool big_endian : {false, true})
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE(std::string(big_endian ? "MM" : "II") + " orientation " + std::to_string(o));
      write_file(dir.file("o.tif"), test::uncompressed_tiff(stored, o, big_endian));
      EXPECT_EQ(read_image_header_size(dir.file("o.tif")), stored.size());  // as stored
      expect_same(read_image(dir.file("o.tif")), displayed(stored, o));
    }
}

TEST(ReadImage, MissingDirectoryEmptyAndNonImageFilesAreRefused) {
  ScratchDir dir;
  expect_refused(dir.file("nope.jpg"), "no such file");
  expect_refused(dir.path(), "directory");
  write_file(dir.file("empty.png"), "");
  expect_refused(dir.file("empty.png"), "empty");
  write_file(dir.file("notes.jpg"), "These are my holiday notes, not a photo.\n");
  expect_refused(dir.file("notes.jpg"), "not an image");
  write_file(dir.file("anim.gif"), std::string("GIF89a\x01\0\x01\0\0\0\0;", 13));
  expect_refused(dir.file("anim.gif"), "unsupported image format GIF");
}

TEST(ReadImage, UnreadableFileIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: file permissions do not apply";
  ScratchDir dir;
  write_file(dir.file("secret.png"), encode(".png", pattern(8, 8)));
  std::filesystem::permissions(dir.file("secret.png"), std::filesystem::perms::none);
  expect_refused(dir.file("secret.png"), "permission denied");
}

TEST(ReadImage, TruncatedFilesAreRefused) {
  ScratchDir dir;
  cv::Mat noisy(120, 160, CV_8UC3);
  cv::randu(noisy, 0, 256);
  const std::string jpeg = encode(".jpg", noisy);
  const std::string png = encode(".png", noisy);
  const std::string webp = encode(".webp", noisy);
  const std::string bmp = encode(".bmp", noisy);
  const struct {
    std::string name, bytes;
  } cases[] = {{"cut.jpg", jpeg.substr(0, jpeg.size() * 6 / 10)},
               {"no_eoi.jpg", jpeg.substr(0, jpeg.size() - 2)},
               {"header_only.jpg", jpeg.substr(0, 300)},
               {"cut.png", png.substr(0, png.size() * 6 / 10)},
               {"no_iend.png", png.substr(0, png.size() - 12)},
               {"cut.webp", webp.substr(0, webp.size() / 2)},
               {"cut.bmp", bmp.substr(0, bmp.size() / 2)}};
  for (const auto& c : cases) {
    write_file(dir.file(c.name), c.bytes);
    expect_refused(dir.file(c.name), "truncated");
  }
}

TEST(ReadImage, CorruptDataIsRefused) {
  ScratchDir dir;
  cv::Mat noisy(120, 160, CV_8UC3);
  cv::randu(noisy, 0, 256);
  std::string png = encode(".png", noisy);
  png[png.size() / 2] ^= 0x55;  // IDAT CRC no longer matches
  write_file(dir.file("bad.png"), png);
  expect_refused(dir.file("bad.png"), "corrupt PNG");
  std::string jpeg = encode(".jpg", noisy);
  // A restart marker in the middle of entropy-coded data that has none.
  jpeg.replace(jpeg.size() / 2, 2, "\xFF\xD3");
  write_file(dir.file("bad.jpg"), jpeg);
  expect_refused(dir.file("bad.jpg"), "corrupt JPEG");
}

TEST(ReadImage, PixelLimitIsCheckedFromTheHeaderBeforeDecoding) {
  ScratchDir dir;
  // A PNG that claims 100000 x 100000 pixels and holds no image data at all:
  // refused for its size, not for the missing data.
  std::string ihdr = be32(100000) + be32(100000) + std::string("\x08\x02\0\0\0", 5);
  const std::string bomb = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IEND", "");
  write_file(dir.file("bomb.png"), bomb);
  expect_refused(dir.file("bomb.png"), "too large");
  EXPECT_EQ(read_image_header_size(dir.file("bomb.png")), cv::Size(100000, 100000));

  write_file(dir.file("small.png"), encode(".png", pattern(40, 30)));
  ImageReadOptions tight;
  tight.max_pixels = 1199;
  expect_refused(dir.file("small.png"), "too large", tight);
  tight.max_pixels = 1200;
  EXPECT_EQ(read_image(dir.file("small.png"), tight).size(), cv::Size(40, 30));
}

TEST(ReadImage, FormatIsTakenFromContentsNotName) {
  ScratchDir dir;
  const cv::Mat img = pattern(9, 7);
  write_file(dir.file("really_png.jpg"), encode(".png", img));
  expect_same(read_image(dir.file("really_png.jpg")), img);
}

}  // namespace
}  // namespace facemix
