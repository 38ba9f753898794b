// safetensors files: a strict, memory-mapping reader and a writer.
//
//   facemix::SafetensorsFile f = facemix::SafetensorsFile::open("model.safetensors");
//   for (const facemix::TensorRecord& r : f.records()) ...      // validated, in header order
//   at::Tensor w = f.tensor("mapping.w_avg");                 // float32
//   facemix::write_safetensors("out.safetensors", {{"x", x}}, {{"format", "demo"}});
//
// Layout: 8-byte little-endian u64 N, N bytes of JSON header, raw little-endian
// data; each tensor's data_offsets are relative to the first byte after the
// header. The whole header is validated before any tensor is built.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace facemix {

// The element types facemix reads; all are converted to float32.
enum class TensorDtype { kF32, kF16, kBF16 };
std::string to_string(TensorDtype dtype);  // "F32", "F16", "BF16"
int dtype_size(TensorDtype dtype);

// One tensor of a file, bounds-checked against the file.
struct TensorRecord {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;  // [] for a 0-d tensor
  uint64_t offset = 0;         // byte offset of the data from the start of the file
  uint64_t size = 0;           // bytes (= numel * dtype_size)
  int64_t numel() const;
};

struct SafetensorsHeader {
  std::map<std::string, std::string> metadata;  // "__metadata__" (string -> string)
  std::vector<TensorRecord> records;            // in header order
  uint64_t data_offset = 0;                     // 8 + N
};

// Largest header facemix accepts (a guard against absurd allocations).
constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;

// Pure validation of a header. `header_json` is the N header bytes,
// `file_size` the size of the whole file; `source` names it for messages.
// throws: ModelError naming `source` for invalid JSON, a non-object header or
//         entry, a duplicate or empty name, non-string metadata, an unknown or
//         unsupported dtype, a bad shape, offsets that are not [begin, end]
//         with begin <= end, lie outside the data or overlap another tensor, or
//         a byte size that disagrees with the shape.
SafetensorsHeader parse_safetensors_header(const std::string& header_json, uint64_t file_size,
                                           const std::string& source);

class SafetensorsFile {
 public:
  // Memory-maps `path` and validates its header.
  // throws: ModelError naming `path` when it cannot be opened or mapped, is
  //         shorter than 8 bytes, declares a header longer than the file or
  //         kMaxSafetensorsHeader, or fails parse_safetensors_header.
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const std::vector<TensorRecord>& records() const { return header_.records; }
  const TensorRecord* find(const std::string& name) const;  // nullptr when absent

  // A float32 CPU tensor of the record's shape. Aligned F32 data is not copied:
  // the tensor views the mapping (copy-on-write, so writes never reach the file)
  // and keeps it alive. F16/BF16 (and misaligned data) are converted into a new tensor.
  at::Tensor tensor(const TensorRecord& record) const;
  // throws: ModelError naming the file when there is no tensor `name`.
  at::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  uint64_t file_size_ = 0;
  std::shared_ptr<const Mapping> map_;
  SafetensorsHeader header_;
};

// Writes a safetensors file atomically (write_file_atomic): tensors in the given
// order, each stored with its own dtype (float32, float16 or bfloat16; other
// dtypes are converted to float32), C-contiguous; the header is padded with
// spaces to a multiple of 8 bytes.
// throws: UsageError for duplicate or empty names; IoError when writing fails.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace facemix
