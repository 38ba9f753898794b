// Internal: the concrete FrameWriter implementations behind open_frame_writer().
#pragma once

#include <memory>
#include <string>

#include "facemix/sequence.h"

namespace facemix::detail {

std::unique_ptr<FrameWriter> make_gif_writer(const std::string& path, double fps);
std::unique_ptr<FrameWriter> make_mp4_writer(const std::string& path, double fps);
std::unique_ptr<FrameWriter> make_frame_directory_writer(const std::string& dir, int expected_frames);

// Frame file name inside a frame directory: frame_0001.png for index 0 (at
// least four digits, more when `count` needs them).
std::string frame_file_name(int index, int count);

}  // namespace facemix::detail
