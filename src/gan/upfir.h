// Private: NVIDIA's [1, 3, 3, 1] up-sampling FIRs as direct separable kernels
// (the fused path; the reference paths use depthwise convs).
//
// Up-sampling conv (conv0). conv_transpose(stride 2) yields y [2H+1, 2W+1];
// NVIDIA pads it by 1 and runs the 4x4 filter outer([1,3,3,1])/64 with gain 4
// ('valid') -> [2H, 2W]. Split y by row/column parity into EE [H+1, W+1],
// EO [H+1, W], OE [H, W+1], OO [H, W] (E = even index, O = odd). Per axis the
// taps are [1, 3, 3, 1] / 4, so with E[a] = y[2a] and O[a] = y[2a+1]
// (O out of range = 0):
//   z[2a]   = (O[a-1] + 3 E[a] + 3 O[a] + E[a+1]) / 4
//   z[2a+1] = (E[a] + 3 O[a] + 3 E[a+1] + O[a+1]) / 4
// which needs neither the interleaved y nor a depthwise conv.
//
// Skip-image up-sampling (upsample2d: zero insertion, pad (2, 1), same FIR):
//   z[2a] = (x[a-1] + 3 x[a]) / 4,   z[2a+1] = (3 x[a] + x[a+1]) / 4.
//
// Both require the resample filter to be NVIDIA's (load_generator checks it).
#pragma once

#include <array>

#include <torch/torch.h>

namespace facemix::gan::upfir {

// parts: EE, EO, OE, OO, each [B, C, ., .] float32, channels-last contiguous,
// sizes as above. Returns z [B, C, 2H, 2W], channels-last.
torch::Tensor forward(const std::array<torch::Tensor, 4>& parts);

// Adjoint: gz [B, C, 2H, 2W] channels-last -> gradients of EE, EO, OE, OO (channels-last).
std::array<torch::Tensor, 4> backward(const torch::Tensor& gz);

// Skip-image up-sampling x [N, C, H, W] -> [N, C, 2H, 2W] (NCHW contiguous),
// differentiable.
torch::Tensor upsample_image(const torch::Tensor& x);

}  // namespace facemix::gan::upfir
