// facemix generate: render faces from seeds or latents with the generator.
#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "facemix/errors.h"
#include "facemix/gan_image.h"
#include "facemix/generator.h"
#include "facemix/image_io.h"
#include "facemix/latents.h"
#include "facemix/model_file.h"
#include "facemix/progress.h"
#include "memory_guard.h"

namespace fs = std::filesystem;

namespace facemix::cli {
namespace {

struct GenerateOptions {
  std::string model, device = "cpu";
  int64_t seed = -1;
  std::string seeds, latents;
  double truncation = 1.0;
  std::string noise_mode = "const";
  std::string out, out_dir, raw;
  bool truncation_given = false;
};

// "3", "0-7", "1,4,10-12" -> seeds (NVIDIA's num_range syntax).
std::vector<uint64_t> parse_seeds(const std::string& spec) {
  std::vector<uint64_t> seeds;
  size_t start = 0;
  auto bad = [&] { return UsageError("--seeds '" + spec + "': expected N, A-B or a comma-separated list of them"); };
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t dash = part.find('-');
    try {
      if (part.empty() || part.find_first_not_of("0123456789-") != std::string::npos) throw bad();
      size_t used = 0;
      if (dash == std::string::npos) {
        seeds.push_back(std::stoull(part, &used));
        if (used != part.size()) throw bad();
      } else {
        const uint64_t a = std::stoull(part.substr(0, dash), &used);
        if (used != dash) throw bad();
        const uint64_t b = std::stoull(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1 || b < a) throw bad();
        if (b - a >= 100000) throw UsageError("--seeds '" + spec + "': more than 100000 seeds");
        for (uint64_t s = a; s <= b; ++s) seeds.push_back(s);
      }
    } catch (const std::logic_error&) {  // stoull: not a number / out of range
      throw bad();
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return seeds;
}

struct Job {
  uint64_t seed = 0;        // seeds mode
  int64_t latent_row = -1;  // latents mode
  std::string output;       // "" when skipped or not wanted (-n, or --raw only)
};

int run_generate(const GenerateOptions& o, const GlobalOptions& g) {
  const int sources = (o.seed >= 0) + !o.seeds.empty() + !o.latents.empty();
  if (sources != 1) throw UsageError("generate: give exactly one of --seed, --seeds, --latents");
  if (!o.out.empty() && !o.out_dir.empty()) throw UsageError("generate: -o and --out-dir exclude each other");
  if (o.out.empty() && o.out_dir.empty() && o.raw.empty())
    throw UsageError("generate: give -o OUT, --out-dir DIR or --raw FILE.npy");
  if (!o.out.empty()) check_image_output_extension(o.out);
  if (!o.raw.empty() && fs::path(o.raw).extension() != ".npy")
    throw UsageError("--raw " + o.raw + ": the raw output must be an .npy file");
  const NoiseMode noise_mode = parse_noise_mode(o.noise_mode);
  const torch::Device device = parse_device(o.device);

  // What to render.
  std::vector<Job> jobs;
  torch::Tensor latents;
  if (!o.latents.empty()) {
    latents = read_latents(o.latents);
    for (int64_t i = 0; i < latents.size(0); ++i) jobs.push_back({0, i, ""});
  } else {
    for (uint64_t s : o.seed >= 0 ? std::vector<uint64_t>{static_cast<uint64_t>(o.seed)} : parse_seeds(o.seeds))
      jobs.push_back({s, -1, ""});
  }

  // Decide every output before any expensive work.
  std::vector<std::string> inputs;
  const std::string model_path = find_model(o.model);
  inputs.push_back(model_path);
  if (!o.latents.empty()) inputs.push_back(o.latents);
  if (!o.out.empty()) {
    if (jobs.size() != 1)
      throw UsageError("generate: -o writes one image but " + std::to_string(jobs.size()) +
                       " are requested; use --out-dir");
    if (prepare_output(o.out, inputs, g.overwrite)) jobs[0].output = o.out;
  } else if (!o.out_dir.empty()) {
    std::error_code ec;
    if (fs::exists(o.out_dir, ec) && !fs::is_directory(o.out_dir, ec))
      throw IoError(o.out_dir + ": --out-dir is not a directory");
    for (auto& j : jobs) {
      char name[64];
      if (j.latent_row >= 0)
        std::snprintf(name, sizeof name, "latent%04lld.png", static_cast<long long>(j.latent_row));
      else
        std::snprintf(name, sizeof name, "seed%04llu.png", static_cast<unsigned long long>(j.seed));
      const std::string path = (fs::path(o.out_dir) / name).string();
      if (!fs::exists(o.out_dir, ec) || prepare_output(path, inputs, g.overwrite)) j.output = path;
    }
  }
  const bool want_raw = !o.raw.empty() && prepare_output(o.raw, inputs, g.overwrite);

  Generator gen = load_generator(model_path, device);
  const GeneratorConfig& c = gen->config();
  if (latents.defined()) {
    const bool ok = latents.size(-1) == c.w_dim && (latents.dim() == 2 || latents.size(1) == c.num_ws());
    if (!ok)
      throw ModelError(o.latents + ": latents of shape " + std::to_string(latents.size(0)) + "x...x" +
                       std::to_string(latents.size(-1)) + " do not fit the model (num_ws " +
                       std::to_string(c.num_ws()) + ", w_dim " + std::to_string(c.w_dim) + ")");
  }
  bool any_image = false;
  for (const auto& j : jobs) any_image = any_image || !j.output.empty();
  if (any_image && c.img_channels != 3)
    throw ModelError(model_path + ": images need a 3-channel generator (this one has " +
                     std::to_string(c.img_channels) + "); use --raw");
  if (want_raw) {  // every image is kept for the .npy (and once more by the final cat)
    const double bytes = 2.0 * static_cast<double>(jobs.size()) * c.img_channels * c.img_resolution *
                         c.img_resolution * sizeof(float);
    check_memory_estimate(bytes,
                          "generate --raw of " + std::to_string(jobs.size()) + " images at " +
                              std::to_string(c.img_resolution) + "x" + std::to_string(c.img_resolution),
                          "render fewer seeds per run, or drop --raw");
  }
  if (!o.out_dir.empty() && any_image) fs::create_directories(o.out_dir);

  torch::InferenceMode inference;
  std::vector<torch::Tensor> raws;
  for (size_t i = 0; i < jobs.size(); ++i) {
    check_interrupt();
    const Job& j = jobs[i];
    if (j.output.empty() && !want_raw) continue;
    SynthesisOptions so;
    so.noise_mode = noise_mode;
    torch::Tensor ws;
    if (j.latent_row >= 0) {
      ws = latents.narrow(0, j.latent_row, 1).to(device);
      if (o.truncation_given) ws = gen->truncate(ws, o.truncation);
      so.generator = at::detail::createCPUGenerator(static_cast<uint64_t>(j.latent_row));
    } else {
      // z and then (for --noise-mode random) the noise come from one generator seeded with the seed.
      so.generator = at::detail::createCPUGenerator(j.seed);
      torch::Tensor z = torch::randn({1, c.z_dim}, so.generator, torch::kFloat32);
      ws = gen->mapping(z.to(device), o.truncation);
    }
    spdlog::debug("rendering {} of {}", i + 1, jobs.size());
    torch::Tensor img = gen->synthesis(ws, so).to(torch::kCPU);
    if (want_raw) raws.push_back(img);
    if (!j.output.empty()) {
      write_image(j.output, generator_image_to_bgr(img));
      std::cout << j.output << std::endl;
    }
  }
  if (want_raw) {
    write_npy(o.raw, torch::cat(raws, 0));
    std::cout << o.raw << std::endl;
  }
  return 0;
}

Runner add_generate_command(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Render faces from seeds or latents with the StyleGAN2 generator");
  const char* input = "Input";
  cmd->add_option("--model", o->model, "Generator model file (.safetensors; see models/README.md)")->group(input);
  cmd->add_option("--seed", o->seed, "Render the face of one seed")
      ->check(CLI::NonNegativeNumber)
      ->default_str("none")
      ->group(input);
  cmd->add_option("--seeds", o->seeds, "Render several seeds: A-B (inclusive) or a list like 1,4,10-12")->group(input);
  cmd->add_option("--latents", o->latents,
                  "Render the latents in an .npz (array 'w', NVIDIA projected_w layout) or .npy file")
      ->group(input);
  const char* render = "Rendering";
  auto* trunc = cmd->add_option("--truncation", o->truncation,
                                "Truncation psi towards the average face (1 = none; with --latents only when given)")
                    ->group(render);
  cmd->add_option("--noise-mode", o->noise_mode, "Per-pixel noise: const (the model's fixed maps), random, none")
      ->check(CLI::IsMember({"const", "random", "none"}))
      ->group(render);
  cmd->add_option("--device", o->device, "cpu, or cuda with a CUDA-enabled LibTorch build")->group(render);
  const char* output = "Output";
  cmd->add_option("-o,--output", o->out, "Output image (one image only)")->group(output);
  cmd->add_option("--out-dir", o->out_dir, "Directory for seedNNNN.png / latentNNNN.png (created if missing)")
      ->group(output);
  cmd->add_option("--raw", o->raw, "Also write the unclamped float32 images [N, 3, R, R] to this .npy file")
      ->group(output);
  cmd->footer(
      "The face of a seed is the same on every run: z = torch.randn([1, z_dim]) from a LibTorch CPU\n"
      "generator seeded with the seed (torch.Generator().manual_seed(seed) in Python, same torch\n"
      "version); --noise-mode random draws its noise from the same generator after z.\n"
      "Each written file's path is printed on stdout.");
  return [o, trunc, &g] {
    o->truncation_given = trunc->count() > 0;
    return run_generate(*o, g);
  };
}

const CommandRegistration reg{"generate", 30, &add_generate_command};

}  // namespace
}  // namespace facemix::cli
