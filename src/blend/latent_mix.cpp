#include "facemix/latent_mix.h"

#include <algorithm>

#include "facemix/errors.h"
#include "facemix/morph.h"

namespace facemix {
namespace {

constexpr int kCoarseLast = 3, kMiddleLast = 7;

// A non-negative decimal integer, or -1 when `s` is not one.
long parse_row(const std::string& s) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(s);
}

}  // namespace

LayerMix parse_layer_mix(const std::string& spec, std::size_t inputs) {
  const std::string where = "--mix " + spec + ": ";
  const auto eq = spec.find('=');
  if (eq == std::string::npos)
    throw UsageError(where + "expected RANGE=WEIGHTS (e.g. coarse=@1 or 4-7=0.5,0.5)");
  const std::string range = spec.substr(0, eq), value = spec.substr(eq + 1);
  LayerMix m;
  m.spec = spec;
  if (range == "coarse") {
    m.first_row = 0, m.last_row = kCoarseLast;
  } else if (range == "middle") {
    m.first_row = kCoarseLast + 1, m.last_row = kMiddleLast;
  } else if (range == "fine") {
    m.first_row = kMiddleLast + 1, m.last_row = -1;
  } else {
    const auto dash = range.find('-');
    const long first = parse_row(range.substr(0, dash));
    long last = first;
    if (dash != std::string::npos) last = dash + 1 == range.size() ? -1 : parse_row(range.substr(dash + 1));
    if (first < 0 || (last < first && !(dash + 1 == range.size())))
      throw UsageError(where + "'" + range + "' is not coarse, middle, fine, ROW, FIRST-LAST or FIRST-");
    m.first_row = static_cast<int>(first);
    m.last_row = static_cast<int>(last);
  }
  if (!value.empty() && value[0] == '@') {
    const long k = parse_row(value.substr(1));
    if (k < 1 || static_cast<std::size_t>(k) > inputs)
      throw UsageError(where + "'" + value + "': input number must be 1.." + std::to_string(inputs));
    m.weights.assign(inputs, 0.0);
    m.weights[static_cast<std::size_t>(k - 1)] = 1.0;
    return m;
  }
  try {
    m.weights = parse_weights(value, inputs);
  } catch (const UsageError& e) {
    throw UsageError(where + e.what());
  }
  return m;
}

RowWeights row_weights(int num_ws, const std::vector<double>& weights, const std::vector<LayerMix>& mixes) {
  RowWeights rows(static_cast<std::size_t>(num_ws), weights);
  for (const auto& m : mixes) {
    if (m.weights.size() != weights.size())
      throw UsageError("--mix " + m.spec + ": " + std::to_string(m.weights.size()) + " weights for " +
                       std::to_string(weights.size()) + " inputs");
    const int last = m.last_row < 0 ? num_ws - 1 : std::min(m.last_row, num_ws - 1);
    if (m.first_row > last)
      throw UsageError("--mix " + m.spec + ": the model has only " + std::to_string(num_ws) + " style rows (0-" +
                       std::to_string(num_ws - 1) + ")");
    for (int i = m.first_row; i <= last; ++i) rows[static_cast<std::size_t>(i)] = m.weights;
  }
  return rows;
}

torch::Tensor mix_latents(const torch::Tensor& ws, const RowWeights& rows) {
  if (ws.dim() != 3 || ws.size(1) != static_cast<int64_t>(rows.size()))
    throw UsageError("mix_latents: ws must be [K, " + std::to_string(rows.size()) + ", w_dim]");
  const int64_t K = ws.size(0), num_ws = ws.size(1);
  // [num_ws, K] weights; out[i] = sum_k m[i, k] * ws[k, i] in float64.
  torch::Tensor m = torch::empty({num_ws, K}, torch::kDouble);
  for (int64_t i = 0; i < num_ws; ++i) {
    if (static_cast<int64_t>(rows[static_cast<std::size_t>(i)].size()) != K)
      throw UsageError("mix_latents: row " + std::to_string(i) + " has the wrong number of weights");
    for (int64_t k = 0; k < K; ++k) m[i][k] = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)];
  }
  const torch::Tensor w = ws.detach().to(torch::kCPU, torch::kDouble);  // [K, num_ws, w_dim]
  const torch::Tensor out = (w * m.t().unsqueeze(2)).sum(0, /*keepdim=*/true);
  return out.to(ws.device(), torch::kFloat32);
}

}  // namespace facemix
