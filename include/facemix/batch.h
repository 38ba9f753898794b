// Batch jobs: the list of blends `facemix batch` runs, from a directory of
// photos or from a CSV/TSV manifest, and its deterministic partition into
// shards for running on several machines.
//
//   auto photos = facemix::list_photos("portraits/", /*recursive=*/false);
//   auto jobs = facemix::directory_jobs(photos, "portraits/", {PairMode::kAll, 2, "out/", ".png"});
//   auto jobs2 = facemix::parse_manifest(text_of("jobs.csv"), "/data");    // same BatchJob list
//   auto mine = facemix::shard_jobs(jobs.size(), facemix::parse_shard("2/8"));   // indices of shard 2
//
// Manifest format (docs/batch.md): a header row naming the columns, then one
// job per row. Columns: `output` (required), `input1`, `input2`, ... (at least
// two; a row may leave trailing ones empty), and the optional per-job options
// `weights` ("0.7,0.3" or "0.7;0.3"), `paste_into` (1-based input number, 0 =
// none) and `truncation`. Fields are separated by commas, or by tabs when the
// header row holds a tab (TSV); a field may be quoted with "..." ("" inside
// is a literal quote; a quoted field may hold separators and line breaks).
// Blank lines and lines starting with '#' are ignored. Relative paths are
// relative to `base_dir` (the CLI passes the manifest's directory).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace facemix {

struct BatchJob {
  std::string output;               // image path (.png .jpg ...)
  std::vector<std::string> inputs;  // photos, >= 2, in weight order
  std::vector<double> weights;      // normalised, one per input; empty = equal
  int paste_into = -1;              // 0-based input index to paste into; -1 = the batch default
  std::optional<double> truncation; // unset = the batch default
  int line = 0;                     // manifest line of the row (1-based); 0 for directory jobs
};

// ---- manifests -------------------------------------------------------------

// Parses a manifest (format above). Pure: touches no file.
// requires: nothing (every problem is reported by exception).
// ensures:  one job per data row, in file order, paths joined to base_dir
//           when relative, weights normalised (parse_weights of morph.h),
//           paste_into 0-based (or -1 when the column is absent, empty or 0).
// throws:   UsageError "manifest line N: <problem>" for a missing or unknown
//           header column, a row with too many fields, an empty output, fewer
//           than two inputs, a gap between inputs, an output extension
//           write_image does not know, bad weights / paste_into / truncation,
//           an unterminated quote or text after a closing quote, an output
//           that is one of the row's inputs, or an output named by an earlier
//           row too; "manifest: no jobs" when there is no data row.
std::vector<BatchJob> parse_manifest(const std::string& text, const std::string& base_dir);

// ---- directories -----------------------------------------------------------

// The photos under `dir`: regular files whose extension is one read_image
// knows (.png .jpg .jpeg .webp .bmp .tif .tiff, any case), hidden files and
// directories (name starting with '.') excluded, `exclude_dir` (the output
// directory, when it lies inside `dir`) and everything under it excluded,
// subdirectories included when `recursive`.
// ensures: sorted by path relative to dir (byte order), so the list, and
//          every job list made from it, is the same on every machine.
// throws:  IoError naming dir when it is not a readable directory.
std::vector<std::string> list_photos(const std::string& dir, bool recursive, const std::string& exclude_dir = "");

// The name each photo gives its outputs: its path relative to photos_root
// without extension, '/' replaced by '_', with "_<ext>" appended where two
// photos would otherwise share a name ("a/b.jpg" -> "a_b").
std::vector<std::string> photo_names(const std::vector<std::string>& photos, const std::string& photos_root);

enum class PairMode {
  kAll,       // every combination of `group` photos (group 2: every pair i < j)
  kAdjacent,  // every run of `group` consecutive photos in sorted order
};
// "all" | "adjacent"; throws UsageError naming --pairs otherwise.
PairMode parse_pair_mode(const std::string& text);

struct DirectoryJobOptions {
  PairMode mode = PairMode::kAll;
  int group = 2;              // photos per blend (--groups K), >= 2
  std::string out_dir;        // where outputs go
  std::string extension = ".png";
};

// The job list of a directory. Output names are the photos' names
// (photo_names()) joined with '+', e.g. out/alice+bob.png: stable whatever
// else the folder holds.
// requires: photos from list_photos(photos_root, ...).
// ensures:  jobs in lexicographic order of photo indices (all: (0,1), (0,2), ...
//           (1,2), ...; adjacent: (0,1), (1,2), ...); none when fewer photos
//           than `group`.
// throws:   UsageError for group < 2, an extension write_image does not know,
//           or (kAll) more than 10 million jobs.
std::vector<BatchJob> directory_jobs(const std::vector<std::string>& photos, const std::string& photos_root,
                                     const DirectoryJobOptions& options);

// ---- shards ----------------------------------------------------------------

struct Shard {
  int index = 1;  // 1-based, 1..count
  int count = 1;
};

// Parses "K/N" (1 <= K <= N). throws UsageError naming --shard otherwise.
Shard parse_shard(const std::string& text);

// The indices of the jobs shard `s` runs: the contiguous block
// [floor((K-1) M / N), floor(K M / N)) of the M jobs. Contiguous blocks keep
// the jobs that share photos (all pairs of one photo come in a row) in one
// shard, so a shard projects few photos besides its own.
// ensures: over K = 1..N the blocks are disjoint, in order, and cover 0..M-1
//          exactly; block sizes differ by at most one.
// requires: 1 <= s.index <= s.count.
std::vector<std::size_t> shard_jobs(std::size_t job_count, Shard s);

}  // namespace facemix
