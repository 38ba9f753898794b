// The libFuzzer side of a target: single-threaded libraries, and any exception
// other than facemix::Error (caught inside the entry) becomes a crash report.
#pragma once

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "entries/fuzz_entries.h"

#define FACEMIX_FUZZ_TARGET(entry)                                              \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                          \
    at::set_num_threads(1);                                                     \
    cv::setNumThreads(0);                                                       \
    return 0;                                                                   \
  }                                                                             \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {     \
    try {                                                                       \
      entry(data, size);                                                        \
    } catch (const std::exception& e) {                                         \
      std::fprintf(stderr, "facemix fuzz: exception escaped: %s\n", e.what());  \
      std::abort();                                                             \
    } catch (...) {                                                             \
      std::fprintf(stderr, "facemix fuzz: unknown exception escaped\n");        \
      std::abort();                                                             \
    }                                                                           \
    return 0;                                                                   \
  }
