// Refusing work that obviously cannot fit in memory, before it starts: a
// clear error instead of an out-of-memory kill halfway through the outputs.
//
//   check_memory_estimate(bytes, "generate --raw of 5000 images at 1024x1024",
//                         "render fewer seeds per run, or drop --raw");
#pragma once

#include <cstdint>
#include <string>

#include "facemix/generator.h"

namespace facemix::cli {

// The memory facemix may plan to use: the machine's physical memory, or
// $FACEMIX_MAX_MEMORY (bytes; suffixes K, M, G allowed) when that is set and
// smaller. 0 when neither is known.
uint64_t memory_budget_bytes();

// requires: nothing.
// ensures:  returns when `bytes` fits memory_budget_bytes() (or the budget is unknown).
// throws:   UsageError "<what> needs about X GiB of memory, more than the Y GiB
//           available ($FACEMIX_MAX_MEMORY or physical memory); <hint>" (MiB or
//           bytes for smaller amounts).
void check_memory_estimate(double bytes, const std::string& what, const std::string& hint);

// Rough memory one image needs while it is projected through generator `c`
// (the synthesis activations autograd keeps for the backward pass).
double projection_bytes_per_image(const GeneratorConfig& c);

}  // namespace facemix::cli
