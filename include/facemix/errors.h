// facemix error handling: one exception hierarchy, one table of exit codes.
//
// Every failure the library reports is a facemix::Error (or a subclass). Each
// subclass carries the process exit code the CLI uses for it, so the CLI maps
// exceptions to exit codes in exactly one place (cli/main.cpp) and the codes
// listed in README.md stay true.
#pragma once

#include <stdexcept>
#include <string>

namespace facemix {

// Process exit codes. Stable: scripts depend on them (documented in README.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // a runtime failure not covered below (a bug, out of memory, ...)
  kExitUsage = 2,        // bad command line: unknown option, invalid value, missing argument
  kExitNoFace = 3,       // an input image has no usable face
  kExitIo = 4,           // an input could not be read or an output could not be written
  kExitModel = 5,        // a model or latent file is missing, malformed or incompatible
  kExitInterrupted = 130 // stopped by SIGINT / SIGTERM; no partial outputs were left
};

// Base class. what() is one line meant for a user: it names the file (when
// there is one) and the problem.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// Invalid options or arguments (also thrown by library option validation).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& m) : Error(m, kExitUsage) {}
};

// A file could not be read, decoded or written.
class IoError : public Error {
 public:
  explicit IoError(const std::string& m) : Error(m, kExitIo) {}
};

// An image was read but holds no usable (frontal) face, or --face N is out of range.
class NoFaceError : public Error {
 public:
  explicit NoFaceError(const std::string& m) : Error(m, kExitNoFace) {}
};

// Model, landmark-model or latent file problems.
class ModelError : public Error {
 public:
  explicit ModelError(const std::string& m) : Error(m, kExitModel) {}
};

// The user interrupted a long operation (Ctrl-C); thrown from progress callbacks.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted", kExitInterrupted) {}
};

}  // namespace facemix
