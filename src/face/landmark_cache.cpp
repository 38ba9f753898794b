// The fast-loading copy of dlib's shape predictor (landmark_cache.h).
#include "face/landmark_cache.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <streambuf>

#include <dlib/revision.h>
#include <dlib/serialize.h>
#include <spdlog/spdlog.h>

#include "facemix/output.h"
#include "facemix/sha256.h"

namespace fs = std::filesystem;

namespace facemix::detail {
namespace {

constexpr char kMagic[] = "facemix shape predictor copy 1\n";

using Forests = std::vector<std::vector<dlib::impl::regression_tree>>;
using Points = std::vector<std::vector<dlib::vector<float, 2>>>;

// Reads a buffer in place (dlib parses through std::istream).
struct MemoryBuf : std::streambuf {
  MemoryBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);  // only read
    setg(p, p, p + size);
  }
  std::streamsize xsgetn(char* out, std::streamsize n) override {
    n = std::min<std::streamsize>(n, egptr() - gptr());
    std::memcpy(out, gptr(), static_cast<std::size_t>(n));
    gbump(static_cast<int>(n));
    return n;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string bytes(static_cast<std::size_t>(f.tellg()), '\0');
  f.seekg(0);
  if (!f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) throw std::runtime_error("cannot read " + path);
  return bytes;
}

// What the copy is a copy of: the source's absolute path, size and time.
std::string source_key(const std::string& model_path) {
  const fs::path p = fs::absolute(model_path);
  const auto mtime = fs::last_write_time(p).time_since_epoch().count();
  return p.string() + "\n" + std::to_string(fs::file_size(p)) + "\n" + std::to_string(mtime) + "\n";
}

// ---- the copy's format: a key, then raw little-endian numbers ----

class Writer {
 public:
  template <class T>
  void put(T v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_floats(const float* p, std::size_t n) {
    put<std::uint64_t>(n);
    bytes_.append(reinterpret_cast<const char*>(p), n * sizeof(float));
  }
  std::string bytes_;
};

class Reader {
 public:
  Reader(const char* data, std::size_t size) : p_(data), end_(data + size) {}
  template <class T>
  T get() {
    T v;
    take(&v, sizeof v);
    return v;
  }
  std::uint64_t count(std::size_t item_bytes) {  // a count whose items fit in what is left
    const auto n = get<std::uint64_t>();
    if (item_bytes > 0 && n > static_cast<std::uint64_t>(end_ - p_) / item_bytes) throw std::runtime_error("bad count");
    return n;
  }
  void take(void* out, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) throw std::runtime_error("truncated");
    std::memcpy(out, p_, n);
    p_ += n;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

void write_matrix(Writer& w, const dlib::matrix<float, 0, 1>& m) { w.put_floats(&m(0), static_cast<std::size_t>(m.size())); }

dlib::matrix<float, 0, 1> read_matrix(Reader& r) {
  dlib::matrix<float, 0, 1> m(static_cast<long>(r.count(sizeof(float))));
  if (m.size() > 0) r.take(&m(0), static_cast<std::size_t>(m.size()) * sizeof(float));
  return m;
}

std::string encode(const std::string& key, const dlib::matrix<float, 0, 1>& initial, const Forests& forests,
                   const Points& pixels) {
  Writer w;
  w.bytes_ = std::string(kMagic) + key;
  write_matrix(w, initial);
  w.put<std::uint64_t>(forests.size());
  for (const auto& cascade : forests) {
    w.put<std::uint64_t>(cascade.size());
    for (const auto& tree : cascade) {
      w.put<std::uint64_t>(tree.splits.size());
      for (const auto& s : tree.splits) {
        w.put<std::uint64_t>(s.idx1);
        w.put<std::uint64_t>(s.idx2);
        w.put<float>(s.thresh);
      }
      w.put<std::uint64_t>(tree.leaf_values.size());
      for (const auto& leaf : tree.leaf_values) write_matrix(w, leaf);
    }
  }
  w.put<std::uint64_t>(pixels.size());
  for (const auto& cascade : pixels) {
    w.put<std::uint64_t>(cascade.size());
    for (const auto& p : cascade) {
      w.put<float>(p.x());
      w.put<float>(p.y());
    }
  }
  return w.bytes_;
}

dlib::shape_predictor decode(const std::string& bytes, std::size_t header) {
  Reader r(bytes.data() + header, bytes.size() - header);
  const dlib::matrix<float, 0, 1> initial = read_matrix(r);
  Forests forests(r.count(8));
  for (auto& cascade : forests) {
    cascade.resize(r.count(8));
    for (auto& tree : cascade) {
      tree.splits.resize(r.count(20));
      for (auto& s : tree.splits) {
        s.idx1 = r.get<std::uint64_t>();
        s.idx2 = r.get<std::uint64_t>();
        s.thresh = r.get<float>();
      }
      tree.leaf_values.resize(r.count(8));
      for (auto& leaf : tree.leaf_values) leaf = read_matrix(r);
    }
  }
  Points pixels(r.count(8));
  for (auto& cascade : pixels) {
    cascade.resize(r.count(8));
    for (auto& p : cascade) {
      p.x() = r.get<float>();
      p.y() = r.get<float>();
    }
  }
  if (!r.done() || pixels.size() != forests.size()) throw std::runtime_error("inconsistent");
  for (std::size_t c = 0; c < forests.size(); ++c)
    for (const auto& tree : forests[c]) {
      if (tree.leaf_values.size() != tree.splits.size() + 1) throw std::runtime_error("inconsistent tree");
      for (const auto& s : tree.splits)
        if (s.idx1 >= pixels[c].size() || s.idx2 >= pixels[c].size()) throw std::runtime_error("bad index");
    }
  return dlib::shape_predictor(initial, forests, pixels);
}

// Loads the source with dlib; writes the copy when the predictor rebuilt from
// its parts serialises back to the source's exact bytes.
dlib::shape_predictor load_source(const std::string& model_path, const std::string& copy_path,
                                  const std::string& key) {
  const std::string bytes = read_file(model_path);
  MemoryBuf buf(bytes.data(), bytes.size());
  std::istream in(&buf);
  if (copy_path.empty()) {
    dlib::shape_predictor sp;
    dlib::deserialize(sp, in);
    return sp;
  }
  int version = 0;
  dlib::matrix<float, 0, 1> initial;
  Forests forests;
  std::vector<std::vector<unsigned long>> anchors;
  Points deltas;
  dlib::deserialize(version, in);
  if (version != 1) throw dlib::serialization_error("unexpected version found while deserializing dlib::shape_predictor.");
  dlib::deserialize(initial, in);
  dlib::deserialize(forests, in);
  dlib::deserialize(anchors, in);
  dlib::deserialize(deltas, in);
  if (anchors.size() != deltas.size() || forests.size() != deltas.size())
    throw dlib::serialization_error("inconsistent shape predictor");
  // The public constructor takes each feature pixel's position and derives
  // its anchor landmark and offset; the file holds the derived pair.
  Points pixels(deltas.size());
  for (std::size_t c = 0; c < deltas.size(); ++c) {
    if (anchors[c].size() != deltas[c].size()) throw dlib::serialization_error("inconsistent shape predictor");
    for (std::size_t i = 0; i < deltas[c].size(); ++i) {
      const long a = static_cast<long>(anchors[c][i]);
      if (2 * a + 1 >= initial.size()) throw dlib::serialization_error("inconsistent shape predictor");
      pixels[c].push_back(dlib::vector<float, 2>(initial(2 * a), initial(2 * a + 1)) + deltas[c][i]);
    }
  }
  dlib::shape_predictor sp(initial, forests, pixels);
  std::ostringstream again;
  dlib::serialize(sp, again);
  if (again.str() != bytes) {
    spdlog::debug("{}: not cached (its rebuilt form differs from the file)", model_path);
    return sp;  // equal up to float rounding; the copy would not be exact
  }
  try {
    fs::create_directories(fs::path(copy_path).parent_path());
    write_bytes_atomic(copy_path, encode(key, initial, forests, pixels));
    spdlog::debug("wrote the fast-loading copy {}", copy_path);
  } catch (const std::exception& e) {
    spdlog::debug("{}: cannot write the landmark model's copy: {}", copy_path, e.what());
  }
  return sp;
}

}  // namespace

std::string landmark_cache_dir() {
  if (const char* dir = std::getenv("FACEMIX_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "facemix").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "facemix").string();
  return "";
}

std::string landmark_cache_path(const std::string& cache_dir, const std::string& model_path) {
  const std::string id = sha256_hex(fs::absolute(model_path).string()).substr(0, 16);
  return (fs::path(cache_dir) / (fs::path(model_path).stem().string() + "-" + id + ".fmxsp")).string();
}

dlib::shape_predictor load_shape_predictor(const std::string& model_path, const std::string& cache_dir) {
  if (cache_dir.empty()) return load_source(model_path, "", "");
  const std::string key = source_key(model_path);
  const std::string copy = landmark_cache_path(cache_dir, model_path);
  std::error_code ec;
  if (fs::is_regular_file(copy, ec)) {
    try {
      const std::string bytes = read_file(copy);
      const std::string header = std::string(kMagic) + key;
      if (bytes.compare(0, header.size(), header) == 0) return decode(bytes, header.size());
      spdlog::debug("{}: stale (its source changed), rebuilding it", copy);
    } catch (const std::exception& e) {
      spdlog::debug("{}: unusable ({}), rebuilding it", copy, e.what());
    }
  }
  return load_source(model_path, copy, key);
}

dlib::frontal_face_detector load_frontal_face_detector(const std::string& cache_dir) {
  if (cache_dir.empty()) return dlib::get_frontal_face_detector();
  const std::string copy = (fs::path(cache_dir) / ("frontal_face_detector-dlib" + std::to_string(DLIB_MAJOR_VERSION) +
                                                   "." + std::to_string(DLIB_MINOR_VERSION) + "." +
                                                   std::to_string(DLIB_PATCH_VERSION) + ".dat"))
                               .string();
  std::error_code ec;
  if (fs::is_regular_file(copy, ec)) {
    try {
      const std::string bytes = read_file(copy);
      MemoryBuf buf(bytes.data(), bytes.size());
      std::istream in(&buf);
      dlib::frontal_face_detector detector;
      dlib::deserialize(detector, in);
      if (in.peek() == std::char_traits<char>::eof()) return detector;
    } catch (const std::exception& e) {
      spdlog::debug("{}: unusable ({}), rebuilding it", copy, e.what());
    }
  }
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  try {
    std::ostringstream out;
    dlib::serialize(detector, out);
    fs::create_directories(cache_dir);
    write_bytes_atomic(copy, out.str());
  } catch (const std::exception& e) {
    spdlog::debug("{}: cannot write the face detector's copy: {}", copy, e.what());
  }
  return detector;
}

}  // namespace facemix::detail
