// nos-search run checks the child every worker will train before it writes anything: the hostile
// trial's class 4 and 5 (a learning rate that is 0 in float32, a model too large, a one-row CSV,
// data of one class, a validation split of one class) and unreadable data (a FIFO, a gzip bomb).
// Each refusal exits 2 (a command-line value) or 1 (a file: the configuration or the data), names
// the option, key or file, and leaves the directory empty: no database, no workers' log. Data that
// is merely doubtful warns on standard error and the search runs.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tests/runtime/test_data_files.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A CSV of `rows` rows, 2 features, the label `label(row)`.
template <class Label>
std::string labelled_csv(const std::string& path, int rows, Label label) {
  std::string text;
  for (int r = 0; r < rows; ++r) text += fmt::format("{},{},{}\n", r % 7, r % 5, label(r));
  nos::testing::write_text(path, text);
  return path;
}

// `run` with `extra` in the empty directory `dir` (the database would be dir/s.db, its log
// dir/s.db.workers.log): it must exit with `code`, say `message`, take under 30 s and write nothing.
void check_refused(const TempDir& dir, const std::vector<std::string>& extra, int code, const std::string& message) {
  std::vector<std::string> args{"run", "--db", dir.file("s.db"), "--workers", "1", "--no-report", "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::set<std::string> before;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) before.insert(entry.path().string());
  auto start = std::chrono::steady_clock::now();
  ToolResult r = run_tool("nos-search", args);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(fmt::format("{}\n{}", fmt::join(extra, " "), r.err));
  CHECK(r.exit_code == code);
  CHECK(contains(r.err, message));
  CHECK(seconds < 30);
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db.workers.log")));
  std::set<std::string> after;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) after.insert(entry.path().string());
  CHECK(after == before);  // nothing else either (no -wal, -shm, report)
}

std::string config_file(const TempDir& dir, const std::string& json) {
  std::string path = dir.file("search.json");
  std::ofstream(path) << json;
  return path;
}

}  // namespace

TEST_CASE("nos-search run: a learning rate the kernels cannot use is refused before anything is written") {
  TempDir dir;
  std::string data = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 600, 4, 3, false);
  // On the command line a usage error, as nos-train's --lr; in a file, exit 1 naming the file and key.
  check_refused(dir, {"--data", data, "--lr", "1e-50"}, 2, "learning rate 1e-50: rounds to 0 in float32");
  std::string config = config_file(dir, R"({"lr": {"grid": [0.1, 1e-50]}})");
  check_refused(dir, {"--data", data, "--config", config}, 1, config + ": lr.grid: 1e-50 rounds to 0 in float32");
  config = config_file(dir, R"({"lr": {"fixed": 1e-50}})");
  check_refused(dir, {"--data", data, "--config", config}, 1, config + ": lr.fixed: 1e-50 rounds to 0 in float32");
  config = config_file(dir, R"({"lr": {"fixed": 1e300}})");
  check_refused(dir, {"--data", data, "--config", config}, 1, config + ": lr.fixed: 1e+300 does not fit in float32");
}

TEST_CASE("nos-search run: a model that cannot be built is refused before anything is written") {
  TempDir dir;
  std::string data = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 600, 4, 3, false);
  check_refused(dir, {"--data", data, "--hidden", "100000000"}, 2, "--hidden");
  std::string config = config_file(dir, R"({"child": {"hidden": [100000000]}})");
  check_refused(dir, {"--data", data, "--config", config}, 1,
                config + ": child.hidden: hidden layer width 100000000 is outside 1..16777216");
  // Each width allowed, the model not: 10^10 parameters.
  check_refused(dir, {"--data", data, "--hidden", "100000,100000"}, 1,
                "model mlp with hidden widths 100000,100000 would have 1e+10 parameters");
  // A convnet needs images.
  check_refused(dir, {"--data", data, "--model", "convnet"}, 1, "model convnet needs image data");
}

TEST_CASE("nos-search run: data no search can use is refused before anything is written, naming the file") {
  TempDir dir;
  std::string one_row = labelled_csv(dir.file("one.csv"), 1, [](int) { return 0; });
  check_refused(dir, {"--data", one_row}, 1, one_row + ": 1 example, too few to split");
  std::string same = labelled_csv(dir.file("same.csv"), 300, [](int) { return 4; });
  check_refused(dir, {"--data", same}, 1, same + ": all 300 labels are class 4");
  nos::testing::write_idx_pair(dir.file("train"), 60, 4, 4, 1, true);
  check_refused(dir, {"--data", dir.file("train")}, 1, dir.file("train-labels-idx1-ubyte.gz") + ": all 60 labels are class 0");
  std::string two = labelled_csv(dir.file("two.csv"), 2, [](int r) { return r; });
  check_refused(dir, {"--data", two}, 1, two + ": the validation split's 1 example(s) are all class");
  std::string blobs = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 600, 4, 3, false);
  check_refused(dir, {"--data", blobs, "--train-subset", "1"}, 1, "the 1 training example(s) are all class");
  // The funnel's second stage trains on its own subset: checked too.
  check_refused(dir, {"--data", blobs, "--funnel-top", "0.5", "-O", "batch=2", "--config",
                      config_file(dir, R"({"funnel": {"train_subset": 1}})")},
                1, "the 1 training example(s) are all class");
}

TEST_CASE("nos-search run: unreadable data is refused fast and bounded, before anything is written") {
  TempDir dir;
  std::string fifo = dir.file("fifo.csv");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  check_refused(dir, {"--data", fifo}, 1, fifo + ": is a FIFO (named pipe), not a regular file");
  // The trial's gzip bomb: 200 x 8 x 8 images promised, 1 GiB of zeros behind them.
  std::string bomb = dir.file("bomb");
  nos::testing::write_idx_zeros(bomb + "-images-idx3-ubyte.gz", {200, 8, 8}, std::uint64_t{1} << 30, true);
  nos::testing::write_idx(bomb + "-labels-idx1-ubyte.gz", {200}, std::vector<std::uint8_t>(200, 1), true);
  check_refused(dir, {"--data", bomb}, 1, "expected 12800 bytes of images, got more (trailing data");
}

TEST_CASE("nos-search run: data that is only doubtful is warned about on standard error, and the search runs") {
  TempDir dir;
  // 120 rows: 20 validation examples, accuracy in steps of 5 %.
  std::string data = nos::testing::write_blobs_csv(dir.file("small.csv"), 120, 4, 2, false);
  ToolResult r = run_tool("nos-search", {"run", "--db", dir.file("s.db"), "--data", data, "--hidden", "4", "--epochs", "1",
                                         "--lr", "0.1", "--strategy", "random", "--budget", "2", "--batch", "2", "--workers",
                                         "1", "--no-baseline", "--no-report", "--quiet"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "nos-search: warning: " + data + ": the validation split has only 20 examples"));
  CHECK(std::filesystem::exists(dir.file("s.db")));
}

}  // namespace nos::search
