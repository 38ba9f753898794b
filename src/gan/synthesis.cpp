// SynthesisBlock and SynthesisNetwork ('skip' architecture).
#include "modules.h"
#include "ops.h"
#include "upfir.h"

namespace facemix::gan {

// --- SynthesisBlock ------------------------------------------------------------

SynthesisBlockImpl::SynthesisBlockImpl(const GeneratorConfig& c, int resolution)
    : resolution_(resolution) {
  const int out = c.channels_at(resolution);
  if (resolution == 4) {
    const_input = register_parameter("const", torch::empty({out, 4, 4}, torch::kFloat32), false);
  }
  resample_filter = register_buffer("resample_filter", torch::empty({4, 4}, torch::kFloat32));
  if (resolution > 4) {
    const int in = c.channels_at(resolution / 2);
    conv0 = register_module("conv0", SynthesisLayer(in, out, c.w_dim, resolution, true, c.conv_clamp));
  }
  conv1 = register_module("conv1", SynthesisLayer(out, out, c.w_dim, resolution, false, c.conv_clamp));
  torgb = register_module("torgb", ToRGBLayer(out, c.img_channels, c.w_dim, c.conv_clamp));
}

void SynthesisBlockImpl::forward(torch::Tensor& x, torch::Tensor& img,
                                 const std::vector<torch::Tensor>& rows,
                                 const std::vector<torch::Tensor>& noise, ModConvPath path) const {
  size_t r = 0, n = 0;
  if (resolution_ == 4) {
    const int64_t batch = rows[0].size(0);
    x = const_input.unsqueeze(0).repeat({batch, 1, 1, 1});
  } else {
    x = conv0->forward(x, rows[r++], noise[n++], path);
  }
  x = conv1->forward(x, rows[r++], noise[n++], path);
  if (img.defined())
    img = path == ModConvPath::kFused ? upfir::upsample_image(img) : ops::upsample_2x(img, resample_filter);
  torch::Tensor y = torgb->forward(x, rows[r], path);
  img = img.defined() ? img + y : y;
}

void SynthesisBlockImpl::initialize_random(at::Generator& gen) {
  torch::NoGradGuard no_grad;
  if (const_input.defined()) const_input.normal_(0.0, 1.0, gen);
  resample_filter.copy_(default_resample_filter());
  if (conv0) conv0->initialize_random(gen);
  conv1->initialize_random(gen);
  torgb->initialize_random(gen);
}

std::vector<const SynthesisLayerImpl*> SynthesisBlockImpl::conv_layers() const {
  std::vector<const SynthesisLayerImpl*> layers;
  if (conv0) layers.push_back(conv0.get());
  layers.push_back(conv1.get());
  return layers;
}

// --- SynthesisNetwork ----------------------------------------------------------

SynthesisNetworkImpl::SynthesisNetworkImpl(const GeneratorConfig& config) : config_(config) {
  for (int res : config.block_resolutions())
    blocks.push_back(register_module("b" + std::to_string(res), SynthesisBlock(config, res)));
}

torch::Tensor SynthesisNetworkImpl::forward(const torch::Tensor& ws, const SynthesisOptions& options) const {
  const int64_t batch = ws.size(0);
  // The fused kernels are CPU code; other devices use the plain LibTorch path.
  const bool cpu = ws.device().is_cpu();
  const ModConvPath path = options.modconv != ModConvPath::kAuto ? options.modconv
                           : cpu                                 ? ModConvPath::kFused
                                                                 : ModConvPath::kGrouped;

  torch::Tensor x, img;
  int64_t w_idx = 0;
  size_t layer = 0;
  for (const auto& block : blocks) {
    // Block bR reads rows w_idx .. w_idx + num_conv (the last one feeds ToRGB,
    // and is also conv0's row of the next block).
    std::vector<torch::Tensor> rows;
    for (int i = 0; i <= block->num_conv(); ++i) rows.push_back(ws.select(1, w_idx + i));
    w_idx += block->num_conv();

    std::vector<torch::Tensor> noise;
    for (const SynthesisLayerImpl* conv : block->conv_layers()) {
      switch (options.noise_mode) {
        case NoiseMode::kConst:
          noise.push_back(options.noise.empty() ? conv->noise_const : options.noise[layer]);
          break;
        case NoiseMode::kRandom: {
          const int64_t r = conv->resolution();
          // Drawn where the generator lives (a CPU generator for a CUDA run), then moved.
          const bool own = options.generator.defined();
          auto opts = ws.options().device(own ? options.generator.device() : ws.device());
          noise.push_back(torch::randn({batch, 1, r, r},
                                       own ? c10::optional<at::Generator>(options.generator) : c10::nullopt, opts)
                              .to(ws.device()));
          break;
        }
        case NoiseMode::kNone: noise.emplace_back(); break;
      }
      ++layer;
    }
    block->forward(x, img, rows, noise, path);
    if (block->resolution() == options.stop_at_resolution) break;
  }
  return img;
}

void SynthesisNetworkImpl::initialize_random(at::Generator& gen) {
  for (auto& b : blocks) b->initialize_random(gen);
}

std::vector<NoiseLayer> SynthesisNetworkImpl::noise_layers() const {
  std::vector<NoiseLayer> layers;
  for (const auto& b : blocks) {
    const std::string prefix = "synthesis.b" + std::to_string(b->resolution());
    if (b->conv0) layers.push_back({prefix + ".conv0", b->resolution()});
    layers.push_back({prefix + ".conv1", b->resolution()});
  }
  return layers;
}

std::vector<torch::Tensor> SynthesisNetworkImpl::noise_const_buffers() const {
  std::vector<torch::Tensor> bufs;
  for (const auto& b : blocks)
    for (const SynthesisLayerImpl* conv : b->conv_layers()) bufs.push_back(conv->noise_const);
  return bufs;
}

}  // namespace facemix::gan
