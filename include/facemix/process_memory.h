// How the process's C library allocator hands out large blocks.
//
//   int main() { facemix::reuse_freed_memory(); ... }   // once, first thing
//
// A 1024 px synthesis allocates and frees activations of up to 134 MB per
// layer. glibc serves every block above its mmap threshold (at most 32 MB)
// with a fresh mmap and unmaps it on free, so each layer paid for page faults
// and for the kernel zeroing every page again: 27 % of a 1024 px forward's
// time (perf, docs/performance.md). reuse_freed_memory() makes glibc serve
// large blocks from its heap and keep freed memory for the next allocation
// instead: a 1024 px forward takes 1.0 s instead of 1.7 s, forward+backward
// 2.4 s instead of 4.0 s, for a higher peak resident memory (1.7 instead of
// 1.1 GB, 2.7 instead of 2.3 GB). It does not change any result.
#pragma once

namespace facemix {

// ensures: glibc's malloc no longer uses mmap for large blocks (M_MMAP_MAX 0)
//          and does not trim the heap (M_TRIM_THRESHOLD at its maximum).
//          Other C libraries: does nothing.
void reuse_freed_memory();

}  // namespace facemix
