// nos-search run end to end on a tiny child (blobs, 16 hidden units): the same seed gives the same
// candidates and rewards with 1 worker or 2; a worker killed with SIGKILL mid-evaluation costs one
// attempt and the search completes with the same results; `run` killed with SIGKILL and resumed
// completes without repeating or losing a finished evaluation, ending where an uninterrupted run
// ends; bad input is refused before anything is written.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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
using testing::pid_of_owner;
using testing::poll_search;
using testing::start_nos_search;
using testing::TempDir;
using testing::wait_exit;

const std::string& blobs() {
  static const std::string file = nos::testing::write_blobs_csv(nos::testing::temp_dir("search_run") + "/blobs.csv", 1500, 8, 3, false);
  return file;
}

// The search every test runs: 3 batches of 8 from the lstm controller, children of `epochs` epochs.
// (budget: more batches, for a test that needs work left after the first batch is learned from:
// by default two batches are proposed ahead of it.)
std::vector<std::string> search_args(const std::string& db, int workers, int epochs = 3, int budget = 24) {
  return {"run", "--db", db, "--data", blobs(), "--hidden", "16", "--epochs", std::to_string(epochs), "--train-subset", "0",
          "--lr-grid", "0.01,0.1", "--budget", std::to_string(budget), "--batch", "8", "--seed", "7", "--workers",
          std::to_string(workers), "--no-baseline", "--quiet"};
}

// Each candidate's accepted stage-1 result: what must not depend on workers, kills or resumes.
struct Row {
  std::string tokens;
  std::optional<Status> status;  // none: the candidate has no result
  std::optional<Source> source;
  std::optional<double> reward, metric, lr;
  bool operator==(const Row&) const = default;
};

std::vector<Row> snapshot(const std::string& db) {
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::map<std::int64_t, Row> rows;
  for (const Candidate& c : storage->candidates(id)) rows[c.index].tokens = c.tokens;
  for (const Evaluation& e : storage->evaluations(id))
    if (e.accepted && e.stage == 1) {
      Row& r = rows[e.candidate];
      r.status = e.status, r.source = e.source, r.reward = e.reward, r.metric = e.metric, r.lr = e.lr;
    }
  std::vector<Row> out;
  for (auto& [index, row] : rows) out.push_back(row);
  return out;
}

const std::vector<Row>& reference() {
  static const std::vector<Row> rows = [] {
    TempDir dir;
    std::string db = dir.file("reference.db");
    ToolResult r = run_tool("nos-search", search_args(db, 1));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return snapshot(db);
  }();
  return rows;
}

}  // namespace

TEST_CASE("nos-search run: the same seed gives the same candidates and rewards with 1 worker or 2") {
  const std::vector<Row>& one = reference();
  REQUIRE(one.size() == 24);
  int trained = 0;
  for (const Row& r : one) {
    CHECK(r.status.has_value());  // every candidate has its result
    trained += r.source == search::Source::Trained;
  }
  CHECK(trained > 0);

  TempDir dir;
  std::string db = dir.file("two.db");
  ToolResult r = run_tool("nos-search", search_args(db, 2));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<Row> two = snapshot(db);
  REQUIRE(two.size() == one.size());
  for (std::size_t i = 0; i < one.size(); ++i) CHECK_MESSAGE(two[i] == one[i], "candidate ", i, ": ", two[i].tokens);

  // The learned state and the batch statistics are stored after every batch.
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  CHECK(storage->batch_records(id).size() == 3);
  nlohmann::json last = nlohmann::json::parse(storage->batch_records(id).back().statistics_json);
  CHECK(last["evaluated"] == 24);
  CHECK(last["strategy"].contains("entropy"));
  ToolResult status = run_tool("nos-search", {"status", db});
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("progress: 3 batches learned from, 24/24 candidates evaluated") != std::string::npos);
  ToolResult top = run_tool("nos-search", {"top", db, "--json"});
  CHECK(top.exit_code == 0);
  CHECK(nlohmann::json::parse(top.out).size() >= 1);

  // The method's loop (no overlap: each batch proposed after learning from the one before) is as
  // reproducible; its proposals after the first batch differ, since it learned before them.
  std::string strict_one = dir.file("strict-one.db"), strict_two = dir.file("strict-two.db");
  std::vector<std::string> args = search_args(strict_one, 1);
  args.push_back("--no-overlap");
  REQUIRE(run_tool("nos-search", args).exit_code == 0);
  args = search_args(strict_two, 2);
  args.push_back("--no-overlap");
  REQUIRE(run_tool("nos-search", args).exit_code == 0);
  std::vector<Row> strict = snapshot(strict_one);
  CHECK(strict == snapshot(strict_two));
  REQUIRE(strict.size() == one.size());
  for (std::size_t i = 0; i < 8; ++i) CHECK(strict[i] == one[i]);  // the first batch: the same fresh policy
  bool differs = false;
  for (std::size_t i = 16; i < one.size(); ++i) differs = differs || strict[i].tokens != one[i].tokens;
  CHECK(differs);
}

TEST_CASE("nos-search run: a worker killed mid-evaluation costs one attempt, the search completes the same") {
  TempDir dir;
  std::string db = dir.file("kill-worker.db");
  // Longer children, so that an evaluation is in progress when the kill comes.
  std::vector<std::string> args = search_args(db, 2, 60);
  pid_t run = start_nos_search(args, dir.file("run.log"));
  std::string victim;
  std::int64_t candidate = -1;
  REQUIRE(poll_search(db, [&](Storage& s, SearchId id) {
    for (const Lease& lease : s.running(id))
      if (lease.candidate >= 3) {
        victim = lease.owner, candidate = lease.candidate;
        return true;
      }
    return false;
  }));
  REQUIRE(kill(pid_of_owner(victim), SIGKILL) == 0);
  REQUIRE(wait_exit(run) == 0);

  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<Evaluation> attempts = storage->evaluations(id, candidate);
  REQUIRE(attempts.size() >= 2);
  CHECK(attempts[0].status == search::Status::Crashed);
  CHECK_FALSE(attempts[0].accepted);
  CHECK(attempts[0].detail.find("killed by signal 9") != std::string::npos);
  CHECK(attempts.back().accepted);
  CHECK(attempts.back().source == search::Source::Trained);
  CHECK(attempts.back().status != search::Status::Crashed);  // evaluated again, by another worker

  // The same search without the kill: the retried candidate's result is the one it would have had.
  TempDir other;
  std::string clean = other.file("clean.db");
  ToolResult r = run_tool("nos-search", search_args(clean, 2, 60));
  REQUIRE(r.exit_code == 0);
  CHECK(snapshot(db) == snapshot(clean));
}

TEST_CASE("nos-search run: killed with SIGKILL and resumed, it completes as an uninterrupted run, nothing repeated") {
  TempDir dir;
  std::string db = dir.file("kill-run.db");
  // Children long enough that the kill lands mid-search even on a loaded machine; 6 batches, so
  // that batches are still to be proposed and learned from when the first has been.
  pid_t run = start_nos_search(search_args(db, 2, 20, 48), dir.file("run.log"));
  REQUIRE(poll_search(db, [](Storage& s, SearchId id) { return !s.batch_records(id).empty() && !s.running(id).empty(); }));
  REQUIRE(kill(run, SIGKILL) == 0);
  wait_exit(run);
  std::vector<Evaluation> before;
  std::size_t learned = 0;
  {
    auto storage = open_storage(db, OpenMode::ReadOnly);
    SearchId id = storage->searches().at(0).id;
    before = storage->evaluations(id);
    learned = storage->batch_records(id).size();
  }
  CHECK(learned < 6);  // the search was not finished: the resume has work to do

  ToolResult resumed = run_tool("nos-search", {"run", "--db", db, "--resume", "--workers", "2", "--no-baseline"});
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  CHECK(resumed.err.find("resuming after batch") != std::string::npos);

  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<Evaluation> after = storage->evaluations(id);
  // Nothing lost: every row stored before the kill is still there, unchanged.
  std::map<std::int64_t, const Evaluation*> by_id;
  for (const Evaluation& e : after) by_id[e.id] = &e;
  for (const Evaluation& e : before) {
    REQUIRE(by_id.count(e.id));
    CHECK(by_id[e.id]->candidate == e.candidate);
    CHECK(by_id[e.id]->reward == e.reward);
  }
  // Nothing repeated: one trained-or-reused result per candidate, and no crash was charged.
  std::map<std::int64_t, int> results;
  for (const Evaluation& e : after) {
    CHECK(e.status != search::Status::Crashed);
    if (e.stage == 1) ++results[e.candidate];
  }
  CHECK(results.size() == 48);
  for (const auto& [candidate, n] : results) CHECK_MESSAGE(n == 1, "candidate ", candidate);

  // The same search, never interrupted: the same results, the same ranking.
  TempDir other;
  std::string clean = other.file("clean.db");
  REQUIRE(run_tool("nos-search", search_args(clean, 1, 20, 48)).exit_code == 0);
  CHECK(snapshot(db) == snapshot(clean));
  ToolResult top_resumed = run_tool("nos-search", {"top", db, "--json", "-k", "100"});
  ToolResult top_clean = run_tool("nos-search", {"top", clean, "--json", "-k", "100"});
  nlohmann::json a = nlohmann::json::parse(top_resumed.out), b = nlohmann::json::parse(top_clean.out);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (const char* key : {"rule", "tokens", "hash", "reward", "metric", "lr", "status", "candidate"})
      CHECK_MESSAGE(a[i][key] == b[i][key], "rank ", i + 1, " ", key);
}

TEST_CASE("nos-search run: the funnel trains the best of each batch again, top ranks the second stage first") {
  TempDir dir;
  std::string db = dir.file("funnel.db");
  std::vector<std::string> args = search_args(db, 2);
  for (const char* a : {"--funnel-top", "0.25", "--funnel-epochs", "4"}) args.push_back(a);
  ToolResult r = run_tool("nos-search", args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::map<std::int64_t, int> second;  // per batch
  std::map<std::int64_t, std::int64_t> batch_of;
  for (const Candidate& c : storage->candidates(id)) batch_of[c.index] = c.batch;
  for (const Evaluation& e : storage->evaluations(id))
    if (e.accepted && e.stage == 2) {
      ++second[batch_of[e.candidate]];
      CHECK(e.source == search::Source::Trained);
      CHECK(nlohmann::json::parse(e.metrics_json)["epochs"] == 4);
    }
  // Two of each batch of 8 (those that trained; the others were hits or screened out).
  for (const auto& [batch, n] : second) CHECK(n <= 2);
  REQUIRE_FALSE(second.empty());
  std::vector<RankedResult> top = storage->top(id, 0);
  REQUIRE_FALSE(top.empty());
  CHECK(top.front().evaluation.stage == 2);
  // The strategy learned from stage-1 rewards: the first stage matches the search without a funnel.
  CHECK(snapshot(db) == reference());
}

TEST_CASE("nos-search run --async: learns from batches as they finish, every candidate gets its result") {
  TempDir dir;
  std::string db = dir.file("async.db");
  std::vector<std::string> args = search_args(db, 2);
  args.push_back("--async");
  ToolResult r = run_tool("nos-search", args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<Row> rows = snapshot(db);
  CHECK(rows.size() == 24);
  for (const Row& row : rows) CHECK(row.status.has_value());
  ToolResult resumed = run_tool("nos-search", {"run", "--db", db, "--resume"});
  CHECK(resumed.exit_code == 1);
  CHECK(resumed.err.find("an --async search cannot be resumed") != std::string::npos);
}

TEST_CASE("nos-search run --child synthetic: many workers on a small machine, the same results as one") {
  TempDir dir;
  auto args = [&](const std::string& db, int workers) {
    return std::vector<std::string>{"run", "--db", db, "--child", "synthetic:0.02", "--budget", "48", "--batch", "8",
                                    "--seed", "3", "--workers", std::to_string(workers), "--quiet", "--no-report"};
  };
  std::string one = dir.file("one.db"), six = dir.file("six.db");
  ToolResult r = run_tool("nos-search", args(one, 1));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("adam:") == std::string::npos);  // no baseline for a child that trains nothing
  REQUIRE(run_tool("nos-search", args(six, 6)).exit_code == 0);
  std::vector<Row> a = snapshot(one), b = snapshot(six);
  REQUIRE(a.size() == 48);
  CHECK(a == b);
  int trained = 0;
  for (const Row& row : a)
    if (row.source == search::Source::Trained) {
      ++trained;
      CHECK(*row.metric >= 0.5);
      CHECK(*row.metric < 0.96);
    }
  CHECK(trained > 0);
  CHECK(run_tool("nos-search", {"run", "--db", dir.file("x.db"), "--child", "synthetic:"}).exit_code == 2);
  CHECK(run_tool("nos-search", {"run", "--db", dir.file("x.db"), "--child", "sleep:1"}).exit_code == 2);
}

// Per batch: the mean stored reward and the mean of what the strategy should have learned (a
// repeat's `repeat_reward`, else the stored reward), from the stored results; and the batch
// statistics' own two means.
struct BatchMeans {
  double stored = 0, learned = 0, logged_stored = 0, logged_learned = 0;
  int repeats = 0;
};

std::vector<BatchMeans> batch_means(const std::string& db, std::optional<double> repeat_reward) {
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<BatchMeans> out;
  for (const BatchRecord& record : storage->batch_records(id)) {
    BatchMeans m;
    std::vector<Candidate> candidates = storage->candidates(id, record.batch);
    for (const Candidate& c : candidates)
      for (const Evaluation& e : storage->evaluations(id, c.index)) {
        if (!e.accepted || e.stage != 1) continue;
        bool repeat = e.source == search::Source::CacheHit || e.source == search::Source::FingerprintHit;
        m.repeats += repeat;
        m.stored += e.reward.value_or(0);
        m.learned += repeat && repeat_reward ? *repeat_reward : e.reward.value_or(0);
      }
    m.stored /= static_cast<double>(candidates.size());
    m.learned /= static_cast<double>(candidates.size());
    nlohmann::json statistics = nlohmann::json::parse(record.statistics_json);
    m.logged_stored = statistics["rewards"]["mean"].get<double>();
    m.logged_learned = statistics["rewards"]["learned_mean"].get<double>();
    out.push_back(m);
  }
  return out;
}

TEST_CASE("nos-search run: a repeat keeps the reward it copies, the strategy learns repeat_reward for it") {
  TempDir dir;
  auto args = [&](const std::string& db, int workers, const std::string& config) {
    std::vector<std::string> a{"run", "--db", db, "--child", "synthetic:0", "--budget", "160", "--batch", "8", "--seed", "5",
                               "--workers", std::to_string(workers), "--quiet", "--no-report"};
    if (!config.empty()) a.insert(a.end(), {"--config", config});
    return a;
  };
  const std::string copied = dir.file("copied.json"), penalty = dir.file("penalty.json"), ahead = dir.file("ahead.json");
  std::ofstream(copied) << R"({"repeat_reward": null})";
  std::ofstream(penalty) << R"({"repeat_reward": -0.25})";
  std::ofstream(ahead) << R"({"lookahead": 4})";

  for (auto [config, repeat_reward] : {std::pair<std::string, std::optional<double>>{"", 0.0}, {penalty, -0.25}, {copied, std::nullopt}}) {
    CAPTURE(config);
    std::string db = dir.file("means" + std::to_string(config.size()) + ".db");
    ToolResult r = run_tool("nos-search", args(db, 1, config));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    int repeats = 0;
    for (const BatchMeans& m : batch_means(db, repeat_reward)) {
      repeats += m.repeats;
      CHECK(m.logged_stored == doctest::Approx(m.stored).epsilon(1e-12));
      CHECK(m.logged_learned == doctest::Approx(m.learned).epsilon(1e-12));
    }
    CHECK(repeats > 0);  // else this checks nothing about repeats
  }

  // Any lookahead is as deterministic as the default: 1 worker and 3 give the same results.
  std::string one = dir.file("ahead1.db"), three = dir.file("ahead3.db");
  REQUIRE(run_tool("nos-search", args(one, 1, ahead)).exit_code == 0);
  REQUIRE(run_tool("nos-search", args(three, 3, ahead)).exit_code == 0);
  CHECK(snapshot(one) == snapshot(three));
  CHECK(snapshot(one).size() == 160);
}

TEST_CASE("nos-search run: bad input is refused with the place named, before anything is written") {
  TempDir dir;
  std::string db = dir.file("s.db");
  ToolResult r = run_tool("nos-search", {"run", "--db", db, "--strategy", "anneal"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("unknown strategy 'anneal'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));

  std::string config = dir.file("search.json");
  std::ofstream(config) << R"({"child": {"epoch": 3}})";
  r = run_tool("nos-search", {"run", "--db", db, "--config", config});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(config + ": child.epoch: unknown key") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));

  r = run_tool("nos-search", {"run", "--db", db, "--data", dir.file("missing.csv"), "--no-baseline"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("missing.csv") != std::string::npos);

  r = run_tool("nos-search", {"run", "--db", dir.file("none.db"), "--resume"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("none.db: no such search database") != std::string::npos);

  // A changed option on --resume: nos_search_run_checks_test.cpp (it needs a stored search).

  r = run_tool("nos-search", {"run", "--db", db, "-O", "nonsense"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--strategy-option: expected key=value") != std::string::npos);

  r = run_tool("nos-search", {"run", "--db", db, "--strategy", "random", "--algorithm", "ppo"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("algorithm") != std::string::npos);
}

}  // namespace nos::search

namespace nos::search {
namespace {

// The funnel's re-evaluation over seeds with a paired baseline (synthetic child: every seed slot
// adds its own noise, shared in part by every optimizer on it): each chosen rule trains on the
// same 3 seed slots, Adam once per slot (not per rule), and top --json carries each rule's mean,
// standard error, lower bound and paired difference with Adam as computed here by hand.
TEST_CASE("nos-search run --funnel-seeds 3 --funnel-baselines adam: standings over seeds, paired with Adam") {
  TempDir dir;
  std::string db = dir.file("seeds.db");
  ToolResult run = run_tool("nos-search", {"run", "--db", db, "--child", "synthetic:0", "--strategy", "random", "--budget", "40",
                                           "--batch", "10", "--seed", "3", "--workers", "2", "--funnel-top", "0.2",
                                           "--funnel-seeds", "3", "--funnel-baselines", "adam", "--quiet", "--no-report"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<Evaluation> adam = storage->baseline_results(id);
  REQUIRE(adam.size() == 3);  // once per seed slot, however many rules
  std::map<int, double> adam_reward;
  for (const Evaluation& e : adam) {
    CHECK(e.baseline == "adam");
    CHECK(e.stage == 2);
    adam_reward[e.seed] = *e.reward;
  }
  CHECK(adam_reward.size() == 3);

  ToolResult top = run_tool("nos-search", {"top", db, "-k", "100", "--json"});
  REQUIRE_MESSAGE(top.exit_code == 0, top.err);
  nlohmann::json ranked = nlohmann::json::parse(top.out);
  int second_stage = 0;
  double previous_mean = 2;
  for (const nlohmann::json& r : ranked) {
    if (r["stage"] != 2) continue;
    ++second_stage;
    REQUIRE(r["seeds"] == 3);
    REQUIRE(r["per_seed"].size() == 3);
    std::vector<double> rewards, differences;
    for (const nlohmann::json& s : r["per_seed"]) {
      rewards.push_back(s["reward"].get<double>());
      differences.push_back(s["reward"].get<double>() - adam_reward.at(s["seed"].get<int>()));
    }
    auto mean_of = [](const std::vector<double>& x) { return (x[0] + x[1] + x[2]) / 3; };
    auto se_of = [&](const std::vector<double>& x) {
      double m = mean_of(x), ss = 0;
      for (double v : x) ss += (v - m) * (v - m);
      return std::sqrt(ss / 2) / std::sqrt(3.0);
    };
    double mean = mean_of(rewards), se = se_of(rewards);
    CHECK(r["mean"].get<double>() == doctest::Approx(mean));
    CHECK(r["se"].get<double>() == doctest::Approx(se));
    CHECK(se > 0);  // the seeds differ
    CHECK(r["lcb"].get<double>() == doctest::Approx(mean - 4.302653 * se));
    CHECK(mean <= previous_mean + 1e-12);  // ranked by the mean within the stage
    previous_mean = mean;
    const nlohmann::json& vs = r["vs"]["adam"];
    CHECK(vs["pairs"] == 3);
    CHECK(vs["mean_difference"].get<double>() == doctest::Approx(mean_of(differences)));
    double half = 4.302653 * se_of(differences);
    CHECK(vs["ci_low"].get<double>() == doctest::Approx(mean_of(differences) - half));
    CHECK(vs["ci_high"].get<double>() == doctest::Approx(mean_of(differences) + half));
    CHECK(vs["p"].get<double>() < 1);
    CHECK(vs["verdict"] == (vs["p"].get<double>() < 0.05 ? (mean_of(differences) > 0 ? "better" : "worse")
                                                          : "no significant difference"));
  }
  CHECK(second_stage >= 4);  // the top 2 of each of 4 batches (fewer where a batch had fewer trained)
  // The table shows the same, and --rank-by takes only mean, lcb or reward.
  ToolResult table = run_tool("nos-search", {"top", db, "-k", "3", "--rank-by", "lcb"});
  REQUIRE_MESSAGE(table.exit_code == 0, table.err);
  CHECK(table.out.find("mean +- se") != std::string::npos);
  CHECK(table.out.find("vs adam") != std::string::npos);
  CHECK(run_tool("nos-search", {"top", db, "--rank-by", "median"}).exit_code == 2);
  // status names the best rule's standing and its paired difference with Adam.
  ToolResult status = run_tool("nos-search", {"status", db});
  REQUIRE_MESSAGE(status.exit_code == 0, status.err);
  CHECK(status.out.find("over 3 seeds: mean ") != std::string::npos);
  CHECK(status.out.find("vs adam: ") != std::string::npos);
  // Repeats count toward their rule's seeds: evolution proposes its survivors again (cache hits), and
  // a chosen repeat trains the rule on the next 2 slots, so some rule gathers more than 2 seeds, and
  // Adam trains once on each slot any rule used.
  std::string evolved = dir.file("evolved.db");
  ToolResult evolution = run_tool("nos-search", {"run", "--db", evolved, "--child", "synthetic:0", "--strategy", "evolution",
                                                 "--budget", "160", "--batch", "8", "--seed", "5", "--workers", "2",
                                                 "--funnel-top", "0.25", "--funnel-seeds", "2", "--funnel-baselines", "adam",
                                                 "--quiet", "--no-report"});
  REQUIRE_MESSAGE(evolution.exit_code == 0, evolution.err);
  {
    auto evolved_storage = open_storage(evolved, OpenMode::ReadOnly);
    SearchId e = evolved_storage->searches().at(0).id;
    std::size_t most = 0;
    std::set<int> slots;
    for (const RankedResult& r : evolved_storage->top(e, 0)) {
      std::vector<int> seeds = evolved_storage->stage_seeds(e, r.candidate.hash, 2);
      most = std::max(most, seeds.size());
      slots.insert(seeds.begin(), seeds.end());
      if (r.evaluation.stage == 2) CHECK(r.seeds.size() == seeds.size());
    }
    CHECK(most > 2);
    CHECK(evolved_storage->baseline_results(e).size() == slots.size());
  }
  // Seeds without the funnel's second stage are refused before anything is written.
  ToolResult no_funnel = run_tool("nos-search", {"run", "--db", dir.file("no.db"), "--child", "synthetic:0", "--funnel-seeds", "3"});
  CHECK(no_funnel.exit_code != 0);
  CHECK(no_funnel.err.find("funnel.seeds") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.file("no.db")));
}

// The end of a per-seed run: the best rules with their mean over the seeds and the paired
// difference with Adam, as `top` computes them, and the paired test's verdict for the best one,
// not the one-seed comparison.
TEST_CASE("nos-search run: a per-seed funnel's summary pairs the best rules with Adam over the seeds") {
  TempDir dir;
  std::string db = dir.file("summary.db");
  ToolResult run = run_tool("nos-search", {"run", "--db", db, "--child", "synthetic:0", "--strategy", "random", "--budget", "40",
                                           "--batch", "10", "--seed", "3", "--workers", "2", "--funnel-top", "0.2",
                                           "--funnel-seeds", "3", "--funnel-baselines", "adam", "--no-report"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.find("mean +- se") != std::string::npos);
  CHECK(run.out.find("vs adam, paired") != std::string::npos);
  ToolResult top = run_tool("nos-search", {"top", db, "-k", "1", "--json"});
  REQUIRE_MESSAGE(top.exit_code == 0, top.err);
  nlohmann::json best = nlohmann::json::parse(top.out).at(0);
  REQUIRE(best["vs"].contains("adam"));
  const nlohmann::json& adam = best["vs"]["adam"];
  // The summary's first row carries top's numbers for the same rule, and its verdict line.
  std::string cell = fmt::format("{:+.4f} [{:+.4f}, {:+.4f}]", adam["mean_difference"].get<double>(),
                                 adam["ci_low"].get<double>(), adam["ci_high"].get<double>());
  CHECK_MESSAGE(run.out.find(cell) != std::string::npos, run.out);
  CHECK(run.out.find(fmt::format("{:.4f} +- {:.4f}", best["mean"].get<double>(), best["se"].get<double>())) !=
        std::string::npos);
  CHECK(run.out.find(fmt::format("the best rule against Adam over 3 seeds: {}", adam["verdict"].get<std::string>())) !=
        std::string::npos);
  CHECK(run.out.find("one seed: check it over seeds") == std::string::npos);
}

// Without seeds in the funnel, Adam's one baseline run follows the first stage's protocol: a
// second-stage result (here twice the epochs) gets no "vs adam" and no verdict against it.
TEST_CASE("nos-search run: the summary does not hold a second-stage rule against Adam's first-stage run") {
  TempDir dir;
  std::string data = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 600, 4, 2, false);
  std::string db = dir.file("stages.db");
  ToolResult run = run_tool("nos-search", {"run", "--db", db, "--data", data, "--hidden", "8", "--epochs", "2",
                                           "--train-subset", "0", "--lr-grid", "0.01,0.1", "--budget", "16", "--batch", "8",
                                           "--seed", "2", "--workers", "1", "--funnel-top", "0.25", "--funnel-epochs", "4",
                                           "--no-report"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  INFO(run.out);
  std::size_t table = run.out.find("best rules of search");
  REQUIRE(table != std::string::npos);
  std::istringstream lines(run.out.substr(table));
  int second_stage_rows = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cells(line);
    std::string rank, metric, versus, lr, status, stage;
    if (!(cells >> rank >> metric >> versus >> lr >> status >> stage) || rank.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (stage == "2") {
      ++second_stage_rows;
      CHECK(versus == "-");
    } else {
      CHECK(versus != "-");
    }
  }
  REQUIRE(second_stage_rows > 0);  // top ranks the second stage first
  CHECK(run.out.find("the best rules come from the funnel's second stage") != std::string::npos);
  CHECK(run.out.find("beats Adam") == std::string::npos);
}

}  // namespace
}  // namespace nos::search
