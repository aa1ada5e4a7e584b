// The search's configuration: JSON round trip, the defaults the issue fixes, errors that name the
// key, the documented example file (examples/search.json); the child's seeds.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/search/search_config.h"

namespace nos::search {
namespace {

using nlohmann::json;

std::string error_of(const json& j) {
  try {
    config_from_json(j, "search.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("search config: defaults are the method's protocol and survive a JSON round trip") {
  SearchConfig c = config_from_json(json::object(), "x");
  CHECK(c.strategy == "lstm");
  CHECK(c.child.model.name == "mlp");
  CHECK(c.child.train_subset == 10000);
  CHECK(c.child.epochs == 5);
  CHECK(c.lr.grid.size() == 4);
  CHECK(c.lr.sweep_epochs == 1);
  CHECK_FALSE(c.funnel.enabled());
  CHECK(c.lookahead == 2);
  CHECK(c.repeat_reward == 0.0);

  c.strategy = "evolution";
  c.strategy_options = {{"batch", "8"}, {"population", "30"}};
  c.seed = 17;
  c.lr.fixed = 0.01;
  c.funnel.margin = 0.02;
  c.child.metric = runtime::Metric::ValAccMaxLastK;
  c.reward = controller::RewardTransform::Square;
  c.probes.min_descent_cosine = 0.2;
  c.child.synthetic = 0.5;
  c.repeat_reward.reset();
  c.lookahead = 3;
  json j = to_json(c);
  SearchConfig back = config_from_json(j, "x");
  CHECK(to_json(back) == j);
  CHECK(back.strategy_options.at("population") == "30");
  CHECK(back.lr.fixed == 0.01);
  CHECK(back.funnel.margin == 0.02);
  CHECK(back.funnel.enabled());
  CHECK(back.child.synthetic == 0.5);
  CHECK_FALSE(back.repeat_reward.has_value());  // null: learn the copied reward
  CHECK(back.lookahead == 3);
  CHECK(config_from_json(json{{"repeat_reward", -0.5}}, "x").repeat_reward == -0.5);

  // Numbers are accepted as strategy options, as people write them.
  CHECK(config_from_json(json{{"strategy_options", {{"batch", 12}}}}, "x").strategy_options.at("batch") == "12");
}

TEST_CASE("search config: an unknown key, a wrong type or a bad value names the file and the key") {
  CHECK(error_of({{"epochs", 3}}).starts_with("search.json: epochs: unknown key (known: strategy, "));
  CHECK(error_of({{"child", {{"epoch", 3}}}}).starts_with("search.json: child.epoch: unknown key (known: data, model"));
  CHECK(error_of({{"child", {{"epochs", "five"}}}}) == "search.json: child.epochs: expected an integer, not \"five\"");
  CHECK(error_of({{"child", {{"epochs", 0}}}}) == "search.json: child.epochs: must be 1 .. 100000, not 0");
  CHECK(error_of({{"budget", 0}}) == "search.json: budget: must be 1 .. 1000000000000 candidates, not 0");
  CHECK(error_of({{"seed", -1}}) == "search.json: seed: expected an integer from 0 to 18446744073709551615, not -1");
  CHECK(error_of({{"lr", {{"grid", {0.1, -1}}}}}) == "search.json: lr.grid: -1 is not a positive learning rate");
  CHECK(error_of({{"reward", "cubic"}}).starts_with("search.json: reward: "));
  CHECK(error_of({{"child", {{"metric", "loss"}}}}).starts_with("search.json: child.metric: unknown metric 'loss'"));
  CHECK(error_of({{"child", {{"model", "resnet9"}}}}) == "search.json: child.model: unknown model 'resnet9': not a built-in (mlp, convnet, resnet, textrnn, textcnn) and no such TorchScript file");
  CHECK(error_of(json::array()) == "search.json: the configuration: expected a JSON object");
  CHECK(error_of({{"lookahead", 0}}) == "search.json: lookahead: must be 1 .. 64 batches, not 0");
  CHECK(error_of({{"repeat_reward", "zero"}}) == "search.json: repeat_reward: expected a number, not \"zero\"");
  CHECK(error_of({{"strategy_options", {{"batch", json::array()}}}}).starts_with("search.json: strategy_options.batch: "));
}

TEST_CASE("search config: learning rates the kernels cannot use and absurd hidden widths name the file and the key") {
  // 1e-50 is positive, and 0 in float32: nos-train refuses it, and so must the search, before its workers.
  CHECK(error_of({{"lr", {{"grid", {0.1, 1e-50}}}}}) ==
        "search.json: lr.grid: 1e-50 rounds to 0 in float32, the type the kernels compute in");
  CHECK(error_of({{"lr", {{"fixed", 1e-50}}}}) == "search.json: lr.fixed: 1e-50 rounds to 0 in float32, the type the kernels compute in");
  CHECK(error_of({{"lr", {{"fixed", 1e300}}}}).starts_with("search.json: lr.fixed: 1e+300 does not fit in float32"));
  CHECK(error_of({{"child", {{"hidden", {64, 100000000}}}}}) ==
        "search.json: child.hidden: hidden layer width 100000000 is outside 1..16777216");
}

TEST_CASE("search config: the configuration a database of today's main stores still loads, and is written back key for key") {
  // nos-search run --db old.db --child synthetic:0 --strategy random --budget 4 --batch 2 --workers 1
  //   --hidden 32,16 --funnel-top 0.5 --lr 0.05 -O groups=1 at 2008d59 (before the child embedded
  //   runtime::TaskSpec): `select config from searches`, as stored.
  const json stored = json::parse(
      R"({"async":false,"budget":4,"child":{"backend":"auto","batch_size":128,"data":"fashion-mnist","device":"cpu",)"
      R"("divergence_factor":1000.0,"epochs":5,"hidden":[32,16],"last_k":3,"metric":"val_acc","model":"mlp",)"
      R"("synthetic":0.0,"time_budget":120.0,"train_subset":10000,"val_fraction":0.16666666666666666},)"
      R"("failure_reward":0.0,"funnel":{"epochs":10,"top_fraction":0.5,"train_subset":0},)"
      R"("lease":{"crash_reward":0.0,"max_attempts":2,"seconds":120.0},"lookahead":2,)"
      R"("lr":{"fixed":0.05,"grid":[0.001,0.01,0.1,1.0],"sweep_epochs":1},"overlap":true,)"
      R"("probes":{"constant_tolerance":1e-06,"elements":16,"fingerprint_bits":10,"max_non_finite_fraction":0.0,)"
      R"("min_descent_cosine":0.05,"seed":20240607,"steps":20},"repeat_reward":0.0,"reward":"identity",)"
      R"("screen":true,"seed":0,"strategy":"random","strategy_options":{"batch":"2","groups":"1"},)"
      R"("threads_per_worker":1,"time_budget":0.0,"workers":1})");
  SearchConfig c = config_from_json(stored, "the stored configuration");
  CHECK(c.child.model.hidden == std::vector<std::int64_t>{32, 16});
  CHECK(c.child.synthetic == 0.0);
  CHECK(to_json(c) == stored);
  CHECK(to_json(c).dump() == stored.dump());  // the same text: a resumed run compares key by key

  // The child is the task plus how the workers run it: child_spec carries the task whole, the
  // funnel's stage its own epochs and examples.
  runtime::EvaluateSpec spec = child_spec(c, 1, 3);
  CHECK(runtime::to_json(spec.task()) == runtime::to_json(c.child.task()));
  runtime::EvaluateSpec second = child_spec(c, 2, 3);
  CHECK(second.epochs == 10);
  CHECK(second.train_subset == 0);
  CHECK(second.model.hidden == c.child.model.hidden);

  // A task object in the task file's spelling ("model": {"name", "hidden"}) reads as the child too.
  json as_task = stored;
  as_task["child"]["model"] = {{"name", "mlp"}, {"hidden", {32, 16}}};
  as_task["child"].erase("hidden");
  CHECK(to_json(config_from_json(as_task, "x")) == stored);
}

// Every key path of `defaults` ("child.epochs") that `file` lacks.
void missing_keys(const json& defaults, const json& file, const std::string& path, std::vector<std::string>& out) {
  for (const auto& [key, value] : defaults.items()) {
    std::string name = path.empty() ? key : path + "." + key;
    if (!file.contains(key)) out.push_back(name);
    else if (value.is_object() && file[key].is_object()) missing_keys(value, file[key], name, out);
  }
}

TEST_CASE("search config: examples/search.json is accepted and spells out every key with its default") {
  const std::string path = std::string(NOS_SOURCE_DIR) + "/examples/search.json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, path);
  json file = json::parse(in);
  SearchConfig parsed = config_from_json(file, path);

  // The file is the demo's configuration (`nos-search run` with no options): the defaults, and the
  // lstm's own defaults of the options SearchConfig leaves to the strategy, written out.
  json got = to_json(parsed), defaults = to_json(SearchConfig{});
  CHECK(got["strategy_options"] == json{{"batch", "20"}, {"groups", "2"}, {"algorithm", "ppo"}});
  got.erase("strategy_options");
  defaults.erase("strategy_options");
  CHECK(got == defaults);

  // Complete: a key added to the configuration must be added (and so documented) there too.
  std::vector<std::string> missing;
  missing_keys(to_json(SearchConfig{}), file, "", missing);
  CHECK_MESSAGE(missing.empty(), "examples/search.json lacks: ", fmt::format("{}", fmt::join(missing, ", ")));
  CHECK(file["lr"].contains("fixed"));       // optional keys, null in the file
  CHECK(file["funnel"].contains("margin"));
}

TEST_CASE("search config: every child has its own seed, all share the split") {
  SearchConfig c;
  c.seed = 3;
  std::set<std::uint64_t> seeds;
  for (int i = 0; i < 100; ++i) seeds.insert(child_seed(c.seed, i));
  CHECK(seeds.size() == 100);
  CHECK(child_seed(3, 5) != child_seed(4, 5));
  runtime::EvaluateSpec a = child_spec(c, 1, 0), b = child_spec(c, 1, 1);
  CHECK(a.seed != b.seed);
  REQUIRE(a.split_seed);
  CHECK(a.split_seed == b.split_seed);
  CHECK(a.threads == 1);
  CHECK(a.epochs == 5);
  CHECK(a.train_subset == 10000);
  c.funnel.epochs = 12;
  CHECK(child_spec(c, 2, 0).epochs == 12);
  CHECK(child_spec(c, 2, 0).train_subset == 0);

  CHECK(reward_of(c, Status::Ok, 0.8) == doctest::Approx(0.8));
  CHECK(reward_of(c, Status::TimeBudget, 0.5) == doctest::Approx(0.5));
  c.failure_reward = -0.1;
  CHECK(reward_of(c, Status::Diverged, 0.3) == doctest::Approx(-0.1));
  CHECK(reward_of(c, Status::Ok, std::nullopt) == doctest::Approx(-0.1));
}

TEST_CASE("search config: child.cuda_graphs is stored only when on, and reaches the child's spec") {
  SearchConfig off = config_from_json(json::object(), "x");
  CHECK_FALSE(off.child.cuda_graphs);
  CHECK_FALSE(to_json(off)["child"].contains("cuda_graphs"));  // today's stored configurations unchanged
  CHECK_FALSE(child_spec(off, 1, 0).cuda_graphs);
  const json asked{{"child", {{"device", "cuda"}, {"cuda_graphs", true}}}};
  SearchConfig on = config_from_json(asked, "x");
  CHECK(on.child.cuda_graphs);
  CHECK(to_json(on)["child"]["cuda_graphs"] == true);
  CHECK(config_from_json(to_json(on), "x").child.cuda_graphs);
  CHECK(child_spec(on, 1, 0).cuda_graphs);
  const json wrong_type{{"child", {{"cuda_graphs", "yes"}}}};
  CHECK_THROWS_WITH_AS(config_from_json(wrong_type, "x"), doctest::Contains("cuda_graphs"), ConfigError);
}

}  // namespace nos::search
