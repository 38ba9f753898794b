// `facemix batch`: many blends from a directory of photos or a manifest, with
// a latent cache, resume, shards, a report and a summary (docs/batch.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "input_options.h"
#include "facemix/batch.h"
#include "facemix/batch_cache.h"
#include "facemix/batch_run.h"
#include "facemix/pipeline_stages.h"
#include "facemix/errors.h"
#include "facemix/makeup_batch.h"
#include "facemix/model_file.h"
#include "facemix/morph.h"
#include "facemix/output.h"
#include "memory_guard.h"
#include "progress_bar.h"
#include "projection_options.h"
#include "threading.h"

namespace fs = std::filesystem;

namespace facemix::cli {
namespace {

struct BatchArgs {
  std::string input_dir, manifest, out_dir, pairs = "all", extension = ".png";
  int groups = 2;
  bool recursive = false;
  std::string cache;
  double prune_days = -1;
  bool update = false;
  std::string shard;
  int jobs = 0;  // 0 = the engine's default
  std::string report;
  bool list = false;
  std::string engine = "auto", model, weights, landmarks_model, device = "cpu";
  std::vector<std::string> mix;
  double truncation = 1.0;
  std::uint64_t seed = 0;
  int size = 1024, face = 0, project_batch = 8;
  bool paste_back = false;
  int paste_into = 0;
  ProjectionArgs projection;
  std::string makeup, makeup_parts = "all";  // --makeup REFERENCE: makeup jobs instead of blends
  double makeup_amount = 1.0;
  std::string identity = "auto", identity_model;
  bool no_identity = false;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot read the manifest");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<BatchJob> make_jobs(const BatchArgs& a) {
  if (!a.manifest.empty()) {
    if (!a.makeup.empty()) throw UsageError("--makeup takes a directory of photos, not --manifest");
    if (!a.input_dir.empty()) throw UsageError("give either a directory or --manifest, not both");
    if (!a.out_dir.empty()) throw UsageError("-o/--out-dir is for a directory of photos; a manifest names its outputs");
    const std::string base = fs::path(a.manifest).parent_path().string();
    try {
      return parse_manifest(read_text(a.manifest), base);
    } catch (const UsageError& e) {
      throw UsageError(a.manifest + ": " + e.what());
    }
  }
  if (a.out_dir.empty()) throw UsageError("-o/--out-dir DIR is required with a directory of photos");
  if (!a.makeup.empty()) {
    const std::string ext = a.extension.empty() || a.extension[0] == '.' ? a.extension : "." + a.extension;
    return makeup_jobs(a.makeup, list_photos(a.input_dir, a.recursive, a.out_dir), a.input_dir, a.out_dir, ext);
  }
  DirectoryJobOptions o;
  o.mode = parse_pair_mode(a.pairs);
  o.group = a.groups;
  o.out_dir = a.out_dir;
  o.extension = a.extension.empty() || a.extension[0] == '.' ? a.extension : "." + a.extension;
  const auto photos = list_photos(a.input_dir, a.recursive, a.out_dir);
  if (photos.size() < static_cast<std::size_t>(a.groups))
    spdlog::warn("{}: {} photo(s), fewer than --groups {}: nothing to blend", a.input_dir, photos.size(), a.groups);
  return directory_jobs(photos, a.input_dir, o);
}

ResumePolicy resume_policy(const BatchArgs& a, const GlobalOptions& g) {
  if (a.update && g.overwrite != Overwrite::kRefuse)
    throw UsageError("-u contradicts -y and -n (-u remakes stale outputs, -y all, -n none)");
  if (a.update) return ResumePolicy::kUpdate;
  if (g.overwrite == Overwrite::kYes) return ResumePolicy::kRemake;
  if (g.overwrite == Overwrite::kNever) return ResumePolicy::kKeep;
  return ResumePolicy::kMake;
}

int run_batch_command(const BatchArgs& a, const GlobalOptions& g) {
  if (a.input_dir.empty() && a.manifest.empty()) {
    if (a.prune_days < 0) throw UsageError("nothing to do: give a directory of photos, --manifest FILE or --prune-cache DAYS");
  }
  if (a.prune_days >= 0) {
    if (a.cache.empty()) throw UsageError("--prune-cache needs --cache DIR");
    const PruneStats p = prune_latent_cache(a.cache, static_cast<std::int64_t>(a.prune_days * 86400.0));
    spdlog::info("{}: pruned {} entr{}, kept {}, removed {} stale temporary file(s)", a.cache, p.entries_removed,
                 p.entries_removed == 1 ? "y" : "ies", p.entries_kept, p.temp_files_removed);
    if (a.input_dir.empty() && a.manifest.empty()) return kExitOk;
  }
  const ResumePolicy resume = resume_policy(a, g);
  std::vector<BatchJob> all = make_jobs(a);
  std::vector<BatchJob> jobs;
  const Shard shard = a.shard.empty() ? Shard{} : parse_shard(a.shard);
  for (std::size_t i : shard_jobs(all.size(), shard)) jobs.push_back(all[i]);
  if (!a.shard.empty())
    spdlog::info("shard {}/{}: {} of {} jobs", shard.index, shard.count, jobs.size(), all.size());
  if (a.list) {
    for (const auto& j : jobs) {
      std::cout << j.output;
      for (const auto& in : j.inputs) std::cout << '\t' << in;
      std::cout << '\n';
    }
    return kExitOk;
  }

  // Output directories: -o is created; a manifest's output directories too.
  if (a.manifest.empty()) ensure_output_directory(a.out_dir, "--out-dir");
  for (const auto& j : jobs) {
    const std::string dir = fs::path(j.output).parent_path().string();
    if (!dir.empty()) ensure_output_directory(dir, "manifest output");
  }

  BatchSettings s;
  if (!a.makeup.empty()) {
    s.engine = BatchEngine::kMakeup;
    s.makeup.options.parts = parse_makeup_parts(a.makeup_parts);
    s.makeup.amount = a.makeup_amount;
    if (a.engine == "gan") throw UsageError("--makeup and --engine gan exclude each other");
  } else if (a.engine == "morph") {
    s.engine = BatchEngine::kMorph;
  } else {
    try {
      s.model = find_model(a.model);
      if (!fs::is_regular_file(s.model))
        throw ModelError(s.model + ": no such model file (from --model or $FACEMIX_MODEL)");
      s.engine = BatchEngine::kGan;
    } catch (const ModelError&) {
      if (a.engine == "gan") throw;
      spdlog::info("no GAN model found: blending with the landmark morph engine");
      s.engine = BatchEngine::kMorph;
    }
  }
  if (s.engine != BatchEngine::kGan) {
    const char* gan_only = !a.mix.empty()                       ? "--mix"
                           : a.truncation != 1.0                ? "--truncation"
                           : !a.cache.empty() && a.prune_days < 0 ? "--cache"
                           : !a.projection.schedule.empty()     ? "--schedule"
                                                                : nullptr;
    if (gan_only) throw UsageError(std::string(gan_only) + " needs the GAN engine (--engine gan and a model)");
  } else {
    spdlog::info("GAN engine, model {}", s.model);
    ProjectionArgs pa = a.projection;
    pa.seed = a.seed;
    // Resolution-dependent parts (the schedule) need the model's size: read it cheaply.
    const GeneratorConfig config = inspect_model(s.model).config;
    s.projection = to_projector_options(pa, config.img_resolution);
    check_memory_estimate(a.project_batch * projection_bytes_per_image(config),
                          "batch --project-batch " + std::to_string(a.project_batch),
                          "lower --project-batch");
  }
  s.mix = a.mix;
  s.truncation = a.truncation;
  s.device = a.device;
  s.size = a.size;
  s.face = a.face;
  s.landmarks_model = a.landmarks_model;
  if (a.paste_into > 0 || a.paste_back) s.paste_into = a.paste_into > 0 ? a.paste_into - 1 : 0;
  if (!a.weights.empty()) {
    const std::size_t n = std::count(a.weights.begin(), a.weights.end(), ',') + 1;
    s.weights = parse_weights(a.weights, n);
  }
  if (s.engine == BatchEngine::kMorph)
    s.identity = resolve_identity_mode(a.no_identity ? "off" : a.identity, !a.weights.empty(), true,
                                       a.identity_model, s.identity_model);
  s.cache_dir = a.cache;
  s.project_batch = a.project_batch;
  s.resume = resume;
  const int threads = g.threads > 0 ? g.threads : available_cores();
  s.jobs = a.jobs > 0 ? a.jobs : s.engine == BatchEngine::kGan ? 1 : threads;
  s.threads_per_job = std::max(1, threads / s.jobs);
  if (s.jobs > 1) cv::setNumThreads(s.threads_per_job);
  spdlog::debug("{} job(s) in parallel, {} thread(s) each", s.jobs, s.threads_per_job);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> report(nullptr, &std::fclose);
  if (!a.report.empty()) {
    for (const auto& j : jobs)
      for (const auto& in : j.inputs)
        if (fs::weakly_canonical(in) == fs::weakly_canonical(a.report))
          throw IoError(a.report + ": --report would overwrite an input file");
    report.reset(std::fopen(a.report.c_str(), "w"));
    if (!report) throw IoError(a.report + ": cannot create the --report file");
  }

  ProgressBar bar(g.progress_bar());
  BatchObserver obs;
  obs.job_finished = [&](const JobOutcome& o) {
    if (report) {
      const std::string line = job_report_json(o) + "\n";
      std::fputs(line.c_str(), report.get());
      std::fflush(report.get());
    }
    if (o.status != JobStatus::kSkipped) bar.finish();  // before the output line or the error line
    if (o.status == JobStatus::kDone) std::cout << o.job->output << std::endl;
  };
  // The bar's "batch" stage counts jobs from the moment work begins (after the
  // skipped ones), so its rate and ETA are those of the whole batch.
  obs.progress = bar.callback();
  const BatchSummary sum = run_batch(jobs, s, obs);
  bar.finish();
  if (!g.quiet)
    std::cerr << "facemix: batch: " << sum.done << " done, " << sum.skipped << " skipped, " << sum.failed
              << " failed" << (sum.interrupted ? ", interrupted" : "") << " in " << format_duration(sum.seconds)
              << (s.engine == BatchEngine::kGan ? " (" + std::to_string(sum.projected) + " photo(s) projected, " +
                                                       std::to_string(sum.cache_hits) + " from the cache)"
                                                 : std::string())
              << "\n";
  if (sum.interrupted) return kExitInterrupted;
  return sum.failed > 0 ? kExitFailure : kExitOk;
}

Runner add_batch_command(CLI::App& app, const GlobalOptions& g) {
  auto a = std::make_shared<BatchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "batch",
      "Blend many photos: every pair (or K-group) of a directory, or the jobs of a CSV/TSV manifest; "
      "each photo is projected once (latent cache), finished outputs are skipped (resume), "
      "--shard splits the work between machines. Exit 1 when any job failed. See docs/batch.md.");
  const char* src = "Jobs";
  cmd->add_option("dir", a->input_dir, "Directory of photos to blend (pairs, or groups of --groups)")->group(src);
  cmd->add_option("--manifest", a->manifest,
                  "CSV/TSV of jobs: header output,input1,input2[,...][,weights,paste_into,truncation]")
      ->group(src);
  cmd->add_option("-o,--out-dir", a->out_dir, "Output directory for a directory's blends (created)")->group(src);
  cmd->add_option("--pairs", a->pairs, "all: every pair (K-group); adjacent: consecutive photos in name order")
      ->check(CLI::IsMember({"all", "adjacent"}))
      ->group(src);
  cmd->add_option("--groups", a->groups, "Photos per blend (K-way blends)")->check(CLI::Range(2, 64))->group(src);
  cmd->add_flag("-r,--recursive", a->recursive, "Include photos in subdirectories")->group(src);
  cmd->add_option("--ext", a->extension, "Output format of a directory's blends")->group(src);
  cmd->add_option("--shard", a->shard, "Run only shard K of N (K/N, 1-based): contiguous blocks of the job list")
      ->group(src);
  cmd->add_flag("--list", a->list, "Print the jobs (output, tab, inputs) and exit")->group(src);

  const char* run = "Run";
  cmd->add_option("--cache", a->cache, "Latent cache directory (shareable between processes)")->group(run);
  cmd->add_option("--prune-cache", a->prune_days,
                  "Before running, remove cache entries unused for DAYS days (0 = all); alone: prune only")
      ->check(CLI::NonNegativeNumber)
      ->default_str("")
      ->group(run);
  cmd->add_flag("-u,--update", a->update,
                "Remake outputs older than their inputs (default: such a job fails; up-to-date ones are "
                "always skipped unless -y)")
      ->group(run);
  cmd->add_option("--jobs", a->jobs,
                  "Jobs in parallel (detection, rendering); default 1 with the GAN engine (Torch uses every "
                  "--threads), --threads with the morph engine")
      ->check(CLI::Range(0, 1024))
      ->default_str("")
      ->group(run);
  cmd->add_option("--project-batch", a->project_batch, "Photos projected together (GAN)")
      ->check(CLI::Range(1, 1024))
      ->group(run);
  cmd->add_option("--report", a->report, "Write one JSON line per job to FILE (replaced)")->group(run);

  const char* blend = "Blend";
  cmd->add_option("--engine", a->engine, "auto: GAN when a model is found, else morph; gan; morph")
      ->check(CLI::IsMember({"auto", "morph", "gan"}))
      ->group(blend);
  cmd->add_option("--model", a->model, "StyleGAN2 model (default: $FACEMIX_MODEL, then the models directories)")
      ->group(blend);
  cmd->add_option("--seed", a->seed, "Random seed of the projection")->group(blend);
  cmd->add_option("--size", a->size, "Side of the output face crop in pixels")->check(CLI::Range(16, 4096))->group(blend);
  cmd->add_option("--face", a->face, "Which face of each photo: 0 = largest")->check(CLI::NonNegativeNumber)->group(blend);
  cmd->add_option("-w,--weights", a->weights, "Weights of the inputs (for jobs without their own)")->group(blend);
  cmd->add_option("--identity", a->identity,
                  "Morph engine: auto balances the weights of jobs without their own for identity and reports "
                  "every blend's identity distances when the identity model is found; balance, report, off")
      ->check(CLI::IsMember({"auto", "balance", "report", "off"}))
      ->group(blend);
  cmd->add_flag("--no-identity", a->no_identity, "Same as --identity off")->group(blend);
  add_identity_model_option(*cmd, a->identity_model)->group(blend);
  cmd->add_option("--mix", a->mix, "Per-layer mixing RANGE=WEIGHTS, repeatable (as the main form)")->group(blend);
  cmd->add_option("--truncation", a->truncation, "Truncation psi after mixing (jobs may override)")
      ->check(CLI::Range(-2.0, 2.0))
      ->group(blend);
  cmd->add_flag("--paste-back", a->paste_back, "Composite each blend into its first input's photo")->group(blend);
  cmd->add_option("--paste-into", a->paste_into, "Composite each blend into its input N's photo")
      ->check(CLI::Range(1, 100000))
      ->default_str("")
      ->group(blend);
  add_landmarks_model_option(*cmd, a->landmarks_model)->group(blend);
  cmd->add_option("--device", a->device, "cpu or cuda[:N] (needs a CUDA LibTorch)")->group(blend);
  const char* makeup = "Makeup (docs/makeup.md)";
  auto* ref = cmd->add_option("--makeup", a->makeup,
                              "Instead of blending, put REFERENCE's makeup on every photo of the directory "
                              "(outputs OUT_DIR/<photo name><ext>)")
                  ->group(makeup);
  cmd->add_option("--parts", a->makeup_parts, "Makeup parts: comma-separated lips, eyes, skin, blush, or all")
      ->needs(ref)
      ->group(makeup);
  cmd->add_option("--amount", a->makeup_amount, "Makeup strength, 0 (photos unchanged) to 1")
      ->needs(ref)
      ->group(makeup);
  add_projection_options(*cmd, a->projection, "Projection", "Optimiser (NVIDIA's defaults)");
  return [a, &g] { return run_batch_command(*a, g); };
}

const CommandRegistration reg{"batch", 60, &add_batch_command};

}  // namespace
}  // namespace facemix::cli
