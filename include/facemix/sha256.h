// SHA-256 (FIPS 180-4), for model content hashes (`facemix info`).
//
//   facemix::Sha256 h; h.update(data, n); std::string hex = h.hex_digest();
//   std::string file_hash = facemix::sha256_file_hex("model.safetensors");
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace facemix {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // ensures: the digest of everything passed to update(); the object must not
  //          be updated afterwards.
  std::array<uint8_t, 32> digest();
  std::string hex_digest();  // 64 lower-case hex characters

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

std::string sha256_hex(const std::string& bytes);

// throws: IoError naming `path` when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace facemix
