// The StyleGAN2 ('skip' architecture) generator, NVIDIA stylegan2-ada-pytorch
// semantics, as LibTorch modules whose registered parameter and buffer names are
// NVIDIA's state-dict keys (mapping.fc0.weight, synthesis.b4.const, ...).
//
//   facemix::Generator g = facemix::load_generator("ffhq.safetensors");   // model_file.h
//   torch::InferenceMode guard;
//   torch::Tensor z  = facemix::z_from_seed(42, g->config().z_dim);      // [1, z_dim]
//   torch::Tensor ws = g->mapping(z, /*psi=*/0.7);                       // [1, num_ws, w_dim]
//   torch::Tensor img = g->synthesis(ws);                                // [1, 3, R, R], nominal [-1, 1]
//
//   // Projection: gradients to ws and to explicit noise maps, early stop at 256 px.
//   facemix::SynthesisOptions o;
//   o.noise = g->noise_const_buffers();            // clone, then set requires_grad
//   o.stop_at_resolution = 256;
//   torch::Tensor img256 = g->synthesis(ws_var, o);
//
// The weights are read-only after loading (requires_grad false) and may be
// shared by threads; everything a render varies (noise, RNG, early stop) is
// passed per call in SynthesisOptions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace facemix {

// NVIDIA Generator constructor kwargs (the JSON stored in a model file's
// metadata "config"). Only what changes the network is kept; every other
// accepted kwarg must have NVIDIA's default value (checked by from_json).
struct GeneratorConfig {
  int z_dim = 512;
  int w_dim = 512;
  int img_resolution = 1024;  // power of two, 4..1024
  int img_channels = 3;
  int mapping_layers = 8;
  int mapping_layer_features = 0;   // hidden width of the mapping MLP; 0 = w_dim
  double mapping_lr_multiplier = 0.01;
  int channel_base = 32768;
  int channel_max = 512;
  std::optional<double> conv_clamp;  // clamp after each conv layer / ToRGB when set
  int num_fp16_res = 0;              // kept for the record; facemix always computes in float32

  // Parses NVIDIA kwargs JSON. `source` names the file for messages.
  // throws: ModelError naming `source` for invalid JSON, a missing or invalid
  //         value, an unknown key, or a feature facemix does not implement
  //         (c_dim > 0, architecture other than 'skip', non-default filters,
  //         activations or noise settings).
  static GeneratorConfig from_json(const std::string& json_text, const std::string& source);
  // NVIDIA-style kwargs JSON (from_json(to_json()) == *this).
  std::string to_json() const;

  // min(channel_base / res, channel_max) (integer division), as NVIDIA.
  int channels_at(int resolution) const;
  std::vector<int> block_resolutions() const;  // 4, 8, ..., img_resolution
  int num_ws() const;                          // 2*log2(R) - 2
  int hidden_features() const { return mapping_layer_features > 0 ? mapping_layer_features : w_dim; }
};

// The configs of NVIDIA's official FFHQ config-f generators (z = w = 512,
// 8 mapping layers, channel_max 512): 1024 px uses channel_base 32768, 256 px
// (and the other resolutions) 16384.
GeneratorConfig ffhq_config(int resolution);

enum class NoiseMode {
  kConst,   // noise_const buffers (or SynthesisOptions::noise) times noise_strength; the default
  kRandom,  // fresh N(0,1) per image and layer, from SynthesisOptions::generator
  kNone,    // no noise
};
// "const" | "random" | "none"; throws UsageError otherwise.
NoiseMode parse_noise_mode(const std::string& name);
std::string to_string(NoiseMode mode);

// How the modulated 3x3 convolutions are evaluated. All are NVIDIA's maths and
// agree within ~1e-5 on images; they differ in speed and memory.
enum class ModConvPath {
  kAuto,     // kFused on the CPU, kGrouped on other devices
  kFused,    // the fast path (CPU float32 + oneDNN): channels-last activations, each
             // sample convolved with its own modulated kernels, the up-sampling conv as
             // four sub-pixel convs + a direct FIR, fused elementwise kernels; under
             // autograd a custom backward that never differentiates the frozen weights
             // (one data-gradient conv per layer) and keeps few activations
  kGrouped,  // reference: per-sample modulated weights, batch folded into conv groups
             // (NVIDIA's fused path), plain LibTorch ops end to end
  kScaled,   // reference: activations scaled by styles before and demodulation after a
             // shared-weight conv (NVIDIA's non-fused path), plain LibTorch ops
};

struct SynthesisOptions {
  NoiseMode noise_mode = NoiseMode::kConst;
  // Explicit noise maps replacing the noise_const buffers (kConst only): empty,
  // or one tensor per conv layer in Generator::noise_layers() order, each
  // [R, R] or [N, 1, R, R]. They may require grad (NVIDIA's projector optimises them).
  std::vector<torch::Tensor> noise;
  // RNG for kRandom; undefined = the global default generator.
  at::Generator generator;
  // 0 = full resolution. Otherwise a block resolution (4, 8, ...): synthesis stops
  // after that block and returns its accumulated skip RGB image [N, C, r, r].
  int stop_at_resolution = 0;
  ModConvPath modconv = ModConvPath::kAuto;
};

// One noise input of the synthesis network: a conv layer's name
// ("synthesis.b8.conv0") and the side of its noise map.
struct NoiseLayer {
  std::string name;
  int resolution = 0;
};

namespace gan {
class MappingNetworkImpl;
class SynthesisNetworkImpl;
}  // namespace gan

class GeneratorImpl : public torch::nn::Module {
 public:
  // Builds the module tree with uninitialised (torch::empty) weights of the
  // config's shapes, requires_grad false. Fill them with load_generator()
  // (model_file.h) or initialize_random().
  // throws: ModelError when the config is out of range.
  explicit GeneratorImpl(const GeneratorConfig& config);

  const GeneratorConfig& config() const { return config_; }
  int num_ws() const { return config_.num_ws(); }
  int64_t parameter_count() const;  // registered parameters (buffers excluded), as NVIDIA counts

  // Fills every tensor like NVIDIA's constructor (weights, const and noise_const
  // N(0,1); fc biases 0; affine biases 1; filters [1,3,3,1]) from a generator
  // seeded with `seed`; w_avg 0. For benchmarks and shape tests.
  // requires: the module is on the CPU.
  void initialize_random(uint64_t seed);

  // z [N, z_dim] -> ws [N, num_ws, w_dim]: normalise z, mapping MLP, broadcast,
  // then truncation towards w_avg with `psi` on rows < truncation_cutoff
  // (all rows when cutoff < 0).
  torch::Tensor mapping(const torch::Tensor& z, double psi = 1.0, int truncation_cutoff = -1) const;

  // torch.lerp(w_avg, ws, psi) on rows < cutoff (all when cutoff < 0), as NVIDIA;
  // ws is [N, num_ws, w_dim] or [N, w_dim].
  torch::Tensor truncate(const torch::Tensor& ws, double psi, int truncation_cutoff = -1) const;

  // requires: ws is float32 on the generator's device, [N, num_ws, w_dim] (W+,
  //           one row per style input) or [N, w_dim] (W, broadcast to every row);
  //           options consistent (noise sizes, stop_at_resolution a block resolution).
  // ensures:  the RGB image after the last block (or after block
  //           options.stop_at_resolution), float32 [N, img_channels, r, r],
  //           unclamped. Differentiable w.r.t. ws and options.noise.
  // throws:   UsageError for shapes or options that do not fit the network.
  torch::Tensor synthesis(const torch::Tensor& ws, const SynthesisOptions& options = {}) const;

  // mapping + synthesis with default options except the noise mode.
  torch::Tensor forward(const torch::Tensor& z, double psi = 1.0,
                        NoiseMode noise_mode = NoiseMode::kConst) const;

  torch::Tensor w_avg() const;                      // [w_dim]
  std::vector<NoiseLayer> noise_layers() const;     // conv layers in execution order
  // The noise_const buffers in noise_layers() order (the stored tensors, not copies).
  std::vector<torch::Tensor> noise_const_buffers() const;

 private:
  GeneratorConfig config_;
  std::shared_ptr<gan::SynthesisNetworkImpl> synthesis_;
  std::shared_ptr<gan::MappingNetworkImpl> mapping_;
};
TORCH_MODULE(Generator);

// The latent z for a seed: torch.randn([1, z_dim], generator=torch.Generator()
// .manual_seed(seed)) on the CPU (LibTorch's CPU generator, float32), so a
// Python session with the same torch version reproduces it.
torch::Tensor z_from_seed(uint64_t seed, int z_dim);

// "cpu" or "cuda" / "cuda:N".
// throws: UsageError for other names, or for CUDA when this LibTorch has no
//         CUDA support or no CUDA device is visible.
torch::Device parse_device(const std::string& name);

}  // namespace facemix
