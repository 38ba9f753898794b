// PNG decoding through libpng directly: cv::imdecode lets libpng print its
// warnings ("iCCP: known incorrect sRGB profile") on stderr; here warnings are
// logged at debug level and errors become one IoError line naming the file.
#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include <png.h>

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "io/image_formats.h"

namespace facemix::io {
namespace {

struct PngState {
  const std::string* bytes;
  std::size_t pos;
  char error[256];
  bool short_read;
  int warnings;
  char first_warning[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  if (st->error[0] == 0) std::snprintf(st->error, sizeof st->error, "%s", msg);
  png_longjmp(png, 1);
}

void on_warning(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  if (st->warnings++ == 0) std::snprintf(st->first_warning, sizeof st->first_warning, "%s", msg);
}

void on_read(png_structp png, png_bytep data, png_size_t length) {
  auto* st = static_cast<PngState*>(png_get_io_ptr(png));
  if (st->pos + length > st->bytes->size()) {
    st->short_read = true;
    png_error(png, "unexpected end of data");
  }
  std::memcpy(data, st->bytes->data() + st->pos, length);
  st->pos += length;
}

// Runs libpng; returns false when it raised an error. No C++ objects with
// destructors live in this frame, so libpng's longjmp out of it is safe.
bool run_decoder(png_structp png, png_infop info, cv::Mat* out, std::vector<png_bytep>* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  png_set_expand(png);  // palette -> RGB, grey < 8 bits -> 8 bits, tRNS -> alpha
  if (bit_depth == 16) png_set_swap(png);  // host (little-endian) order for CV_16U
  png_set_bgr(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  const int depth = png_get_bit_depth(png, info) == 16 ? CV_16U : CV_8U;
  out->create(static_cast<int>(png_get_image_height(png, info)),
              static_cast<int>(png_get_image_width(png, info)), CV_MAKETYPE(depth, channels));
  rows->resize(static_cast<std::size_t>(out->rows));
  for (int y = 0; y < out->rows; ++y) (*rows)[static_cast<std::size_t>(y)] = out->ptr<png_byte>(y);
  png_read_image(png, rows->data());
  png_read_end(png, nullptr);  // reads through IEND: a cut-off tail is an error
  return true;
}

}  // namespace

cv::Mat decode_png(const std::string& bytes, const std::string& path) {
  PngState st{};
  st.bytes = &bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, on_error, on_warning);
  if (!png) throw IoError(path + ": cannot initialise the PNG decoder");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw IoError(path + ": cannot initialise the PNG decoder");
  }
  png_set_read_fn(png, &st, on_read);
  cv::Mat out;
  std::vector<png_bytep> rows;
  const bool ok = run_decoder(png, info, &out, &rows);
  png_destroy_read_struct(&png, &info, nullptr);

  if (st.short_read) throw IoError(path + ": truncated PNG file (the data ends early)");
  if (!ok) throw IoError(path + ": corrupt PNG file (" + st.error + ")");
  if (st.warnings > 0)
    spdlog::debug("{}: libpng: {}{}", path, st.first_warning,
                  st.warnings > 1 ? " (and more warnings)" : "");
  return out;
}

}  // namespace facemix::io
