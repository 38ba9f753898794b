// Latent files: NumPy .npy arrays and .npz archives, in the layout of NVIDIA's
// projector output (projected_w.npz: key "w", float32 [N, num_ws, w_dim]).
//
//   at::Tensor w = facemix::read_latents("projected_w.npz");  // [N, num_ws, w_dim] or [N, w_dim]
//   facemix::write_latents_npz("out.npz", w);
//   facemix::write_npy("raw.npy", images);                         // float32, any shape
//
// .npz is a zip archive of .npy members. facemix writes stored (uncompressed)
// members and reads stored and deflated ones (np.savez and np.savez_compressed).
#pragma once

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace facemix {

// requires: nothing.
// ensures:  the array as a contiguous CPU float32 tensor (float16/float64 data
//           are converted; Fortran order is honoured).
// throws:   ModelError naming `path` for a missing or unreadable file, bad
//           magic, an unsupported version or dtype, a malformed header, or
//           data shorter than the header's shape.
at::Tensor read_npy(const std::string& path);

// Writes `t` (converted to float32, C order) as a version 1.0 .npy file, atomically.
// throws: IoError when writing fails.
void write_npy(const std::string& path, const at::Tensor& t);

// Every member of an .npz archive, by name without the ".npy" suffix.
// throws: ModelError naming `path` for a file that is not a zip archive, uses an
//         unsupported compression method, fails its CRC, or holds a bad .npy member.
std::map<std::string, at::Tensor> read_npz(const std::string& path);

// Writes an .npz archive of stored members "<name>.npy", atomically.
// throws: IoError when writing fails.
void write_npz(const std::string& path, const std::map<std::string, at::Tensor>& arrays);

// Latents from .npz (member "w") or .npy.
// ensures:  float32 [N, num_ws, w_dim] or [N, w_dim] with N >= 1.
// throws:   ModelError naming `path` as read_npy/read_npz do, when an .npz has no
//           "w", or when the array has another rank or is empty.
at::Tensor read_latents(const std::string& path);

// write_npz(path, {{"w", w}}) after checking w is [N, num_ws, w_dim] or [N, w_dim].
// throws: UsageError for another rank; IoError when writing fails.
void write_latents_npz(const std::string& path, const at::Tensor& w);

}  // namespace facemix
