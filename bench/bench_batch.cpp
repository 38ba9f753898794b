// Benchmark (not a test) of `facemix batch` throughput: every pair of a folder
// of portraits with the GAN engine, once with an empty latent cache (cold) and
// once more with the cache it filled (warm), printing photos projected per
// minute and blends per minute for each.
//
//   bench_batch [--photos DIR] [--model M] [--schedule S] [--size N] [--threads N]
//               [--project-batch B] [--jobs J] [--pairs all|adjacent]
//
// Run from the repository root. Defaults: ../shared/faces, ../shared/golden/small.safetensors, the model's
// default schedule, --size 256, all cores, --project-batch 8, --jobs 1, all pairs.
// Photos without a usable face fail their jobs as in a real batch; the table
// counts them.
#include <ATen/Parallel.h>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <unistd.h>

#include "facemix/batch.h"
#include "facemix/batch_run.h"
#include "facemix/model_file.h"
#include "facemix/projector.h"

namespace fs = std::filesystem;
using namespace facemix;

int main(int argc, char** argv) {
  std::string photos_dir = "../shared/faces";  // run from the repository root
  std::string model = "../shared/golden/small.safetensors";
  std::string schedule, pairs = "all";
  int size = 256, threads = static_cast<int>(std::thread::hardware_concurrency()), project_batch = 8, jobs = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--photos") photos_dir = v;
    else if (k == "--model") model = v;
    else if (k == "--schedule") schedule = v;
    else if (k == "--size") size = std::atoi(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--project-batch") project_batch = std::atoi(v.c_str());
    else if (k == "--jobs") jobs = std::atoi(v.c_str());
    else if (k == "--pairs") pairs = v;
    else {
      std::fprintf(stderr, "bench_batch: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::off);  // the per-job errors of faceless photos would bury the table
  at::set_num_threads(threads);
  cv::setNumThreads(threads);
  const fs::path scratch = fs::temp_directory_path() / ("facemix-bench-batch-" + std::to_string(::getpid()));
  fs::create_directories(scratch);

  const auto photos = list_photos(photos_dir, false);
  BatchSettings s;
  s.engine = BatchEngine::kGan;
  s.model = model;
  s.size = size;
  s.project_batch = project_batch;
  s.jobs = jobs;
  s.threads_per_job = std::max(1, threads / jobs);
  s.cache_dir = (scratch / "cache").string();
  // parse_schedule needs the model's resolution; run_batch fills the default when empty.
  if (!schedule.empty()) s.projection.schedule = parse_schedule(schedule, inspect_model(model).config.img_resolution);
  std::printf("photos %zu from %s, model %s, schedule %s, size %d, threads %d, project batch %d, jobs %d\n",
              photos.size(), photos_dir.c_str(), fs::path(model).filename().c_str(),
              schedule.empty() ? "default" : schedule.c_str(), size, threads, project_batch, jobs);
  std::printf("%-5s %6s %6s %7s %9s %9s %14s %12s\n", "run", "jobs", "failed", "photos", "projected", "seconds",
              "projected/min", "blends/min");
  for (const char* run : {"cold", "warm"}) {
    DirectoryJobOptions o;
    o.mode = parse_pair_mode(pairs);
    o.out_dir = (scratch / run).string();
    fs::create_directories(o.out_dir);
    const auto jobs_list = directory_jobs(photos, photos_dir, o);
    const BatchSummary sum = run_batch(jobs_list, s);
    const double minutes = sum.seconds / 60.0;
    std::printf("%-5s %6zu %6d %7zu %9d %9.1f %14.1f %12.1f\n", run, jobs_list.size(), sum.failed, photos.size(),
                sum.projected, sum.seconds, sum.projected / minutes, sum.done / minutes);
    std::fflush(stdout);  // a row as soon as it is measured
  }
  fs::remove_all(scratch);
  return 0;
}
