// NumPy .npy encode/decode (format versions 1.0, 2.0, 3.0; float16/32/64).
#include "npy.h"

#include <torch/torch.h>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "facemix/errors.h"
#include "facemix/latents.h"
#include "facemix/output.h"

namespace facemix::npy {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ModelError(source + ": " + what);
}

// A tiny parser for the Python dict literal in an .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 18, 512), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& source) : s_(text), src_(source) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        h.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        fail(src_, "npy header has unexpected key '" + key + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!have_descr || !have_order || !have_shape) fail(src_, "npy header lacks descr, fortran_order or shape");
    return h;
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    skip();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(src_, std::string("malformed npy header (expected '") + c + "')");
    ++i_;
  }
  std::string string_literal() {
    skip();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail(src_, "malformed npy header (expected a string)");
    const char q = s_[i_++];
    const size_t end = s_.find(q, i_);
    if (end == std::string::npos) fail(src_, "malformed npy header (unterminated string)");
    std::string v = s_.substr(i_, end - i_);
    i_ = end + 1;
    return v;
  }
  bool boolean() {
    skip();
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail(src_, "malformed npy header (fortran_order is not True/False)");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> v;
    expect('(');
    while (!peek(')')) {
      skip();
      size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (start == i_ || i_ - start > 12) fail(src_, "malformed npy header (bad shape)");
      v.push_back(std::stoll(s_.substr(start, i_ - start)));
      if (!peek(')')) expect(',');
    }
    expect(')');
    return v;
  }

  const std::string& s_;
  const std::string& src_;
  size_t i_ = 0;
};

uint32_t read_le(const std::string& b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint32_t(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

}  // namespace

torch::Tensor decode(const std::string& bytes, const std::string& source) {
  c10::InferenceMode not_inference(false);  // latents are often optimised later
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, magic, 6) != 0) fail(source, "not an .npy array (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_at = 0;
  if (major == 1) {
    header_len = read_le(bytes, 8, 2);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(source, "truncated .npy header");
    header_len = read_le(bytes, 8, 4);
    header_at = 12;
  } else {
    fail(source, ".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_at + header_len > bytes.size()) fail(source, "truncated .npy header");
  const Header h = HeaderParser(bytes.substr(header_at, header_len), source).parse();

  if (h.descr.size() != 3 || std::string("<>|=").find(h.descr[0]) == std::string::npos || h.descr[1] != 'f')
    fail(source, ".npy dtype '" + h.descr + "' is not supported (float16, float32 or float64)");
  torch::ScalarType st;
  switch (h.descr[2]) {
    case '2': st = torch::kFloat16; break;
    case '4': st = torch::kFloat32; break;
    case '8': st = torch::kFloat64; break;
    default: fail(source, ".npy dtype '" + h.descr + "' is not supported (float16, float32 or float64)");
  }
  const size_t item = h.descr[2] - '0';
  uint64_t numel = 1;
  for (int64_t d : h.shape)
    if (d > (1ll << 40) || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel))
      fail(source, ".npy shape is absurdly large");
  const size_t data_at = header_at + header_len;
  if (numel > (bytes.size() - data_at) / item || numel * item != bytes.size() - data_at)
    fail(source, ".npy data size " + std::to_string(bytes.size() - data_at) + " bytes does not match its shape (" +
                     std::to_string(numel * item) + " bytes)");

  std::vector<int64_t> shape = h.shape;
  if (h.fortran_order) std::reverse(shape.begin(), shape.end());
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
  if (numel > 0) std::memcpy(t.data_ptr(), bytes.data() + data_at, numel * item);  // empty: data_ptr() is null
  if (h.descr[0] == '>' && item > 1) {  // big-endian data: swap bytes in place
    auto* p = static_cast<unsigned char*>(t.data_ptr());
    for (uint64_t i = 0; i < numel; ++i) std::reverse(p + i * item, p + (i + 1) * item);
  }
  if (h.fortran_order && shape.size() > 1) {
    std::vector<int64_t> perm;
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) perm.push_back(i);
    t = t.permute(perm);
  }
  return t.to(torch::kFloat32).contiguous();
}

std::string encode(const torch::Tensor& t_in) {
  torch::Tensor t = t_in.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  std::ostringstream dict;
  dict << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int64_t i = 0; i < t.dim(); ++i) dict << (i ? ", " : "") << t.size(i);
  if (t.dim() == 1) dict << ',';  // Python's one-element tuple
  dict << "), }";
  std::string header = dict.str();
  // Pad with spaces and end with '\n' so that magic + length + header is a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float));
  return out;
}

std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw ModelError(path + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw ModelError(path + ": not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open");
  std::ostringstream s;
  s << f.rdbuf();
  if (f.bad()) throw ModelError(path + ": read error");
  return s.str();
}

}  // namespace facemix::npy

namespace facemix {

torch::Tensor read_npy(const std::string& path) { return npy::decode(npy::read_whole_file(path), path); }

void write_npy(const std::string& path, const torch::Tensor& t) { write_bytes_atomic(path, npy::encode(t)); }

}  // namespace facemix
