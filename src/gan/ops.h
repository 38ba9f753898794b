// Private: the numeric building blocks of the synthesis network, written with
// NVIDIA's reference op order (see ../shared/golden/README.md "Forward semantics").
#pragma once

#include <array>
#include <optional>

#include <torch/torch.h>

#include "facemix/generator.h"

namespace facemix::gan::ops {

// NVIDIA bias_act reference: x (+ noise) + bias, then lrelu(0.2) * gain when
// `lrelu`, else * gain; then clamp to [-clamp, clamp] when set.
// noise: undefined or broadcastable to x ([R, R] or [N, 1, R, R]).
torch::Tensor noise_bias_act(const torch::Tensor& x, const torch::Tensor& noise,
                             const torch::Tensor& bias, bool lrelu, double gain,
                             std::optional<double> clamp);

// Modulated convolution, padding kernel/2. x [N, I, H, W], weight [O, I, k, k],
// styles [N, I]. up: stride-2 transposed conv (output 2H+1) followed by the
// padded 4x4 FIR `filter` with gain 4 (output 2H), as NVIDIA's conv2d_resample.
// demodulate: per (n, o) normalisation of the modulated weight.
torch::Tensor modulated_conv(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& styles, bool demodulate, bool up,
                             const torch::Tensor& filter, ModConvPath path);

// NVIDIA upsample2d: zero insertion, pad (2, 1), depthwise 4x4 FIR with gain 4.
// x [N, C, H, W] -> [N, C, 2H, 2W].
torch::Tensor upsample_2x(const torch::Tensor& x, const torch::Tensor& filter);

// Stride-2 transposed convolution with a 3x3 kernel and no padding, evaluated
// as four sub-pixel (polyphase) correlations, one per output parity, because
// LibTorch's CPU conv_transpose2d is far slower than conv2d. The result is
// written into the interior of a zero border of width `border`.
// x [B, G*I, H, W]; w [G, O, I, 3, 3] (w[g, o, i] is the kernel from input i to
// output o, in conv_transpose2d orientation); groups G.
// returns [B, G*O, 2H+1+2*border, 2W+1+2*border].
torch::Tensor conv_transpose3x3_stride2(const torch::Tensor& x, const torch::Tensor& w, int64_t groups,
                                        int64_t border);

// Sub-pixel (polyphase) form of conv_transpose3x3_stride2. Part p = 2*row_parity
// + col_parity of the output (EE, EO, OE, OO; see upfir.h) is a correlation of x
// with taps {2, 0} (padding 1) or {1} (no padding) per axis.
// subpixel_kernels: w [..., 3, 3] -> the parts' kernels [..., r, c].
std::array<torch::Tensor, 4> subpixel_kernels(const torch::Tensor& w);
// w [O, I, 3, 3] -> kernels [I, O, r, c] whose 'valid' correlation with a
// part's output gradient is that part's input gradient.
std::array<torch::Tensor, 4> subpixel_grad_kernels(const torch::Tensor& w);
// x [B, G*I, H, W], kernels [G*O, I, r, c] -> the four parts [B, G*O, ., .].
std::array<torch::Tensor, 4> subpixel_convs(const torch::Tensor& x, const std::array<torch::Tensor, 4>& kernels,
                                            int64_t groups);
// The parts' gradients -> gradient w.r.t. x [B, I, H, W] (shared kernels, groups 1).
torch::Tensor subpixel_convs_input_grad(const std::array<torch::Tensor, 4>& grads,
                                        const std::array<torch::Tensor, 4>& grad_kernels);

// conv2d without bias, stride 1 (torch::conv2d's overloads are ambiguous for
// a literal padding of 0).
torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w, int64_t pad_h, int64_t pad_w, int64_t groups);

}  // namespace facemix::gan::ops
