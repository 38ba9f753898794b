// `facemix align`: detect the face in each photo and write its FFHQ-aligned
// crop (optionally a JSON report of landmarks and alignment geometry).
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "input_options.h"
#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/output.h"
#include "facemix/progress.h"
#include "facemix/version.h"

namespace facemix::cli {
namespace {

struct AlignArgs {
  std::vector<std::string> inputs;
  std::string output, out_dir, json_path, landmarks_model, format = "png";
  int size = 1024;
  int face = 0;
  std::int64_t max_pixels = ImageReadOptions{}.max_pixels;
};

using nlohmann::json;

json point_json(const cv::Point2d& p) { return json::array({p.x, p.y}); }
json matrix_json(const cv::Matx23d& m) {
  return json::array({json::array({m(0, 0), m(0, 1), m(0, 2)}), json::array({m(1, 0), m(1, 1), m(1, 2)})});
}
json rect_json(const cv::Rect& r) { return json::array({r.x, r.y, r.width, r.height}); }

json report_entry(const std::string& input, const std::string& output, const cv::Size& image_size,
                  const std::vector<Face>& faces, int selected, const AlignedFace& a) {
  const AlignmentPlan& p = a.alignment;
  json j;
  j["file"] = input;
  j["output"] = output;
  j["image_size"] = json::array({image_size.width, image_size.height});
  j["faces"] = json::array();
  for (const auto& f : faces)
    j["faces"].push_back({{"box", json::array({f.box.x, f.box.y, f.box.width, f.box.height})},
                          {"score", f.score}});
  j["selected"] = selected;
  json lm = json::array(), alm = json::array(), quad = json::array(), wquad = json::array();
  for (const auto& pt : faces[static_cast<std::size_t>(selected)].landmarks) lm.push_back(point_json(pt));
  for (const auto& pt : a.landmarks) alm.push_back(point_json(pt));
  for (const auto& pt : p.quad) quad.push_back(point_json(pt));
  for (const auto& pt : p.work_quad) wquad.push_back(point_json(pt));
  j["landmarks"] = lm;
  j["aligned_landmarks"] = alm;
  j["quad"] = quad;
  j["aligned_to_original"] = matrix_json(p.aligned_to_original);
  j["original_to_aligned"] = matrix_json(p.original_to_aligned);
  j["plan"] = {{"output_size", p.output_size},
               {"transform_size", p.transform_size},
               {"qsize", p.qsize},
               {"shrink", p.shrink},
               {"shrunk_size", json::array({p.shrunk_size.width, p.shrunk_size.height})},
               {"shrink_scale", json::array({p.shrink_scale[0], p.shrink_scale[1]})},
               {"work_qsize", p.work_qsize},
               {"border", p.border},
               {"crop", rect_json(p.crop)},
               {"padded", p.padded},
               {"pad", json::array({p.pad[0], p.pad[1], p.pad[2], p.pad[3]})},
               {"blur_sigma", p.blur_sigma},
               {"work_size", json::array({p.work_size.width, p.work_size.height})},
               {"work_quad", wquad}};
  return j;
}

// Output path for every input, checked before any work.
std::vector<std::string> plan_outputs(const AlignArgs& a) {
  std::vector<std::string> outputs;
  if (!a.output.empty()) {
    if (a.inputs.size() != 1)
      throw UsageError("align: -o takes exactly one input image (got " + std::to_string(a.inputs.size()) +
                       "); use --out-dir DIR for several");
    check_image_output_extension(a.output);
    outputs.push_back(a.output);
    return outputs;
  }
  if (a.out_dir.empty()) throw UsageError("align: give -o OUT (one input) or --out-dir DIR");
  ensure_output_directory(a.out_dir, "--out-dir");
  std::map<std::string, std::string> seen;  // output -> input
  for (const auto& in : a.inputs) {
    const std::string out = derived_output_path(in, a.out_dir, "_aligned", "." + a.format);
    auto [it, fresh] = seen.emplace(out, in);
    if (!fresh)
      throw UsageError("align: " + in + " and " + it->second + " would both be written to " + out +
                       " (same file name); align them in separate runs or rename one");
    outputs.push_back(out);
  }
  return outputs;
}

int run_align(const AlignArgs& a, const GlobalOptions& g) {
  const std::vector<std::string> outputs = plan_outputs(a);
  std::vector<bool> todo(outputs.size());
  std::size_t pending = 0;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    todo[i] = prepare_output(outputs[i], a.inputs, g.overwrite);
    if (!todo[i]) spdlog::info("{}: exists, skipped (-n)", outputs[i]);
    pending += todo[i] ? 1 : 0;
  }
  bool write_json = false;
  if (!a.json_path.empty()) {
    for (const auto& out : outputs)
      if (out == a.json_path) throw UsageError(a.json_path + ": --landmarks-json names an image output");
    write_json = prepare_output(a.json_path, a.inputs, g.overwrite);
  }
  if (pending == 0) return kExitOk;
  const std::string model_path = resolve_landmarks_model(a.landmarks_model);  // fail fast when missing

  // Loaded on the first readable image (it takes a second or two), so that a
  // run whose inputs are all unreadable fails at once.
  std::optional<FaceDetector> detector;
  const ImageReadOptions read_opts{a.max_pixels};
  AlignOptions align_opts;
  align_opts.output_size = a.size;
  json report = {{"version", version_line()}, {"images", json::array()}};
  int first_failure = kExitOk;

  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    if (!todo[i]) continue;
    const std::string& in = a.inputs[i];
    try {
      check_interrupt();
      const cv::Mat image = read_image(in, read_opts);
      if (!detector) detector.emplace(model_path);
      const std::vector<Face> faces = detector->detect(image);
      const Face& face = select_face(faces, a.face, in);
      check_interrupt();
      const AlignedFace aligned = align_face(image, face.landmarks, align_opts);
      check_interrupt();
      write_image(outputs[i], aligned.image);
      std::cout << outputs[i] << std::endl;
      if (write_json) report["images"].push_back(report_entry(in, outputs[i], image.size(), faces, a.face, aligned));
    } catch (const Interrupted&) {
      throw;
    } catch (const ModelError&) {
      throw;  // the landmarks model is unusable: every input would fail the same way
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (msg.rfind(in, 0) != 0) msg = in + ": " + msg;  // every message names its file
      spdlog::error("{}", msg);
      const auto* fe = dynamic_cast<const Error*>(&e);
      const int code = fe ? fe->exit_code() : kExitFailure;
      if (first_failure == kExitOk) first_failure = code;
      if (write_json) report["images"].push_back({{"file", in}, {"error", msg}, {"exit_code", code}});
    }
  }
  if (write_json) write_bytes_atomic(a.json_path, report.dump(2) + "\n");
  return first_failure;
}

Runner add_align_command(CLI::App& app, const GlobalOptions& g) {
  auto args = std::make_shared<AlignArgs>();
  CLI::App* cmd = app.add_subcommand(
      "align", "Detect the face in each photo and write its FFHQ-aligned square crop");
  cmd->footer(
      "Outputs: -o OUT for one input; --out-dir DIR writes DIR/<name>_aligned.<format> per input.\n"
      "stdout gets one line per written output path. Every output is checked before any work:\n"
      "an existing one is an error unless -y (overwrite) or -n (skip it); an input is never\n"
      "overwritten.\n"
      "Several inputs: a failing input is reported on stderr and skipped, the others are still\n"
      "aligned, and the exit code is that of the first failure (3 no usable face, 4 unreadable\n"
      "input or unwritable output, 1 other failure); 0 when all succeeded.\n"
      "Faces are numbered from the largest (0) down; --face N picks one.");
  const char* io = "Input/output";
  const char* face = "Face";
  cmd->add_option("images", args->inputs, "Input photos (PNG, JPEG, WebP, BMP, TIFF)")
      ->required()
      ->group(io);
  auto* out = cmd->add_option("-o,--output", args->output, "Output image (one input only)")->group(io);
  auto* dir = cmd->add_option("--out-dir", args->out_dir, "Directory for <name>_aligned.<format> outputs")
                  ->group(io);
  out->excludes(dir);
  cmd->add_option("--format", args->format, "Output format with --out-dir")
      ->check(CLI::IsMember({"png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"}))
      ->group(io);
  cmd->add_option("--size", args->size, "Side of the aligned square image in pixels")
      ->check(CLI::Range(16, 4096))
      ->group(io);
  cmd->add_option("--landmarks-json", args->json_path,
                  "Also write a JSON report: faces, landmarks, quad, alignment matrices")
      ->group(io);
  add_max_pixels_option(*cmd, args->max_pixels)->group(io);
  cmd->add_option("--face", args->face, "Which face to align: 0 = largest, 1 = next, ...")
      ->check(CLI::NonNegativeNumber)
      ->group(face);
  add_landmarks_model_option(*cmd, args->landmarks_model)->group(face);
  return [args, &g] { return run_align(*args, g); };
}

static const CommandRegistration reg{"align", 10, &add_align_command};

}  // namespace
}  // namespace facemix::cli
