// Private: per-thread accumulators for per-channel sums over pixels, used by
// the fused kernels' reductions inside at::parallel_for.
#pragma once

#include <ATen/Parallel.h>

#include <cstdint>
#include <vector>

namespace facemix::gan::fused {

// sums.mine() inside a parallel_for body; total(c) after it.
class ChannelSums {
 public:
  explicit ChannelSums(int64_t channels)
      : channels_(channels), sums_(static_cast<size_t>(at::get_num_threads()) * channels, 0.0) {}
  double* mine() { return sums_.data() + static_cast<size_t>(at::get_thread_num()) * channels_; }
  double total(int64_t c) const {
    double s = 0.0;
    for (size_t t = 0; t < sums_.size() / channels_; ++t) s += sums_[t * channels_ + c];
    return s;
  }

 private:
  int64_t channels_;
  std::vector<double> sums_;
};

}  // namespace facemix::gan::fused
