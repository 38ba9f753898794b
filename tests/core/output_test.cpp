// The output policy and atomic writes every command relies on.
#include <gtest/gtest.h>

#include <filesystem>

#include "facemix/errors.h"
#include "facemix/output.h"
#include "facemix/progress.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace facemix;
using facemix::test::ScratchDir;

TEST(PrepareOutput, NewFileIsAllowed) {
  ScratchDir d;
  EXPECT_TRUE(prepare_output(d.file("out.png"), {}, Overwrite::kRefuse));
}

TEST(PrepareOutput, ExistingFileFollowsThePolicy) {
  ScratchDir d;
  test::write_file(d.file("out.png"), "x");
  EXPECT_THROW(prepare_output(d.file("out.png"), {}, Overwrite::kRefuse), IoError);
  EXPECT_TRUE(prepare_output(d.file("out.png"), {}, Overwrite::kYes));
  EXPECT_FALSE(prepare_output(d.file("out.png"), {}, Overwrite::kNever));
}

TEST(PrepareOutput, AnInputIsNeverAnOutputEvenWithYes) {
  ScratchDir d;
  test::write_file(d.file("in.png"), "x");
  // Same file through a different spelling of the path.
  const std::string other_spelling = d.path() + "/./in.png";
  try {
    prepare_output(other_spelling, {d.file("in.png")}, Overwrite::kYes);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("overwrite an input"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitIo);
  }
}

TEST(PrepareOutput, MissingDirectoryAndDirectoryTargetAreRefused) {
  ScratchDir d;
  EXPECT_THROW(prepare_output(d.file("nope/out.png"), {}, Overwrite::kYes), IoError);
  fs::create_directory(d.file("sub"));
  EXPECT_THROW(prepare_output(d.file("sub"), {}, Overwrite::kYes), IoError);
}

TEST(WriteFileAtomic, WritesCompleteFileAndLeavesNoTemporary) {
  ScratchDir d;
  write_bytes_atomic(d.file("a.bin"), std::string(1000, 'z'));
  EXPECT_EQ(test::read_file(d.file("a.bin")), std::string(1000, 'z'));
  EXPECT_EQ(d.list(), std::vector<std::string>{"a.bin"});
}

TEST(WriteFileAtomic, FailureLeavesNeitherOutputNorTemporary) {
  ScratchDir d;
  test::write_file(d.file("keep.bin"), "old");
  EXPECT_THROW(write_file_atomic(d.file("keep.bin"),
                                 [](const std::string& tmp) {
                                   test::write_file(tmp, "partial");
                                   throw IoError("simulated failure mid-write");
                                 }),
               IoError);
  EXPECT_EQ(test::read_file(d.file("keep.bin")), "old");  // untouched
  EXPECT_EQ(d.list(), std::vector<std::string>{"keep.bin"});
}

TEST(WriteFileAtomic, TemporaryKeepsTheExtension) {
  ScratchDir d;
  std::string seen;
  write_file_atomic(d.file("x.tiff"), [&](const std::string& tmp) {
    seen = tmp;
    test::write_file(tmp, "data");
  });
  EXPECT_EQ(fs::path(seen).extension(), ".tiff");
  EXPECT_EQ(fs::path(seen).parent_path(), fs::path(d.path()));
}

TEST(EnsureOutputDirectory, CreatesMissingParentsAndRefusesAFile) {
  ScratchDir d;
  const std::string nested = d.file("a/b/c");
  ensure_output_directory(nested, "--out-dir");
  EXPECT_TRUE(fs::is_directory(nested));
  ensure_output_directory(nested, "--out-dir");  // already there: fine
  test::write_file(d.file("plain"), "x");
  try {
    ensure_output_directory(d.file("plain"), "--out-dir");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("--out-dir"), std::string::npos) << e.what();
  }
}

TEST(Interrupt, CheckThrowsOnceRequested) {
  EXPECT_NO_THROW(check_interrupt());
  request_interrupt();
  EXPECT_TRUE(interrupt_requested());
  try {
    check_interrupt();
    FAIL() << "expected Interrupted";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.exit_code(), kExitInterrupted);
  }
}
