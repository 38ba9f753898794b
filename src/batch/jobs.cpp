// Job lists from a directory of photos, and shards of a job list.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "facemix/batch.h"
#include "facemix/errors.h"
#include "facemix/image_io.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

bool is_photo_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
    if (ext == e) return true;
  return false;
}

bool is_under(const fs::path& p, const fs::path& dir) {
  if (dir.empty()) return false;
  auto d = dir.begin();
  auto q = p.begin();
  for (; d != dir.end(); ++d, ++q)
    if (q == p.end() || *q != *d) return false;
  return true;
}

// The name a photo contributes to output names.
std::string name_of(const std::string& photo, const std::string& root, bool with_extension) {
  fs::path rel = fs::path(photo).lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") rel = fs::path(photo).filename();
  std::string ext = rel.extension().string();
  std::string name = rel.replace_extension().generic_string();
  std::replace(name.begin(), name.end(), '/', '_');
  if (with_extension && !ext.empty()) name += "_" + ext.substr(1);
  return name;
}

}  // namespace

std::vector<std::string> list_photos(const std::string& dir, bool recursive, const std::string& exclude_dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError(dir + ": not a directory");
  const fs::path excluded = exclude_dir.empty() ? fs::path() : fs::weakly_canonical(exclude_dir, ec);
  std::vector<std::string> photos;
  auto consider = [&](const fs::directory_entry& e) {
    const fs::path& p = e.path();
    if (p.filename().string().rfind('.', 0) == 0) return;
    std::error_code ec2;
    if (!e.is_regular_file(ec2) || !is_photo_extension(p)) return;
    photos.push_back(p.lexically_normal().string());
  };
  try {
    if (recursive) {
      fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied), end;
      for (; it != end; ++it) {
        const fs::path& p = it->path();
        std::error_code ec2;
        if (it->is_directory(ec2)) {
          if (p.filename().string().rfind('.', 0) == 0 || is_under(fs::weakly_canonical(p, ec2), excluded))
            it.disable_recursion_pending();
          continue;
        }
        consider(*it);
      }
    } else {
      for (const auto& e : fs::directory_iterator(dir)) consider(e);
    }
  } catch (const fs::filesystem_error& e) {
    throw IoError(dir + ": cannot list: " + e.code().message());
  }
  std::sort(photos.begin(), photos.end(), [&](const std::string& a, const std::string& b) {
    return fs::path(a).lexically_relative(dir).generic_string() < fs::path(b).lexically_relative(dir).generic_string();
  });
  return photos;
}

std::vector<std::string> photo_names(const std::vector<std::string>& photos, const std::string& photos_root) {
  // The extension joins the name only where two photos would share one.
  std::map<std::string, int> count;
  for (const auto& p : photos) ++count[name_of(p, photos_root, false)];
  std::vector<std::string> names;
  for (const auto& p : photos) {
    const std::string plain = name_of(p, photos_root, false);
    names.push_back(count[plain] > 1 ? name_of(p, photos_root, true) : plain);
  }
  return names;
}

PairMode parse_pair_mode(const std::string& text) {
  if (text == "all") return PairMode::kAll;
  if (text == "adjacent") return PairMode::kAdjacent;
  throw UsageError("--pairs " + text + ": expected all or adjacent");
}

std::vector<BatchJob> directory_jobs(const std::vector<std::string>& photos, const std::string& photos_root,
                                     const DirectoryJobOptions& o) {
  if (o.group < 2) throw UsageError("--groups " + std::to_string(o.group) + ": a blend needs at least 2 photos");
  check_image_output_extension("x" + o.extension);
  const std::vector<std::string> names = photo_names(photos, photos_root);
  const size_t n = photos.size(), k = static_cast<size_t>(o.group);
  std::vector<BatchJob> jobs;
  if (n < k) return jobs;
  auto add = [&](const std::vector<size_t>& idx) {
    BatchJob job;
    std::string name;
    for (size_t i : idx) {
      job.inputs.push_back(photos[i]);
      name += (name.empty() ? "" : "+") + names[i];
    }
    job.output = (fs::path(o.out_dir) / (name + o.extension)).lexically_normal().string();
    jobs.push_back(std::move(job));
  };
  if (o.mode == PairMode::kAdjacent) {
    for (size_t s = 0; s + k <= n; ++s) {
      std::vector<size_t> idx(k);
      for (size_t j = 0; j < k; ++j) idx[j] = s + j;
      add(idx);
    }
    return jobs;
  }
  // Every k-combination in lexicographic order; refuse absurd counts up front.
  double total = 1;
  for (size_t j = 0; j < k; ++j) total = total * static_cast<double>(n - j) / static_cast<double>(j + 1);
  if (total > 1e7)
    throw UsageError("--pairs all over " + std::to_string(n) + " photos in groups of " + std::to_string(k) +
                     " makes " + std::to_string(static_cast<long long>(total)) +
                     " jobs; use --pairs adjacent, a manifest or --shard");
  std::vector<size_t> idx(k);
  for (size_t j = 0; j < k; ++j) idx[j] = j;
  for (;;) {
    add(idx);
    // Next combination: the rightmost index that can still move.
    size_t j = k;
    while (j > 0 && idx[j - 1] == n - k + (j - 1)) --j;
    if (j == 0) break;
    ++idx[j - 1];
    for (size_t m = j; m < k; ++m) idx[m] = idx[m - 1] + 1;
  }
  return jobs;
}

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto number = [&](const std::string& s, int& out) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = std::atoi(s.c_str());
    return true;
  };
  Shard s;
  if (slash == std::string::npos || !number(text.substr(0, slash), s.index) ||
      !number(text.substr(slash + 1), s.count) || s.count < 1 || s.index < 1 || s.index > s.count)
    throw UsageError("--shard " + text + ": expected K/N with 1 <= K <= N (e.g. 3/8)");
  return s;
}

std::vector<std::size_t> shard_jobs(std::size_t job_count, Shard s) {
  const auto m = static_cast<unsigned long long>(job_count);
  const auto begin = static_cast<std::size_t>(m * static_cast<unsigned long long>(s.index - 1) /
                                              static_cast<unsigned long long>(s.count));
  const auto end = static_cast<std::size_t>(m * static_cast<unsigned long long>(s.index) /
                                            static_cast<unsigned long long>(s.count));
  std::vector<std::size_t> out;
  for (std::size_t i = begin; i < end; ++i) out.push_back(i);
  return out;
}

}  // namespace facemix
