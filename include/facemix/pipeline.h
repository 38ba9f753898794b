// The blend pipeline: one request in, the written output(s) and what was
// done out. The main form (`facemix A B -o OUT`, both engines) runs one
// request; `facemix batch` and `facemix project` run the same stages
// (pipeline_stages.h) over many photos with shared models.
//
//   facemix::BlendRequest req;
//   req.inputs = {"a.jpg", "b.jpg"};
//   req.output = "blend.png";
//   req.engine = facemix::choose_blend_engine("auto", "").engine;
//   facemix::BlendObserver obs;
//   obs.written = [](const std::string& path) { std::cout << path << "\n"; };
//   facemix::BlendResult r = facemix::run_blend(req, obs);   // r.weights, r.timings
//
// Data flows one way: read photo -> detect -> align -> choose weights ->
// (morph | project, mix, render) -> paste-back -> write (atomically).
// With an identity model the inputs are described from their photos, the
// morph weights may be chosen between alignment and rendering
// (IdentityMode::kBalance, identity_balance.h), and the result reports the
// weights used and the blend's identity distances to every input.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "facemix/align.h"
#include "facemix/image_io.h"
#include "facemix/output.h"
#include "facemix/identity_refine.h"
#include "facemix/progress.h"
#include "facemix/pipeline_stages.h"
#include "facemix/projector.h"
#include "facemix/sequence.h"

namespace facemix {

enum class BlendEngine { kMorph, kGan };

struct EngineChoice {
  BlendEngine engine = BlendEngine::kMorph;
  std::string model;   // the GAN engine's model file
  std::string notice;  // one line for the user (which engine and why), or ""
};

// The one place that decides which engine renders: "morph"; "gan" needs a
// model; "auto" uses the GAN engine when a model is found, morph otherwise.
// requires: requested is "auto", "morph" or "gan".
// throws:   ModelError for "gan" without a model, and for a model named by
//           model_option or $FACEMIX_MODEL that does not exist (a typo there
//           is an error, never a silent fallback).
EngineChoice choose_blend_engine(const std::string& requested, const std::string& model_option);

// The GAN engine's settings (ignored by the morph engine).
struct GanBlendSettings {
  ProjectorOptions projection;   // seed = --seed; its schedule is set from `schedule`
  std::string schedule;          // --schedule text, "" = the model's default (parsed once the model is loaded)
  std::vector<std::string> mix;  // --mix RANGE=WEIGHTS specs
  double truncation = 1.0;
  std::string device = "cpu";
  std::string save_latents;      // DIR for <name>.npz + .json per photo, or ""
  // > 0: refine the mixed latent for identity to every input (identity_refine.h)
  // for this many steps before rendering; needs an identity mode other than
  // kOff, photos for every input and a single image. 0: off (the default).
  int refine_steps = 0;
};

struct BlendRequest {
  std::vector<std::string> inputs;   // photos; GAN engine: also latent files (.npz/.npy)
  std::string output;                // an image, or with frames > 0 a .gif, .mp4 or DIR/
  EngineChoice engine;
  std::vector<double> weights;       // normalised, one per input (morph.h parse_weights)
  int size = 1024;                   // side of the output face crop
  int face = 0;                      // which face of each photo (0 = largest)
  std::string landmarks_model;       // "" = the default (face.h)
  ImageReadOptions read;             // --max-pixels
  int paste_target = -1;             // input index to paste into, -1 = none
  int frames = 0;                    // > 0: a sequence of this many frames (weights unused)
  bool boomerang = false;
  double fps = 25.0;
  std::string keep_aligned;          // DIR for <name>_aligned.png (GAN: also _projected.png), or ""
  Overwrite overwrite = Overwrite::kRefuse;
  GanBlendSettings gan;
  IdentityMode identity = IdentityMode::kOff;  // resolve_identity_mode (pipeline_stages.h)
  std::string identity_model;        // the identity model file when identity is not kOff
};

struct StageTiming {
  std::string stage;  // "load", "detect+align", "project", "render+write"
  double seconds = 0;
};

struct BlendResult {
  bool skipped = false;               // -n and the output exists: nothing was done
  std::vector<double> weights;        // the requested weights (single image)
  MorphMix mix;                       // morph engine, single image: the weights used, per part
  std::optional<IdentityFigures> identity;  // the blend's distances to its inputs (identity not kOff)
  std::optional<IdentityRefinement> refinement;  // GAN engine with refine_steps > 0
  std::vector<std::string> written;   // every file written, in order (as BlendObserver::written saw)
  std::vector<StageTiming> timings;
};

struct BlendObserver {
  ProgressCallback progress;                         // stages "align", "project ...", "frames"
  std::function<void(const std::string&)> written;   // each output once written: the CLI prints it
};

// The --report JSON of a single blend (one object): version, inputs, output,
// engine (and model), settings, requested weights, the weights used per part
// (morph), identity (model, per-input distance and verdicts, max, all-same
// flags), the GAN identity refinement when it ran (steps, distances before
// and after on its reduced render) and timings.
std::string blend_report_json(const BlendRequest& request, const BlendResult& result);

// The identity figures as JSON: {"distances": [...], "max_distance", "all_same_at_0.6", "all_same_at_0.5"}.
nlohmann::ordered_json identity_json(const IdentityFigures& figures);
// A MorphMix as JSON: {"shape": [...], "backdrop": [...], "eyes": [...], "nose": ..., "mouth": ..., "face": ...}.
nlohmann::ordered_json mix_json(const MorphMix& mix);

// The whole blend. Before any photo is decoded: the outputs are checked
// (prepare_output / prepare_sequence_output under request.overwrite; a
// skipped main output returns skipped = true), the input headers are read,
// and for the GAN engine the model, mix specs and latent inputs are loaded
// and checked. Then every photo is read, its face detected and aligned, the
// weights chosen, the blend rendered (and pasted back), and the outputs
// written atomically.
// requires: inputs.size() >= 2, weights.size() == inputs.size(); output
//           extension valid for its kind (the CLI checks --frames against it);
//           paste_target < inputs.size(); latent inputs only with the GAN engine.
// ensures:  same request, same bytes.
// throws:   UsageError, IoError, NoFaceError, ModelError, Interrupted (errors.h);
//           no partial output is left.
BlendResult run_blend(const BlendRequest& request, const BlendObserver& observer = {});

}  // namespace facemix
