// Morph sequences: which weights each frame gets, and the frame writers that
// store frames as a looping GIF, an MP4 video or a directory of numbered PNGs.
//
//   auto format = facemix::sequence_format_of("morph.gif");      // kGif
//   if (facemix::prepare_sequence_output("morph.gif", *format, inputs, policy))
//     facemix::write_sequence("morph.gif", *format, 30,
//                             [&](int i) { return render(facemix::sequence_weights(i, 30, n)); },
//                             {25.0});
//
// Outputs are atomic like every facemix output: a GIF or MP4 is written to a
// temporary file renamed into place, a frame directory is filled as a
// temporary directory renamed into place; a failure or Ctrl-C leaves nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facemix/output.h"
#include "facemix/progress.h"

namespace facemix {

enum class SequenceFormat {
  kGif,             // animated GIF, loops forever, 256 colours per frame (giflib)
  kMp4,             // H.264 in MP4 (OpenCV VideoWriter); MPEG-4 part 2 when H.264 is unavailable
  kFrameDirectory,  // DIR/frame_0001.png, frame_0002.png, ...
};

// The sequence format an output path asks for: ".gif" / ".mp4" (any case), a
// path ending in '/' or naming an existing directory. nullopt otherwise (an
// image path).
std::optional<SequenceFormat> sequence_format_of(const std::string& output);

// What a command's -o asks for, checked against its --frames (0 = none):
// a sequence format when frames > 0, nullopt (an image) when frames == 0.
// throws: UsageError naming `output` when the two disagree or an image
//         output's extension is not one write_image knows.
std::optional<SequenceFormat> check_sequence_output(const std::string& output, int frames);

// Per-input weights of frame `frame` of `frame_count`, on a path from input 0
// through each input in order to input inputs-1, evenly spaced in frames.
// requires: frame_count >= 2, 0 <= frame < frame_count, inputs >= 1.
// ensures:  one-hot on input 0 for frame 0 and on the last input for the last
//           frame; at most two non-zero weights, (1-a, a) for neighbours.
std::vector<double> sequence_weights(int frame, int frame_count, std::size_t inputs);

// The order frames are shown in: 0..n-1, and with `boomerang` back again
// n-2..1 (so a loop does not repeat the endpoints). requires: frame_count >= 1.
std::vector<int> sequence_order(int frame_count, bool boomerang);

// Like prepare_output() for a sequence. For kFrameDirectory `output` is a
// directory: it may be missing (its parent must exist) or empty; a non-empty
// one counts as an existing output under `policy`, and -y replaces it only
// when it holds nothing but frame_*.png files (a previous sequence).
// ensures: true when the caller should write it; false under kNever when it exists.
// throws:  IoError naming the path: an input would be overwritten (or lies
//          inside the directory), the parent directory is missing, the output
//          exists under kRefuse, or a directory holds other files.
bool prepare_sequence_output(const std::string& output, SequenceFormat format,
                             const std::vector<std::string>& inputs, Overwrite policy);

// Streams frames into one file or directory. Frames are CV_8UC3 BGR of one size.
class FrameWriter {
 public:
  virtual ~FrameWriter() = default;
  // throws: IoError when writing fails; std::invalid_argument for a frame of
  //         another size or type than the first.
  virtual void add(const cv::Mat& bgr) = 0;
  // Completes the output. throws IoError when that fails or no frame was added.
  virtual void close() = 0;
};

// Opens a writer that writes `path` directly (not atomically; write_sequence()
// wraps it). For kFrameDirectory, `path` must be an existing empty directory;
// frame numbers get four digits, more when `expected_frames` needs them.
// requires: fps > 0.
// throws:   IoError when the file cannot be created; for kMp4 when neither an
//           'avc1' (H.264) nor an 'mp4v' encoder is available (falling back to
//           'mp4v' logs a warning).
std::unique_ptr<FrameWriter> open_frame_writer(const std::string& path, SequenceFormat format,
                                               double fps, int expected_frames = 0);

struct SequenceWriteOptions {
  double fps = 25.0;  // GIF delays are whole centiseconds; rounding errors do not accumulate
};

// Renders frames 0..frame_count-1 with `frame` and writes them atomically to
// `output` (replacing an existing one; call prepare_sequence_output() first).
// Calls check_interrupt() and `progress` ("frames", i, frame_count) per frame.
// requires: frame_count >= 1; options.fps > 0.
// throws:   whatever `frame` throws, IoError, Interrupted; nothing is left behind.
void write_sequence(const std::string& output, SequenceFormat format, int frame_count,
                    const std::function<cv::Mat(int)>& frame, const SequenceWriteOptions& options,
                    const ProgressCallback& progress = {});

}  // namespace facemix
