// Container-level parsing of image files: magic numbers, header dimensions,
// completeness and EXIF orientation. Decoders live in decode_*.cpp; this file
// never decodes pixels, so it is cheap to run on every input first.
#include "io/image_formats.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <opencv2/core.hpp>

#include "facemix/errors.h"

namespace facemix::io {
namespace {

using Bytes = std::string_view;

bool starts_with(Bytes b, std::size_t at, Bytes prefix) {
  return b.size() >= at + prefix.size() && b.compare(at, prefix.size(), prefix) == 0;
}
std::uint32_t u8(Bytes b, std::size_t i) { return static_cast<unsigned char>(b[i]); }
std::uint32_t be16(Bytes b, std::size_t i) { return (u8(b, i) << 8) | u8(b, i + 1); }
std::uint32_t be32(Bytes b, std::size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }
std::uint32_t le16(Bytes b, std::size_t i) { return u8(b, i) | (u8(b, i + 1) << 8); }
std::uint32_t le32(Bytes b, std::size_t i) { return le16(b, i) | (le16(b, i + 2) << 16); }
std::uint32_t le24(Bytes b, std::size_t i) { return le16(b, i) | (u8(b, i + 2) << 16); }

[[noreturn]] void truncated(const std::string& path, const char* format) {
  throw IoError(path + ": truncated " + format + " file (the data ends early)");
}
[[noreturn]] void corrupt(const std::string& path, const char* format, const std::string& what) {
  throw IoError(path + ": corrupt " + format + " file (" + what + ")");
}

// ---- JPEG: walk the marker segments up to the first scan ------------------

struct JpegHeader {
  cv::Size size;
  Bytes exif;               // TIFF-structured EXIF payload, empty when absent
  std::size_t scan_start = 0;  // offset of the first SOS segment
};

bool is_sof(std::uint32_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

JpegHeader walk_jpeg(Bytes b, const std::string& path) {
  JpegHeader h;
  std::size_t pos = 2;  // after SOI
  while (true) {
    if (pos >= b.size()) truncated(path, "JPEG");
    if (u8(b, pos) != 0xFF) corrupt(path, "JPEG", "bad marker in header");
    while (pos < b.size() && u8(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) truncated(path, "JPEG");
    const std::uint32_t marker = u8(b, pos++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no payload
    if (marker == 0xD9) corrupt(path, "JPEG", "end of image before any image data");
    if (pos + 2 > b.size()) truncated(path, "JPEG");
    const std::size_t length = be16(b, pos);
    if (length < 2) corrupt(path, "JPEG", "bad segment length");
    if (pos + length > b.size()) truncated(path, "JPEG");
    if (is_sof(marker)) {
      if (length < 8) corrupt(path, "JPEG", "short frame header");
      h.size = cv::Size(static_cast<int>(be16(b, pos + 5)), static_cast<int>(be16(b, pos + 3)));
    } else if (marker == 0xE1 && h.exif.empty() && starts_with(b, pos + 2, Bytes("Exif\0\0", 6))) {
      h.exif = b.substr(pos + 8, length - 8);
    } else if (marker == 0xDA) {
      if (h.size.empty()) corrupt(path, "JPEG", "image data before the frame header");  // not area(): int overflow
      h.scan_start = pos - 2;
      return h;
    }
    pos += length;
  }
}

// ---- PNG: walk the chunks --------------------------------------------------

struct PngChunks {
  cv::Size size;
  Bytes exif;
  bool has_iend = false;
};

PngChunks walk_png(Bytes b, const std::string& path, bool require_end) {
  PngChunks c;
  std::size_t pos = 8;
  bool first = true;
  while (pos + 8 <= b.size()) {
    const std::size_t length = be32(b, pos);
    const Bytes type = b.substr(pos + 4, 4);
    if (length > 0x7FFFFFFFu) corrupt(path, "PNG", "bad chunk length");
    if (pos + 12 + length > b.size()) truncated(path, "PNG");
    const Bytes data = b.substr(pos + 8, length);
    if (first) {
      if (type != "IHDR" || length < 13) corrupt(path, "PNG", "missing IHDR header");
      c.size = cv::Size(static_cast<int>(be32(data, 0) & 0x7FFFFFFF),
                        static_cast<int>(be32(data, 4) & 0x7FFFFFFF));
      first = false;
      if (!require_end) return c;
    } else if (type == "eXIf") {
      c.exif = data;
    } else if (type == "IEND") {
      c.has_iend = true;
      return c;
    }
    pos += 12 + length;
  }
  if (first) truncated(path, "PNG");
  if (require_end) truncated(path, "PNG");
  return c;
}

// ---- WebP: RIFF chunks -----------------------------------------------------

struct WebpInfo {
  cv::Size size;
  Bytes exif;
};

WebpInfo walk_webp(Bytes b, const std::string& path) {
  WebpInfo w;
  const std::size_t riff_end = static_cast<std::size_t>(le32(b, 4)) + 8;
  if (riff_end > b.size()) truncated(path, "WebP");
  std::size_t pos = 12;
  while (pos + 8 <= riff_end) {
    const Bytes fourcc = b.substr(pos, 4);
    const std::size_t length = le32(b, pos + 4);
    if (pos + 8 + length > riff_end) truncated(path, "WebP");
    const Bytes data = b.substr(pos + 8, length);
    if (w.size.empty()) {
      if (fourcc == "VP8 " && length >= 10) {
        if (!starts_with(data, 3, "\x9d\x01\x2a")) corrupt(path, "WebP", "bad VP8 frame header");
        w.size = cv::Size(static_cast<int>(le16(data, 6) & 0x3FFF),
                          static_cast<int>(le16(data, 8) & 0x3FFF));
      } else if (fourcc == "VP8L" && length >= 5) {
        if (u8(data, 0) != 0x2F) corrupt(path, "WebP", "bad VP8L signature");
        const std::uint32_t bits = le32(data, 1);
        w.size = cv::Size(static_cast<int>(bits & 0x3FFF) + 1,
                          static_cast<int>((bits >> 14) & 0x3FFF) + 1);
      } else if (fourcc == "VP8X" && length >= 10) {
        w.size = cv::Size(static_cast<int>(le24(data, 4)) + 1, static_cast<int>(le24(data, 7)) + 1);
      }
    }
    if (fourcc == "EXIF") w.exif = data;
    pos += 8 + length + (length & 1);
  }
  return w;
}

// ---- BMP and TIFF headers ----------------------------------------------------

struct BmpInfo {
  cv::Size size;
  std::uint32_t pixel_offset = 0, bits = 0, compression = 0;
};

BmpInfo read_bmp(Bytes b, const std::string& path) {
  if (b.size() < 26) truncated(path, "BMP");
  BmpInfo i;
  i.pixel_offset = le32(b, 10);
  const std::uint32_t dib = le32(b, 14);
  if (dib == 12) {
    i.size = cv::Size(static_cast<int>(le16(b, 18)), static_cast<int>(le16(b, 20)));
    i.bits = le16(b, 24);
  } else if (dib >= 40) {
    if (b.size() < 34) truncated(path, "BMP");
    const auto w = static_cast<std::int32_t>(le32(b, 18));
    const auto h = static_cast<std::int32_t>(le32(b, 22));
    if (w <= 0 || h == 0 || h == INT32_MIN) corrupt(path, "BMP", "bad dimensions");
    i.size = cv::Size(w, h < 0 ? -h : h);
    i.bits = le16(b, 28);
    i.compression = le32(b, 30);
  } else {
    corrupt(path, "BMP", "unknown header version");
  }
  return i;
}

cv::Size read_tiff_size(Bytes b, const std::string& path) {
  const bool little = b[0] == 'I';
  auto r16 = [&](std::size_t i) { return little ? le16(b, i) : be16(b, i); };
  auto r32 = [&](std::size_t i) { return little ? le32(b, i) : be32(b, i); };
  const std::size_t ifd = r32(4);
  if (ifd + 2 > b.size()) truncated(path, "TIFF");
  const std::size_t count = r16(ifd);
  if (ifd + 2 + count * 12 > b.size()) truncated(path, "TIFF");
  long width = 0, height = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t e = ifd + 2 + k * 12;
    const std::uint32_t tag = r16(e), type = r16(e + 2);
    const long value = type == 3 ? static_cast<long>(r16(e + 8))
                       : type == 4 ? static_cast<long>(r32(e + 8)) : 0;
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX)
    corrupt(path, "TIFF", "missing or bad image size");
  return cv::Size(static_cast<int>(width), static_cast<int>(height));
}

// ---- EXIF (TIFF-structured) orientation tag ------------------------------------

// Offset of the Orientation entry's value (a SHORT, stored in the entry) in
// the TIFF structure `t`, or npos when there is none.
std::size_t orientation_value_offset(Bytes t) {
  if (t.size() < 8) return Bytes::npos;
  const bool little = starts_with(t, 0, "II*\0");
  if (!little && !starts_with(t, 0, Bytes("MM\0*", 4))) return Bytes::npos;
  auto r16 = [&](std::size_t i) { return little ? le16(t, i) : be16(t, i); };
  auto r32 = [&](std::size_t i) { return little ? le32(t, i) : be32(t, i); };
  const std::size_t ifd = r32(4);
  if (ifd + 2 > t.size()) return Bytes::npos;
  const std::size_t count = r16(ifd);
  for (std::size_t k = 0; k < count && ifd + 2 + (k + 1) * 12 <= t.size(); ++k) {
    const std::size_t entry = ifd + 2 + k * 12;
    if (r16(entry) == 0x0112 && r16(entry + 2) == 3) return entry + 8;
  }
  return Bytes::npos;
}

int orientation_at(Bytes t, std::size_t value) {
  if (value == Bytes::npos) return 1;
  const int v = static_cast<int>(starts_with(t, 0, "II") ? le16(t, value) : be16(t, value));
  return v >= 1 && v <= 8 ? v : 1;
}

int orientation_from_exif(Bytes e) {
  if (starts_with(e, 0, Bytes("Exif\0\0", 6))) e = e.substr(6);
  return orientation_at(e, orientation_value_offset(e));
}

}  // namespace

ImageFormat sniff_format(const std::string& bytes, const std::string& path) {
  const Bytes b(bytes);
  if (starts_with(b, 0, "\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (starts_with(b, 0, "\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (starts_with(b, 0, "RIFF") && starts_with(b, 8, "WEBP")) return ImageFormat::kWebp;
  if (starts_with(b, 0, "BM") && b.size() >= 18) return ImageFormat::kBmp;
  if (starts_with(b, 0, Bytes("II*\0", 4)) || starts_with(b, 0, Bytes("MM\0*", 4)))
    return ImageFormat::kTiff;

  const char* unsupported = nullptr;
  if (starts_with(b, 0, "GIF87a") || starts_with(b, 0, "GIF89a")) unsupported = "GIF";
  else if (starts_with(b, 0, Bytes("II+\0", 4)) || starts_with(b, 0, Bytes("MM\0+", 4))) unsupported = "BigTIFF";
  else if (starts_with(b, 4, "jP  ") || starts_with(b, 0, "\xFF\x4F\xFF\x51")) unsupported = "JPEG 2000";
  else if (starts_with(b, 4, "ftyp")) unsupported = "HEIF/AVIF (ISO media)";
  else if (starts_with(b, 0, "8BPS")) unsupported = "Photoshop PSD";
  else if (starts_with(b, 0, "v/1\x01")) unsupported = "OpenEXR";
  else if (starts_with(b, 0, "#?RADIANCE") || starts_with(b, 0, "#?RGBE")) unsupported = "Radiance HDR";
  else if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7' && std::isspace(static_cast<unsigned char>(b[2])))
    unsupported = "PNM";
  if (unsupported)
    throw IoError(path + ": unsupported image format " + unsupported +
                  " (use PNG, JPEG, WebP, BMP or TIFF)");
  throw IoError(path + ": not an image file (contents are not PNG, JPEG, WebP, BMP or TIFF)");
}

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

cv::Size header_size(ImageFormat format, const std::string& bytes, const std::string& path) {
  const Bytes b(bytes);
  cv::Size s;
  switch (format) {
    case ImageFormat::kPng: s = walk_png(b, path, false).size; break;
    case ImageFormat::kJpeg: s = walk_jpeg(b, path).size; break;
    case ImageFormat::kWebp: s = walk_webp(b, path).size; break;
    case ImageFormat::kBmp: s = read_bmp(b, path).size; break;
    case ImageFormat::kTiff: s = read_tiff_size(b, path); break;
    case ImageFormat::kUnknown: break;
  }
  if (s.width <= 0 || s.height <= 0)
    corrupt(path, format_name(format), "the header declares no image size");
  return s;
}

void check_complete(ImageFormat format, const std::string& bytes, const std::string& path) {
  const Bytes b(bytes);
  switch (format) {
    case ImageFormat::kPng:
      walk_png(b, path, true);
      break;
    case ImageFormat::kJpeg: {
      // After the first scan only EOI (FF D9) can follow an FF byte that is
      // not stuffing or a restart marker, so a complete file has FF D9 after
      // the scan start; libjpeg catches subtler damage while decoding.
      const JpegHeader h = walk_jpeg(b, path);
      const std::size_t eoi = b.rfind("\xFF\xD9");
      if (eoi == Bytes::npos || eoi < h.scan_start) truncated(path, "JPEG");
      break;
    }
    case ImageFormat::kWebp:
      if (walk_webp(b, path).size.empty()) corrupt(path, "WebP", "no image chunk");
      break;
    case ImageFormat::kBmp: {
      const BmpInfo i = read_bmp(b, path);
      if (i.compression == 0 || i.compression == 3) {
        const std::uint64_t stride = (static_cast<std::uint64_t>(i.size.width) * i.bits + 31) / 32 * 4;
        if (i.pixel_offset + stride * static_cast<std::uint64_t>(i.size.height) > b.size())
          truncated(path, "BMP");
      }
      break;
    }
    case ImageFormat::kTiff:
    case ImageFormat::kUnknown:
      break;  // TIFF's layout is scattered; the decoder reports missing strips
  }
}

int exif_orientation(ImageFormat format, const std::string& bytes) {
  try {
    const Bytes b(bytes);
    switch (format) {
      case ImageFormat::kJpeg: return orientation_from_exif(walk_jpeg(b, "").exif);
      case ImageFormat::kPng: return orientation_from_exif(walk_png(b, "", true).exif);
      case ImageFormat::kWebp: return orientation_from_exif(walk_webp(b, "").exif);
      case ImageFormat::kTiff: return orientation_from_exif(b);  // a TIFF's own IFD0
      default: return 1;
    }
  } catch (const IoError&) {
    return 1;
  }
}

int take_tiff_orientation(std::string& bytes) {
  const std::size_t value = orientation_value_offset(Bytes(bytes));
  const int orientation = orientation_at(Bytes(bytes), value);
  if (value != Bytes::npos) {
    const bool little = bytes[0] == 'I';
    bytes[value] = little ? '\x01' : '\0';
    bytes[value + 1] = little ? '\0' : '\x01';
  }
  return orientation;
}

cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation) {
  cv::Mat out, tmp;
  switch (orientation) {
    case 2: cv::flip(image, out, 1); break;
    case 3: cv::rotate(image, out, cv::ROTATE_180); break;
    case 4: cv::flip(image, out, 0); break;
    case 5: cv::transpose(image, out); break;
    case 6: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); break;
    case 7: cv::transpose(image, tmp); cv::rotate(tmp, out, cv::ROTATE_180); break;
    case 8: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: out = image; break;
  }
  return out;
}

}  // namespace facemix::io
