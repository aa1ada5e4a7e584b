// nos-search final end to end on a tiny child (blobs, 16 hidden units, seconds): a search database
// made through the Storage API with two finished rules, then the built binary retrains them beside
// LibTorch's baselines over two seeds; its JSON, the stored artifact, the table, the controller's
// greedy rule (an evolution state), a transfer task, and the bad inputs.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "controller/search/search_config.h"
#include "controller/search/storage.h"
#include "tests/runtime/test_data_files.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nlohmann::json;
using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

SearchConfig tiny_config(const std::string& data, const std::string& strategy) {
  SearchConfig c;
  c.strategy = strategy;
  c.strategy_options = {{"batch", "2"}};
  c.seed = 11;
  c.child.data = data;
  c.child.model.hidden = {16};
  c.child.train_subset = 0;
  c.child.val_fraction = 0.2;
  c.child.epochs = 3;
  c.child.batch_size = 32;
  c.lr.grid = {1e-5, 0.05};
  return c;
}

NewCandidate candidate(const std::string& text) {
  compiler::CompiledRule rule = compiler::compile_text(text);
  NewCandidate c;
  c.rule = rule.canonical_text;
  c.hash = rule.hash_hex();
  c.tokens = rule.tokens ? dsl::print_tokens(*rule.tokens) : "";
  return c;
}

EvaluationResult ok(double reward) {
  EvaluationResult r;
  r.reward = r.metric = reward;
  r.lr = 0.05;
  return r;
}

// A search of two finished rules: sign(g) (reward 0.9, rank 1) and g (0.8, rank 2). With the
// evolution strategy, its state has seen the two rules with the opposite rewards, so that its
// greedy rule (its best member) is g.
struct Fixture {
  TempDir dir;
  std::string path = dir.file("search.db");
  std::string data = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 300, 8, 3, false);
  NewCandidate sign = candidate("sign(g)");
  NewCandidate sgd = candidate("g");

  explicit Fixture(const std::string& strategy = "random") {
    SearchConfig config = tiny_config(data, strategy);
    auto storage = open_storage(path, OpenMode::Create);
    SearchId id = storage->create_search("tiny", to_json(config).dump(), {});
    storage->enqueue_batch(id, 0, {sign, sgd});
    for (double reward : {0.9, 0.8}) {
      auto claimed = storage->claim(id, "worker-1");
      REQUIRE(claimed);
      REQUIRE(storage->finish(claimed->lease, ok(reward)));
    }
    if (strategy == "evolution") {
      auto evolution = make_strategy(config);
      std::vector<controller::Outcome> outcomes;
      for (auto [text, reward] : {std::pair{"sign(g)", 0.1}, std::pair{"g", 0.95}}) {
        controller::Outcome o;
        o.proposal.index = outcomes.size();
        o.proposal.tokens = *compiler::compile_text(text).tokens;
        o.reward = reward;
        outcomes.push_back(o);
      }
      evolution->observe(outcomes);
      storage->save_strategy_state(id, 0, evolution->save(), "{}");
    }
  }

  std::string bytes() const {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return json::parse(in);
}

int count_lines(const std::string& text, const std::string& containing) {
  int n = 0;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    n += text.substr(start, end - start).find(containing) != std::string::npos;
  return n;
}

const json& result_named(const json& results, const std::string& optimizer) {
  for (const json& r : results)
    if (r["optimizer"] == optimizer) return r;
  FAIL("no result for " << optimizer);
  return results;
}

TEST_CASE("nos-search final: the top rules and the baselines over the same seeds, the JSON stored as 'final'") {
  Fixture f;
  std::string out = f.dir.file("final.json");
  ToolResult r = run_tool("nos-search", {"final", f.path, "--top", "2", "--seeds", "2", "--baselines", "adam,sgd",
                                         "--json", out});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json doc = read_json(out);
  CHECK(doc["search"] == "tiny");
  CHECK(doc["transfer"].is_null());
  CHECK(doc["task"]["name"] == "search");
  CHECK(doc["task"]["data"] == f.data);
  CHECK(doc["task"]["epochs"] == 3);
  CHECK(doc["task"]["metric"] == "val_acc");
  REQUIRE(doc["task"]["seeds"].size() == 2);
  CHECK(doc["task"]["seeds"][0] != doc["task"]["seeds"][1]);

  const json& results = doc["results"];
  REQUIRE(results.size() == 4);  // the random strategy has no greedy rule
  std::set<std::string> names;
  for (const json& x : results) names.insert(x["optimizer"].get<std::string>());
  CHECK(names == std::set<std::string>{"rank 1", "rank 2", "adam", "sgd"});
  const json& rank1 = result_named(results, "rank 1");
  const json& rank2 = result_named(results, "rank 2");
  CHECK(rank1["kind"] == "rule");
  CHECK(rank1["rule"] == f.sign.rule);
  CHECK(rank1["hash"] == f.sign.hash);
  CHECK(rank1["search"]["reward"] == doctest::Approx(0.9));
  CHECK(rank1["search"]["candidate"] == 0);
  CHECK(rank2["rule"] == f.sgd.rule);
  CHECK(rank2["hash"] == f.sgd.hash);
  CHECK(result_named(results, "adam")["kind"] == "baseline");
  CHECK(result_named(results, "adam")["rule"].is_null());
  CHECK(result_named(results, "sgd")["momentum"] == doctest::Approx(0.9));

  double previous = INFINITY;
  for (const json& x : results) {
    INFO(x["optimizer"]);
    REQUIRE(x["metrics"].size() == 2);
    REQUIRE(x["runs"].size() == 2);
    REQUIRE(x["lrs"].size() == 2);
    double a = x["metrics"][0].get<double>(), b = x["metrics"][1].get<double>();
    CHECK(x["mean"].get<double>() == doctest::Approx((a + b) / 2));
    CHECK(x["std"].get<double>() == doctest::Approx(std::abs(a - b) / std::sqrt(2.0)));  // sample std of two
    CHECK(x["mean"].get<double>() <= previous);  // ranked by mean
    previous = x["mean"].get<double>();
    for (int s = 0; s < 2; ++s) {
      const json& run = x["runs"][s];
      CHECK(run["seed"] == doc["task"]["seeds"][s]);  // every optimizer the same seeds
      CHECK(run["metric"].get<double>() == doctest::Approx(x["metrics"][s].get<double>()));
      CHECK(run["lr"] == x["lrs"][s]);
      CHECK((run["lr"] == 1e-5 || run["lr"] == 0.05));  // chosen by the search's sweep
      CHECK(run["curves"]["sweep"].size() == 2);
      CHECK(run["curves"]["epochs"].size() == 3);
      CHECK(run["status"] == "ok");
    }
    CHECK(x["ok"] == 2);
  }
  // The blobs are separable: Adam and sign(g) learn them (chance is 1/3).
  CHECK(result_named(results, "adam")["mean"].get<double>() > 0.8);
  CHECK(rank1["mean"].get<double>() > 0.8);
  // Two seeds really differ (their splits and initial weights): not one run copied.
  CHECK(rank1["runs"][0]["curves"]["epochs"][0]["train_loss"] != rank1["runs"][1]["curves"]["epochs"][0]["train_loss"]);

  std::string verdict = doc["verdict"];
  CHECK(verdict.find("best found rule (rank ") == 0);
  // Decided by a paired t-test over the two seeds (final_verdict_test.cpp checks the statistics).
  const json& comparison = doc["comparison"];
  CHECK(std::set<std::string>{"rule_better", "baseline_better", "no_significant_difference"}.count(
            comparison["decision"].get<std::string>()) == 1);
  CHECK(comparison["pairs"] == 2);
  CHECK(std::set<std::string>{"adam", "sgd"}.count(comparison["baseline"].get<std::string>()) == 1);
  CHECK(comparison["p"].is_number());
  CHECK(verdict.find("paired t-test over 2 seeds") != std::string::npos);
  for (const json& x : results) {
    std::vector<double> lrs = x["lrs"];
    CHECK(x["lr_summary"] == (lrs[0] == lrs[1] ? fmt::format("{:g}", lrs[0])
                                                : fmt::format("{:g}, {:g}", std::min(lrs[0], lrs[1]), std::max(lrs[0], lrs[1]))));
    CHECK_FALSE(x.contains("lr_median"));
  }
  CHECK(doc["settings"]["seeds"] == 2);
  CHECK(doc["settings"]["top"] == 2);
  CHECK(doc["settings"]["baselines"] == json::array({"adam", "sgd"}));
  CHECK(doc["finished_at"].get<double>() >= doc["started_at"].get<double>());
  CHECK(doc["notes"].size() == 1);
  CHECK(doc["notes"][0].get<std::string>().find("no greedy rule") != std::string::npos);

  // The table on stdout, one progress line per training on stderr.
  CHECK(r.out.find("search task: " + f.data + ", mlp [16], 3 epochs") != std::string::npos);
  CHECK(count_lines(r.out, "baseline") == 2 + 2);  // the two rows; the pairs table's heading and header
  CHECK(count_lines(r.out, f.sign.hash) == 1);
  CHECK(r.out.find(verdict) != std::string::npos);
  CHECK(r.out.find("lr (per seed)") != std::string::npos);
  CHECK(count_lines(r.err, "search task, seed ") == 8);
  CHECK(r.err.find("search task, seed 2/2, adam: val_acc ") != std::string::npos);

  auto storage = open_storage(f.path, OpenMode::ReadOnly);
  auto stored = storage->artifact(storage->find_search("tiny")->id, "final:1");
  REQUIRE(stored);
  CHECK(json::parse(*stored) == doc);
  CHECK(doc["key"] == "final:1");
  CHECK(r.err.find("stored as the artifact 'final:1' of search 'tiny'") != std::string::npos);

  // The same run again: the same seeds give the same metrics.
  ToolResult again = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "2", "--baselines", "none",
                                             "--no-store", "--json", out});
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  json second = read_json(out);
  REQUIRE(second["results"].size() == 1);
  CHECK(second["results"][0]["metrics"] == rank1["metrics"]);
  CHECK(second["verdict"].get<std::string>().find("no baseline to compare with") != std::string::npos);
}

TEST_CASE("nos-search final: two equal optimizers on the same seeds, no significant difference, every pair") {
  // The found rule g is plain gradient descent, as is the sgd baseline with momentum 0: on the same
  // seeds (the same split, initial weights and data order) they train alike, whatever the order.
  Fixture f;
  std::string out = f.dir.file("final.json");
  ToolResult r = run_tool("nos-search", {"final", f.path, "--top", "2", "--seeds", "3", "--baselines", "adam,sgd",
                                         "--sgd-momentum", "0", "--no-greedy", "--no-store", "--json", out});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json doc = read_json(out);
  const json& g = result_named(doc["results"], "rank 2");
  const json& sgd = result_named(doc["results"], "sgd");
  INFO(g["metrics"].dump() << " " << sgd["metrics"].dump());
  CHECK(g["lrs"] == sgd["lrs"]);
  CHECK(g["metrics"] == sgd["metrics"]);
  // Epoch by epoch alike, up to float rounding of the update (the rule's kernel and torch's step):
  // the first epoch's validation loss is the same number only from the same weights, split and order.
  for (int s = 0; s < 3; ++s) {
    const json &a = g["runs"][s]["curves"]["epochs"], &b = sgd["runs"][s]["curves"]["epochs"];
    REQUIRE(a.size() == 3);
    REQUIRE(b.size() == 3);
    for (int e = 0; e < 3; ++e) {
      CHECK(a[e]["val_acc"] == b[e]["val_acc"]);
      CHECK(a[e]["train_loss"].get<double>() == doctest::Approx(b[e]["train_loss"].get<double>()).epsilon(1e-6));
      CHECK(a[e]["val_loss"].get<double>() == doctest::Approx(b[e]["val_loss"].get<double>()).epsilon(1e-6));
    }
  }
  CHECK(g["runs"][0]["curves"]["epochs"][0]["val_loss"] != g["runs"][1]["curves"]["epochs"][0]["val_loss"]);

  // Every found rule against every baseline: 2 x 2 pairs, in the table and the JSON.
  const json& pairs = doc["comparisons"];
  REQUIRE(pairs.size() == 4);
  const json* same = nullptr;
  for (const json& p : pairs) {
    CHECK(p["pairs"] == 3);
    CHECK(p["excluded"] == 0);
    if (p["rule"] == "rank 2" && p["baseline"] == "sgd") same = &p;
  }
  REQUIRE(same);
  CHECK((*same)["decision"] == "no_significant_difference");
  CHECK((*same)["short"] == "no significant difference");
  CHECK((*same)["mean_difference"] == 0);
  CHECK((*same)["p"] == 1);
  CHECK((*same)["seeds_to_tell"].is_null());
  CHECK((*same)["seeds_to_tell_text"] == "never (the mean difference is 0)");
  CHECK((*same)["verdict"].get<std::string>().find("found rule (rank 2) val_acc") == 0);
  CHECK(r.out.find("paired by seed (rule minus baseline; a two-sided paired t-test at 5 %):") != std::string::npos);
  CHECK(r.out.find("seeds to tell") != std::string::npos);
  CHECK(count_lines(r.out, "never (the mean difference is 0)") >= 1);
  CHECK(count_lines(r.out, "[+0.0000, +0.0000]") >= 1);
}

TEST_CASE("nos-search final: the controller's greedy rule, and a transfer task on other data") {
  Fixture f("evolution");
  std::string other = nos::testing::write_blobs_csv(f.dir.file("other.csv"), 200, 5, 4, true, 2);
  std::string out = f.dir.file("final.json");
  std::string before = f.bytes();
  ToolResult r = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "adam",
                                         "--data", other, "--epochs", "2", "--hidden", "8", "--json", out, "--no-store"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(f.bytes() == before);  // --no-store: read-only
  json doc = read_json(out);
  REQUIRE(doc["results"].size() == 3);
  const json& greedy = result_named(doc["results"], "greedy");
  CHECK(greedy["kind"] == "greedy");
  CHECK(greedy["rule"] == f.sgd.rule);  // evolution's best member, not the search's rank 1
  CHECK(greedy["search"]["strategy"] == "evolution");
  CHECK(result_named(doc["results"], "rank 1")["rule"] == f.sign.rule);

  REQUIRE(doc["transfer"].is_object());
  const json& transfer = doc["transfer"];
  CHECK(transfer["task"]["name"] == "transfer");
  CHECK(transfer["task"]["data"] == other);
  CHECK(transfer["task"]["epochs"] == 2);
  CHECK(transfer["task"]["hidden"] == json::array({8}));
  CHECK(transfer["task"]["seeds"] == doc["task"]["seeds"]);
  REQUIRE(transfer["results"].size() == 3);
  for (const json& x : transfer["results"]) {
    REQUIRE(x["runs"].size() == 1);
    CHECK(x["runs"][0]["curves"]["epochs"].size() == 2);
    CHECK(x["std"] == 0.0);  // one seed
  }
  CHECK(transfer["verdict"].get<std::string>().find("best found rule") == 0);
  CHECK(r.out.find("transfer task: " + other + ", mlp [8], 2 epochs") != std::string::npos);
  CHECK(count_lines(r.err, "transfer task, seed 1/1") == 3);

  // The greedy rule when it is one of the top rules: listed once, with a note.
  ToolResult both = run_tool("nos-search", {"final", f.path, "--top", "2", "--seeds", "1", "--baselines", "none",
                                            "--json", out, "--no-store"});
  REQUIRE_MESSAGE(both.exit_code == 0, both.err);
  json deduped = read_json(out);
  CHECK(deduped["results"].size() == 2);
  CHECK(result_named(deduped["results"], "rank 2")["search"]["greedy"] == true);
  CHECK(both.err.find("the evolution strategy's greedy rule is rank 2's rule") != std::string::npos);

  ToolResult without = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "none",
                                               "--no-greedy", "--json", out, "--no-store"});
  REQUIRE_MESSAGE(without.exit_code == 0, without.err);
  CHECK(read_json(out)["results"].size() == 1);
}

TEST_CASE("nos-search final --task: the transfer task from a file over the search's, options beside it win") {
  Fixture f;
  nos::testing::write_blobs_csv(f.dir.file("other.csv"), 200, 5, 4, true, 2);
  std::ofstream(f.dir.file("target.json")) << R"({"model": {"name": "mlp", "hidden": [8]}, "data": "other.csv", "epochs": 2})";
  std::string out = f.dir.file("final.json");
  ToolResult r = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "adam", "--no-greedy",
                                         "--task", f.dir.file("target.json"), "--epochs", "1", "--json", out, "--no-store"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json doc = read_json(out);
  const json& task = doc["transfer"]["task"];
  CHECK(task["data"] == f.dir.file("other.csv"));  // relative to the task file
  CHECK(task["hidden"] == json::array({8}));
  CHECK(task["epochs"] == 1);                      // --epochs beside the file
  CHECK(task["train_subset"] == doc["task"]["train_subset"]);  // left out: the search's
  CHECK(doc["settings"]["transfer"]["task"] == f.dir.file("target.json"));
  CHECK(r.out.find("search task: " + f.data) != std::string::npos);  // both tasks are shown
  CHECK(r.out.find("transfer task: " + f.dir.file("other.csv") + ", mlp [8], 1 epoch") != std::string::npos);

  std::ofstream(f.dir.file("bad.json")) << R"({"epochs": 2, "batch": 3})";
  ToolResult bad = run_tool("nos-search", {"final", f.path, "--task", f.dir.file("bad.json")});
  CHECK(bad.exit_code == 1);
  CHECK_MESSAGE(bad.err.find(f.dir.file("bad.json") + ": batch: unknown key") != std::string::npos, bad.err);
  CHECK(bad.err.find("seed 1/") == std::string::npos);  // before any training
}

TEST_CASE("nos-search final: bad input exits 1 naming the file or task, usage mistakes exit 2") {
  TempDir dir;
  std::string data = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 300, 8, 3, false);
  std::string empty = dir.file("empty.db");
  {
    auto storage = open_storage(empty, OpenMode::Create);
    SearchId id = storage->create_search("tiny", to_json(tiny_config(data, "random")).dump(), {});
    NewCandidate queued = candidate("sign(g)");
    storage->enqueue_batch(id, 0, {queued});  // queued, never finished
  }
  ToolResult none = run_tool("nos-search", {"final", empty});
  CHECK(none.exit_code == 1);
  CHECK_MESSAGE(none.err.find("nos-search: error: " + empty +
                              ": search 'tiny' has no ranked rule with a result yet: nothing to retrain") !=
                    std::string::npos,
                none.err);

  std::string missing = dir.file("missing.db");
  ToolResult no_file = run_tool("nos-search", {"final", missing});
  CHECK(no_file.exit_code == 1);
  CHECK(no_file.err.find(missing + ": no such search database") != std::string::npos);

  Fixture f;
  ToolResult bad = run_tool("nos-search", {"final", f.path, "--baselines", "adam,adamw"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--baselines: unknown optimizer 'adamw'") != std::string::npos);
  ToolResult twice = run_tool("nos-search", {"final", f.path, "--baselines", "sgd,sgd"});
  CHECK(twice.exit_code == 2);
  CHECK(twice.err.find("--baselines: 'sgd' is named twice") != std::string::npos);
  CHECK(run_tool("nos-search", {"final", f.path, "--seeds", "0"}).exit_code == 2);
  CHECK(run_tool("nos-search", {"final", f.path, "--epochs", "0"}).exit_code == 2);
  CHECK(run_tool("nos-search", {"final", f.path, "--search-epochs", "0"}).exit_code == 2);
  CHECK(run_tool("nos-search", {"final", f.path, "--search-train-subset", "-1"}).exit_code == 2);
  CHECK(run_tool("nos-search", {"final"}).exit_code == 2);

  ToolResult no_data = run_tool("nos-search", {"final", f.path, "--data", dir.file("nowhere.csv")});
  CHECK(no_data.exit_code == 1);
  CHECK(no_data.err.find("nowhere.csv") != std::string::npos);
  CHECK(no_data.err.find("seed 1/") == std::string::npos);  // before any training

  // Neither a built-in nor a file: a usage error, as in run.
  ToolResult bad_model = run_tool("nos-search", {"final", f.path, "--model", "resnet9"});
  CHECK(bad_model.exit_code == 2);
  CHECK(bad_model.err.find("--model: 'resnet9' is neither a built-in model (mlp, convnet, resnet, textrnn, textcnn) nor a file") !=
        std::string::npos);

  // A transfer model that does not fit the data: the search task's results are still stored.
  std::string out = f.dir.file("final.json");
  ToolResult conv = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "none",
                                            "--no-greedy", "--model", "convnet", "--json", out});
  CHECK(conv.exit_code == 1);
  CHECK_MESSAGE(conv.err.find("nos-search: error: the transfer task: ") != std::string::npos, conv.err);
  json doc = read_json(out);
  CHECK(doc["results"].size() == 1);
  CHECK(doc["transfer"]["error"].get<std::string>().find("the transfer task: ") == 0);
  auto storage = open_storage(f.path, OpenMode::ReadOnly);
  CHECK(storage->artifact(storage->find_search("tiny")->id, "final:1"));

  ToolResult unwritable = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "none",
                                                  "--no-store", "--json", dir.file("no/such/dir/x.json")});
  CHECK(unwritable.exit_code == 1);
  CHECK(unwritable.err.find("no/such/dir/x.json: cannot write the JSON") != std::string::npos);
}

TEST_CASE("nos-search final: one learning-rate protocol for rules and baselines, printed and stored, overridable") {
  Fixture f;
  // The search's own protocol: its stored grid, swept exhaustively.
  std::string out = f.dir.file("default.json");
  ToolResult r = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "adam",
                                         "--no-greedy", "--no-store", "--json", out});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.out.find("every optimizer, found rules and LibTorch's alike, chose its rate by the same protocol: lr swept over "
                           "1e-05, 0.05 (1 epoch)") != std::string::npos,
                r.out);
  json lr = read_json(out)["task"]["lr"];
  CHECK(lr["grid"] == json{1e-5, 0.05});
  CHECK(lr["sweep"] == "exhaustive");
  CHECK(lr["runs"] == 2);

  // --lr-grid and --lr-sweep over it, for every optimizer: each run's sweep has halving's runs.
  out = f.dir.file("halving.json");
  r = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "adam", "--no-greedy",
                              "--lr-grid", "1e-7,1e-5,0.05", "--lr-sweep", "halving", "--json", out});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.out.find("the same protocol: lr by successive halving over 1e-07, 1e-05, 0.05 (3 rates, 5 runs in 2 "
                           "rounds") != std::string::npos,
                r.out);
  json doc = read_json(out);
  CHECK(doc["task"]["lr"]["sweep"] == "halving");
  CHECK(doc["task"]["lr"]["grid"] == json{1e-7, 1e-5, 0.05});
  CHECK(doc["task"]["lr"]["cost"] == 3.5);  // 3 on half the examples, 2 on all: dearer than 3
  CHECK(doc["settings"]["lr_grid"] == "1e-7,1e-5,0.05");
  CHECK(doc["settings"]["lr_sweep"] == "halving");
  for (const json& x : doc["results"]) {
    INFO(x["optimizer"]);
    CHECK(x["runs"][0]["curves"]["sweep"].size() == 5);  // 3 rates on half the examples, 2 on all
    CHECK(x["runs"][0]["curves"]["sweep"][4]["round"] == 1);
  }
  auto storage = open_storage(f.path, OpenMode::ReadOnly);
  auto stored = storage->artifact(storage->find_search("tiny")->id, "final:1");
  REQUIRE(stored);
  CHECK(json::parse(*stored)["task"]["lr"]["description"] == doc["task"]["lr"]["description"]);

  ToolResult bad_sweep = run_tool("nos-search", {"final", f.path, "--lr-sweep", "bisect"});
  CHECK(bad_sweep.exit_code == 2);
  CHECK(bad_sweep.err.find("--lr-sweep: expected exhaustive or halving, not 'bisect'") != std::string::npos);
  ToolResult bad_grid = run_tool("nos-search", {"final", f.path, "--lr-grid", "0.1,x"});
  CHECK(bad_grid.exit_code == 2);
  CHECK(bad_grid.err.find("--lr-grid: 'x' is not a number") != std::string::npos);
}

TEST_CASE("nos-search final: every run kept as final:N with its settings, and one seed decides nothing") {
  Fixture f;
  {
    // A database from before the numbering: its one 'final' stays and is counted as the oldest.
    auto storage = open_storage(f.path, OpenMode::Open);
    storage->put_artifact(storage->find_search("tiny")->id, "final", R"({"verdict": "old"})");
  }
  ToolResult first = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "1", "--baselines", "adam"});
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  CHECK(first.err.find("stored as the artifact 'final:1' of search 'tiny' in " + f.path +
                       " (earlier finals, kept: final)") != std::string::npos);
  // One seed: the verdict says so, whatever the numbers.
  CHECK(first.out.find("not decided: one seed with both metrics") != std::string::npos);
  CHECK(first.out.find("is better") == std::string::npos);

  // A cheap look at the search task itself: fewer epochs and examples, said in the heading and JSON.
  std::string out = f.dir.file("second.json");
  ToolResult second = run_tool("nos-search", {"final", f.path, "--top", "1", "--seeds", "2", "--baselines", "adam",
                                              "--search-epochs", "1", "--search-train-subset", "100", "--json", out});
  REQUIRE_MESSAGE(second.exit_code == 0, second.err);
  CHECK(second.err.find("stored as the artifact 'final:2' of search 'tiny' in " + f.path +
                        " (earlier finals, kept: final, final:1)") != std::string::npos);
  CHECK(second.out.find("search task (changed from the search's: 1 epoch, not 3; train subset 100, not all): " +
                        f.data + ", mlp [16], 1 epoch, train subset 100") != std::string::npos);
  json doc = read_json(out);
  CHECK(doc["task"]["name"] == "search");
  CHECK(doc["task"]["epochs"] == 1);
  CHECK(doc["task"]["train_subset"] == 100);
  CHECK(doc["task"]["searched"] == json{{"epochs", 3}, {"train_subset", 0}});
  CHECK(doc["transfer"].is_null());
  CHECK(doc["settings"]["search_epochs"] == 1);
  CHECK(doc["settings"]["search_train_subset"] == 100);
  for (const json& x : doc["results"]) CHECK(x["runs"][0]["curves"]["epochs"].size() == 1);

  auto storage = open_storage(f.path, OpenMode::ReadOnly);
  SearchId id = storage->find_search("tiny")->id;
  CHECK(*storage->artifact(id, "final") == R"({"verdict": "old"})");
  json one = json::parse(*storage->artifact(id, "final:1"));
  json two = json::parse(*storage->artifact(id, "final:2"));
  CHECK(one["settings"]["seeds"] == 1);
  CHECK(one["comparison"]["decision"] == "undecided");
  CHECK(one["task"]["searched"].is_null());
  CHECK(two["settings"]["seeds"] == 2);
  CHECK(two == doc);
}

}  // namespace
}  // namespace nos::search
