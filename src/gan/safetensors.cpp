// safetensors reader (validate everything first, then map) and writer.
#include "facemix/safetensors.h"

#include <torch/torch.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "facemix/errors.h"
#include "facemix/output.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace facemix {
namespace {

using ojson = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ModelError(source + ": " + what);
}

bool parse_dtype(const std::string& s, TensorDtype& out) {
  if (s == "F32") out = TensorDtype::kF32;
  else if (s == "F16") out = TensorDtype::kF16;
  else if (s == "BF16") out = TensorDtype::kBF16;
  else return false;
  return true;
}

// dtypes the safetensors format defines that facemix does not load.
bool known_unsupported_dtype(const std::string& s) {
  static const std::set<std::string> known{"F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32",
                                           "U64", "BOOL", "F8_E4M3", "F8_E5M2"};
  return known.count(s) > 0;
}

uint64_t get_u64(const ojson& v, const std::string& source, const std::string& what) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    fail(source, what + " is not a non-negative integer");
  return v.get<uint64_t>();
}

TensorRecord parse_record(const std::string& name, const ojson& e, uint64_t data_offset,
                          uint64_t data_size, const std::string& source) {
  const std::string where = "tensor '" + name + "'";
  if (!e.is_object()) fail(source, where + ": header entry is not an object");
  for (auto it = e.begin(); it != e.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      fail(source, where + ": unexpected field '" + it.key() + "'");
  if (!e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
    fail(source, where + ": needs dtype, shape and data_offsets");

  TensorRecord r;
  r.name = name;
  if (!e["dtype"].is_string()) fail(source, where + ": dtype is not a string");
  const std::string dtype = e["dtype"].get<std::string>();
  if (!parse_dtype(dtype, r.dtype)) {
    if (known_unsupported_dtype(dtype))
      fail(source, where + ": dtype " + dtype + " is not supported (F32, F16, BF16)");
    fail(source, where + ": unknown dtype '" + dtype + "'");
  }

  if (!e["shape"].is_array() || e["shape"].size() > 8) fail(source, where + ": shape is not a list of at most 8 sizes");
  uint64_t bytes = static_cast<uint64_t>(dtype_size(r.dtype));
  for (const auto& d : e["shape"]) {
    const uint64_t v = get_u64(d, source, where + ": a shape entry");
    if (v > (1ull << 40) || __builtin_mul_overflow(bytes, v, &bytes))
      fail(source, where + ": shape is absurdly large");
    r.shape.push_back(static_cast<int64_t>(v));
  }

  const ojson& off = e["data_offsets"];
  if (!off.is_array() || off.size() != 2) fail(source, where + ": data_offsets is not [begin, end]");
  const uint64_t begin = get_u64(off[0], source, where + ": data_offsets[0]");
  const uint64_t end = get_u64(off[1], source, where + ": data_offsets[1]");
  if (begin > end) fail(source, where + ": data_offsets begin > end");
  if (end > data_size)
    fail(source, where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] lie outside the " + std::to_string(data_size) + " data bytes (file truncated?)");
  if (end - begin != bytes)
    fail(source, where + ": shape and dtype need " + std::to_string(bytes) + " bytes, data_offsets span " +
                     std::to_string(end - begin));
  r.offset = data_offset + begin;
  r.size = bytes;
  return r;
}

}  // namespace

std::string to_string(TensorDtype dtype) {
  switch (dtype) {
    case TensorDtype::kF32: return "F32";
    case TensorDtype::kF16: return "F16";
    case TensorDtype::kBF16: return "BF16";
  }
  return "?";
}

int dtype_size(TensorDtype dtype) { return dtype == TensorDtype::kF32 ? 4 : 2; }

int64_t TensorRecord::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors_header(const std::string& header_json, uint64_t file_size,
                                           const std::string& source) {
  SafetensorsHeader h;
  h.data_offset = 8 + header_json.size();
  if (file_size < h.data_offset) fail(source, "header is longer than the file");
  const uint64_t data_size = file_size - h.data_offset;

  // Duplicate top-level names would silently shadow each other: refuse them.
  std::set<std::string> seen;
  std::string duplicate;
  ojson::parser_callback_t cb = [&](int depth, ojson::parse_event_t event, ojson& parsed) {
    if (depth == 1 && event == ojson::parse_event_t::key && duplicate.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  ojson j = ojson::parse(header_json, cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, "header is not valid JSON");
  if (!j.is_object()) fail(source, "header is not a JSON object");
  if (!duplicate.empty()) fail(source, "tensor '" + duplicate + "' appears twice in the header");

  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(source, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(source, "__metadata__ value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    if (it.key().empty()) fail(source, "a tensor has an empty name");
    h.records.push_back(parse_record(it.key(), it.value(), h.data_offset, data_size, source));
  }

  std::vector<const TensorRecord*> by_offset;
  for (const auto& r : h.records)
    if (r.size > 0) by_offset.push_back(&r);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorRecord* a, const TensorRecord* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->offset < by_offset[i - 1]->offset + by_offset[i - 1]->size)
      fail(source, "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
  return h;
}

// --- SafetensorsFile -------------------------------------------------------------

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  size_t length = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, length);
  }
};

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  f.file_size_ = static_cast<uint64_t>(st.st_size);
  if (f.file_size_ < 8) {
    ::close(fd);
    fail(path, "too short for a safetensors file (" + std::to_string(f.file_size_) + " bytes)");
  }
  // Private writable mapping: copy-on-write, so an accidental in-place op on a
  // weight can neither crash nor modify the file.
  void* addr = ::mmap(nullptr, f.file_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) fail(path, std::string("cannot map: ") + std::strerror(errno));
  auto map = std::make_shared<Mapping>();
  map->addr = addr;
  map->length = f.file_size_;
  f.map_ = map;

  const auto* bytes = static_cast<const unsigned char*>(addr);
  uint64_t n = 0;
  std::memcpy(&n, bytes, 8);
  if (n > kMaxSafetensorsHeader)
    fail(path, "declares a " + std::to_string(n) + "-byte header (more than the " +
                   std::to_string(kMaxSafetensorsHeader) + "-byte limit): not a safetensors file?");
  if (n > f.file_size_ - 8)
    fail(path, "declares a " + std::to_string(n) + "-byte header but the file has only " +
                   std::to_string(f.file_size_) + " bytes");
  f.header_ = parse_safetensors_header(std::string(reinterpret_cast<const char*>(bytes + 8), n),
                                       f.file_size_, path);
  return f;
}

const TensorRecord* SafetensorsFile::find(const std::string& name) const {
  for (const auto& r : header_.records)
    if (r.name == name) return &r;
  return nullptr;
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorRecord* r = find(name);
  if (!r) fail(path_, "has no tensor '" + name + "'");
  return tensor(*r);
}

torch::Tensor SafetensorsFile::tensor(const TensorRecord& r) const {
  // Ordinary tensors even inside an InferenceMode scope: callers may use file
  // data (weights, targets) in autograd later.
  c10::InferenceMode not_inference(false);
  auto* data = static_cast<unsigned char*>(map_->addr) + r.offset;
  if (r.size == 0) return torch::empty(r.shape, torch::kFloat32);
  if (r.dtype == TensorDtype::kF32 && reinterpret_cast<uintptr_t>(data) % alignof(float) == 0) {
    std::shared_ptr<const Mapping> keep = map_;
    return torch::from_blob(data, r.shape, [keep](void*) {}, torch::TensorOptions().dtype(torch::kFloat32));
  }
  const auto st = r.dtype == TensorDtype::kF32   ? torch::kFloat32
                  : r.dtype == TensorDtype::kF16 ? torch::kFloat16
                                                 : torch::kBFloat16;
  torch::Tensor raw = torch::empty(r.shape, torch::TensorOptions().dtype(st));
  std::memcpy(raw.data_ptr(), data, r.size);
  return raw.to(torch::kFloat32);
}

// --- writer -----------------------------------------------------------------------

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ojson header = ojson::object();
  if (!metadata.empty()) {
    ojson m = ojson::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  std::vector<torch::Tensor> data;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__" || !names.insert(name).second)
      throw UsageError(path + ": tensor name '" + name + "' is empty, reserved or repeated");
    torch::Tensor c = t.detach().to(torch::kCPU);
    std::string dtype = "F32";
    if (c.scalar_type() == torch::kFloat16) dtype = "F16";
    else if (c.scalar_type() == torch::kBFloat16) dtype = "BF16";
    else c = c.to(torch::kFloat32);
    c = c.contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    header[name] = {{"dtype", dtype}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(c);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();

  write_file_atomic(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw IoError(path + ": cannot create file in its directory");
    char len[8];
    std::memcpy(len, &n, 8);
    f.write(len, 8);
    f.write(json.data(), static_cast<std::streamsize>(json.size()));
    for (const auto& c : data)
      f.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.numel() * c.element_size()));
    f.flush();
    if (!f) throw IoError(path + ": write failed (disk full?)");
  });
}

}  // namespace facemix
