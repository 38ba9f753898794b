// Output files: the overwrite policy and atomic writes.
//
// Every file facemix produces is written to a temporary file in the target
// directory and renamed over the target only when complete, so a reader never
// sees a partial output and a failure or Ctrl-C leaves nothing behind. Every
// output gets the permissions a plain new file gets under the user's umask.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace facemix {

// What to do when an output already exists (-y / -n / neither).
enum class Overwrite {
  kRefuse,  // default: error (IoError) naming the file
  kYes,     // -y: replace it
  kNever,   // -n: keep it and skip producing it (not an error)
};

// Decides whether `output` may be written, before any expensive work.
// requires: output is not empty.
// ensures:  returns true when the caller should produce the file; false when it
//           exists and policy is kNever. Throws IoError when the output is one of
//           `inputs` (same file, by path or inode; never allowed, even with -y),
//           is a directory, exists under kRefuse, or its directory does not exist.
bool prepare_output(const std::string& output, const std::vector<std::string>& inputs,
                    Overwrite policy);

// Makes sure an output directory named by an option (--out-dir, --keep-aligned,
// --save-latents, ...) exists, creating it and its parents like `mkdir -p`.
// `-o FILE` is different: its directory must already exist (prepare_output).
// ensures: `dir` is a directory. Throws IoError naming `option` and `dir` when it
//          exists as something else or cannot be created.
void ensure_output_directory(const std::string& dir, const std::string& option);

// Writes `output` atomically: `writer` is called with a temporary path in the
// same directory and must create that file completely; on success it is
// renamed to `output`, on any exception it is removed and the exception
// propagates. The temporary name keeps the output's extension (codecs pick the
// format from it).
// ensures: the output's mode is the one open(path, O_CREAT, 0666) gives under
//          the process's umask (0644 under umask 022), whatever mode the
//          writer created the temporary with.
// throws:  IoError naming `output` when no file can be created in its
//          directory, or the rename fails; whatever `writer` throws.
void write_file_atomic(const std::string& output,
                       const std::function<void(const std::string& tmp_path)>& writer);

// Convenience: atomic write of a byte buffer.
void write_bytes_atomic(const std::string& output, const std::string& bytes);

}  // namespace facemix
