// .npy / .npz latents: round trips, NumPy-written files, refusals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "facemix/errors.h"
#include "facemix/latents.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::ScratchDir;

namespace {

std::string data(const std::string& name) { return facemix::test::source_dir() + "/tests/gan/data/" + name; }

torch::Tensor numpy_w() { return torch::arange(24, torch::kFloat32).reshape({2, 3, 4}) / 7; }

void expect_refused(const std::string& path, const std::string& expect) {
  try {
    read_latents(path);
    ADD_FAILURE() << "accepted " << path;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << "message: " << msg << "\nexpected: " << expect;
  }
}

}  // namespace

TEST(Latents, NpzRoundTripWPlusAndW) {
  ScratchDir dir;
  for (auto shape : {std::vector<int64_t>{2, 8, 64}, std::vector<int64_t>{3, 64}}) {
    torch::Tensor w = torch::randn(shape);
    write_latents_npz(dir.file("w.npz"), w);
    torch::Tensor back = read_latents(dir.file("w.npz"));
    EXPECT_EQ(back.sizes(), w.sizes());
    EXPECT_TRUE(torch::equal(back, w));
    std::filesystem::remove(dir.file("w.npz"));
  }
}

TEST(Latents, WritingTwiceGivesTheSameBytes) {
  ScratchDir dir;
  torch::Tensor w = torch::randn({1, 18, 512});
  write_latents_npz(dir.file("a.npz"), w);
  write_latents_npz(dir.file("b.npz"), w);
  EXPECT_EQ(facemix::test::read_file(dir.file("a.npz")), facemix::test::read_file(dir.file("b.npz")));
}

TEST(Latents, NpyRoundTripAnyRank) {
  ScratchDir dir;
  for (auto shape : {std::vector<int64_t>{}, std::vector<int64_t>{5}, std::vector<int64_t>{2, 3, 4, 5}}) {
    torch::Tensor t = torch::randn(shape);
    write_npy(dir.file("t.npy"), t);
    torch::Tensor back = read_npy(dir.file("t.npy"));
    EXPECT_EQ(back.sizes(), t.sizes());
    EXPECT_TRUE(torch::equal(back, t));
    std::filesystem::remove(dir.file("t.npy"));
  }
  // The header block is a multiple of 64 bytes, as NumPy writes it.
  write_npy(dir.file("t.npy"), torch::zeros({2, 3}));
  EXPECT_EQ((facemix::test::read_file(dir.file("t.npy")).size() - 24) % 64, 0u);
}

TEST(Latents, ReadsNumpySavezStored) {
  auto arrays = read_npz(data("w_stored.npz"));
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_TRUE(torch::equal(arrays.at("w"), numpy_w()));
  EXPECT_TRUE(torch::equal(arrays.at("extra"), torch::ones({2})));
  EXPECT_TRUE(torch::equal(read_latents(data("w_stored.npz")), numpy_w()));
}

TEST(Latents, ReadsNumpySavezCompressed) {
  EXPECT_TRUE(torch::equal(read_latents(data("w_deflated.npz")), numpy_w()));
}

TEST(Latents, ReadsFloat64FortranAndFloat16Npy) {
  torch::Tensor a = read_npy(data("f64_fortran.npy"));
  EXPECT_TRUE(torch::equal(a, (torch::arange(6, torch::kFloat64).reshape({2, 3}) / 3).to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(read_npy(data("f16.npy")), torch::arange(5, torch::kFloat32) / 4));
}

TEST(LatentsRefusal, UnsupportedDtype) { EXPECT_THROW(read_npy(data("i64.npy")), ModelError); }

TEST(LatentsRefusal, NpzWithoutW) {
  ScratchDir dir;
  write_npz(dir.file("x.npz"), {{"latents", torch::zeros({1, 4})}});
  expect_refused(dir.file("x.npz"), "no array 'w'");
}

TEST(LatentsRefusal, WrongRank) {
  ScratchDir dir;
  write_npz(dir.file("x.npz"), {{"w", torch::zeros({2, 2, 2, 2})}});
  expect_refused(dir.file("x.npz"), "[N, num_ws, w_dim]");
}

TEST(LatentsRefusal, CorruptCrc) {
  ScratchDir dir;
  write_latents_npz(dir.file("x.npz"), torch::ones({1, 8}));
  std::string bytes = facemix::test::read_file(dir.file("x.npz"));
  bytes[bytes.size() / 2] ^= 0x5a;  // inside the stored array data
  facemix::test::write_file(dir.file("x.npz"), bytes);
  expect_refused(dir.file("x.npz"), "CRC");
}

TEST(LatentsRefusal, TruncatedArchive) {
  ScratchDir dir;
  std::string bytes = facemix::test::read_file(data("w_stored.npz"));
  facemix::test::write_file(dir.file("x.npz"), bytes.substr(0, bytes.size() - 30));
  expect_refused(dir.file("x.npz"), "zip");
}

TEST(LatentsRefusal, NotAnArchiveOrArray) {
  ScratchDir dir;
  facemix::test::write_file(dir.file("x.npz"), "hello, this is text and not a zip archive at all");
  expect_refused(dir.file("x.npz"), "not a zip archive");
  facemix::test::write_file(dir.file("x.npy"), "hello, this is text");
  expect_refused(dir.file("x.npy"), "bad magic");
  expect_refused(dir.file("missing.npz"), "no such file");
}

TEST(LatentsRefusal, NpyDataShorterThanShape) {
  ScratchDir dir;
  write_npy(dir.file("t.npy"), torch::zeros({4, 4}));
  std::string bytes = facemix::test::read_file(dir.file("t.npy"));
  facemix::test::write_file(dir.file("t.npy"), bytes.substr(0, bytes.size() - 4));
  expect_refused(dir.file("t.npy"), "does not match");
}
