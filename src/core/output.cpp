#include "facemix/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "facemix/errors.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::string temp_name_for(const fs::path& output) {
  // Hidden, unique, same directory (so rename is atomic), same extension.
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          static_cast<uint64_t>(::getpid())};
  char tag[17];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(rng()));
  fs::path dir = output.parent_path();
  return (dir / ("." + output.stem().string() + ".facemix-" + tag + ".tmp" +
                 output.extension().string()))
      .string();
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// The mode open(path, O_CREAT, 0666) gives a new file in the output's
// directory: 0666 less the umask (and what a default ACL there imposes).
// Found by creating `probe` (the temporary's name, unused yet) and removing it:
// reading the umask itself means setting it, which is not thread-safe.
mode_t new_file_mode(const std::string& output, const std::string& probe) {
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw IoError(output + ": cannot create a file in its directory: " + std::strerror(errno));
  struct stat st {};
  const int rc = ::fstat(fd, &st);
  ::close(fd);
  ::unlink(probe.c_str());
  if (rc != 0) throw IoError(output + ": cannot create a file in its directory: " + std::strerror(errno));
  return st.st_mode & 07777;
}

}  // namespace

bool prepare_output(const std::string& output, const std::vector<std::string>& inputs,
                    Overwrite policy) {
  const fs::path out(output);
  for (const auto& in : inputs)
    if (same_file(out, fs::path(in)))
      throw IoError(output + ": output would overwrite an input file");
  std::error_code ec;
  fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(dir, ec))
    throw IoError(output + ": output directory " + dir.string() + " does not exist");
  if (fs::is_directory(out, ec)) throw IoError(output + ": output is a directory");
  if (fs::exists(out, ec)) {
    switch (policy) {
      case Overwrite::kYes: return true;
      case Overwrite::kNever: return false;
      case Overwrite::kRefuse:
        throw IoError(output + ": output exists (use -y to overwrite, -n to skip)");
    }
  }
  return true;
}

void ensure_output_directory(const std::string& dir, const std::string& option) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec)) throw IoError(dir + ": " + option + " names a file, not a directory");
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw IoError(dir + ": cannot create " + option + " directory: " + ec.message());
}

void write_file_atomic(const std::string& output,
                       const std::function<void(const std::string&)>& writer) {
  const std::string tmp = temp_name_for(fs::path(output));
  const mode_t mode = new_file_mode(output, tmp);
  try {
    writer(tmp);
    std::error_code ec;
    if (!fs::is_regular_file(tmp, ec))
      throw IoError(output + ": writer produced no file");
    // Writers create their file with modes of their own (giflib: 0600); every
    // output gets the mode of a plain new file, whatever wrote it.
    if (::chmod(tmp.c_str(), mode) != 0)
      throw IoError(output + ": cannot set its permissions: " + std::strerror(errno));
    fsync_path(tmp);
    fs::rename(tmp, output, ec);
    if (ec) throw IoError(output + ": cannot write: " + ec.message());
  } catch (...) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw;
  }
}

void write_bytes_atomic(const std::string& output, const std::string& bytes) {
  write_file_atomic(output, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw IoError(output + ": cannot create file in its directory");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) throw IoError(output + ": write failed (disk full?)");
  });
}

}  // namespace facemix
