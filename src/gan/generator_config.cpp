// GeneratorConfig: NVIDIA Generator kwargs <-> the few numbers that shape the
// network. Strict on purpose: a kwarg we do not implement would silently give
// wrong images, so anything unknown or non-default is refused.
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "facemix/errors.h"
#include "facemix/generator.h"

namespace facemix {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ModelError(source + ": generator config: " + what);
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15;
  }
  return false;
}

int get_int(const json& obj, const char* key, int fallback, int lo, int hi,
            const std::string& source, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!is_integral(*it)) fail(source, where + key + " must be an integer");
  double d = it->get<double>();
  if (d < lo || d > hi)
    fail(source, where + key + " = " + it->dump() + " is outside [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return static_cast<int>(d);
}

void check_keys(const json& obj, const std::set<std::string>& allowed, const std::string& source,
                const std::string& where) {
  if (!obj.is_object()) fail(source, where + " must be a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!allowed.count(it.key()))
      fail(source, "unsupported kwarg " + where + (where.empty() ? "" : ".") + it.key());
}

// A kwarg that facemix accepts only with NVIDIA's default value.
void require_default(const json& obj, const char* key, const json& expected,
                     const std::string& source, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null() || *it == expected) return;
  fail(source, where + key + " = " + it->dump() + " is not supported (only " + expected.dump() + ")");
}

}  // namespace

GeneratorConfig GeneratorConfig::from_json(const std::string& json_text, const std::string& source) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, "not valid JSON");
  check_keys(j, {"z_dim", "w_dim", "c_dim", "img_resolution", "img_channels", "mapping_kwargs",
                 "synthesis_kwargs"},
             source, "");
  for (const char* key : {"z_dim", "w_dim", "img_resolution"})
    if (!j.contains(key)) fail(source, std::string("missing ") + key);

  GeneratorConfig c;
  c.z_dim = get_int(j, "z_dim", 512, 1, 8192, source, "");
  c.w_dim = get_int(j, "w_dim", 512, 1, 8192, source, "");
  if (get_int(j, "c_dim", 0, 0, 1 << 20, source, "") != 0)
    fail(source, "conditional generators (c_dim > 0) are not supported");
  c.img_resolution = get_int(j, "img_resolution", 1024, 4, 1024, source, "");
  if ((c.img_resolution & (c.img_resolution - 1)) != 0)
    fail(source, "img_resolution must be a power of two");
  c.img_channels = get_int(j, "img_channels", 3, 1, 4, source, "");

  const json empty = json::object();
  const json& m = j.contains("mapping_kwargs") ? j["mapping_kwargs"] : empty;
  check_keys(m, {"num_layers", "layer_features", "lr_multiplier", "w_avg_beta", "activation",
                 "embed_features"},
             source, "mapping_kwargs");
  const std::string mw = "mapping_kwargs.";
  c.mapping_layers = get_int(m, "num_layers", 8, 1, 64, source, mw);
  c.mapping_layer_features = get_int(m, "layer_features", 0, 1, 8192, source, mw);
  if (m.contains("lr_multiplier") && !m["lr_multiplier"].is_null()) {
    if (!m["lr_multiplier"].is_number() || !(m["lr_multiplier"].get<double>() > 0))
      fail(source, "mapping_kwargs.lr_multiplier must be a positive number");
    c.mapping_lr_multiplier = m["lr_multiplier"].get<double>();
  }
  if (m.contains("w_avg_beta") && !m["w_avg_beta"].is_null() && !m["w_avg_beta"].is_number())
    fail(source, "mapping_kwargs.w_avg_beta must be a number");  // training only; not used
  require_default(m, "activation", "lrelu", source, mw);
  // embed_features only matters for conditional models (c_dim > 0, refused above).
  if (m.contains("embed_features") && !m["embed_features"].is_null() && !is_integral(m["embed_features"]))
    fail(source, "mapping_kwargs.embed_features must be null or an integer");

  const json& s = j.contains("synthesis_kwargs") ? j["synthesis_kwargs"] : empty;
  check_keys(s, {"channel_base", "channel_max", "num_fp16_res", "conv_clamp", "architecture",
                 "resample_filter", "use_noise", "activation", "fp16_channels_last"},
             source, "synthesis_kwargs");
  const std::string sw = "synthesis_kwargs.";
  c.channel_base = get_int(s, "channel_base", 32768, 1, 1 << 24, source, sw);
  c.channel_max = get_int(s, "channel_max", 512, 1, 8192, source, sw);
  c.num_fp16_res = get_int(s, "num_fp16_res", 0, 0, 16, source, sw);
  if (s.contains("conv_clamp") && !s["conv_clamp"].is_null()) {
    if (!s["conv_clamp"].is_number() || !(s["conv_clamp"].get<double>() >= 0))
      fail(source, "synthesis_kwargs.conv_clamp must be null or a non-negative number");
    c.conv_clamp = s["conv_clamp"].get<double>();
  }
  require_default(s, "architecture", "skip", source, sw);
  require_default(s, "resample_filter", json::array({1, 3, 3, 1}), source, sw);
  require_default(s, "use_noise", true, source, sw);
  require_default(s, "activation", "lrelu", source, sw);
  if (s.contains("fp16_channels_last") && !s["fp16_channels_last"].is_boolean() &&
      !s["fp16_channels_last"].is_null())
    fail(source, "synthesis_kwargs.fp16_channels_last must be a boolean");

  if (c.channel_base / c.img_resolution < 1)
    fail(source, "channel_base " + std::to_string(c.channel_base) +
                     " leaves no channels at resolution " + std::to_string(c.img_resolution));
  return c;
}

std::string GeneratorConfig::to_json() const {
  json j;  // nlohmann sorts keys; NVIDIA's order is not significant
  j["z_dim"] = z_dim;
  j["w_dim"] = w_dim;
  j["c_dim"] = 0;
  j["img_resolution"] = img_resolution;
  j["img_channels"] = img_channels;
  json m;
  m["num_layers"] = mapping_layers;
  if (mapping_layer_features > 0) m["layer_features"] = mapping_layer_features;
  if (mapping_lr_multiplier != 0.01) m["lr_multiplier"] = mapping_lr_multiplier;
  j["mapping_kwargs"] = m;
  json s;
  s["channel_base"] = channel_base;
  s["channel_max"] = channel_max;
  s["num_fp16_res"] = num_fp16_res;
  s["conv_clamp"] = conv_clamp ? json(*conv_clamp) : json(nullptr);
  s["architecture"] = "skip";
  j["synthesis_kwargs"] = s;
  return j.dump();
}

int GeneratorConfig::channels_at(int resolution) const {
  return std::min(channel_base / resolution, channel_max);
}

std::vector<int> GeneratorConfig::block_resolutions() const {
  std::vector<int> r;
  for (int res = 4; res <= img_resolution; res *= 2) r.push_back(res);
  return r;
}

int GeneratorConfig::num_ws() const {
  int log2 = 0;
  while ((1 << log2) < img_resolution) ++log2;
  return 2 * log2 - 2;
}

GeneratorConfig ffhq_config(int resolution) {
  GeneratorConfig c;
  c.img_resolution = resolution;
  c.channel_base = resolution >= 1024 ? 32768 : 16384;
  return c;
}

}  // namespace facemix
