// The JSON a blend reports (--report), and its identity and weights parts,
// which batch reports reuse.
#include "facemix/pipeline.h"
#include "facemix/version.h"

namespace facemix {

nlohmann::ordered_json identity_json(const IdentityFigures& f) {
  nlohmann::ordered_json j;
  j["distances"] = f.distances;
  j["max_distance"] = f.max_distance;
  j["all_same_at_0.6"] = f.all_same;
  j["all_same_at_0.5"] = f.all_same_strict;
  return j;
}

nlohmann::ordered_json mix_json(const MorphMix& mix) {
  nlohmann::ordered_json j;
  j["shape"] = mix.shape;
  j["backdrop"] = mix.backdrop;
  for (int r = 0; r < kFaceRegionCount; ++r) j[face_region_name(r)] = mix.regions[r];
  nlohmann::ordered_json geometry;
  for (int r = 0; r < kFaceRegionCount; ++r) geometry[face_region_name(r)] = mix.shape_of(r);
  j["shape_by_region"] = geometry;
  return j;
}

std::string blend_report_json(const BlendRequest& r, const BlendResult& result) {
  nlohmann::ordered_json j;
  j["version"] = version_line();
  j["inputs"] = r.inputs;
  j["output"] = r.output;
  j["engine"] = r.engine.engine == BlendEngine::kGan ? "gan" : "morph";
  if (r.engine.engine == BlendEngine::kGan) j["model"] = r.engine.model;
  j["settings"] = {{"size", r.size},
                   {"face", r.face},
                   {"paste_into", r.paste_target >= 0 ? nlohmann::ordered_json(r.paste_target + 1) : nullptr},
                   {"identity", r.identity == IdentityMode::kOff      ? "off"
                                : r.identity == IdentityMode::kReport ? "report"
                                                                      : "balance"}};
  if (r.engine.engine == BlendEngine::kGan) {
    j["settings"]["seed"] = r.gan.projection.seed;
    j["settings"]["truncation"] = r.gan.truncation;
    j["settings"]["mix"] = r.gan.mix;
    if (r.gan.refine_steps > 0) j["settings"]["refine_steps"] = r.gan.refine_steps;
  }
  j["weights"] = {{"requested", result.weights}};
  if (r.engine.engine == BlendEngine::kMorph && !result.mix.shape.empty()) j["weights"]["used"] = mix_json(result.mix);
  if (result.identity) {
    j["identity"] = identity_json(*result.identity);
    j["identity"]["model"] = r.identity_model;
  } else {
    j["identity"] = nullptr;
  }
  if (result.refinement) {
    const IdentityRefinement& f = *result.refinement;
    j["refinement"] = {{"steps", static_cast<int>(f.losses.size()) - 1},
                       {"best_step", f.best_step},
                       {"render_resolution", f.render_resolution},
                       {"initial_distances", f.initial_distances},
                       {"final_distances", f.final_distances},
                       {"initial_loss", f.losses.front()},
                       {"final_loss", f.losses[static_cast<std::size_t>(f.best_step)]},
                       {"seconds", f.seconds}};
  }
  nlohmann::ordered_json t = nlohmann::ordered_json::object();
  for (const auto& s : result.timings) t[s.stage] = s.seconds;
  j["seconds"] = t;
  return j.dump(2);
}

}  // namespace facemix
