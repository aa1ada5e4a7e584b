// nos-search's reading commands end to end: a search database made through the Storage API (ok,
// rejected, crashed results, a cache hit, a later funnel stage, a queued task), then the built
// binary's status, top and export, and its answers to files that are not usable databases (a FIFO,
// a device); they leave nothing beside the database. Where nos-search has `run`: a resumed run's
// budget in status, an existing empty file refused as a new database.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "controller/search/storage.h"
#include "dsl/parser.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

// A candidate as the search stores it: canonical text and hash from the compiler.
NewCandidate candidate(const std::string& source, const std::string& tokens) {
  ir::Function f = ir::optimize(ir::lower(dsl::parse_rule(source)));
  NewCandidate c;
  c.rule = ir::to_text(f);
  c.hash = ir::hash_hex(ir::canonical_hash(f));
  c.tokens = tokens;
  return c;
}

EvaluationResult ok(double reward, double lr, int stage = 1) {
  EvaluationResult r;
  r.stage = stage;
  r.reward = reward;
  r.metric = reward;
  r.lr = lr;
  return r;
}

void finish_next(Storage& storage, SearchId id, std::int64_t expected_candidate, const EvaluationResult& result) {
  auto claimed = storage.claim(id, "worker-1");
  REQUIRE(claimed);
  REQUIRE(claimed->lease.candidate == expected_candidate);
  REQUIRE(storage.finish(claimed->lease, result));
}

// The database of the tests below, and what went into it.
struct Fixture {
  TempDir dir;
  std::string path = dir.file("search.db");
  NewCandidate sgd = candidate("g", "g id id id mul");
  NewCandidate power_sign = candidate("exp(sign(g) * sign(m)) * g", "sign_g sign_m id id mul o1 g exp id mul");
  NewCandidate rejected = candidate("m * 0", "m zero id id mul");
  NewCandidate crashing = candidate("adam", "adam id id id mul");
  NewCandidate queued = candidate("sign(g)", "sign_g id id id mul");

  Fixture() {
    auto storage = open_storage(path, OpenMode::Create);
    SearchId id = storage->create_search("fmnist", R"({"strategy": "random", "batch_size": 4, "seed": 7})",
                                         {120, 2, -0.5});
    // Batch 0: sgd (0), power_sign (1), a rule screened out (2), one whose worker crashes twice (3).
    NewCandidate screened = rejected;
    screened.resolved = EvaluationResult{};
    screened.resolved->status = search::Status::Rejected;
    screened.resolved->source = search::Source::Screened;
    screened.resolved->detail = "zero: every update is 0";
    storage->enqueue_batch(id, 0, {sgd, power_sign, screened, crashing});
    finish_next(*storage, id, 0, ok(0.80, 0.1));
    finish_next(*storage, id, 1, ok(0.90, 0.01));
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto claimed = storage->claim(id, "worker-1");
      REQUIRE(claimed);
      REQUIRE(claimed->lease.candidate == 3);
      storage->abandon(claimed->lease, "worker died");
    }
    // Batch 1: power_sign again (a cache hit of candidate 1: the same rule, listed once by top),
    // and a rule still queued; then sgd's second stage, with a lower reward than power_sign's first.
    NewCandidate hit = power_sign;
    hit.resolved = ok(0.90, 0.01);
    hit.resolved->source = search::Source::CacheHit;
    hit.resolved->reused_from = 1;
    storage->enqueue_batch(id, 1, {hit, queued});
    storage->enqueue_stage(id, 0, 2);
    auto next = storage->claim(id, "worker-1");
    REQUIRE(next);
    REQUIRE(next->lease.candidate == 5);  // FIFO: the queued rule first, then the later stage
    storage->release(next->lease);
    // Take the stage-2 task: the queued rule goes back to the queue's head, so claim twice.
    auto first = storage->claim(id, "worker-1");
    auto second = storage->claim(id, "worker-1");
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(first->lease.candidate == 5);
    REQUIRE(second->lease.candidate == 0);
    REQUIRE(storage->finish(second->lease, ok(0.75, 0.1, 2)));
    storage->release(first->lease);
  }

  std::string bytes() const {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

void raw_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

TEST_CASE("nos-search top --json: one line per rule, the highest stage first, then reward") {
  Fixture f;
  ToolResult r = run_tool("nos-search", {"top", f.path, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nlohmann::json top = nlohmann::json::parse(r.out);
  REQUIRE(top.is_array());
  REQUIRE(top.size() == 4);  // the cache hit is power_sign again; the queued rule has no result

  // sgd reached stage 2: first, although power_sign's stage-1 reward is higher.
  CHECK(top[0]["rank"] == 1);
  CHECK(top[0]["rule"] == f.sgd.rule);
  CHECK(top[0]["tokens"] == f.sgd.tokens);
  CHECK(top[0]["hash"] == f.sgd.hash);
  CHECK(top[0]["stage"] == 2);
  CHECK(top[0]["reward"] == doctest::Approx(0.75));
  CHECK(top[0]["metric"] == doctest::Approx(0.75));
  CHECK(top[0]["lr"] == doctest::Approx(0.1));
  CHECK(top[0]["status"] == "ok");

  CHECK(top[1]["rank"] == 2);
  CHECK(top[1]["rule"] == f.power_sign.rule);
  CHECK(top[1]["hash"] == f.power_sign.hash);
  CHECK(top[1]["candidate"] == 1);  // the trained one, not its cache hit
  CHECK(top[1]["source"] == "trained");
  CHECK(top[1]["reward"] == doctest::Approx(0.90));
  CHECK(top[1]["lr"] == doctest::Approx(0.01));

  // The crash carries the search's crash reward (-0.5); the screened rule has none: last.
  CHECK(top[2]["rule"] == f.crashing.rule);
  CHECK(top[2]["status"] == "crashed");
  CHECK(top[2]["reward"] == doctest::Approx(-0.5));
  CHECK(top[3]["rule"] == f.rejected.rule);
  CHECK(top[3]["status"] == "rejected");
  CHECK(top[3]["reward"].is_null());
  CHECK(top[3]["lr"].is_null());
  CHECK(top[3]["detail"] == "zero: every update is 0");

  ToolResult two = run_tool("nos-search", {"top", f.path, "-k", "2", "--json"});
  REQUIRE(two.exit_code == 0);
  nlohmann::json best_two = nlohmann::json::parse(two.out);
  REQUIRE(best_two.size() == 2);
  CHECK(best_two[1]["hash"] == f.power_sign.hash);
}

TEST_CASE("nos-search top: an aligned table with the ranks, rewards and rules") {
  Fixture f;
  ToolResult r = run_tool("nos-search", {"top", f.path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(r.out.substr(start, end - start));
  REQUIRE(lines.size() == 5);  // the header and four rules
  CHECK(lines[0].find("rank") != std::string::npos);
  // Aligned: the hash column starts at the same place on every line.
  std::size_t hash_column = lines[0].find("hash");
  REQUIRE(hash_column != std::string::npos);
  CHECK(lines[1].substr(hash_column, 16) == f.sgd.hash);
  CHECK(lines[2].substr(hash_column, 16) == f.power_sign.hash);
  CHECK(lines[3].find("crashed") != std::string::npos);
  CHECK(lines[4].find("rejected") != std::string::npos);
  CHECK(lines[1].find(f.sgd.rule.substr(0, 20)) != std::string::npos);
}

TEST_CASE("nos-search status: configuration, queue, results by status and source, best rule, rate") {
  Fixture f;
  std::string before = f.bytes();
  ToolResult r = run_tool("nos-search", {"status", f.path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string& out = r.out;
  CHECK(out.find("search 'fmnist'") != std::string::npos);
  CHECK(out.find("leases: 120 s, 2 attempts, crash reward -0.5") != std::string::npos);
  CHECK(out.find("strategy: random") != std::string::npos);
  CHECK(out.find("batch_size: 4") != std::string::npos);
  CHECK(out.find("candidates: 6 in 2 batches") != std::string::npos);
  // Tasks: sgd stage 1 and 2 and power_sign finished, plus the two results stored with their
  // candidate (the screened rule, the cache hit); the crash; the released rule queued.
  CHECK(out.find("tasks: queued 1, running 0, finished 5, crashed 1") != std::string::npos);
  CHECK(out.find("stage 1 results: ok 3, invalid 0, rejected 1, diverged 0, time_budget 0, crashed 1") !=
        std::string::npos);
  CHECK(out.find("by source: trained 3, cache_hit 1, fingerprint_hit 0, screened 1") != std::string::npos);
  CHECK(out.find("stage 2 results: ok 1,") != std::string::npos);
  CHECK(out.find("failed attempts (crashes, expired leases): 1") != std::string::npos);
  CHECK(out.find("trained evaluations per minute") != std::string::npos);
  CHECK(out.find("best: reward 0.75, metric 0.75, lr 0.1, ok at stage 2 (candidate 0, hash " + f.sgd.hash + ")") !=
        std::string::npos);
  CHECK(out.find("rule: " + f.sgd.rule + "\n") != std::string::npos);
  CHECK(f.bytes() == before);  // read-only: the reading commands never change the file

  ToolResult named = run_tool("nos-search", {"status", f.path, "--search", "fmnist"});
  CHECK(named.exit_code == 0);
  CHECK(named.out == out);
}

TEST_CASE("nos-search top reads a database while a search holds it open and writes to it") {
  Fixture f;
  auto writer = open_storage(f.path, OpenMode::Open);  // the running search: WAL, not checkpointed
  SearchId id = writer->find_search("fmnist")->id;
  NewCandidate fresh = candidate("sign(g) * 0.5 + g", "sign_g g id id add");
  fresh.resolved = ok(0.95, 0.03);
  writer->enqueue_batch(id, 2, {fresh});
  auto claimed = writer->claim(id, "worker-2");  // a lease held now
  REQUIRE(claimed);

  ToolResult r = run_tool("nos-search", {"top", f.path, "--json", "-k", "2"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  nlohmann::json top = nlohmann::json::parse(r.out);
  REQUIRE(top.size() == 2);
  CHECK(top[1]["rule"] == fresh.rule);  // the latest commit is seen
  CHECK(top[1]["reward"] == doctest::Approx(0.95));
  ToolResult status = run_tool("nos-search", {"status", f.path});
  REQUIRE_MESSAGE(status.exit_code == 0, status.err);
  CHECK(status.out.find("tasks: queued 0, running 1, finished 6, crashed 1") != std::string::npos);
  REQUIRE(writer->finish(claimed->lease, ok(0.5, 0.1)));  // and the search goes on writing
}

TEST_CASE("nos-search export: a ranked rule as a PyTorch optimizer that python compiles") {
  Fixture f;
  std::string py = f.dir.file("best.py");
  ToolResult r = run_tool("nos-search", {"export", f.path, "--target", "pytorch", "-o", py});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("rank 1 (candidate 0, hash " + f.sgd.hash) != std::string::npos);
  std::ifstream in(py);
  std::string source{std::istreambuf_iterator<char>(in), {}};
  CHECK(source.find("class NosRule_" + f.sgd.hash) != std::string::npos);
  CHECK(std::system(("python3 -m py_compile '" + py + "'").c_str()) == 0);

  // --rank 2 to standard output: power_sign's optimizer.
  ToolResult second = run_tool("nos-search", {"export", f.path, "--rank", "2", "--target", "pytorch", "-o", "-"});
  REQUIRE_MESSAGE(second.exit_code == 0, second.err);
  CHECK(second.out.find("class NosRule_" + f.power_sign.hash) != std::string::npos);

  ToolResult past = run_tool("nos-search", {"export", f.path, "--rank", "9", "--target", "pytorch", "-o", py});
  CHECK(past.exit_code == 1);
  CHECK(past.err.find(f.path + ": --rank 9: search 'fmnist' has 4 ranked rules") != std::string::npos);

  std::string unwritable = f.dir.file("no/such/dir/x.py");
  ToolResult bad_out = run_tool("nos-search", {"export", f.path, "--target", "pytorch", "-o", unwritable});
  CHECK(bad_out.exit_code == 1);
  CHECK(bad_out.err.find(unwritable + ": cannot write the export") != std::string::npos);

  ToolResult no_target = run_tool("nos-search", {"export", f.path, "-o", py});
  CHECK(no_target.exit_code == 2);
  ToolResult bad_target = run_tool("nos-search", {"export", f.path, "--target", "jax", "-o", py});
  CHECK(bad_target.exit_code == 2);
  // One target vocabulary with nosc compile: `cuda` is its bare kernel, the export's is cuda-standalone.
  ToolResult bare = run_tool("nos-search", {"export", f.path, "--target", "cuda", "-o", py});
  CHECK(bare.exit_code == 2);
  CHECK(bare.err.find("cuda-standalone") != std::string::npos);
}

// Export is the compiler's source target: nos-search export picks a rank, nosc compile emits the same
// text for the stored rule (pytorch, and cpp and cuda-standalone, which agree also where this build
// lacks the CUDA generator: both then exit 1).
TEST_CASE("nos-search export and nosc compile --target write the same source for a stored rule") {
  Fixture f;
  for (const char* target : {"pytorch", "cpp", "cuda-standalone"}) {
    for (const NewCandidate* c : {&f.sgd, &f.power_sign}) {
      INFO(target << " " << c->rule);
      const std::string rank = c == &f.sgd ? "1" : "2";
      ToolResult exported = run_tool("nos-search", {"export", f.path, "--rank", rank, "--target", target, "-o", "-"});
      ToolResult compiled = run_tool("nosc", {"compile", "--rule", c->rule, "--target", target});
      CHECK_MESSAGE(exported.exit_code == compiled.exit_code, std::string(exported.err + compiled.err));
      CHECK(exported.out == compiled.out);
      if (std::string(target) == "pytorch") {
        REQUIRE_MESSAGE(compiled.exit_code == 0, compiled.err);
        CHECK(compiled.out.find("class NosRule_" + c->hash + "(torch.optim.Optimizer):") != std::string::npos);
      }
    }
  }
}

TEST_CASE("nos-search: files that are not usable search databases exit 1 naming the file") {
  TempDir dir;
  auto expect_error = [](const std::vector<std::string>& args, const std::string& message) {
    ToolResult r = run_tool("nos-search", args);
    CHECK_MESSAGE(r.exit_code == 1, r.err);
    CHECK_MESSAGE(r.err.find("nos-search: error: " + message) != std::string::npos, r.err);
    CHECK(r.out.empty());
  };
  std::string missing = dir.file("missing.db");
  for (const char* command : {"status", "top"}) expect_error({command, missing}, missing + ": no such search database");
  expect_error({"export", missing, "--target", "pytorch", "-o", dir.file("x.py")},
               missing + ": no such search database");

  std::string text = dir.file("notes.db");
  std::ofstream(text) << "not a database\n" << std::string(5000, 'x');
  expect_error({"status", text}, text + ": not a NOS search database (not an SQLite file");

  std::string other = dir.file("other.db");
  raw_sql(other, "CREATE TABLE trials (id INTEGER)");
  expect_error({"top", other}, other + ": not a NOS search database (an SQLite file without the nos_schema table)");

  std::string newer = dir.file("newer.db");
  open_storage(newer, OpenMode::Create);
  raw_sql(newer, "UPDATE nos_schema SET version = 99");
  expect_error({"status", newer}, newer + ": schema version 99 is newer than this NOS reads");

  // A status this NOS does not know (a newer one wrote it): bad data, exit 1, not an internal error.
  Fixture newer_status;
  raw_sql(newer_status.path, "PRAGMA ignore_check_constraints = ON; UPDATE evaluations SET status = 'great' WHERE id = 1");
  const std::string unknown = newer_status.path + ": unknown evaluation status 'great' (evaluation 1)";
  expect_error({"top", newer_status.path}, unknown);
  ToolResult status = run_tool("nos-search", {"status", newer_status.path});  // its header is printed first
  CHECK_MESSAGE(status.exit_code == 1, status.err);
  CHECK_MESSAGE(status.err.find("nos-search: error: " + unknown) != std::string::npos, status.err);

  Fixture f;
  expect_error({"top", f.path, "--search", "cifar"}, f.path + ": no search named 'cifar' (it holds: fmnist)");
  {
    auto storage = open_storage(f.path, OpenMode::Open);
    storage->create_search("cifar", "{}", {});
  }
  expect_error({"top", f.path}, f.path + ": holds 2 searches (fmnist, cifar): choose one with --search");
  ToolResult chosen = run_tool("nos-search", {"top", f.path, "--search", "cifar", "--json"});
  CHECK(chosen.exit_code == 0);
  CHECK(chosen.out == "[]\n");
  ToolResult both = run_tool("nos-search", {"status", f.path});
  CHECK(both.exit_code == 0);
  CHECK(both.out.find("search 'fmnist'") != std::string::npos);
  CHECK(both.out.find("search 'cifar'") != std::string::npos);

  std::string empty_search = dir.file("fresh.db");
  open_storage(empty_search, OpenMode::Create);
  expect_error({"top", empty_search}, empty_search + ": holds no search yet");

  // Damaged pages after the header: the integrity check on opening names the file.
  {
    std::fstream file(f.path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    std::string garbage(8 * 4096, '\xa5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  expect_error({"status", f.path}, f.path + ": the database is corrupt");
}

// The names and sizes of what a directory holds.
std::map<std::string, std::uintmax_t> listing(const std::filesystem::path& dir) {
  std::map<std::string, std::uintmax_t> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    out[entry.path().filename().string()] = entry.is_regular_file() ? entry.file_size() : 0;
  return out;
}

// nos-search under `timeout`: a command that would wait on a FIFO ends (killed) instead of
// hanging the suite.
ToolResult run_bounded(const std::vector<std::string>& args) {
  std::vector<std::string> all{"-s", "KILL", "60", std::string(NOS_BINARY_DIR) + "/bin/nos-search"};
  all.insert(all.end(), args.begin(), args.end());
  return nos::testing::run_program("/usr/bin/timeout", all);
}

TEST_CASE("nos-search: the reading commands leave nothing beside a finished database (no DB-wal, no DB-shm)") {
  Fixture f;
  const auto before = listing(f.dir.path());
  REQUIRE(before.size() == 1);  // search.db: its last writer closed, the journal went with it
  const std::vector<std::vector<std::string>> commands{
      {"status", f.path}, {"top", f.path}, {"top", f.path, "--json"}, {"export", f.path, "--target", "pytorch", "-o", "-"}};
  for (const auto& args : commands) {
    ToolResult r = run_tool("nos-search", args);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(listing(f.dir.path()) == before, args[0]);
  }
}

TEST_CASE("nos-search: a FIFO or a device as the database is refused at once, naming it (exit 1)") {
  TempDir dir;
  std::string fifo = dir.file("pipe.db");
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  std::vector<std::vector<std::string>> commands{{"status", fifo},
                                                 {"top", fifo},
                                                 {"export", fifo, "--target", "pytorch", "-o", dir.file("x.py")},
                                                 {"report", fifo, "-o", dir.file("report")}};
#if NOS_SEARCH_HAS_RUN
  commands.push_back({"run", "--db", fifo, "--resume"});
  commands.push_back({"run", "--db", fifo, "--child", "synthetic:0", "--strategy", "random", "--no-report"});
  commands.push_back({"worker", "--db", fifo});
  commands.push_back({"final", fifo});
  commands.push_back({"final", fifo, "--no-store"});
#endif
  for (const auto& args : commands) {
    ToolResult r = run_bounded(args);
    CHECK_MESSAGE(r.exit_code == 1, args[0], ": ", r.err);
    CHECK_MESSAGE(r.err.find("nos-search: error: " + fifo + ": is a FIFO (named pipe), not a search database") !=
                      std::string::npos,
                  r.err);
  }
  CHECK(listing(dir.path()).size() == 1);  // nothing written: no export, no report, no workers' log
  ToolResult device = run_bounded({"status", "/dev/zero"});
  CHECK(device.exit_code == 1);
  CHECK(device.err.find("/dev/zero: is a character device, not a search database") != std::string::npos);
}

TEST_CASE("nos-search status: candidates evaluated are counted from the results, not from the last batch learned from") {
  // A search killed after learning from 7 of its 10 batches of 10, with 93 results stored: the
  // batch statistics (written when a batch is learned from) say 70.
  TempDir dir;
  std::string path = dir.file("killed.db");
  {
    auto storage = open_storage(path, OpenMode::Create);
    SearchId id = storage->create_search("s", R"({"budget": 95, "strategy": "random"})", {});
    for (int b = 0; b < 10; ++b) {
      std::vector<NewCandidate> batch;
      for (int i = 0; i < 10; ++i) {
        NewCandidate c = candidate("g", "g id id id mul");
        if (b * 10 + i < 93) c.resolved = ok(0.5, 0.1);
        batch.push_back(c);
      }
      storage->enqueue_batch(id, b, batch);
    }
    for (int b = 0; b < 7; ++b)
      storage->save_strategy_state(id, b, "state",
                                   R"({"evaluated": )" + std::to_string(10 * (b + 1)) + R"(, "elapsed": )" +
                                       std::to_string(6 * (b + 1)) + R"(, "rewards": {"mean": 0.5}})");
  }
  ToolResult r = run_tool("nos-search", {"status", path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.out.find("progress: 7 batches learned from, 93/100 candidates evaluated (the budget 95 in whole batches "
                           "of 10), 23 of them not learned from yet; 70 learned from in 42 s of search, 100 candidates "
                           "per minute; last batch's mean reward 0.5000; about 4 s left at that rate\n") != std::string::npos,
                r.out);
}

TEST_CASE("nos-search status: a long configuration value is wrapped between its items, never cut inside one") {
  TempDir dir;
  std::string path = dir.file("long.db");
  const std::string data = "/data/sets/a-rather-long-directory-name/and-another-one/fashion-mnist-train-subset.csv";
  nlohmann::json child = {{"data", data},         {"model", "mlp"},           {"hidden", 16},
                          {"train_subset", 0},    {"val_fraction", 0.1666666666666667},
                          {"epochs", 3},          {"batch_size", 128},        {"metric", "val_acc"},
                          {"last_k", 3},          {"backend", "auto"},        {"device", "cpu"},
                          {"time_budget", 120.0}, {"divergence_factor", 1000.0}, {"synthetic", -1.0}};
  nlohmann::json config = {{"budget", 40}, {"child", child}, {"lr", {{"grid", {0.001, 0.01, 0.1, 1.0}}, {"sweep_epochs", 1}}}};
  {
    auto storage = open_storage(path, OpenMode::Create);
    storage->create_search("s", config.dump(), {});
  }
  ToolResult r = run_tool("nos-search", {"status", path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::string section = r.out.substr(r.out.find("  config:\n"));
  section = section.substr(0, section.find("candidates:"));
  CHECK(section.find("...") == std::string::npos);
  // Every entry of the child whole, on one line; no line wider than 100 characters, but for one
  // that holds a single entry longer than that (the path).
  for (const auto& [key, value] : child.items()) {
    std::string item = nlohmann::json(key).dump() + ": " + value.dump();
    CHECK_MESSAGE(section.find(item) != std::string::npos, item, "\n", section);
  }
  CHECK(section.find("    lr: {\"grid\": [0.001, 0.01, 0.1, 1.0], \"sweep_epochs\": 1}\n") != std::string::npos);
  std::size_t start = 0;
  while (start < section.size()) {
    std::size_t end = section.find('\n', start);
    std::string line = section.substr(start, end - start);
    bool single = line.find(", ") == std::string::npos || line.find(", ") == line.size() - 1;
    CHECK_MESSAGE((line.size() <= 100 || single), line);
    start = end + 1;
  }
}

#if NOS_SEARCH_HAS_RUN
const std::vector<std::string> kSyntheticSearch{"--child", "synthetic:0", "--strategy", "random", "--batch", "20", "--seed",
                                                "3", "--workers", "1", "--quiet", "--no-report"};

std::vector<std::string> run_args(const std::string& db, int budget) {
  std::vector<std::string> args{"run", "--db", db, "--budget", std::to_string(budget)};
  args.insert(args.end(), kSyntheticSearch.begin(), kSyntheticSearch.end());
  return args;
}

TEST_CASE("nos-search run: an existing file, even empty, is not a new database's path (exit 1, left as it was)") {
  TempDir dir;
  std::string empty = dir.file("empty.db");
  std::ofstream{empty};
  ToolResult refused = run_tool("nos-search", run_args(empty, 40));
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(refused.err.find("nos-search: error: " + empty + ": already exists (an empty file)") != std::string::npos,
                refused.err);
  CHECK(listing(dir.path()) == std::map<std::string, std::uintmax_t>{{"empty.db", 0}});  // untouched, nothing beside it
}

TEST_CASE("nos-search status: the budget a resumed run works to, and the next --resume goes on to it") {
  TempDir dir;
  std::string db = dir.file("resumed.db");
  ToolResult first = run_tool("nos-search", run_args(db, 40));
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  ToolResult resumed = run_tool("nos-search", {"run", "--db", db, "--resume", "--budget", "60", "--quiet", "--no-report"});
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  ToolResult status = run_tool("nos-search", {"status", db});
  REQUIRE_MESSAGE(status.exit_code == 0, status.err);
  CHECK_MESSAGE(status.out.find("    budget: 60\n") != std::string::npos, status.out);
  CHECK_MESSAGE(status.out.find("progress: 3 batches learned from, 60/60 candidates evaluated; 60 learned from") !=
                    std::string::npos,
                status.out);
  CHECK(status.out.find("; done\n") != std::string::npos);
  // The next --resume works to the stored budget: nothing left to do.
  ToolResult again = run_tool("nos-search", {"run", "--db", db, "--resume", "--quiet", "--no-report"});
  CHECK_MESSAGE(again.exit_code == 0, again.err);
  CHECK(run_tool("nos-search", {"status", db}).out.find("60/60 candidates evaluated") != std::string::npos);
  CHECK(listing(dir.path()).size() == 2);  // the database and the workers' log: status left nothing
}
#endif

TEST_CASE("nos-search: usage mistakes exit 2, a build without LibTorch says what it lacks") {
  CHECK(run_tool("nos-search", {}).exit_code == 2);
  CHECK(run_tool("nos-search", {"top"}).exit_code == 2);  // DB is required
  CHECK(run_tool("nos-search", {"top", "x.db", "-k", "0"}).exit_code == 2);
  ToolResult run = run_tool("nos-search", {"run", "x.db"});  // run takes no positional argument (or has no run)
  CHECK(run.exit_code == 2);
  ToolResult help = run_tool("nos-search", {"--help"});
  CHECK(help.exit_code == 0);
  for (const char* command : {"status", "top", "export", "report"}) CHECK(help.out.find(command) != std::string::npos);
  CHECK(help.out.find("Coming") == std::string::npos);  // every command of the issue exists
#if NOS_SEARCH_HAS_RUN
  for (const char* command : {"run", "worker", "final"}) CHECK(help.out.find(std::string("  ") + command) != std::string::npos);
  CHECK(help.out.find("Not in this build") == std::string::npos);
#else
  CHECK(help.out.find("Not in this build: run, worker, final") != std::string::npos);
#endif
  CHECK(run_tool("nos-search", {"report", "x.db"}).exit_code == 2);  // -o is required
}

}  // namespace
}  // namespace nos::search
