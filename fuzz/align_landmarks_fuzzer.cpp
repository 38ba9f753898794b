// libFuzzer target: facemix::fuzz::run_align_landmarks (fuzz/entries/fuzz_entries.h).
#include "fuzz_target.h"

FACEMIX_FUZZ_TARGET(facemix::fuzz::run_align_landmarks)
