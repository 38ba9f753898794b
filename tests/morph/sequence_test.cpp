// Unit tests of morph sequences and the frame writers (GIF, MP4, PNG directory).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "facemix/errors.h"
#include "facemix/morph.h"
#include "facemix/sequence.h"
#include "synthetic_face.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::FaceParams;
using facemix::test::ScratchDir;
using facemix::test::synthetic_face;

namespace fs = std::filesystem;

namespace {

constexpr int kSide = 128;

Morpher two_face_morpher() {
  FaceParams p;
  p.eye_spacing = 0.3;
  p.mouth_y = 0.76;
  p.skin = {90, 130, 190};
  return Morpher({synthetic_face(kSide), synthetic_face(kSide, p)});
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d.reshape(1)) == 0;
}

// Runs a shell command (test-only use of ImageMagick) and returns its stdout.
std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST(SequenceWeights, EndpointsAreOneHot) {
  for (std::size_t inputs : {2u, 3u, 5u}) {
    for (int n : {2, 3, 7, 30}) {
      auto first = sequence_weights(0, n, inputs), last = sequence_weights(n - 1, n, inputs);
      EXPECT_EQ(first[0], 1.0);
      EXPECT_EQ(last[inputs - 1], 1.0);
      EXPECT_EQ(std::accumulate(first.begin(), first.end(), 0.0), 1.0);
      EXPECT_EQ(std::accumulate(last.begin(), last.end(), 0.0), 1.0);
      for (int i = 0; i < n; ++i) {
        auto w = sequence_weights(i, n, inputs);
        EXPECT_NEAR(std::accumulate(w.begin(), w.end(), 0.0), 1.0, 1e-12);
        EXPECT_LE(std::count_if(w.begin(), w.end(), [](double v) { return v != 0; }), 2);
      }
    }
  }
}

TEST(SequenceWeights, PassesThroughEveryInputInOrder) {
  // 3 inputs, 5 frames: frame 2 is exactly the middle input.
  EXPECT_EQ(sequence_weights(2, 5, 3), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(sequence_weights(1, 5, 3), (std::vector<double>{0.5, 0.5, 0}));
  EXPECT_EQ(sequence_weights(3, 5, 3), (std::vector<double>{0, 0.5, 0.5}));
  EXPECT_THROW(sequence_weights(5, 5, 3), std::invalid_argument);
  EXPECT_THROW(sequence_weights(0, 1, 2), std::invalid_argument);
}

TEST(SequenceOrder, Boomerang) {
  EXPECT_EQ(sequence_order(4, false), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(sequence_order(4, true), (std::vector<int>{0, 1, 2, 3, 2, 1}));
  EXPECT_EQ(sequence_order(30, true).size(), 58u);
}

TEST(SequenceFormat, FromOutputPath) {
  ScratchDir dir;
  EXPECT_EQ(sequence_format_of("a.gif"), SequenceFormat::kGif);
  EXPECT_EQ(sequence_format_of("x/A.GIF"), SequenceFormat::kGif);
  EXPECT_EQ(sequence_format_of("a.mp4"), SequenceFormat::kMp4);
  EXPECT_EQ(sequence_format_of("frames/"), SequenceFormat::kFrameDirectory);
  EXPECT_EQ(sequence_format_of(dir.path()), SequenceFormat::kFrameDirectory);
  EXPECT_EQ(sequence_format_of("a.png"), std::nullopt);
  EXPECT_EQ(sequence_format_of("a.jpg"), std::nullopt);
}

TEST(Sequence, FirstAndLastFramesAreTheEndpoints) {
  Morpher m = two_face_morpher();
  const int n = 6;
  EXPECT_TRUE(identical(m.render(sequence_weights(0, n, 2)).image, m.faces()[0].image));
  EXPECT_TRUE(identical(m.render(sequence_weights(n - 1, n, 2)).image, m.faces()[1].image));
  EXPECT_FALSE(identical(m.render(sequence_weights(2, n, 2)).image, m.faces()[0].image));
}

TEST(SequenceWriter, GifIsReadableByImageMagickWithEveryFrame) {
  ScratchDir dir;
  Morpher m = two_face_morpher();
  const std::string out = dir.file("morph.gif");
  const auto order = sequence_order(5, true);
  write_sequence(out, SequenceFormat::kGif, static_cast<int>(order.size()),
                 [&](int i) { return m.render(sequence_weights(order[i], 5, 2)).image; }, {25.0});
  ASSERT_TRUE(fs::is_regular_file(out));
  const std::string info = run("identify -format '%m %w %h %T\\n' '" + out + "' 2>&1");
  EXPECT_EQ(count_lines(info), 8) << info;
  EXPECT_EQ(info.substr(0, info.find('\n')), "GIF 128 128 4") << info;  // 4/100 s = 25 fps
  // Loops forever (NETSCAPE2.0 extension).
  EXPECT_NE(run("identify -verbose '" + out + "' 2>&1 | grep -m1 Iterations").find("Iterations: 0"),
            std::string::npos);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"morph.gif"}));  // no temporary left
}

TEST(SequenceWriter, GifColoursStayClose) {
  ScratchDir dir;
  Morpher m = two_face_morpher();
  const cv::Mat frame = m.render({0.5, 0.5}).image;
  const std::string out = dir.file("one.gif");
  write_sequence(out, SequenceFormat::kGif, 1, [&](int) { return frame; }, {});
  cv::VideoCapture cap(out);  // OpenCV's own decoder reads GIF frames through FFmpeg
  cv::Mat decoded;
  ASSERT_TRUE(cap.read(decoded));
  ASSERT_EQ(decoded.size(), frame.size());
  EXPECT_GT(cv::PSNR(decoded, frame), 30.0);
}

TEST(SequenceWriter, Mp4HasEveryFrame) {
  ScratchDir dir;
  Morpher m = two_face_morpher();
  const std::string out = dir.file("morph.mp4");
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 12; ++i) frames.push_back(m.render(sequence_weights(i, 12, 2)).image);
  write_sequence(out, SequenceFormat::kMp4, 12, [&](int i) { return frames[i]; }, {25.0});
  cv::VideoCapture cap(out);
  ASSERT_TRUE(cap.isOpened());
  EXPECT_EQ(static_cast<int>(cap.get(cv::CAP_PROP_FRAME_COUNT)), 12);
  EXPECT_NEAR(cap.get(cv::CAP_PROP_FPS), 25.0, 0.01);
  int read = 0;
  cv::Mat f;
  while (cap.read(f)) {
    ASSERT_EQ(f.size(), frames[0].size());
    EXPECT_GT(cv::PSNR(f, frames[read]), 28.0) << "frame " << read;
    ++read;
  }
  EXPECT_EQ(read, 12);
}

TEST(SequenceWriter, Mp4PadsOddSizes) {
  ScratchDir dir;
  const std::string out = dir.file("odd.mp4");
  const cv::Mat frame(63, 65, CV_8UC3, cv::Scalar(10, 200, 30));
  write_sequence(out, SequenceFormat::kMp4, 3, [&](int) { return frame; }, {});
  cv::VideoCapture cap(out);
  cv::Mat f;
  ASSERT_TRUE(cap.read(f));
  EXPECT_EQ(f.size(), cv::Size(66, 64));
}

TEST(SequenceWriter, FrameDirectoryHoldsNumberedLosslessFrames) {
  ScratchDir dir;
  Morpher m = two_face_morpher();
  const std::string out = dir.file("frames") + "/";
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 4; ++i) frames.push_back(m.render(sequence_weights(i, 4, 2)).image);
  write_sequence(out, SequenceFormat::kFrameDirectory, 4, [&](int i) { return frames[i]; }, {});
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"frames"}));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.file("frames"))) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"frame_0001.png", "frame_0002.png", "frame_0003.png",
                                             "frame_0004.png"}));
  EXPECT_TRUE(identical(cv::imread(dir.file("frames/frame_0001.png")), m.faces()[0].image));
  EXPECT_TRUE(identical(cv::imread(dir.file("frames/frame_0004.png")), m.faces()[1].image));
}

TEST(SequenceWriter, FailureLeavesNothing) {
  ScratchDir dir;
  const cv::Mat frame(32, 32, CV_8UC3, cv::Scalar(1, 2, 3));
  auto failing = [&](int i) -> cv::Mat {
    if (i == 2) throw IoError("render failed");
    return frame;
  };
  for (const std::string name : {"a.gif", "a.mp4", "frames/"}) {
    const auto format = sequence_format_of(dir.file(name));
    ASSERT_TRUE(format);
    EXPECT_THROW(write_sequence(dir.file(name), *format, 5, failing, {}), IoError);
    EXPECT_TRUE(dir.list().empty()) << name;
  }
}

TEST(SequenceWriter, FramesOfAnotherSizeAreRejected) {
  ScratchDir dir;
  auto frames = [](int i) { return cv::Mat(32 + i, 32, CV_8UC3, cv::Scalar::all(9)); };
  EXPECT_THROW(write_sequence(dir.file("a.gif"), SequenceFormat::kGif, 2, frames, {}), std::invalid_argument);
  EXPECT_TRUE(dir.list().empty());
}

TEST(SequenceOutput, FrameDirectoryPolicy) {
  ScratchDir dir;
  const std::string out = dir.file("frames");
  const auto fmt = SequenceFormat::kFrameDirectory;
  EXPECT_TRUE(prepare_sequence_output(out + "/", fmt, {}, Overwrite::kRefuse));  // missing: fine
  fs::create_directory(out);
  EXPECT_TRUE(prepare_sequence_output(out + "/", fmt, {}, Overwrite::kRefuse));  // empty: fine
  const cv::Mat frame(16, 16, CV_8UC3, cv::Scalar::all(50));
  write_sequence(out + "/", fmt, 3, [&](int) { return frame; }, {});
  EXPECT_THROW(prepare_sequence_output(out + "/", fmt, {}, Overwrite::kRefuse), IoError);
  EXPECT_FALSE(prepare_sequence_output(out, fmt, {}, Overwrite::kNever));
  EXPECT_TRUE(prepare_sequence_output(out, fmt, {}, Overwrite::kYes));
  // -y replaces the old sequence entirely: 2 frames now, not 3.
  write_sequence(out, fmt, 2, [&](int) { return frame; }, {});
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator{}), 2);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"frames"}));
  // A directory with other files is never replaced.
  facemix::test::write_file(out + "/notes.txt", "mine");
  EXPECT_THROW(prepare_sequence_output(out, fmt, {}, Overwrite::kYes), IoError);
  // An input inside the directory is never at risk.
  EXPECT_THROW(prepare_sequence_output(out, fmt, {out + "/frame_0001.png"}, Overwrite::kYes), IoError);
  // The parent must exist.
  EXPECT_THROW(prepare_sequence_output(dir.file("no/such/"), fmt, {}, Overwrite::kYes), IoError);
}

TEST(SequenceOutput, FilesFollowPrepareOutput) {
  ScratchDir dir;
  facemix::test::write_file(dir.file("a.gif"), "x");
  EXPECT_THROW(prepare_sequence_output(dir.file("a.gif"), SequenceFormat::kGif, {}, Overwrite::kRefuse),
               IoError);
  EXPECT_TRUE(prepare_sequence_output(dir.file("a.gif"), SequenceFormat::kGif, {}, Overwrite::kYes));
  EXPECT_THROW(prepare_sequence_output(dir.file("a.gif"), SequenceFormat::kGif, {dir.file("a.gif")},
                                       Overwrite::kYes),
               IoError);
}
