// Blend weights: parsing the -w option and normalising.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/morph.h"

namespace facemix {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

double parse_number(const std::string& field, const std::string& text) {
  const std::string f = trim(field);
  if (f.empty()) throw UsageError("-w " + text + ": empty weight (expected numbers like 0.7,0.3)");
  char* end = nullptr;
  const double v = std::strtod(f.c_str(), &end);
  if (end != f.c_str() + f.size() || !std::isfinite(v))
    throw UsageError("-w " + text + ": '" + f + "' is not a finite number");
  return v;
}

}  // namespace

std::vector<double> normalize_weights(const std::vector<double>& weights) {
  if (weights.empty()) throw UsageError("-w: no weights");
  double sum = 0, scale = 0;
  for (double w : weights) {
    if (!std::isfinite(w)) throw UsageError("-w: weights must be finite numbers");
    sum += w;
    scale = std::max(scale, std::abs(w));
  }
  // A sum that is tiny compared to the weights themselves cannot be divided by
  // meaningfully (e.g. 1,-1).
  if (std::abs(sum) <= 1e-9 * std::max(scale, 1e-300) || std::abs(sum) < 1e-12)
    throw UsageError("-w: the weights sum to zero; they must have a non-zero sum");
  std::vector<double> out;
  out.reserve(weights.size());
  bool outside = false;
  for (double w : weights) {
    out.push_back(w / sum);
    outside = outside || out.back() < 0.0 || out.back() > 1.0;
  }
  if (outside) {
    std::ostringstream s;
    for (std::size_t i = 0; i < out.size(); ++i) s << (i ? "," : "") << out[i];
    spdlog::warn("normalised weights {} lie outside [0,1]: the morph extrapolates beyond the inputs",
                 s.str());
  }
  return out;
}

std::vector<double> parse_weights(const std::string& text, std::size_t count) {
  std::vector<double> values;
  std::string field;
  std::istringstream in(text);
  while (std::getline(in, field, ',')) values.push_back(parse_number(field, text));
  if (!text.empty() && text.back() == ',') values.push_back(parse_number("", text));
  if (values.size() != count)
    throw UsageError("-w " + text + ": " + std::to_string(values.size()) + " weight" +
                     (values.size() == 1 ? "" : "s") + " for " + std::to_string(count) +
                     " input images (give one per input)");
  return normalize_weights(values);
}

std::vector<double> equal_weights(std::size_t count) {
  if (count == 0) throw std::invalid_argument("equal_weights: count must be >= 1");
  return std::vector<double>(count, 1.0 / static_cast<double>(count));
}

}  // namespace facemix
