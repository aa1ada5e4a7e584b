// nos-search run's checks, one test per class of mistake a hostile trial found: each ends fast
// with exit 2 (a command-line value) or 1 (a file), a message naming the option, file or key, and
// no database written; a resumed run accepts the options it was started with and refuses real
// changes, showing both values; a worker stopped by SIGINT exits 130.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "controller/search/storage.h"
#include "tests/runtime/test_data_files.h"
#include "tests/search/cli/search_processes.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string& blobs() {
  static const std::string file =
      nos::testing::write_blobs_csv(nos::testing::temp_dir("search_run_checks") + "/blobs.csv", 300, 8, 3, false);
  return file;
}

// `run` with `extra` on a synthetic child (nothing trains): it must fail with `code`, say
// `message` and write nothing.
void check_refused(const std::vector<std::string>& extra, int code, const std::string& message) {
  TempDir dir;
  std::vector<std::string> args{"run", "--db", dir.file("s.db"), "--child", "synthetic:0", "--workers", "0",
                                "--no-baseline", "--no-report", "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  ToolResult r = run_tool("nos-search", args);
  INFO(fmt::format("{}\n{}", fmt::join(extra, " "), r.err));
  CHECK(r.exit_code == code);
  CHECK(contains(r.err, message));
  CHECK(std::filesystem::is_empty(dir.path()));
}

}  // namespace

TEST_CASE("nos-search run: out-of-range values are usage errors (exit 2) whatever the option") {
  check_refused({"--lr-grid", "0.1,nan"}, 2, "--lr-grid: learning rate nan");
  check_refused({"--lr-grid", "1e-50"}, 2, "--lr-grid: learning rate 1e-50");
  check_refused({"--lr-grid", "finer"}, 2, "--lr-grid: 'finer' is not a number (nor a named grid: default, fine, half-decades)");
  check_refused({"--lr-sweep", "bisect"}, 2, "--lr-sweep: expected exhaustive or halving, not 'bisect'");
  check_refused({"--lr", "nan"}, 2, "--lr");
  check_refused({"--funnel-top", "nan"}, 2, "--funnel-top");
  check_refused({"--funnel-top", "2"}, 2, "--funnel-top");
  check_refused({"--hidden", "0"}, 2, "--hidden");
  check_refused({"--threads-per-worker", "100000"}, 2, "--threads-per-worker");
  check_refused({"--epochs", "1000000"}, 2, "--epochs");
}

TEST_CASE("nos-search run: budgets and batches that would overflow or exhaust memory are usage errors") {
  // Rounding 2^63 - 8 up to whole batches of 20 overflowed into a search of 0 candidates, exit 0.
  check_refused({"--budget", "9223372036854775800", "--batch", "20"}, 2, "--budget");
  check_refused({"--budget", "99999999999999999999"}, 2, "--budget");
  // A batch is proposed and stored whole before anything is evaluated: a million of them held GBs.
  check_refused({"--batch", "1000000"}, 2, "--batch");
  check_refused({"-O", "batch=1000000"}, 1, "option 'batch'");
}

TEST_CASE("nos-search run: an option and the same strategy option with another value are refused") {
  check_refused({"--batch", "5", "-O", "batch=7"}, 2, "--batch 5 and --strategy-option batch=7 disagree");
  check_refused({"--algorithm", "ppo", "-O", "algorithm=reinforce"}, 2, "disagree");
}

TEST_CASE("nos-search run: a name that is not UTF-8 is refused before anything is written") {
  // It once ran a whole search, then `final` ended with exit 3 at its JSON dump, storing nothing.
  check_refused({"--name", "a\xff\xfe" "b"}, 2, "--name: not valid UTF-8");
}

TEST_CASE("nos-search run: a configuration file's mistakes name the file, the place and the key") {
  TempDir dir;
  auto config = [&](const std::string& text) {
    std::string file = dir.file("c.json");
    std::ofstream(file) << text;
    return file;
  };
  check_refused({"--config", config(R"({"seed": -1})")}, 1, "c.json: seed: expected an integer from 0 to 18446744073709551615, not -1");
  check_refused({"--config", config(R"({"child": {"epochs": 10000000000}})")}, 1, "child.epochs: expected an integer from");
  check_refused({"--config", config("{\n  \"budget\": 1e400\n}")}, 1, "c.json:2:13: not valid JSON: the number 1e400 is out of range");
  check_refused({"--config", config("{\"budget\": 40,\n \"budget\" 50}")}, 1, "c.json:2:");
  check_refused({"--config", config(R"({"child": {"epochs": 3, "epochs": 4}})")}, 1, "c.json: child.epochs: given twice");
  check_refused({"--config", config(R"({"strategy": "random", "strategy_options": {"batch": 0}})")}, 1,
                "c.json: strategy_options: option 'batch'");
  check_refused({"--config", config(R"({"strategy": "anneal"})")}, 1, "c.json: strategy: unknown strategy 'anneal'");
  check_refused({"--config", "/dev/zero"}, 1, "/dev/zero: is a character device, not a regular file");
  std::string fifo = dir.file("fifo.json");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  check_refused({"--config", fifo}, 1, "fifo.json: is a FIFO (named pipe), not a regular file");
}

TEST_CASE("nos-search run --task: the file sets the child's keys, options beside it replace them, bad files exit 1") {
  TempDir dir;
  std::ofstream(dir.file("task.json")) << nlohmann::json{{"model", {{"name", "mlp"}, {"hidden", {8}}}},
                                                         {"data", blobs()}, {"epochs", 2}, {"train_subset", 0}, {"batch_size", 32}}.dump();
  std::string db = dir.file("s.db");
  ToolResult r = run_tool("nos-search", {"run", "--db", db, "--task", dir.file("task.json"), "--epochs", "1", "--lr", "0.1",
                                         "--budget", "4", "--batch", "4", "--strategy", "random", "--workers", "1",
                                         "--child", "synthetic:0", "--no-baseline", "--no-report", "--quiet"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nlohmann::json child = nlohmann::json::parse(open_storage(db, OpenMode::ReadOnly)->searches().at(0).config_json)["child"];
  CHECK(child["data"] == blobs());
  CHECK(child["hidden"] == nlohmann::json::array({8}));
  CHECK(child["batch_size"] == 32);
  CHECK(child["epochs"] == 1);  // --epochs beside the file
  CHECK(child["time_budget"] == 120);  // not a task key: the default

  std::ofstream(dir.file("bad.json")) << R"({"epoch": 2})";
  check_refused({"--task", dir.file("bad.json")}, 1, dir.file("bad.json") + ": epoch: unknown key");
  std::ofstream(dir.file("type.json")) << R"({"train_subset": -1.5})";
  check_refused({"--task", dir.file("type.json")}, 1, dir.file("type.json") + ": train_subset: expected an integer");
  check_refused({"--task", dir.file("none.json")}, 1, dir.file("none.json") + ": cannot open");
}

TEST_CASE("nos-search run --resume: needs --db, accepts the options it was started with, refuses real changes") {
  TempDir dir;
  std::string db = dir.file("s.db");
  ToolResult r = run_tool("nos-search", {"run", "--resume", "--budget", "8"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--resume needs --db"));

  auto args = [&](const std::string& budget, const std::string& epochs) {
    return std::vector<std::string>{"run", "--db", db, "--data", blobs(), "--hidden", "8", "--epochs", epochs, "--lr",
                                    "0.1", "--budget", budget, "--batch", "4", "--strategy", "random", "--workers", "1",
                                    "--no-baseline", "--no-report", "--quiet"};
  };
  r = run_tool("nos-search", args("4", "1"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  // The same command with --resume appended and a larger budget: every fixed option equals its
  // stored value, so it continues.
  std::vector<std::string> again = args("8", "1");
  again.push_back("--resume");
  r = run_tool("nos-search", again);
  CHECK_MESSAGE(r.exit_code == 0, r.err);

  std::vector<std::string> changed = args("12", "2");
  changed.push_back("--resume");
  r = run_tool("nos-search", changed);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "child.epochs (stored 1, given 2)"));
}

TEST_CASE("nos-search worker: stopped by SIGINT it exits 130, as its help says") {
  TempDir dir;
  std::string db = dir.file("s.db");
  // A search nobody works on: run with no local workers waits for remote ones.
  pid_t run = testing::start_nos_search({"run", "--db", db, "--child", "synthetic:30", "--workers", "0", "--budget", "40",
                                         "--batch", "20", "--strategy", "random", "--no-baseline", "--no-report", "--quiet"},
                                        dir.file("run.log"));
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).queued > 0; }));
  pid_t worker = testing::start_nos_search({"worker", "--db", db}, dir.file("worker.log"));
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).running > 0; }));
  kill(worker, SIGINT);
  CHECK(testing::wait_exit(worker) == 130);
  kill(run, SIGINT);
  CHECK(testing::wait_exit(run) == 130);
}

TEST_CASE("nos-search run --async: stopped, it says it cannot be resumed instead of suggesting --resume") {
  TempDir dir;
  std::string db = dir.file("s.db");
  std::string log = dir.file("run.log");
  pid_t run = testing::start_nos_search({"run", "--db", db, "--async", "--child", "synthetic:30", "--workers", "0",
                                         "--budget", "40", "--batch", "20", "--strategy", "random", "--no-baseline",
                                         "--no-report", "--quiet"},
                                        log);
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).queued > 0; }));
  kill(run, SIGINT);
  CHECK(testing::wait_exit(run) == 130);
  std::string said = testing::read_log(log);
  CHECK(contains(said, "An --async search cannot be resumed"));
  CHECK(contains(said, "nos-search top " + db));
  CHECK_FALSE(contains(said, "--resume"));
}

}  // namespace nos::search
