// Job lists of `facemix batch`: shards, the manifest parser, directory jobs,
// and the resume helpers (all pure or on scratch files).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <chrono>
#include <thread>

#include "facemix/batch.h"
#include "facemix/batch_cache.h"
#include "facemix/batch_run.h"
#include "facemix/errors.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::ScratchDir;
using facemix::test::write_file;
namespace fs = std::filesystem;

namespace {

// The message of the UsageError `fn` throws ("" when it throws none).
template <typename F>
std::string usage_error(F fn) {
  try {
    fn();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Shards, AreDisjointAndCoverTheJobListForManyCounts) {
  for (std::size_t m : {0u, 1u, 2u, 7u, 10u, 97u, 1000u}) {
    for (int n : {1, 2, 3, 4, 7, 10, 16, 150}) {
      std::vector<int> hits(m, 0);
      std::size_t smallest = m + 1, largest = 0, last_end = 0;
      for (int k = 1; k <= n; ++k) {
        const auto block = shard_jobs(m, Shard{k, n});
        smallest = std::min(smallest, block.size());
        largest = std::max(largest, block.size());
        for (std::size_t j = 0; j < block.size(); ++j) {
          ASSERT_LT(block[j], m);
          ++hits[block[j]];
          if (j == 0) {
            EXPECT_EQ(block[j], last_end) << "blocks follow each other in order";
          } else {
            EXPECT_EQ(block[j], block[j - 1] + 1);
          }
        }
        if (!block.empty()) last_end = block.back() + 1;
      }
      for (std::size_t i = 0; i < m; ++i) EXPECT_EQ(hits[i], 1) << "job " << i << " of " << m << ", " << n << " shards";
      EXPECT_LE(largest - std::min(smallest, largest), 1u) << m << " jobs, " << n << " shards";
    }
  }
}

TEST(Shards, ParseKOfN) {
  EXPECT_EQ(parse_shard("3/8").index, 3);
  EXPECT_EQ(parse_shard("3/8").count, 8);
  EXPECT_EQ(parse_shard("1/1").count, 1);
  for (const char* bad : {"0/4", "5/4", "4", "/4", "a/b", "1/0", "-1/4", "1/4/2", ""})
    EXPECT_NE(usage_error([&] { parse_shard(bad); }).find("--shard"), std::string::npos) << bad;
}

TEST(Manifest, ParsesCsvWithOptionsQuotesAndComments) {
  const std::string text =
      "# jobs for the demo\n"
      "output,input1,input2,input3,weights,paste_into,truncation\n"
      "out/ab.png,a.jpg,b.jpg,,,,\n"
      "\n"
      "\"out/with, comma.jpg\",/abs/a.jpg,\"b \"\"quoted\"\".jpg\",c.png,\"0.5,0.25,0.25\",2,0.7\r\n"
      "# a comment between rows\n"
      "out/w.png,a.jpg,b.jpg,,3;1,0,\n";
  const auto jobs = parse_manifest(text, "/data");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].output, "/data/out/ab.png");
  EXPECT_EQ(jobs[0].inputs, (std::vector<std::string>{"/data/a.jpg", "/data/b.jpg"}));
  EXPECT_TRUE(jobs[0].weights.empty());
  EXPECT_EQ(jobs[0].paste_into, -1);
  EXPECT_FALSE(jobs[0].truncation.has_value());
  EXPECT_EQ(jobs[0].line, 3);
  EXPECT_EQ(jobs[1].output, "/data/out/with, comma.jpg");
  EXPECT_EQ(jobs[1].inputs, (std::vector<std::string>{"/abs/a.jpg", "/data/b \"quoted\".jpg", "/data/c.png"}));
  EXPECT_EQ(jobs[1].weights, (std::vector<double>{0.5, 0.25, 0.25}));
  EXPECT_EQ(jobs[1].paste_into, 1);
  EXPECT_DOUBLE_EQ(*jobs[1].truncation, 0.7);
  EXPECT_EQ(jobs[1].line, 5);
  EXPECT_EQ(jobs[2].weights, (std::vector<double>{0.75, 0.25}));
  EXPECT_EQ(jobs[2].paste_into, -1);
  EXPECT_EQ(jobs[2].line, 7);
}

TEST(Manifest, ParsesTsvAndQuotedLineBreaks) {
  const std::string text = "input1\tinput2\toutput\na,b.jpg\tc.jpg\tx.png\n\"multi\nline.jpg\"\td.jpg\ty.png\nq.jpg\tr.jpg\tz.png";
  const auto jobs = parse_manifest(text, "");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].inputs[0], "a,b.jpg");
  EXPECT_EQ(jobs[0].output, "x.png");
  EXPECT_EQ(jobs[1].inputs[0], "multi\nline.jpg");
  EXPECT_EQ(jobs[2].line, 5) << "the quoted line break counts";
}

TEST(Manifest, RejectsMalformedRowsNamingTheLine) {
  const std::string head = "output,input1,input2,weights\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + "a.png,x.jpg,y.jpg\n\"b.png,x.jpg,y.jpg\n", "line 3: unterminated quoted field"},
      {head + "a.png,x.jpg,y.jpg\nb.png,x.jpg,y.jpg,,extra\n", "line 3: 5 fields, the header has 4"},
      {head + "a.png,x.jpg,\n", "line 2: needs at least 2 inputs"},
      {head + ",x.jpg,y.jpg\n", "line 2: empty output"},
      {head + "a.gif,x.jpg,y.jpg\n", "line 2: "},
      {head + "a.png,x.jpg,y.jpg\n\n# c\na.png,y.jpg,z.jpg\n", "line 5: output a.png is already the output of line 2"},
      {head + "a.png,x.jpg,y.jpg,\"1,x\"\n", "line 2: weights:"},
      {head + "a.png,x.jpg,y.jpg,1;2;3\n", "line 2: weights:"},
      {head + "a.png,\"x.jpg\"z,y.jpg\n", "line 2: text after a closing quote"},
      {head + "a.png,x\"y.jpg,y.jpg\n", "line 2: a quote inside an unquoted field"},
      {head + "a.png,a.png,y.jpg\n", "line 2: output a.png is also an input"},
      {"output,input1,colour\n", "line 1: unknown column 'colour'"},
      {"input1,input2\na,b\n", "line 1: the header has no 'output' column"},
      {"output,input1,input3\n", "line 1: input columns must be input1, input2"},
      {"output,input1\n", "line 1: the header needs at least the columns input1 and input2"},
      {"output,input1,input2,paste_into\na.png,x.jpg,y.jpg,3\n", "line 2: paste_into 3"},
      {"output,input1,input2,truncation\na.png,x.jpg,y.jpg,abc\n", "line 2: truncation 'abc' is not a number"},
      {"output,input1,input2,input3\na.png,x.jpg,,z.jpg\n", "line 2: an empty input column before a filled one"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string msg = usage_error([&] { parse_manifest(text, ""); });
    EXPECT_NE(msg.find("manifest " + expected), std::string::npos) << "manifest:\n" << text << "\nmessage: " << msg;
  }
  EXPECT_NE(usage_error([] { parse_manifest("", ""); }).find("manifest: empty"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_manifest("# only\noutput,input1,input2\n", ""); }).find("manifest: no jobs"),
            std::string::npos);
}

TEST(DirectoryJobs, PairsAndGroupsHaveStableNames) {
  ScratchDir d;
  fs::create_directories(d.file("sub/deeper"));
  fs::create_directories(d.file(".hidden"));
  fs::create_directories(d.file("out"));
  for (const char* f : {"b.jpg", "a.PNG", "a.jpg", "notes.txt", ".a.facemix-0123456789abcdef.tmp.png",
                        "sub/c.webp", "sub/deeper/d.tif", ".hidden/e.jpg", "out/a+b.png"})
    write_file(d.file(f), "x");
  const auto flat = list_photos(d.path(), false, d.file("out"));
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(fs::path(flat[0]).filename(), "a.PNG");
  EXPECT_EQ(fs::path(flat[2]).filename(), "b.jpg");
  const auto deep = list_photos(d.path(), true, d.file("out"));
  ASSERT_EQ(deep.size(), 5u) << "hidden files, the output directory and non-images are left out";

  DirectoryJobOptions o;
  o.out_dir = "blends";
  const auto all = directory_jobs(deep, d.path(), o);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[0].output, "blends/a_PNG+a_jpg.png") << "photos sharing a name keep their extension";
  EXPECT_EQ(all[1].output, "blends/a_PNG+b.png");
  EXPECT_EQ(all[9].output, "blends/sub_c+sub_deeper_d.png");
  std::set<std::string> outputs;
  for (const auto& j : all) outputs.insert(j.output);
  EXPECT_EQ(outputs.size(), all.size());

  o.mode = PairMode::kAdjacent;
  o.group = 3;
  o.extension = ".jpg";
  const auto adjacent = directory_jobs(deep, d.path(), o);
  ASSERT_EQ(adjacent.size(), 3u);
  EXPECT_EQ(adjacent[2].inputs.size(), 3u);
  EXPECT_EQ(adjacent[2].output, "blends/b+sub_c+sub_deeper_d.jpg");

  o.mode = PairMode::kAll;
  const auto triples = directory_jobs(deep, d.path(), o);
  EXPECT_EQ(triples.size(), 10u);  // C(5, 3)
  o.group = 6;
  EXPECT_TRUE(directory_jobs(deep, d.path(), o).empty());
  o.group = 1;
  EXPECT_THROW(directory_jobs(deep, d.path(), o), UsageError);
  o.group = 2;
  o.extension = ".gif";
  EXPECT_THROW(directory_jobs(deep, d.path(), o), UsageError);
  EXPECT_THROW(list_photos(d.file("b.jpg"), false), IoError);
  EXPECT_THROW(parse_pair_mode("some"), UsageError);
}

TEST(Resume, OutputStateFollowsModificationTimes) {
  ScratchDir d;
  write_file(d.file("in.jpg"), "x");
  EXPECT_EQ(output_state(d.file("out.png"), {d.file("in.jpg")}), OutputState::kMissing);
  write_file(d.file("out.png"), "y");
  fs::last_write_time(d.file("in.jpg"), fs::last_write_time(d.file("out.png")) - std::chrono::seconds(10));
  EXPECT_EQ(output_state(d.file("out.png"), {d.file("in.jpg"), d.file("gone.jpg")}), OutputState::kUpToDate);
  fs::last_write_time(d.file("in.jpg"), fs::last_write_time(d.file("out.png")) + std::chrono::seconds(10));
  EXPECT_EQ(output_state(d.file("out.png"), {d.file("in.jpg")}), OutputState::kStale);
}

TEST(Resume, RemovesOnlyThisBatchsTemporaryFiles) {
  ScratchDir d;
  const std::vector<std::string> mine = {".a+b.facemix-0123456789abcdef.tmp.png", ".a+b.facemix-fedcba9876543210.tmp.png"};
  const std::vector<std::string> others = {".c+d.facemix-0123456789abcdef.tmp.png",   // another shard's output
                                           ".a+b.facemix-0123456789abcdef.tmp.jpg",   // another extension
                                           ".a+b.facemix-0123.tmp.png", "a+b.png"};
  for (const auto& f : mine) write_file(d.file(f), "partial");
  for (const auto& f : others) write_file(d.file(f), "keep");
  EXPECT_EQ(remove_stale_temp_files({d.file("a+b.png"), d.file("x+y.png")}), 2);
  const auto left = d.list();
  EXPECT_EQ(std::set<std::string>(left.begin(), left.end()), std::set<std::string>(others.begin(), others.end()));
}

TEST(LatentCacheKey, ChangesWithEveryPartAndOnlyWithThem) {
  LatentKeyParts base;
  base.image_sha256 = std::string(64, 'a');
  base.model_sha256 = std::string(64, 'b');
  base.landmarks_sha256 = std::string(64, 'c');
  base.img_resolution = 64;
  base.options.schedule = parse_schedule("16:4", 64);
  const std::string key = latent_cache_key(base);
  ASSERT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  LatentKeyParts same = base;
  same.options.image_seeds = {1, 2, 3};  // derived per batch, not part of the latent's identity
  EXPECT_EQ(latent_cache_key(same), key);

  std::vector<LatentKeyParts> changed(9, base);
  changed[0].image_sha256 = std::string(64, 'd');
  changed[1].face = 1;
  changed[2].model_sha256 = std::string(64, 'd');
  changed[3].landmarks_sha256 = std::string(64, 'd');
  changed[4].img_resolution = 32;
  changed[5].options.seed = 1;
  changed[6].options.schedule = parse_schedule("16:5", 64);
  changed[7].options.space = LatentSpace::kWPlus;
  changed[8].options.perceptual_model = "vgg16.pt", changed[8].perceptual_sha256 = std::string(64, 'e');
  std::set<std::string> keys{key};
  for (const auto& c : changed) keys.insert(latent_cache_key(c));
  EXPECT_EQ(keys.size(), changed.size() + 1);
  // A perceptual model counts by content: another path to the same bytes hits.
  LatentKeyParts moved = changed[8];
  moved.options.perceptual_model = "/elsewhere/copy.pt";
  EXPECT_EQ(latent_cache_key(moved), latent_cache_key(changed[8]));
}

TEST(LatentCachePrune, RemovesOldEntriesAndStaleTemporariesOnly) {
  ScratchDir d;
  const std::string k1(64, '1'), k2(64, '2');
  fs::create_directories(d.file("11"));
  fs::create_directories(d.file("22"));
  for (const auto& f : {"11/" + k1 + ".npz", "11/" + k1 + ".json", "22/" + k2 + ".npz", "22/" + k2 + ".json",
                        std::string("22/.x.facemix-0123456789abcdef.tmp.npz"),
                        std::string("22/.y.facemix-0123456789abcdef.tmp.json"), std::string("22/" + std::string(64, '3') + ".npz")})
    write_file(d.file(f), "x");
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 10);
  fs::last_write_time(d.file("11/" + k1 + ".json"), old);
  fs::last_write_time(d.file("22/.x.facemix-0123456789abcdef.tmp.npz"), old);
  fs::last_write_time(d.file("22/" + std::string(64, '3') + ".npz"), old);  // an orphan of a killed writer
  const PruneStats s = prune_latent_cache(d.path(), 5 * 86400);
  EXPECT_EQ(s.entries_removed, 1);
  EXPECT_EQ(s.entries_kept, 1);
  EXPECT_EQ(s.temp_files_removed, 2);
  EXPECT_FALSE(fs::exists(d.file("11/" + k1 + ".npz")));
  EXPECT_TRUE(fs::exists(d.file("22/" + k2 + ".npz")));
  EXPECT_TRUE(fs::exists(d.file("22/.y.facemix-0123456789abcdef.tmp.json"))) << "young: a writer may be running";
  EXPECT_EQ(prune_latent_cache(d.path(), 0).entries_removed, 1);
  EXPECT_THROW(prune_latent_cache(d.file("nothing"), 0), IoError);
}
