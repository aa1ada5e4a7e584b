// `nos-search run`'s option table (tools/nos_search/run_options.h): every option it lists sets
// a key the configuration has, every option of the command is in it, and what --resume may change
// is read from it.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include <fstream>

#include <fmt/format.h>

#include "tests/search/temp_dir.h"
#include "tools/nos_search/run_options.h"

namespace nos::search::cli {
namespace {

void keys_of(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& [key, value] : j.items()) {
    std::string name = prefix.empty() ? key : prefix + "." + key;
    out.insert(name);
    if (value.is_object()) keys_of(value, name, out);
  }
}

}  // namespace

TEST_CASE("run options: one row per option of the command, each setting a key of the configuration") {
  SearchConfig c;
  c.lr.fixed = 0.1;                  // written only when set
  c.lr.sweep = LrSweep::Halving;     // written only when not the default
  c.funnel.seeds = 3;                // funnel.seeds and funnel.baselines too
  c.child.cuda_graphs = true;        // likewise
  c.strategy_options = {{"algorithm", "ppo"}, {"batch", "20"}, {"groups", "2"}};
  std::set<std::string> keys;
  keys_of(to_json(c), "", keys);

  CLI::App app;
  RunOptions o;
  add_run_options(app, o);
  std::set<std::string> registered;
  for (const CLI::Option* option : app.get_options())
    if (option->get_name() != "--help") registered.insert(option->get_name());

  std::set<std::string> flags;
  for (const RunOption& option : run_options()) {
    CAPTURE(option.flag);
    CHECK(flags.insert(option.flag).second);
    CHECK(registered.count(option.flag) == 1);
    if (option.on_resume == OnResume::RunOnly) {
      CHECK(std::string(option.key).empty());
      CHECK((option.apply == nullptr));
    } else if (std::string(option.flag) != "--config") {
      CHECK(keys.count(option.key) == 1);
      CHECK((option.apply != nullptr));
    }
  }
  CHECK(flags == registered);
  CHECK(keys_changeable_on_resume() == std::vector<std::string>{"budget", "time_budget", "workers", "child.device",
                                                                   "child.cuda_graphs"});
  CHECK(flags_changeable_on_resume() == std::vector<std::string>{"--budget", "--time-budget", "--workers", "--device",
                                                                    "--cuda-graphs"});
}

TEST_CASE("run options: configure() sets the keys of the options given, and only those") {
  CLI::App app;
  RunOptions o;
  add_run_options(app, o);
  app.parse("--hidden 64,32 --batch 3 --lr-grid 0.01,0.1", /*program_name_included=*/false);
  for (const CLI::Option* option : app.get_options())
    if (option->count() > 0) o.given.insert(option->get_name());
  SearchConfig c = configure(SearchConfig{}, o);
  CHECK(c.child.model.hidden == std::vector<std::int64_t>{64, 32});
  CHECK(c.strategy_options.at("batch") == "3");
  CHECK(c.lr.grid == std::vector<double>{0.01, 0.1});
  CHECK(c.child.epochs == 5);  // not given: the default
  nlohmann::json given = to_json(c), defaults = to_json(SearchConfig{});
  given["child"].erase("hidden"), defaults["child"].erase("hidden");
  given["lr"].erase("grid"), defaults["lr"].erase("grid");
  given.erase("strategy_options"), defaults.erase("strategy_options");
  CHECK(given == defaults);
}

TEST_CASE("run options: --lr-grid takes a named grid, --lr-sweep the sweep, both stored") {
  CLI::App app;
  RunOptions o;
  add_run_options(app, o);
  app.parse("--lr-grid half-decades --lr-sweep halving", /*program_name_included=*/false);
  for (const CLI::Option* option : app.get_options())
    if (option->count() > 0) o.given.insert(option->get_name());
  SearchConfig c = configure(SearchConfig{}, o);
  CHECK(c.lr.grid == *named_lr_grid("half-decades"));
  CHECK(c.lr.sweep == LrSweep::Halving);
  CHECK(to_json(c)["lr"]["sweep"] == "halving");
}

TEST_CASE("run options: --config, then --task over it, then the options given replace its keys") {
  testing::TempDir dir;
  std::ofstream(dir.file("search.json")) << R"({"child": {"epochs": 4, "train_subset": 300, "batch_size": 16}})";
  std::ofstream(dir.file("task.json")) << R"({"model": "convnet", "epochs": 2})";
  CLI::App app;
  RunOptions o;
  add_run_options(app, o);
  app.parse(fmt::format("--config {} --task {} --epochs 3", dir.file("search.json"), dir.file("task.json")), false);
  for (const CLI::Option* option : app.get_options())
    if (option->count() > 0) o.given.insert(option->get_name());
  SearchConfig c = configure(SearchConfig{}, o);
  CHECK(c.child.model.name == "convnet");  // the task file's
  CHECK(c.child.epochs == 3);              // --epochs over the file
  CHECK(c.child.train_subset == 300);      // --config's: the task file leaves it out
  CHECK(c.child.batch_size == 16);
}

}  // namespace nos::search::cli
