// .npz archives: a zip reader (stored and deflated members, zip64 sizes as
// numpy writes them) and a deterministic writer of stored members.
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "facemix/errors.h"
#include "facemix/latents.h"
#include "facemix/output.h"
#include "npy.h"

namespace facemix {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ModelError(source + ": " + what);
}

// Bounds-checked little-endian reads from the archive bytes.
struct Reader {
  const std::string& b;
  const std::string& src;
  uint64_t get(uint64_t at, int n) const {
    if (at > b.size() || n > static_cast<int>(b.size() - at)) fail(src, "truncated zip archive");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(static_cast<unsigned char>(b[at + i])) << (8 * i);
    return v;
  }
};

struct Entry {
  std::string name;
  uint16_t method = 0, flags = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

// Deflate cannot expand data by more than 1032:1; a member that claims more
// would only make us allocate its declared size for nothing (zip bomb).
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string inflate_raw(const std::string& in, uint64_t out_size, const std::string& source) {
  if (out_size > (8ull << 30)) fail(source, "zip member is absurdly large");
  if (out_size > in.size() * kMaxDeflateRatio + 1024)
    fail(source, "zip member claims " + std::to_string(out_size) + " bytes from " + std::to_string(in.size()) +
                     " deflated bytes, more than deflate can produce (corrupt file)");
  std::string out(out_size, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(source, "cannot initialise zlib");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const uint64_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != out_size) fail(source, "corrupt deflated zip member");
  return out;
}

std::vector<Entry> central_directory(const Reader& r) {
  const std::string& b = r.b;
  if (b.size() < 22) fail(r.src, "not a zip archive (too short)");
  // The end record sits in the last 22 + 65535 bytes (after it only a comment).
  int64_t end = -1;
  for (int64_t at = static_cast<int64_t>(b.size()) - 22; at >= 0 && at >= static_cast<int64_t>(b.size()) - 22 - 65535; --at)
    if (r.get(at, 4) == kEndSig) {
      end = at;
      break;
    }
  if (end < 0) fail(r.src, "not a zip archive (no end of central directory)");
  uint64_t count = r.get(end + 10, 2), cd_size = r.get(end + 12, 4), cd_offset = r.get(end + 16, 4);
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (end < 20 || r.get(end - 20, 4) != kZip64LocatorSig) fail(r.src, "zip64 archive without a zip64 locator");
    const uint64_t z = r.get(end - 20 + 8, 8);
    if (r.get(z, 4) != kZip64EndSig) fail(r.src, "bad zip64 end of central directory");
    count = r.get(z + 32, 8);
    cd_size = r.get(z + 40, 8);
    cd_offset = r.get(z + 48, 8);
  }
  if (count > 100000) fail(r.src, "zip archive lists too many members");

  std::vector<Entry> entries;
  uint64_t at = cd_offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (r.get(at, 4) != kCentralSig) fail(r.src, "corrupt zip central directory");
    Entry e;
    e.flags = static_cast<uint16_t>(r.get(at + 8, 2));
    e.method = static_cast<uint16_t>(r.get(at + 10, 2));
    e.crc = static_cast<uint32_t>(r.get(at + 16, 4));
    e.compressed = r.get(at + 20, 4);
    e.uncompressed = r.get(at + 24, 4);
    const uint64_t name_len = r.get(at + 28, 2), extra_len = r.get(at + 30, 2), comment_len = r.get(at + 32, 2);
    e.local_offset = r.get(at + 42, 4);
    if (at + 46 + name_len > b.size()) fail(r.src, "corrupt zip central directory");
    e.name = b.substr(at + 46, name_len);
    // zip64 extra field: the 8-byte values of the fields saturated above, in order.
    uint64_t x = at + 46 + name_len;
    const uint64_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint64_t id = r.get(x, 2), len = r.get(x + 2, 2);
      if (id == 1) {
        uint64_t p = x + 4;
        if (e.uncompressed == 0xffffffff) e.uncompressed = r.get(p, 8), p += 8;
        if (e.compressed == 0xffffffff) e.compressed = r.get(p, 8), p += 8;
        if (e.local_offset == 0xffffffff) e.local_offset = r.get(p, 8);
      }
      x += 4 + len;
    }
    entries.push_back(e);
    at = x_end + comment_len;
  }
  return entries;
}

std::string member_bytes(const Reader& r, const Entry& e) {
  if (e.flags & 1) fail(r.src, "zip member '" + e.name + "' is encrypted");
  if (r.get(e.local_offset, 4) != kLocalSig) fail(r.src, "corrupt zip local header for '" + e.name + "'");
  const uint64_t data_at = e.local_offset + 30 + r.get(e.local_offset + 26, 2) + r.get(e.local_offset + 28, 2);
  if (data_at > r.b.size() || e.compressed > r.b.size() - data_at)
    fail(r.src, "zip member '" + e.name + "' extends past the end of the file");
  std::string raw = r.b.substr(data_at, e.compressed);
  std::string data;
  if (e.method == 0) {
    if (e.compressed != e.uncompressed) fail(r.src, "stored zip member '" + e.name + "' has inconsistent sizes");
    data = std::move(raw);
  } else if (e.method == 8) {
    data = inflate_raw(raw, e.uncompressed, r.src);
  } else {
    fail(r.src, "zip member '" + e.name + "' uses compression method " + std::to_string(e.method) +
                    " (only stored and deflate are supported)");
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()),
                          static_cast<uInt>(data.size()));
  if (crc != e.crc) fail(r.src, "zip member '" + e.name + "' fails its CRC check (corrupt file)");
  return data;
}

void put(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::map<std::string, torch::Tensor> read_npz(const std::string& path) {
  const std::string bytes = npy::read_whole_file(path);
  const Reader r{bytes, path};
  std::map<std::string, torch::Tensor> arrays;
  for (const Entry& e : central_directory(r)) {
    std::string key = e.name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    arrays[key] = npy::decode(member_bytes(r, e), path + " [" + e.name + "]");
  }
  return arrays;
}

void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays) {
  std::string out, central;
  for (const auto& [key, t] : arrays) {
    const std::string name = key + ".npy";
    const std::string data = npy::encode(t);
    if (data.size() >= 0xffffffffull || out.size() >= 0xffffffffull)
      throw IoError(path + ": array '" + key + "' is too large for a non-zip64 archive");
    const uint32_t crc = static_cast<uint32_t>(
        crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const uint64_t local_offset = out.size();
    // Local header; time 00:00 and date 1980-01-01 so that output bytes never vary.
    put(out, kLocalSig, 4);
    put(out, 20, 2);  // version needed 2.0
    put(out, 0, 2);   // flags
    put(out, 0, 2);   // stored
    put(out, 0, 2);
    put(out, (0 << 9) | (1 << 5) | 1, 2);
    put(out, crc, 4);
    put(out, data.size(), 4);
    put(out, data.size(), 4);
    put(out, name.size(), 2);
    put(out, 0, 2);
    out += name;
    out += data;

    put(central, kCentralSig, 4);
    put(central, 20, 2);  // made by: MS-DOS / version 2.0
    put(central, 20, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, (0 << 9) | (1 << 5) | 1, 2);
    put(central, crc, 4);
    put(central, data.size(), 4);
    put(central, data.size(), 4);
    put(central, name.size(), 2);
    put(central, 0, 2);  // extra
    put(central, 0, 2);  // comment
    put(central, 0, 2);  // disk
    put(central, 0, 2);  // internal attributes
    put(central, 0, 4);  // external attributes
    put(central, local_offset, 4);
    central += name;
  }
  const uint64_t cd_offset = out.size();
  out += central;
  put(out, kEndSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, arrays.size(), 2);
  put(out, arrays.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  write_bytes_atomic(path, out);
}

torch::Tensor read_latents(const std::string& path) {
  torch::Tensor w;
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    w = read_npy(path);
  } else {
    auto arrays = read_npz(path);
    auto it = arrays.find("w");
    if (it == arrays.end()) {
      std::string keys;
      for (const auto& [k, v] : arrays) keys += (keys.empty() ? "" : ", ") + k;
      throw ModelError(path + ": no array 'w' in the archive (it has: " + (keys.empty() ? "nothing" : keys) + ")");
    }
    w = it->second;
  }
  if ((w.dim() != 2 && w.dim() != 3) || w.numel() == 0)
    throw ModelError(path + ": latents must be [N, num_ws, w_dim] or [N, w_dim], got " +
                     std::to_string(w.dim()) + "-d array of " + std::to_string(w.numel()) + " values");
  return w;
}

void write_latents_npz(const std::string& path, const torch::Tensor& w) {
  if (w.dim() != 2 && w.dim() != 3) throw UsageError(path + ": latents must be [N, num_ws, w_dim] or [N, w_dim]");
  write_npz(path, {{"w", w}});
}

}  // namespace facemix
