// Internal to src/pipeline: the pieces run_blend's two engine runs share.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "facemix/pipeline.h"

namespace facemix::pipeline {

// Per-stage wall-clock timings (BlendResult::timings), also logged at -v.
class StageClock {
 public:
  double lap(std::vector<StageTiming>& timings, const std::string& stage);

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Records an output in the result and tells the observer.
void emit(const BlendObserver& observer, BlendResult& result, const std::string& path);

// The --keep-aligned crop path per input ("" for latent inputs); checks DIR
// and name collisions. throws: UsageError, IoError.
std::vector<std::string> plan_keep_aligned(const BlendRequest& request);

// Checks the outputs and input headers (run_blend's contract); clears the crop
// paths -n keeps. Returns false when the main output exists and -n keeps it.
bool check_outputs(const BlendRequest& request, std::vector<std::string>& keep_outputs);

// The GAN engine's run (gan_pipeline.cpp), after check_outputs.
BlendResult run_gan(const BlendRequest& request, const std::vector<std::string>& keep_outputs,
                    const BlendObserver& observer);

}  // namespace facemix::pipeline
