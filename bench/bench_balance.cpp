// Benchmark of identity-balanced morphing: for each pair of different people,
// the largest identity distance from the blend to the two inputs with the
// plain 50/50 morph and with balanced weights, the share of pairs where both
// inputs verify (< 0.6, < 0.5), and the time the balance adds.
//
// usage: bench_balance PAIRS.tsv [--size N] [--limit N] [--every K] [--faces DIR]
//        [--mean-share X] [--stay-near X] [--rounds N] [--paired] [--one-shape] [--search-size N]   (IdentityBalanceOptions)
// PAIRS.tsv: `A<TAB>B` per line, paths relative to the faces folder
// (scripts/make_balance_pairs.py writes the benchmark's list).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench_support.h"
#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/identity_balance.h"
#include "facemix/image_io.h"

using namespace facemix;

namespace {

struct Prepared {
  MorphFace face;
  Descriptor descriptor;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double max_distance(const IdentityModel& m, const MorphResult& r, const Prepared& a, const Prepared& b) {
  const Descriptor d = describe_morph(m, r);
  return std::max(descriptor_distance(d, a.descriptor), descriptor_distance(d, b.descriptor));
}

struct Tally {
  std::vector<double> worst;
  int under06 = 0, under05 = 0;
  void add(double d) {
    worst.push_back(d);
    under06 += d < 0.6;
    under05 += d < 0.5;
  }
  double median() const {
    std::vector<double> s = worst;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : s[s.size() / 2];
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string pairs_file, faces_dir;
  int size = 1024, limit = 0, every = 1;
  IdentityBalanceOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size" && i + 1 < argc) size = std::atoi(argv[++i]);
    else if (a == "--limit" && i + 1 < argc) limit = std::atoi(argv[++i]);
    else if (a == "--faces" && i + 1 < argc) faces_dir = argv[++i];
    else if (a == "--every" && i + 1 < argc) every = std::atoi(argv[++i]);
    else if (a == "--mean-share" && i + 1 < argc) options.mean_share = std::atof(argv[++i]);
    else if (a == "--stay-near" && i + 1 < argc) options.stay_near = std::atof(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc) options.max_rounds = std::atoi(argv[++i]);
    else if (a == "--paired") options.paired_moves = true;
    else if (a == "--one-shape") options.shape_by_region = false;
    else if (a == "--search-size" && i + 1 < argc) options.search_size = std::atoi(argv[++i]);
    else pairs_file = a;
  }
  if (pairs_file.empty()) {
    std::fprintf(stderr, "usage: bench_balance PAIRS.tsv [--size N] [--limit N] [--every K] [--faces DIR] "
                         "[--mean-share X] [--stay-near X] [--rounds N] [--paired] [--one-shape] [--search-size N]\n");
    return 2;
  }
  if (faces_dir.empty()) faces_dir = bench::shared_faces_dir();
  spdlog::set_level(spdlog::level::warn);
  const IdentityModel model = load_identity_model(find_identity_model(""));
  const FaceDetector detector;
  std::map<std::string, Prepared> cache;
  auto prepare = [&](const std::string& name) -> const Prepared& {
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    const std::string path = faces_dir + "/" + name;
    const cv::Mat photo = read_image(path);
    const std::vector<Face> found = detector.detect(photo);
    const Face& f = select_face(found, 0, path);
    AlignOptions o;
    o.output_size = size;
    const AlignedFace a = align_face(photo, f.landmarks, o);
    return cache[name] = Prepared{{a.image, a.landmarks}, describe_face(model, photo, f.landmarks)};
  };

  std::ifstream in(pairs_file);
  Tally plain, balanced;
  std::vector<double> balance_seconds;
  long candidates = 0;
  int n = 0;
  std::printf("%-42s %-42s %6s %7s %8s %6s %6s\n", "A", "B", "d(A,B)", "50/50", "balanced", "spread", "s");
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line_number++ % every != 0) continue;
    const auto tab = line.find('\t');
    const std::string a = line.substr(0, tab), b = line.substr(tab + 1);
    const Prepared& pa = prepare(a);
    const Prepared& pb = prepare(b);
    const std::vector<MorphFace> faces = {pa.face, pb.face};
    const std::vector<double> equal = {0.5, 0.5};
    const double d_plain = max_distance(model, Morpher(faces, equal).render(equal), pa, pb);
    const double t0 = now();
    const IdentityBalance bal = balance_identity(faces, {pa.descriptor, pb.descriptor}, model, equal, options);
    const MorphResult r = Morpher(faces, bal.mix.shape).render(bal.mix);
    balance_seconds.push_back(now() - t0);
    candidates += bal.candidates;
    const double d_bal = max_distance(model, r, pa, pb);
    const double spread = std::abs(bal.distances[0] - bal.distances[1]);  // at search size
    plain.add(d_plain);
    balanced.add(d_bal);
    std::printf("%-42s %-42s %6.3f %7.3f %8.3f %6.3f %6.2f\n", a.c_str(), b.c_str(),
                descriptor_distance(pa.descriptor, pb.descriptor), d_plain, d_bal, spread, balance_seconds.back());
    std::fflush(stdout);
    if (limit > 0 && ++n >= limit) break;
    if (limit <= 0) ++n;
  }
  std::sort(balance_seconds.begin(), balance_seconds.end());
  std::printf("\n%d pairs, blends at %d px\n", n, size);
  std::printf("%-22s %12s %12s %14s\n", "morph", "both < 0.6", "both < 0.5", "median max d");
  auto row = [&](const char* name, const Tally& t) {
    std::printf("%-22s %11.1f%% %11.1f%% %14.3f\n", name, 100.0 * t.under06 / n, 100.0 * t.under05 / n, t.median());
  };
  row("50/50", plain);
  row("identity-balanced", balanced);
  std::printf("balance search + final render: median %.2f s, max %.2f s per pair; %.1f candidates per pair\n",
              balance_seconds[balance_seconds.size() / 2], balance_seconds.back(),
              static_cast<double>(candidates) / n);
  return 0;
}
