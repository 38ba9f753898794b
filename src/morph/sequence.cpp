// Morph sequences: frame weights, output checks and atomic writing.
#include "facemix/sequence.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "frame_writers.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

fs::path parent_or_dot(const fs::path& p) {
  return p.parent_path().empty() ? fs::path(".") : p.parent_path();
}

std::string random_tag() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<uint64_t>(::getpid())};
  char tag[17];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(rng()));
  return tag;
}

bool is_frame_file(const fs::directory_entry& e) {
  const std::string name = e.path().filename().string();
  if (!e.is_regular_file() || name.rfind("frame_", 0) != 0 || lower_extension(name) != ".png") return false;
  const std::string digits = name.substr(6, name.size() - 10);
  return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A temporary directory next to the target, removed unless released.
class TempDirectory {
 public:
  explicit TempDirectory(const fs::path& target) {
    path_ = parent_or_dot(target) / ("." + target.filename().string() + ".facemix-" + random_tag() + ".tmp");
    std::error_code ec;
    if (!fs::create_directory(path_, ec) || ec)
      throw IoError(target.string() + ": cannot create a temporary directory next to it: " + ec.message());
  }
  ~TempDirectory() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// Moves the finished temporary directory into place. An existing target
// (checked by prepare_sequence_output) is moved aside first and removed after.
void install_directory(TempDirectory& tmp, const fs::path& target) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(target, ec)) {
    old = parent_or_dot(target) / ("." + target.filename().string() + ".facemix-" + random_tag() + ".old");
    fs::rename(target, old, ec);
    if (ec) throw IoError(target.string() + ": cannot replace: " + ec.message());
  }
  fs::rename(tmp.path(), target, ec);
  if (ec) {
    std::error_code ignore;
    if (!old.empty()) fs::rename(old, target, ignore);
    throw IoError(target.string() + ": cannot write: " + ec.message());
  }
  tmp.release();
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace

std::optional<SequenceFormat> sequence_format_of(const std::string& output) {
  if (output.empty()) return std::nullopt;
  if (output.back() == '/') return SequenceFormat::kFrameDirectory;
  const std::string ext = lower_extension(output);
  if (ext == ".gif") return SequenceFormat::kGif;
  if (ext == ".mp4") return SequenceFormat::kMp4;
  std::error_code ec;
  if (fs::is_directory(output, ec)) return SequenceFormat::kFrameDirectory;
  return std::nullopt;
}

std::optional<SequenceFormat> check_sequence_output(const std::string& output, int frames) {
  const std::optional<SequenceFormat> format = sequence_format_of(output);
  if (frames > 0 && !format)
    throw UsageError(output + ": with --frames the output must be a .gif, an .mp4 or a directory (DIR/)");
  if (frames == 0 && format)
    throw UsageError(output + ": a .gif, .mp4 or directory output is a sequence; add --frames N");
  if (!format) check_image_output_extension(output);
  return format;
}

std::vector<double> sequence_weights(int frame, int frame_count, std::size_t inputs) {
  if (frame_count < 2 || frame < 0 || frame >= frame_count || inputs < 1)
    throw std::invalid_argument("sequence_weights: frame out of range");
  std::vector<double> w(inputs, 0.0);
  // Position along the path in integer steps, so frames that land exactly on
  // an input are exactly one-hot.
  const long steps = static_cast<long>(frame) * static_cast<long>(inputs - 1);
  const long span = frame_count - 1;
  const std::size_t k = static_cast<std::size_t>(steps / span);
  const long rem = steps % span;
  if (k + 1 >= inputs || rem == 0) {
    w[std::min(k, inputs - 1)] = 1.0;
  } else {
    const double a = static_cast<double>(rem) / static_cast<double>(span);
    w[k] = 1.0 - a;
    w[k + 1] = a;
  }
  return w;
}

std::vector<int> sequence_order(int frame_count, bool boomerang) {
  if (frame_count < 1) throw std::invalid_argument("sequence_order: frame_count must be >= 1");
  std::vector<int> order;
  for (int i = 0; i < frame_count; ++i) order.push_back(i);
  if (boomerang)
    for (int i = frame_count - 2; i >= 1; --i) order.push_back(i);
  return order;
}

bool prepare_sequence_output(const std::string& output, SequenceFormat format,
                             const std::vector<std::string>& inputs, Overwrite policy) {
  if (output.empty()) throw std::invalid_argument("prepare_sequence_output: empty output");
  if (format != SequenceFormat::kFrameDirectory) return prepare_output(output, inputs, policy);

  const fs::path dir(without_trailing_slashes(output));
  std::error_code ec;
  const fs::path canonical_dir = fs::weakly_canonical(dir, ec);
  for (const auto& in : inputs) {
    const fs::path c = fs::weakly_canonical(in, ec);
    auto rel = c.lexically_relative(canonical_dir);
    if (!rel.empty() && *rel.begin() != "..")
      throw IoError(output + ": an input (" + in + ") lies in the output directory");
  }
  const fs::path parent = parent_or_dot(dir);
  if (!fs::is_directory(parent, ec))
    throw IoError(output + ": output directory " + parent.string() + " does not exist");
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) throw IoError(output + ": exists and is not a directory");
  bool empty = true, only_frames = true;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    empty = false;
    only_frames = only_frames && is_frame_file(e);
  }
  if (ec) throw IoError(output + ": cannot read directory: " + ec.message());
  if (empty) return true;
  switch (policy) {
    case Overwrite::kNever: return false;
    case Overwrite::kRefuse:
      throw IoError(output + ": output directory exists and is not empty (use -y to replace, -n to skip)");
    case Overwrite::kYes:
      if (!only_frames)
        throw IoError(output + ": holds files other than frame_*.png; refusing to replace it");
      return true;
  }
  return true;
}

std::unique_ptr<FrameWriter> open_frame_writer(const std::string& path, SequenceFormat format,
                                               double fps, int expected_frames) {
  if (!(fps > 0)) throw std::invalid_argument("open_frame_writer: fps must be > 0");
  switch (format) {
    case SequenceFormat::kGif: return detail::make_gif_writer(path, fps);
    case SequenceFormat::kMp4: return detail::make_mp4_writer(path, fps);
    case SequenceFormat::kFrameDirectory: return detail::make_frame_directory_writer(path, expected_frames);
  }
  throw std::invalid_argument("open_frame_writer: unknown format");
}

void write_sequence(const std::string& output, SequenceFormat format, int frame_count,
                    const std::function<cv::Mat(int)>& frame, const SequenceWriteOptions& options,
                    const ProgressCallback& progress) {
  if (frame_count < 1) throw std::invalid_argument("write_sequence: frame_count must be >= 1");
  auto write_all = [&](const std::string& path) {
    auto writer = open_frame_writer(path, format, options.fps, frame_count);
    for (int i = 0; i < frame_count; ++i) {
      check_interrupt();
      writer->add(frame(i));
      if (progress) progress({"frames", i + 1, frame_count, -1.0});
    }
    writer->close();
  };
  if (format != SequenceFormat::kFrameDirectory) {
    write_file_atomic(output, write_all);
    return;
  }
  const fs::path target(without_trailing_slashes(output));
  TempDirectory tmp(target);
  write_all(tmp.path().string());
  install_directory(tmp, target);
}

}  // namespace facemix
