// The batch pipeline (include/facemix/batch_run.h): resume decisions, waves of
// photo preparation and batched projection through the cache, then rendering.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include "facemix/align.h"
#include "facemix/batch_cache.h"
#include "facemix/batch_run.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/image_io.h"
#include "facemix/latent_mix.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/morph.h"
#include "facemix/output.h"
#include "facemix/paste_back.h"
#include "facemix/sha256.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The error line and kind of an exception caught around one photo or job.
void describe(std::exception_ptr ep, std::string& message, std::string& kind) {
  try {
    std::rethrow_exception(ep);
  } catch (const NoFaceError& e) {
    message = e.what(), kind = "no_face";
  } catch (const IoError& e) {
    message = e.what(), kind = "io";
  } catch (const ModelError& e) {
    message = e.what(), kind = "model";
  } catch (const UsageError& e) {
    message = e.what(), kind = "usage";
  } catch (const c10::Error& e) {
    message = std::string("torch: ") + e.what_without_backtrace(), kind = "failure";
  } catch (const std::exception& e) {
    message = e.what(), kind = "failure";
  }
}

struct Photo {
  std::string path;
  bool prepared = false;
  std::string error, error_kind;  // set: every job using the photo fails with it
  std::string sha256, key;
  torch::Tensor w;                // GAN: the latent once known
  LatentSource source = LatentSource::kProjected;
  bool reported = false;          // its source was reported by a job already
  bool has_face = false;
  Face face;                      // as detected in the photo (landmarks in its pixels)
  cv::Mat aligned;                // GAN: the crop at the model's resolution, until projected
  double seconds = 0;             // preparation + share of projection, charged to its first job
};

// Runs fn(i, worker) for i in [0, count) on `workers` threads (inline for one).
void parallel_for(std::size_t count, int workers, int threads_per_worker,
                  const std::function<void(std::size_t, int)>& fn) {
  if (workers <= 1 || count <= 1) {
    for (std::size_t i = 0; i < count; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  const int n = static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(workers)));
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      at::set_num_threads(threads_per_worker);
      for (std::size_t i = next++; i < count; i = next++) fn(i, t);
    });
  for (auto& th : pool) th.join();
}

class Runner {
 public:
  Runner(const std::vector<BatchJob>& jobs, const BatchSettings& s, const BatchObserver& obs)
      : jobs_(jobs), s_(s), obs_(obs), detectors_(static_cast<std::size_t>(std::max(1, s.jobs))) {}

  BatchSummary run() {
    const auto start = Clock::now();
    check_settings();
    std::vector<std::size_t> pending = decide_resume();
    if (!pending.empty()) setup();  // nothing to do: no model or detector to load
    if (obs_.progress) obs_.progress({"batch", finished_, static_cast<int>(jobs_.size()), -1.0});  // work begins
    try {
      if (s_.engine == BatchEngine::kGan)
        run_gan(pending);
      else if (s_.engine == BatchEngine::kMorph)
        run_morph(pending);
      else
        render_jobs(pending);  // makeup: each job reads its photo itself
    } catch (const Interrupted&) {
      summary_.interrupted = true;
    }
    if (interrupted_) summary_.interrupted = true;
    summary_.seconds = seconds_since(start);
    return summary_;
  }

 private:
  // ---- set-up: everything that can fail the whole batch, before any job ----
  void check_settings() const {
    for (const auto& job : jobs_) {
      if (!s_.weights.empty() && job.weights.empty() && s_.weights.size() != job.inputs.size())
        throw UsageError("-w gives " + std::to_string(s_.weights.size()) + " weights, but " + job.output +
                         " blends " + std::to_string(job.inputs.size()) + " inputs");
      for (const auto& spec : s_.mix) parse_layer_mix(spec, job.inputs.size());
    }
  }

  void setup() {
    // One detector per worker (dlib's keep scratch buffers); the first is made
    // now so that a bad landmark model fails the batch up front.
    detectors_[0] = std::make_unique<FaceDetector>(s_.landmarks_model);
    if (s_.engine == BatchEngine::kMakeup) {
      MakeupJobSettings m = s_.makeup;
      m.size = s_.size;
      m.face = s_.face;
      makeup_ = std::make_unique<MakeupJobRunner>(m);
    }
    if (s_.engine != BatchEngine::kGan) return;
    gen_ = load_generator(s_.model, parse_device(s_.device));
    const GeneratorConfig& c = gen_->config();
    if (c.img_channels != 3) throw ModelError(s_.model + ": the GAN engine needs a 3-channel generator");
    options_ = s_.projection;
    if (options_.schedule.empty()) options_.schedule = default_schedule(c.img_resolution);
    options_.image_seeds.clear();
    for (const auto& job : jobs_)
      for (const auto& spec : s_.mix) row_weights(gen_->num_ws(), weights_of(job), {parse_layer_mix(spec, job.inputs.size())});
    model_sha_ = sha256_file_hex(s_.model);
    key_parts_.model_sha256 = model_sha_;
    key_parts_.face = s_.face;
    key_parts_.options = options_;
    key_parts_.img_resolution = c.img_resolution;
    if (s_.cache_dir.empty()) return;  // the key's hashes are only needed by the cache
    key_parts_.landmarks_sha256 = sha256_file_hex(resolve_landmarks_model(s_.landmarks_model));
    if (!options_.perceptual_model.empty()) key_parts_.perceptual_sha256 = sha256_file_hex(options_.perceptual_model);
    cache_ = std::make_unique<LatentCache>(s_.cache_dir);
  }

  std::vector<double> weights_of(const BatchJob& job) const {
    if (!job.weights.empty()) return job.weights;
    if (!s_.weights.empty()) return s_.weights;
    return equal_weights(job.inputs.size());
  }

  // ---- resume ----
  std::vector<std::size_t> decide_resume() {
    std::vector<std::string> outputs;
    for (const auto& j : jobs_) outputs.push_back(j.output);
    const int cleaned = remove_stale_temp_files(outputs);
    if (cleaned > 0) spdlog::info("removed {} temporary file(s) left by an interrupted run", cleaned);
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      const BatchJob& job = jobs_[i];
      std::vector<std::string> deps = job.inputs;
      if (s_.engine == BatchEngine::kGan) deps.push_back(s_.model);
      JobOutcome o;
      o.index = i;
      o.job = &job;
      try {
        prepare_output(job.output, job.inputs, Overwrite::kYes);  // an input, a directory, no such directory
      } catch (const Error& e) {
        o.status = JobStatus::kFailed, o.reason = e.what(), o.error_kind = "io";
        finish(o);
        continue;
      }
      const OutputState st = output_state(job.output, deps);
      if (st == OutputState::kMissing || s_.resume == ResumePolicy::kRemake) {
        pending.push_back(i);
      } else if (st == OutputState::kUpToDate || s_.resume == ResumePolicy::kKeep) {
        o.status = JobStatus::kSkipped;
        o.reason = st == OutputState::kUpToDate ? "up to date" : "exists (-n)";
        finish(o);
      } else if (s_.resume == ResumePolicy::kUpdate) {
        pending.push_back(i);
      } else {
        o.status = JobStatus::kFailed, o.error_kind = "io";
        o.reason = job.output + ": exists and is older than its inputs (-u remakes it, -n keeps it, -y remakes all)";
        finish(o);
      }
    }
    return pending;
  }

  void finish(const JobOutcome& o) {
    std::lock_guard<std::mutex> lock(report_mutex_);
    ++finished_;
    if (o.status == JobStatus::kDone) ++summary_.done;
    if (o.status == JobStatus::kSkipped) ++summary_.skipped;
    if (o.status == JobStatus::kFailed) ++summary_.failed;
    if (obs_.job_finished) obs_.job_finished(o);  // first: a progress bar clears its line
    if (o.status == JobStatus::kFailed) spdlog::error("{}", o.reason);
    if (obs_.progress) obs_.progress({"batch", finished_, static_cast<int>(jobs_.size()), -1.0});
  }

  const FaceDetector& detector(int worker) {
    auto& d = detectors_[static_cast<std::size_t>(worker)];
    if (!d) d = std::make_unique<FaceDetector>(s_.landmarks_model);
    return *d;
  }

  Photo& photo(const std::string& path) {
    auto it = photos_.find(path);
    if (it == photos_.end()) it = photos_.emplace(path, std::make_unique<Photo>()).first, it->second->path = path;
    return *it->second;
  }

  // Reads and detects (and for the GAN engine, aligns at the model's size).
  void detect_photo(Photo& p, int worker, bool align) {
    check_interrupt();
    const cv::Mat image = read_image(p.path);
    const std::vector<Face> found = detector(worker).detect(image);
    p.face = select_face(found, s_.face, p.path);
    p.has_face = true;
    check_interrupt();
    if (align) p.aligned = align_face(image, p.face.landmarks, AlignOptions{gen_->config().img_resolution}).image;
  }

  // ---- GAN engine ----
  void run_gan(const std::vector<std::size_t>& pending) {
    std::size_t next = 0;
    while (next < pending.size()) {
      check_interrupt();
      // The wave: jobs until project_batch new photos are needed.
      std::vector<std::size_t> wave;
      std::vector<Photo*> fresh;
      std::set<Photo*> in_wave;
      while (next < pending.size() && static_cast<int>(fresh.size()) < std::max(1, s_.project_batch)) {
        const std::size_t j = pending[next++];
        wave.push_back(j);
        for (const auto& in : jobs_[j].inputs) {
          Photo& p = photo(in);
          if (!p.prepared && in_wave.insert(&p).second) fresh.push_back(&p);
        }
      }
      prepare_photos(fresh);
      render_jobs(wave);
      if (interrupted_) return;
    }
  }

  // Hash, cache lookup, detection and alignment of the misses, batched projection.
  void prepare_photos(const std::vector<Photo*>& fresh) {
    parallel_for(fresh.size(), s_.jobs, s_.threads_per_job, [&](std::size_t i, int worker) {
      Photo& p = *fresh[i];
      const auto t0 = Clock::now();
      try {
        p.sha256 = sha256_file_hex(p.path);  // also seeds the photo's projection
        if (cache_) {
          LatentKeyParts parts = key_parts_;
          parts.image_sha256 = p.sha256;
          p.key = latent_cache_key(parts);
          if (auto w = cache_->load(p.key, gen_->config(), model_sha_)) {
            p.w = *w, p.source = LatentSource::kCache;
          }
        }
        if (!p.w.defined()) detect_photo(p, worker, true);
      } catch (const Interrupted&) {
        interrupted_ = true;
      } catch (...) {
        describe(std::current_exception(), p.error, p.error_kind);
      }
      p.seconds += seconds_since(t0);
    });
    if (interrupted_) throw Interrupted();
    std::vector<Photo*> to_project;
    for (Photo* p : fresh) {
      p->prepared = true;
      if (p->error.empty() && !p->w.defined()) to_project.push_back(p);
      if (!p->error.empty()) ++summary_.photos_failed;
      if (p->w.defined()) ++summary_.cache_hits;
    }
    if (to_project.empty()) return;
    const auto t0 = Clock::now();
    std::vector<cv::Mat> faces;
    ProjectorOptions o = options_;
    for (Photo* p : to_project) {
      faces.push_back(p->aligned);
      o.image_seeds.push_back(image_projection_seed(o.seed, p->sha256));
    }
    spdlog::info("projecting {} photo(s)", faces.size());
    const torch::Tensor targets = faces_to_targets(faces, gen_->config().img_resolution).to(gen_->w_avg().device());
    ProgressCallback progress;
    if (obs_.progress)
      progress = [this](const ProgressEvent& e) {
        obs_.progress({"batch", finished_, static_cast<int>(jobs_.size()), e.loss});
      };
    const ProjectionResult r = project(gen_, targets, o, progress);  // throws Interrupted
    const double share = seconds_since(t0) / static_cast<double>(to_project.size());
    LatentRecord rec;
    rec.model = fs::path(s_.model).filename().string();
    rec.model_sha256 = model_sha_;
    rec.num_ws = gen_->num_ws();
    rec.w_dim = gen_->config().w_dim;
    rec.face = s_.face;
    rec.projection_json = to_json(options_, gen_->config().img_resolution);
    for (std::size_t k = 0; k < to_project.size(); ++k) {
      Photo& p = *to_project[k];
      p.w = r.ws.narrow(0, static_cast<int64_t>(k), 1).cpu().contiguous();
      p.source = LatentSource::kProjected;
      p.aligned = cv::Mat();
      p.seconds += share;
      ++summary_.projected;
      if (cache_) {
        rec.image = fs::path(p.path).filename().string();
        rec.image_sha256 = p.sha256;
        try {
          cache_->store(p.key, p.w, rec);
        } catch (const Error& e) {
          spdlog::warn("latent cache: {}", e.what());  // the batch goes on without this entry
        }
      }
    }
  }

  int paste_target(const BatchJob& job) const {
    const int t = job.paste_into >= 0 ? job.paste_into : s_.paste_into;
    return t < static_cast<int>(job.inputs.size()) ? t : -1;
  }

  void render_jobs(const std::vector<std::size_t>& wave) {
    parallel_for(wave.size(), s_.jobs, s_.threads_per_job, [&](std::size_t i, int worker) {
      const std::size_t j = wave[i];
      const BatchJob& job = jobs_[j];
      JobOutcome o;
      o.index = j;
      o.job = &job;
      if (interrupted_) return;
      try {
        check_interrupt();
        if (s_.engine != BatchEngine::kMakeup) collect_sources(job, o);  // throws the first bad photo's error
        const auto t0 = Clock::now();
        const cv::Mat out = s_.engine == BatchEngine::kGan     ? render_gan(job, worker)
                            : s_.engine == BatchEngine::kMorph ? render_morph(job, worker)
                                                               : makeup_->render(job, detector(worker));
        check_interrupt();
        write_image(job.output, out);
        o.render_seconds = seconds_since(t0);
        o.status = JobStatus::kDone;
      } catch (const Interrupted&) {
        interrupted_ = true;
        return;
      } catch (...) {
        o.status = JobStatus::kFailed;
        describe(std::current_exception(), o.reason, o.error_kind);
      }
      finish(o);
    });
  }

  // Per input, where its latent came from; charges first uses' preparation time.
  void collect_sources(const BatchJob& job, JobOutcome& o) {
    std::lock_guard<std::mutex> lock(photo_mutex_);
    for (const auto& in : job.inputs) {
      const Photo& p = *photos_.at(in);
      if (!p.error.empty()) {
        o.error_kind = p.error_kind;
        throw_as(p);
      }
    }
    for (const auto& in : job.inputs) {
      Photo& p = *photos_.at(in);
      if (s_.engine == BatchEngine::kGan) o.sources.push_back(p.reported ? LatentSource::kMemory : p.source);
      if (!p.reported) o.prepare_seconds += p.seconds;
      p.reported = true;
    }
  }

  [[noreturn]] static void throw_as(const Photo& p) {
    if (p.error_kind == "no_face") throw NoFaceError(p.error);
    if (p.error_kind == "io") throw IoError(p.error);
    if (p.error_kind == "model") throw ModelError(p.error);
    if (p.error_kind == "usage") throw UsageError(p.error);
    throw Error(p.error);
  }

  cv::Mat render_gan(const BatchJob& job, int worker) {
    std::vector<torch::Tensor> ws;
    for (const auto& in : job.inputs) ws.push_back(photos_.at(in)->w);
    std::vector<LayerMix> mixes;
    for (const auto& spec : s_.mix) mixes.push_back(parse_layer_mix(spec, job.inputs.size()));
    const double psi = job.truncation ? *job.truncation : s_.truncation;
    const torch::Tensor w =
        blend_latents(gen_, torch::cat(ws, 0), row_weights(gen_->num_ws(), weights_of(job), mixes), psi);
    const cv::Mat face = render_face(gen_, w, s_.size);
    const int t = paste_target(job);
    if (t < 0) return face;
    Photo& target = *photos_.at(job.inputs[static_cast<std::size_t>(t)]);
    const cv::Mat photo_image = read_image(target.path);
    Landmarks landmarks;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(photo_mutex_);
      known = target.has_face;
      if (known) landmarks = target.face.landmarks;
    }
    if (!known) {  // a cache hit: detected only now, for the paste
      const std::vector<Face> found = detector(worker).detect(photo_image);
      landmarks = select_face(found, s_.face, target.path).landmarks;
      std::lock_guard<std::mutex> lock(photo_mutex_);
      target.face.landmarks = landmarks;
      target.has_face = true;
    }
    const AlignmentPlan plan = plan_ffhq_alignment(landmarks, photo_image.size(), AlignOptions{s_.size});
    // The photo's landmarks in the output crop's pixels: the paste mask's fallback.
    Landmarks in_crop;
    for (std::size_t k = 0; k < landmarks.size(); ++k) in_crop[k] = plan.to_aligned(landmarks[k]);
    return paste_back(photo_image, plan, face, blended_face_landmarks(detector(worker), face, in_crop));
  }

  // ---- morph engine ----
  void run_morph(const std::vector<std::size_t>& pending) {
    // Photos are detected once (landmarks kept), then each job reads and aligns its inputs.
    const std::size_t wave_jobs = static_cast<std::size_t>(std::max(1, s_.jobs) * 4);
    std::size_t next = 0;
    while (next < pending.size()) {
      check_interrupt();
      std::vector<std::size_t> wave;
      std::vector<Photo*> fresh;
      std::set<Photo*> seen;
      while (next < pending.size() && wave.size() < wave_jobs) {
        const std::size_t j = pending[next++];
        wave.push_back(j);
        for (const auto& in : jobs_[j].inputs) {
          Photo& p = photo(in);
          if (!p.prepared && seen.insert(&p).second) fresh.push_back(&p);
        }
      }
      parallel_for(fresh.size(), s_.jobs, s_.threads_per_job, [&](std::size_t i, int worker) {
        Photo& p = *fresh[i];
        const auto t0 = Clock::now();
        try {
          detect_photo(p, worker, false);
        } catch (const Interrupted&) {
          interrupted_ = true;
        } catch (...) {
          describe(std::current_exception(), p.error, p.error_kind);
        }
        p.seconds += seconds_since(t0);
      });
      if (interrupted_) return;
      for (Photo* p : fresh) {
        p->prepared = true;
        if (!p->error.empty()) ++summary_.photos_failed;
      }
      render_jobs(wave);
      if (interrupted_) return;
    }
  }

  cv::Mat render_morph(const BatchJob& job, int worker) {
    (void)worker;
    std::vector<MorphFace> faces;
    std::vector<cv::Mat> images;
    std::vector<AlignedFace> aligned;
    for (const auto& in : job.inputs) {
      check_interrupt();
      images.push_back(read_image(in));
      aligned.push_back(align_face(images.back(), photos_.at(in)->face.landmarks, AlignOptions{s_.size}));
      faces.push_back({aligned.back().image, aligned.back().landmarks});
    }
    const MorphResult r = morph_faces(faces, weights_of(job));
    const int t = paste_target(job);
    if (t < 0) return r.image;
    const std::size_t k = static_cast<std::size_t>(t);
    return paste_back(images[k], aligned[k].alignment, r.image, r.landmarks);
  }

  const std::vector<BatchJob>& jobs_;
  const BatchSettings& s_;
  const BatchObserver& obs_;
  std::vector<std::unique_ptr<FaceDetector>> detectors_;
  std::map<std::string, std::unique_ptr<Photo>> photos_;
  Generator gen_{nullptr};
  ProjectorOptions options_;
  std::string model_sha_;
  LatentKeyParts key_parts_;
  std::unique_ptr<LatentCache> cache_;
  std::unique_ptr<MakeupJobRunner> makeup_;
  BatchSummary summary_;
  std::mutex report_mutex_, photo_mutex_;
  int finished_ = 0;
  std::atomic<bool> interrupted_{false};
};

}  // namespace

BatchSummary run_batch(const std::vector<BatchJob>& jobs, const BatchSettings& settings,
                       const BatchObserver& observer) {
  return Runner(jobs, settings, observer).run();
}

}  // namespace facemix
