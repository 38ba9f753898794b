// `facemix score PROBE IMAGE...`: how much the face in PROBE resembles the face
// in each IMAGE, by the identity network's descriptor distance, with "same
// person" verdicts at the usual thresholds. The verdict is data: exit 0 when the
// scoring ran, whatever it says.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "input_options.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/image_io.h"
#include "facemix/progress.h"
#include "facemix/version.h"

namespace facemix::cli {
namespace {

struct ScoreArgs {
  std::string probe;
  std::vector<std::string> images;
  std::string identity_model, landmarks_model;
  int face = 0, probe_face = -1;  // -1: same as --face
  bool json = false;
  std::int64_t max_pixels = ImageReadOptions{}.max_pixels;
};

struct Scored {
  std::string file;
  std::optional<double> distance;
  std::string error;
  int exit_code = kExitOk;
};

std::string fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string verdict(double d, double threshold) { return d < threshold ? "same" : "different"; }

int run_score(const ScoreArgs& a, const GlobalOptions&) {
  const std::string model_path = find_identity_model(a.identity_model);
  const IdentityModel model = load_identity_model(model_path);
  const FaceDetector detector(a.landmarks_model);
  const ImageReadOptions read_options{a.max_pixels};
  auto describe = [&](const std::string& file, int face_index) {
    const cv::Mat image = read_image(file, read_options);
    const std::vector<Face> faces = detector.detect(image);
    const Face& face = select_face(faces, face_index, file);
    return describe_face(model, image, face.landmarks);
  };
  // The probe is required: without its face there is nothing to score.
  const Descriptor probe = describe(a.probe, a.probe_face >= 0 ? a.probe_face : a.face);

  std::vector<Scored> results;
  int first_failure = kExitOk;
  for (const auto& file : a.images) {
    Scored s;
    s.file = file;
    try {
      check_interrupt();
      s.distance = descriptor_distance(probe, describe(file, a.face));
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      s.error = e.what();
      if (s.error.rfind(file, 0) != 0) s.error = file + ": " + s.error;
      s.exit_code = e.exit_code();
      spdlog::error("{}", s.error);
      if (first_failure == kExitOk) first_failure = s.exit_code;
    }
    results.push_back(s);
  }

  std::optional<double> max_distance;
  bool all_scored = true;
  for (const auto& r : results) {
    if (!r.distance) all_scored = false;
    else if (!max_distance || *r.distance > *max_distance) max_distance = r.distance;
  }
  const bool all_06 = all_scored && max_distance && *max_distance < kSamePersonThreshold;
  const bool all_05 = all_scored && max_distance && *max_distance < kStrictSamePersonThreshold;

  if (a.json) {
    nlohmann::ordered_json j;
    j["probe"] = a.probe;
    j["identity_model"] = model.path;
    j["thresholds"] = {kSamePersonThreshold, kStrictSamePersonThreshold};
    j["images"] = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json e;
      e["file"] = r.file;
      if (r.distance) {
        e["distance"] = *r.distance;
        e["same_at_0.6"] = *r.distance < kSamePersonThreshold;
        e["same_at_0.5"] = *r.distance < kStrictSamePersonThreshold;
      } else {
        e["error"] = r.error;
        e["exit_code"] = r.exit_code;
      }
      j["images"].push_back(e);
    }
    j["max_distance"] = max_distance ? nlohmann::ordered_json(*max_distance) : nlohmann::ordered_json(nullptr);
    j["all_same_at_0.6"] = all_06;
    j["all_same_at_0.5"] = all_05;
    std::cout << j.dump(2) << "\n";
  } else {
    // One line per image: distance, verdict at 0.6, verdict at 0.5, file (tab-separated).
    for (const auto& r : results) {
      if (r.distance)
        std::cout << fixed(*r.distance) << '\t' << verdict(*r.distance, kSamePersonThreshold) << '\t'
                  << verdict(*r.distance, kStrictSamePersonThreshold) << '\t' << r.file << '\n';
      else
        std::cout << "-\terror\terror\t" << r.file << '\n';
    }
    std::cout << (max_distance ? fixed(*max_distance) : std::string("-")) << '\t'
              << (all_06 ? "all-same" : "not-all-same") << '\t' << (all_05 ? "all-same" : "not-all-same")
              << "\tmax over " << results.size() << " image(s)\n";
  }
  std::cout.flush();
  return first_failure;
}

Runner add_score_command(CLI::App& app, const GlobalOptions& g) {
  auto a = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "score", "Identity distance from the face in PROBE to the face in each IMAGE (same person below 0.6)");
  cmd->footer(
      "Output (stdout), one tab-separated line per IMAGE:\n"
      "  DISTANCE  VERDICT@0.6  VERDICT@0.5  IMAGE      (verdict: same | different)\n"
      "then a summary line: MAX  all-same|not-all-same (0.6)  all-same|not-all-same (0.5).\n"
      "--json writes one JSON object instead. Distances are Euclidean distances between dlib face\n"
      "recognition descriptors; dlib's published threshold for 'same person' is 0.6 (99.38% on LFW).\n"
      "Exit code 0 when the scoring ran, whatever the verdict. An IMAGE that cannot be scored is\n"
      "reported and the others are still scored (exit code of the first failure: 3 no face,\n"
      "4 unreadable); a PROBE without a usable face is exit 3, a missing identity model exit 5.");
  const char* io = "Input/output";
  const char* model = "Models";
  cmd->add_option("probe", a->probe, "The face to check, e.g. a blend")->required()->group(io);
  cmd->add_option("images", a->images, "The faces to compare it with, e.g. the blend's inputs")
      ->required()
      ->group(io);
  cmd->add_flag("--json", a->json, "Machine-readable JSON on stdout")->group(io);
  cmd->add_option("--face", a->face, "Which face of each IMAGE: 0 = largest, 1 = next, ...")
      ->check(CLI::NonNegativeNumber)
      ->group(io);
  cmd->add_option("--probe-face", a->probe_face, "Which face of PROBE (default: as --face)")
      ->check(CLI::NonNegativeNumber)
      ->default_str("")
      ->group(io);
  add_max_pixels_option(*cmd, a->max_pixels)->group(io);
  add_identity_model_option(*cmd, a->identity_model)->group(model);
  add_landmarks_model_option(*cmd, a->landmarks_model)->group(model);
  return [a, &g] { return run_score(*a, g); };
}

const CommandRegistration reg{"score", 35, &add_score_command};

}  // namespace
}  // namespace facemix::cli
