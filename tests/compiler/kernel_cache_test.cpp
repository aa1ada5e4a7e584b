// The disk kernel cache against hostile entries: whatever sits at an entry's path (a FIFO, a
// device, a directory, a huge file) reads as a miss at once and a write replaces it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

#include "compiler/codegen/kernel_cache.h"

using namespace nos::codegen;
namespace fs = std::filesystem;

namespace {

CacheKey test_key() { return {0x1234abcdull, "llvm", "f32", "test-cpu", "test-compiler"}; }

// A fresh cache directory under the build tree.
fs::path fresh_directory(const std::string& name) {
  fs::path dir = fs::path(NOS_BINARY_DIR) / "tests" / "kernel_cache_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// read() on an entry that must come back as a miss. A reader that blocks (on a FIFO) or reads
// forever (from /dev/zero) must not hang the suite: it runs on a detached thread, and after a
// generous wait the check fails (and a FIFO's other end is opened to release it). Only a guard
// against a hang, not a timing assertion.
void check_miss(const DiskCache& cache, const fs::path& entry) {
  auto result = std::make_shared<std::promise<bool>>();
  std::future<bool> hit = result->get_future();
  std::thread([cache, result] { result->set_value(cache.read(test_key()).has_value()); }).detach();
  if (hit.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    FAIL_CHECK("DiskCache::read did not return for " << entry);
    int writer = ::open(entry.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) ::close(writer);
    return;
  }
  CHECK_FALSE(hit.get());
}

}  // namespace

TEST_CASE("kernel cache: an entry written is read back, a damaged one is a miss") {
  DiskCache cache(fresh_directory("plain"));
  CHECK_FALSE(cache.read(test_key()).has_value());
  REQUIRE(cache.write(test_key(), "kernel bytes"));
  CHECK(cache.read(test_key()) == "kernel bytes");
  fs::path entry = cache.directory() / test_key().file_name();
  fs::resize_file(entry, fs::file_size(entry) - 1);  // truncated: the digest no longer matches
  CHECK_FALSE(cache.read(test_key()).has_value());
}

TEST_CASE("kernel cache: a FIFO in place of an entry is a miss, and a write replaces it") {
  DiskCache cache(fresh_directory("fifo"));
  fs::path entry = cache.directory() / test_key().file_name();
  REQUIRE(::mkfifo(entry.c_str(), 0600) == 0);
  check_miss(cache, entry);
  REQUIRE(cache.write(test_key(), "recompiled"));
  CHECK(fs::is_regular_file(entry));
  CHECK(cache.read(test_key()) == "recompiled");
}

TEST_CASE("kernel cache: a device, a directory or an oversized file in place of an entry is a miss") {
  DiskCache cache(fresh_directory("other"));
  fs::path entry = cache.directory() / test_key().file_name();

  fs::create_symlink("/dev/zero", entry);  // endless bytes: read without a limit, never returns
  check_miss(cache, entry);
  fs::remove(entry);

  fs::create_directory(entry);
  check_miss(cache, entry);
  fs::remove(entry);

  // A valid entry padded past the cap (sparse, so it costs no disk): refused by its size alone.
  REQUIRE(cache.write(test_key(), "kernel bytes"));
  REQUIRE(cache.read(test_key()).has_value());
  fs::resize_file(entry, kMaxCacheEntryBytes + 1);
  check_miss(cache, entry);
  REQUIRE(cache.write(test_key(), "recompiled"));
  CHECK(cache.read(test_key()) == "recompiled");
}
