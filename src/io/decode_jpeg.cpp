// JPEG decoding through libjpeg(-turbo) directly rather than cv::imdecode, for
// two reasons: libjpeg's warnings ("Premature end of JPEG file", "Corrupt JPEG
// data") would otherwise be printed on stderr and the damaged image silently
// accepted; here they become a refusal (damage) or a debug log line (harmless).
#include <csetjmp>
#include <cstdio>
#include <string>

#include <jpeglib.h>
#include <jerror.h>

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "io/image_formats.h"

namespace facemix::io {
namespace {

struct ErrorState {
  jpeg_error_mgr pub;  // first member: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool premature_eof;
  bool damaged;  // entropy-coded data was corrupt: the decoded pixels are wrong
  int harmless_warnings;
  char first_harmless[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* st = reinterpret_cast<ErrorState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, st->message);
  std::longjmp(st->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages: never shown
  auto* st = reinterpret_cast<ErrorState*>(cinfo->err);
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF: st->premature_eof = true; break;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION: st->damaged = true; break;
    default:
      if (st->harmless_warnings++ == 0) (*cinfo->err->format_message)(cinfo, st->first_harmless);
      break;
  }
  if (st->damaged && st->message[0] == 0) (*cinfo->err->format_message)(cinfo, st->message);
}

// Runs libjpeg; returns false when it raised an error (message in st). Kept free
// of C++ objects with destructors so that the longjmp out of libjpeg is safe.
bool run_decoder(j_decompress_ptr cinfo, ErrorState* st, const std::string* bytes, cv::Mat* out,
                 bool* adobe_cmyk) {
  if (setjmp(st->jump)) return false;
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes->data()),
               static_cast<unsigned long>(bytes->size()));
  jpeg_read_header(cinfo, TRUE);
  int channels = 3;
  if (cinfo->jpeg_color_space == JCS_GRAYSCALE) {
    cinfo->out_color_space = JCS_GRAYSCALE;
    channels = 1;
  } else if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    cinfo->out_color_space = JCS_CMYK;
    channels = 4;
    *adobe_cmyk = cinfo->saw_Adobe_marker;
  } else {
    cinfo->out_color_space = JCS_EXT_BGR;
  }
  jpeg_start_decompress(cinfo);
  out->create(static_cast<int>(cinfo->output_height), static_cast<int>(cinfo->output_width),
              CV_8UC(channels));
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out->ptr<unsigned char>(static_cast<int>(cinfo->output_scanline));
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

cv::Mat cmyk_to_bgr(const cv::Mat& cmyk, bool adobe_inverted) {
  cv::Mat bgr(cmyk.size(), CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const unsigned char* s = cmyk.ptr<unsigned char>(y);
    unsigned char* d = bgr.ptr<unsigned char>(y);
    for (int x = 0; x < cmyk.cols; ++x, s += 4, d += 3) {
      // Adobe writes CMYK inverted (0 = full ink); plain CMYK is not.
      const int c = adobe_inverted ? s[0] : 255 - s[0], m = adobe_inverted ? s[1] : 255 - s[1];
      const int ye = adobe_inverted ? s[2] : 255 - s[2], k = adobe_inverted ? s[3] : 255 - s[3];
      d[0] = static_cast<unsigned char>((ye * k + 127) / 255);
      d[1] = static_cast<unsigned char>((m * k + 127) / 255);
      d[2] = static_cast<unsigned char>((c * k + 127) / 255);
    }
  }
  return bgr;
}

}  // namespace

cv::Mat decode_jpeg(const std::string& bytes, const std::string& path) {
  jpeg_decompress_struct cinfo{};
  ErrorState st{};
  cinfo.err = jpeg_std_error(&st.pub);
  st.pub.error_exit = on_error;
  st.pub.emit_message = on_message;
  jpeg_create_decompress(&cinfo);
  cv::Mat out;
  bool adobe_cmyk = false;
  const bool ok = run_decoder(&cinfo, &st, &bytes, &out, &adobe_cmyk);
  jpeg_destroy_decompress(&cinfo);

  if (st.premature_eof) throw IoError(path + ": truncated JPEG file (the data ends early)");
  if (!ok) throw IoError(path + ": corrupt JPEG file (" + st.message + ")");
  if (st.damaged) throw IoError(path + ": corrupt JPEG file (" + st.message + ")");
  if (st.harmless_warnings > 0)
    spdlog::debug("{}: libjpeg: {}{}", path, st.first_harmless,
                  st.harmless_warnings > 1 ? " (and more warnings)" : "");
  if (out.channels() == 4) return cmyk_to_bgr(out, adobe_cmyk);
  return out;
}

}  // namespace facemix::io
