// Threading defaults of the facemix process, chosen in one place.
//
// Why: Torch runs its parallel regions on GNU OpenMP (libgomp), whose idle
// workers spin for about 3 ms by default waiting for the next region. On a
// machine where another process holds a core, those spinning workers steal
// the time the thread that still has work needs, and projection runs 3-4
// times slower. facemix therefore runs with OMP_WAIT_POLICY=PASSIVE unless
// the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT (threading.cpp's getenv()
// says how it gets there before libgomp starts), and sizes every thread pool
// from the cores this process may use (taskset, Slurm, cgroup quota).
//
//   int main(...) { ...parse...; facemix::cli::apply_thread_settings(g.threads); ... }
//   facemix --version -v   # prints the settings read back (-vv: also libgomp's own view)
#pragma once

#include <string>

namespace facemix::cli {

// Cores this process may run on: its CPU affinity mask (taskset, Slurm and
// container cpusets), lowered to a cgroup v2 CPU quota (docker --cpus) if one
// is set. ensures: >= 1.
int available_cores();

// Sets Torch intra-op threads and OpenCV threads to `threads` (0: every
// available core) and Torch inter-op threads to 1 (facemix never runs Torch
// operators concurrently from one thread). Call once, from main(), before any
// Torch or OpenCV work. requires: threads >= 0.
void apply_thread_settings(int threads);

// One line per setting as the libraries report them back: available cores,
// Torch intra-op and inter-op threads, OpenCV threads, the OpenMP wait policy
// environment. Used by `facemix --version -v` and the -v log.
std::string thread_settings_report();

// Asks the OpenMP runtime to print its own settings (libgomp: wait policy and
// spin count as parsed at load time) to stderr; no-op without omp_display_env.
void print_openmp_environment();

}  // namespace facemix::cli
