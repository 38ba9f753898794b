// The CSV/TSV manifest of `facemix batch` (format: include/facemix/batch.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "facemix/batch.h"
#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "facemix/morph.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

struct Row {
  int line = 0;  // where the row starts
  std::vector<std::string> fields;
};

[[noreturn]] void fail(int line, const std::string& what) {
  throw UsageError("manifest line " + std::to_string(line) + ": " + what);
}

// Splits the text into rows of fields (RFC 4180 quoting with `sep`), dropping
// blank lines and '#' comment lines.
std::vector<Row> split_rows(const std::string& text, char sep) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  bool quoted_field = false;  // the current field was quoted
  bool row_has_content = false;
  int line = 1;
  row.line = 1;
  size_t i = 0;
  const size_t n = text.size();
  auto end_row = [&]() {
    row.fields.push_back(field);
    const bool blank = row.fields.size() == 1 && row.fields[0].find_first_not_of(" \t\r") == std::string::npos &&
                       !quoted_field;
    if (!blank) rows.push_back(row);
    row = Row{};
    field.clear();
    quoted_field = false;
    row_has_content = false;
  };
  while (i < n) {
    const char c = text[i];
    if (!row_has_content && field.empty() && row.fields.empty() && c == '#') {  // comment line
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"' && field.empty() && !quoted_field) {
      const int start_line = line;
      ++i;
      quoted_field = true;
      row_has_content = true;
      for (;;) {
        if (i >= n) fail(start_line, "unterminated quoted field (a \" without its closing \")");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      // After the closing quote only a separator or the end of the row may follow.
      size_t j = i;
      if (j < n && text[j] == '\r') ++j;
      if (j < n && text[j] != sep && text[j] != '\n') fail(start_line, "text after a closing quote");
      continue;
    }
    if (c == '"' && !quoted_field) fail(line, "a quote inside an unquoted field (quote the whole field)");
    if (c == sep) {
      row.fields.push_back(field);
      field.clear();
      quoted_field = false;
      row_has_content = true;
      ++i;
      continue;
    }
    if (c == '\n' || (c == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      i += c == '\r' ? 2 : 1;
      end_row();
      ++line;
      row.line = line;
      continue;
    }
    if (quoted_field) fail(line, "text after a closing quote");
    field += c;
    row_has_content = true;
    ++i;
  }
  if (row_has_content || !field.empty() || !row.fields.empty()) end_row();
  return rows;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::string resolve(const std::string& path, const std::string& base_dir) {
  const fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

struct Columns {
  int output = -1, weights = -1, paste_into = -1, truncation = -1;
  std::vector<int> inputs;  // column of input1, input2, ...
};

Columns read_header(const Row& header) {
  Columns c;
  std::map<int, int> inputs;  // input number -> column
  std::set<std::string> seen;
  for (size_t k = 0; k < header.fields.size(); ++k) {
    std::string name = trim(header.fields[k]);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const int col = static_cast<int>(k);
    if (!seen.insert(name).second) fail(header.line, "column '" + name + "' appears twice in the header");
    if (name == "output") {
      c.output = col;
    } else if (name == "weights") {
      c.weights = col;
    } else if (name == "paste_into") {
      c.paste_into = col;
    } else if (name == "truncation") {
      c.truncation = col;
    } else if (name.size() > 5 && name.compare(0, 5, "input") == 0 &&
               name.find_first_not_of("0123456789", 5) == std::string::npos) {
      const int number = std::atoi(name.c_str() + 5);
      if (number < 1 || number > 1000) fail(header.line, "bad input column '" + name + "'");
      inputs[number] = col;
    } else {
      fail(header.line, "unknown column '" + name +
                            "' (expected output, input1, input2, ..., weights, paste_into, truncation)");
    }
  }
  if (c.output < 0) fail(header.line, "the header has no 'output' column");
  int expect = 1;
  for (const auto& [number, col] : inputs) {
    if (number != expect) fail(header.line, "input columns must be input1, input2, ... without gaps");
    c.inputs.push_back(col);
    ++expect;
  }
  if (c.inputs.size() < 2) fail(header.line, "the header needs at least the columns input1 and input2");
  return c;
}

double parse_number(const std::string& text, int line, const std::string& column) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    fail(line, column + " '" + text + "' is not a number");
  return v;
}

BatchJob parse_row(const Row& row, const Columns& c, const std::string& base_dir) {
  const size_t width = static_cast<size_t>(
      std::max({c.output, c.weights, c.paste_into, c.truncation, *std::max_element(c.inputs.begin(), c.inputs.end())}) +
      1);
  if (row.fields.size() > width)
    fail(row.line, std::to_string(row.fields.size()) + " fields, the header has " + std::to_string(width));
  auto field = [&](int col) { return col >= 0 && static_cast<size_t>(col) < row.fields.size() ? trim(row.fields[col]) : ""; };
  BatchJob job;
  job.line = row.line;
  const std::string output = field(c.output);
  if (output.empty()) fail(row.line, "empty output");
  try {
    check_image_output_extension(output);
  } catch (const UsageError& e) {
    fail(row.line, e.what());
  }
  job.output = resolve(output, base_dir);
  bool gap = false;
  for (int col : c.inputs) {
    const std::string in = field(col);
    if (in.empty()) {
      gap = true;
      continue;
    }
    if (gap) fail(row.line, "an empty input column before a filled one");
    job.inputs.push_back(resolve(in, base_dir));
  }
  if (job.inputs.size() < 2)
    fail(row.line, "needs at least 2 inputs (got " + std::to_string(job.inputs.size()) + ")");
  for (const auto& in : job.inputs)
    if (in == job.output) fail(row.line, "output " + output + " is also an input");
  std::string weights = field(c.weights);
  if (!weights.empty()) {
    std::replace(weights.begin(), weights.end(), ';', ',');
    try {
      job.weights = parse_weights(weights, job.inputs.size());
    } catch (const UsageError& e) {
      fail(row.line, std::string("weights: ") + e.what());
    }
  }
  const std::string paste = field(c.paste_into);
  if (!paste.empty()) {
    const double p = parse_number(paste, row.line, "paste_into");
    if (p != std::floor(p) || p < 0 || p > static_cast<double>(job.inputs.size()))
      fail(row.line, "paste_into " + paste + ": must be 0 (none) or an input number 1.." +
                         std::to_string(job.inputs.size()));
    job.paste_into = static_cast<int>(p) - 1;
  }
  const std::string psi = field(c.truncation);
  if (!psi.empty()) {
    const double t = parse_number(psi, row.line, "truncation");
    if (t < -2.0 || t > 2.0) fail(row.line, "truncation " + psi + ": must lie in [-2, 2]");
    job.truncation = t;
  }
  return job;
}

}  // namespace

std::vector<BatchJob> parse_manifest(const std::string& text, const std::string& base_dir) {
  const size_t first_line_end = text.find('\n');
  // The header decides the separator: a tab in it means TSV.
  std::string header_probe = text.substr(0, first_line_end);
  size_t pos = 0;
  while (pos < text.size()) {  // skip blank and comment lines to the header
    const size_t e = text.find('\n', pos);
    const std::string l = trim(text.substr(pos, e == std::string::npos ? std::string::npos : e - pos));
    if (!l.empty() && l[0] != '#') {
      header_probe = text.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
      break;
    }
    if (e == std::string::npos) break;
    pos = e + 1;
  }
  const char sep = header_probe.find('\t') != std::string::npos ? '\t' : ',';
  const std::vector<Row> rows = split_rows(text, sep);
  if (rows.empty()) throw UsageError("manifest: empty (expected a header row, then one job per row)");
  const Columns columns = read_header(rows[0]);
  std::vector<BatchJob> jobs;
  std::map<std::string, int> outputs;  // output -> line
  for (size_t r = 1; r < rows.size(); ++r) {
    BatchJob job = parse_row(rows[r], columns, base_dir);
    auto [it, fresh] = outputs.emplace(job.output, job.line);
    if (!fresh) fail(job.line, "output " + job.output + " is already the output of line " + std::to_string(it->second));
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) throw UsageError("manifest: no jobs (only a header row)");
  return jobs;
}

}  // namespace facemix
