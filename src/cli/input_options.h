// Options that several commands take, declared in one place so that their
// names, checks and help text agree everywhere. The caller adds ->group().
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace facemix::cli {

// --max-pixels N: refuse input images with more pixels (ImageReadOptions::max_pixels).
CLI::Option* add_max_pixels_option(CLI::App& cmd, std::int64_t& max_pixels);

// --landmarks-model FILE: dlib's 68-point shape predictor (resolve_landmarks_model).
CLI::Option* add_landmarks_model_option(CLI::App& cmd, std::string& path);

// --identity-model FILE: the face recognition model (find_identity_model).
CLI::Option* add_identity_model_option(CLI::App& cmd, std::string& path);

}  // namespace facemix::cli
