// Threading defaults (threading.h): the OpenMP wait policy, chosen before any
// library starts, and the thread counts of Torch and OpenCV.
#include "threading.h"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <ATen/Parallel.h>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

namespace facemix::cli {
namespace {

// The value of environment variable `name` in this process, as glibc's getenv.
char* find_env(const char* name) {
  const std::size_t len = std::strlen(name);
  if (::environ == nullptr) return nullptr;
  for (char** e = ::environ; *e != nullptr; ++e)
    if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  return nullptr;
}

}  // namespace
}  // namespace facemix::cli

// libgomp reads OMP_WAIT_POLICY once, in its own initialiser, before main()
// and before any initialiser of this executable: too early for setenv() (a
// setenv() from .preinit_array is undone by libc's initialiser, which resets
// environ to the original block), and re-executing the program from there
// costs a second dynamic link of Torch (0.2 s of CPU). So the executable
// defines getenv() itself: the dynamic linker binds every library's getenv
// to it, and it answers PASSIVE for OMP_WAIT_POLICY when the user set
// neither that nor GOMP_SPINCOUNT; everything else is looked up as usual.
// The `facemix --version -vv` test reads the policy back from libgomp.
extern "C" char* getenv(const char* name) noexcept {
  using facemix::cli::find_env;
  char* value = find_env(name);
  if (value == nullptr && std::strcmp(name, "OMP_WAIT_POLICY") == 0 && find_env("GOMP_SPINCOUNT") == nullptr) {
    static char passive[] = "PASSIVE";
    return passive;
  }
  return value;
}

namespace facemix::cli {
namespace {

// The tightest cgroup v2 CPU quota ("cpu.max": QUOTA PERIOD) on the way from
// this process's cgroup to the root, in cores rounded up; 0 when none.
int cgroup_quota_cores() {
  std::ifstream self("/proc/self/cgroup");
  std::string line, dir;
  while (std::getline(self, line))
    if (line.rfind("0::", 0) == 0) dir = line.substr(3);
  if (dir.empty()) return 0;
  int best = 0;
  for (;;) {
    std::ifstream f("/sys/fs/cgroup" + dir + "/cpu.max");
    std::string quota;
    double period = 0;
    if (f >> quota >> period && quota != "max" && period > 0) {
      const int cores = std::max(1, static_cast<int>(std::ceil(std::atof(quota.c_str()) / period)));
      best = best == 0 ? cores : std::min(best, cores);
    }
    if (dir.empty() || dir == "/") break;
    dir = dir.substr(0, dir.find_last_of('/'));
  }
  return best;
}

const char* env_or_unset(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "(unset)";
}

}  // namespace

int available_cores() {
  int cores = 0;
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  const int quota = cgroup_quota_cores();
  if (quota > 0) cores = std::min(cores, quota);
  return std::max(1, cores);
}

void apply_thread_settings(int threads) {
  const int n = threads > 0 ? threads : available_cores();
  // The inter-op pool only serves at::launch (TorchScript fork), which
  // facemix never uses; one thread instead of one per core.
  at::set_num_interop_threads(1);
  at::set_num_threads(n);
  cv::setNumThreads(n);
  spdlog::debug("threads: {} core(s) available, Torch {} intra-op + {} inter-op, OpenCV {}, OMP_WAIT_POLICY {}",
                available_cores(), at::get_num_threads(), at::get_num_interop_threads(), cv::getNumThreads(),
                env_or_unset("OMP_WAIT_POLICY"));
}

std::string thread_settings_report() {
  std::ostringstream s;
  s << "cores available: " << available_cores() << "\n"
    << "torch intra-op threads: " << at::get_num_threads() << "\n"
    << "torch inter-op threads: " << at::get_num_interop_threads() << "\n"
    << "opencv threads: " << cv::getNumThreads() << "\n"
    << "OMP_WAIT_POLICY: " << env_or_unset("OMP_WAIT_POLICY") << "\n"
    << "GOMP_SPINCOUNT: " << env_or_unset("GOMP_SPINCOUNT") << "\n";
  return s.str();
}

void print_openmp_environment() {
  // Looked up at run time: it belongs to whichever OpenMP runtime Torch loaded.
  using DisplayEnv = void (*)(int);
  if (auto display = reinterpret_cast<DisplayEnv>(::dlsym(RTLD_DEFAULT, "omp_display_env"))) display(1);
}

}  // namespace facemix::cli
