// Fuzz entry points: what each libFuzzer target (fuzz/*_fuzzer.cpp) runs on one
// input, shared with the normal test build (tests/fuzz_regress replays every
// file of fuzz/regressions/<target>/ through the same function).
//
//   facemix::fuzz::run_model_file(bytes);   // returns, or throws a non-facemix exception (a bug)
//
// Contract of every entry: a facemix::Error (the documented refusal of bad
// input) is caught and counts as success; anything else escaping (a c10::Error,
// std::out_of_range, a JSON exception, ...) is a finding, as is a crash, a
// sanitizer report, a hang or an allocation over the fuzzer's limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace facemix::fuzz {

// The whole input is a .safetensors model file: parse_safetensors_header on
// the in-memory header, then inspect_model on the bytes written to a temp file
// (open, metadata, config, generator construction, tensor loading).
void run_model_file(const uint8_t* data, size_t size);

// The input is a latent file: .npy when it starts with NumPy's magic, else
// .npz; read through read_latents from a temp file.
void run_latent_file(const uint8_t* data, size_t size);

// The input is a photo: read_image with a small pixel limit (kFuzzMaxPixels),
// then face detection and FFHQ alignment (at 64 px) of every face found.
void run_image_face(const uint8_t* data, size_t size);
constexpr int64_t kFuzzMaxPixels = 128 * 128;

// Alignment planning from arbitrary landmarks: the input is read as an image
// size and 68 (x, y) float pairs; plan_ffhq_alignment and align_face (at
// 32 px) on a synthetic image of that size.
void run_align_landmarks(const uint8_t* data, size_t size);

// The input is a `facemix batch` manifest (CSV/TSV text) for parse_manifest;
// every job it returns is checked against the header's promises.
void run_manifest(const uint8_t* data, size_t size);

// Names of the targets, as used for fuzz/corpus/<name>/ and fuzz/regressions/<name>/.
// "model_file", "latent_file", "image_face", "align_landmarks", "manifest".

// A per-process scratch file (in /dev/shm when it exists) holding `bytes`,
// named with `extension`; overwritten on each call, removed at exit.
std::string write_temp_input(const uint8_t* data, size_t size, const std::string& extension);

}  // namespace facemix::fuzz
