// Private: .npy encoding shared by the .npy and .npz readers and writers.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace facemix::npy {

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The array in `bytes` (a whole .npy file) as a contiguous float32 tensor.
// throws: ModelError naming `source`.
torch::Tensor decode(const std::string& bytes, const std::string& source);

// A version 1.0 .npy file holding `t` as little-endian float32, C order.
std::string encode(const torch::Tensor& t);

// throws: ModelError naming `path` when it is missing or unreadable.
std::string read_whole_file(const std::string& path);

}  // namespace facemix::npy
