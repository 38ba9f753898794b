// Running a batch: the pipeline read photo -> detect -> align -> project
// (batched, through the latent cache) -> mix -> render -> paste-back -> write
// atomically, for every job of a list, where a failed job never stops the
// others.
//
//   facemix::BatchSettings s;  s.engine = facemix::BatchEngine::kGan;  s.model = "ffhq.safetensors";
//   facemix::BatchObserver obs;  obs.job_finished = [](const facemix::JobOutcome& o) { ... };
//   facemix::BatchSummary sum = facemix::run_batch(jobs, s, obs);
//
// Order of work (GAN engine): jobs run in list order in waves. A wave takes
// the next jobs until the photos they need that have no latent yet number
// `project_batch`; those photos are detected and aligned (in `jobs` threads),
// looked up in the cache, the misses projected as one batch with per-image
// seeds (image_projection_seed(seed, image sha256)), stored in the cache, and
// then the wave's blends are rendered and written (in `jobs` threads). So
// outputs appear early, an interruption loses at most one wave, and a shard
// projects only the photos its own jobs need.
//
// Resume: before a job runs, its output is checked against its inputs (and the
// model): see ResumePolicy. Stale temporary files of this batch's outputs
// (".<stem>.facemix-<16 hex>.tmp<ext>", left by a killed run) are removed
// first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "facemix/batch.h"
#include "facemix/makeup_batch.h"
#include "facemix/progress.h"
#include "facemix/projector.h"

namespace facemix {

enum class BatchEngine { kGan, kMorph, kMakeup };  // kMakeup: jobs from makeup_jobs()

// What to do with a job whose output already exists.
enum class ResumePolicy {
  kMake,       // default: skip it when newer than every input; fail the job when older (stale)
  kUpdate,     // -u: skip it when newer than every input; remake it when older
  kRemake,     // -y: remake every output
  kKeep,       // -n: skip every existing output, whatever its age
};

struct BatchSettings {
  BatchEngine engine = BatchEngine::kGan;
  std::string model;                 // GAN: the model file
  ProjectorOptions projection;       // GAN: schedule (empty = default), seed, ...; image_seeds are set per batch
  std::vector<std::string> mix;      // GAN: --mix specs, parsed per job (its input count)
  double truncation = 1.0;           // GAN: default psi
  std::string device = "cpu";
  int size = 1024;                   // output face crop side
  int face = 0;                      // which face of each photo
  std::string landmarks_model;       // "" = default
  int paste_into = -1;               // default paste-back target (0-based), -1 = none
  std::vector<double> weights;       // default weights (for jobs with this many inputs), empty = equal
  std::string cache_dir;             // "" = no cache
  int project_batch = 8;             // GAN: photos projected together
  int jobs = 1;                      // worker threads for detection and rendering
  int threads_per_job = 1;           // Torch/OpenCV threads inside each worker
  ResumePolicy resume = ResumePolicy::kMake;
  MakeupJobSettings makeup;          // kMakeup: parts, amount (size and face are taken from above)
};

enum class JobStatus { kDone, kSkipped, kFailed };
std::string to_string(JobStatus status);  // "done" | "skipped" | "failed"

// Where a job's input latent came from (GAN engine).
enum class LatentSource { kCache, kProjected, kMemory };  // memory: projected earlier in this run
std::string to_string(LatentSource source);  // "cache" | "projected" | "memory"

struct JobOutcome {
  std::size_t index = 0;       // in the job list given to run_batch
  const BatchJob* job = nullptr;
  JobStatus status = JobStatus::kDone;
  std::string reason;          // skipped: why; failed: the error line
  std::string error_kind;      // failed: "io" | "no_face" | "model" | "usage" | "failure"
  std::vector<LatentSource> sources;  // GAN, done: per input
  double prepare_seconds = 0;  // this job's share of detection, alignment and projection
  double render_seconds = 0;   // mix, render, paste, write
};

struct BatchObserver {
  std::function<void(const JobOutcome&)> job_finished;  // called once per job, from one thread at a time
  ProgressCallback progress;   // stage "batch": step = jobs finished, total = jobs
};

struct BatchSummary {
  int done = 0, skipped = 0, failed = 0;
  int projected = 0;           // photos projected in this run
  int cache_hits = 0;          // photos whose latent came from the cache
  int photos_failed = 0;       // photos that could not be read or had no face
  bool interrupted = false;    // stopped by check_interrupt(); the rest not run
  double seconds = 0;
};

// Runs `jobs` (in order) with `settings`.
// requires: every job has >= 2 inputs and an output extension write_image knows.
// ensures:  observer.job_finished was called for every job that ran (all
//           of them unless interrupted); an output is written only complete
//           (write_image is atomic); per-job problems (a bad photo, no face,
//           an output that cannot be written) fail only the jobs they touch.
// throws:   what makes the whole batch impossible before any job runs:
//           ModelError (model, landmark model), UsageError (settings: mix,
//           weights, schedule), IoError (cache directory). Interrupted is
//           not thrown: the summary says so.
BatchSummary run_batch(const std::vector<BatchJob>& jobs, const BatchSettings& settings,
                       const BatchObserver& observer = {});

// ---- resume helpers (used by run_batch, public for tests) ---------------------

enum class OutputState { kMissing, kUpToDate, kStale };

// kMissing when `output` does not exist; kStale when an existing dependency
// has a later modification time; else kUpToDate. Missing dependencies are
// ignored here (the job reports them when it runs).
OutputState output_state(const std::string& output, const std::vector<std::string>& dependencies);

// Removes, in the directories of `outputs`, temporary files that write_file_atomic
// names for those outputs (".<stem>.facemix-<16 hex>.tmp<ext>"); returns how many.
// Only this batch's outputs are matched, so shards writing other outputs into
// the same directory are not disturbed.
int remove_stale_temp_files(const std::vector<std::string>& outputs);

// One JSON object (one line, no newline) for the --report file: index, line,
// inputs, output, status, reason/error, error_kind, latents (per input:
// source), seconds {prepare, render, total}.
std::string job_report_json(const JobOutcome& outcome);

}  // namespace facemix
