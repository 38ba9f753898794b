// safetensors reader/writer and SHA-256.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "facemix/errors.h"
#include "facemix/safetensors.h"
#include "facemix/sha256.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::ScratchDir;

namespace {

// A file from raw parts: u64 header length (declared_len, or the real one), header, data.
std::string craft(const std::string& header, const std::string& data = "", int64_t declared_len = -1) {
  const uint64_t n = declared_len < 0 ? header.size() : static_cast<uint64_t>(declared_len);
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

// Opening `bytes` written to a file must fail with a ModelError naming the file
// and containing `expect`.
void expect_refused(const std::string& bytes, const std::string& expect) {
  ScratchDir dir;
  const std::string path = dir.file("bad.safetensors");
  facemix::test::write_file(path, bytes);
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE() << "accepted a bad file; expected: " << expect;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << "message: " << msg << "\nexpected: " << expect;
  }
}

const std::string k16(16, '\x01');  // 16 data bytes: room for one [4] F32 tensor

}  // namespace

TEST(Safetensors, WriterRoundTripKeepsValuesShapesDtypesAndMetadata) {
  ScratchDir dir;
  const std::string path = dir.file("t.safetensors");
  torch::Tensor a = torch::randn({2, 3, 4});
  torch::Tensor s = torch::tensor(1.5f).reshape({});
  torch::Tensor h = torch::randn({5}).to(torch::kFloat16);
  torch::Tensor b = torch::randn({3, 2}).to(torch::kBFloat16);
  write_safetensors(path, {{"a", a}, {"scalar", s}, {"half", h}, {"bf", b}}, {{"k", "v"}});

  SafetensorsFile f = SafetensorsFile::open(path);
  ASSERT_EQ(f.records().size(), 4u);
  EXPECT_EQ(f.records()[0].name, "a");  // header order is kept
  EXPECT_EQ(f.records()[2].dtype, TensorDtype::kF16);
  EXPECT_EQ(f.records()[3].dtype, TensorDtype::kBF16);
  EXPECT_EQ(f.metadata().at("k"), "v");
  EXPECT_TRUE(torch::equal(f.tensor("a"), a));
  EXPECT_EQ(f.tensor("scalar").dim(), 0);
  EXPECT_EQ(f.tensor("scalar").item<float>(), 1.5f);
  EXPECT_TRUE(torch::equal(f.tensor("half"), h.to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(f.tensor("bf"), b.to(torch::kFloat32)));
  EXPECT_EQ(f.tensor("bf").scalar_type(), torch::kFloat32);
  // JSON header padded to a multiple of 8 bytes, as the golden files.
  EXPECT_EQ(f.records()[0].offset % 8, 0u);
}

TEST(Safetensors, MappedTensorsNeverWriteBackToTheFile) {
  ScratchDir dir;
  const std::string path = dir.file("t.safetensors");
  torch::Tensor a = torch::arange(8, torch::kFloat32);
  write_safetensors(path, {{"a", a}}, {});
  const std::string before = facemix::test::read_file(path);
  {
    SafetensorsFile f = SafetensorsFile::open(path);
    torch::Tensor t = f.tensor("a");
    t.add_(100);  // copy-on-write mapping: changes this process's view only
    EXPECT_EQ(t[1].item<float>(), 101.0f);
  }
  EXPECT_EQ(facemix::test::read_file(path), before);
  // The tensor keeps the mapping alive after the SafetensorsFile is gone.
  torch::Tensor kept = SafetensorsFile::open(path).tensor("a");
  EXPECT_TRUE(torch::equal(kept, a));
}

TEST(Safetensors, ReadsTheGoldenModelLayout) {
  // Layout facts from the golden README, on a file written the same way.
  ScratchDir dir;
  const std::string path = dir.file("t.safetensors");
  write_safetensors(path, {{"x", torch::ones({3})}}, {{"format", "f"}});
  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.file_size(), f.records()[0].offset + 12);
  EXPECT_EQ(f.find("missing"), nullptr);
  EXPECT_THROW(f.tensor("missing"), ModelError);
}

TEST(SafetensorsRefusal, TooShort) { expect_refused("abc", "too short"); }

TEST(SafetensorsRefusal, HeaderLongerThanFile) {
  expect_refused(craft("{}", "", 4096), "declares a 4096-byte header");
}

TEST(SafetensorsRefusal, AbsurdHeaderLength) {
  expect_refused(craft("{}", "", int64_t(1) << 40), "limit");
}

TEST(SafetensorsRefusal, InvalidJson) { expect_refused(craft("{\"a\": [1, 2"), "not valid JSON"); }

TEST(SafetensorsRefusal, HeaderNotAnObject) { expect_refused(craft("[1, 2, 3]"), "not a JSON object"); }

TEST(SafetensorsRefusal, UnknownDtype) {
  expect_refused(craft(R"({"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}})", k16), "unknown dtype 'Q7'");
}

TEST(SafetensorsRefusal, UnsupportedDtype) {
  expect_refused(craft(R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", k16), "not supported");
}

TEST(SafetensorsRefusal, ShapeDisagreesWithOffsets) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", k16), "need 12 bytes");
}

TEST(SafetensorsRefusal, OffsetsOutsideData) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", k16), "outside");
}

TEST(SafetensorsRefusal, OffsetsReversed) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", k16), "begin > end");
}

TEST(SafetensorsRefusal, OverlappingTensors) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                       k16),
                 "overlap");
}

TEST(SafetensorsRefusal, DuplicateName) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       k16),
                 "appears twice");
}

TEST(SafetensorsRefusal, NegativeShape) {
  expect_refused(craft(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", k16), "non-negative");
}

TEST(SafetensorsRefusal, NonStringMetadata) {
  expect_refused(craft(R"({"__metadata__":{"version":1}})"), "not a string");
}

TEST(SafetensorsRefusal, MissingFile) {
  ScratchDir dir;
  EXPECT_THROW(SafetensorsFile::open(dir.file("none.safetensors")), ModelError);
}

// --- SHA-256 (FIPS 180-4 / NIST example vectors) -------------------------------

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ChunkedUpdatesAndFilesAgree) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 7 + 3);
  Sha256 h;
  for (size_t at = 0; at < data.size(); at += 37) h.update(data.data() + at, std::min<size_t>(37, data.size() - at));
  const std::string chunked = h.hex_digest();
  EXPECT_EQ(chunked, sha256_hex(data));
  ScratchDir dir;
  facemix::test::write_file(dir.file("f"), data);
  EXPECT_EQ(sha256_file_hex(dir.file("f")), chunked);
  EXPECT_THROW(sha256_file_hex(dir.file("missing")), IoError);
}
