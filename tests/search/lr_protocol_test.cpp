// The learning-rate protocol every optimizer is tuned by (controller/search/lr_protocol.h): the named
// grids, the command line's spelling, successive halving's schedule and cost against the exhaustive
// sweep's, the configuration's keys, and the line and JSON final prints and stores.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "controller/search/config_file.h"
#include "controller/search/search_config.h"

namespace nos::search {
namespace {

using nlohmann::json;

}  // namespace

TEST_CASE("lr protocol: named grids and the command line's spelling") {
  CHECK(*named_lr_grid("default") == LrConfig{}.grid);
  std::vector<double> fine = *named_lr_grid("fine");
  REQUIRE(fine.size() == 8);
  CHECK(fine.front() == doctest::Approx(1e-4));
  CHECK(fine.back() == 1.0);
  for (std::size_t i = 1; i < fine.size(); ++i) CHECK(std::log10(fine[i] / fine[i - 1]) == doctest::Approx(4.0 / 7));
  CHECK(*named_lr_grid("half-decades") == std::vector<double>{1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1});
  CHECK_FALSE(named_lr_grid("coarse"));

  CHECK(parse_lr_grid("fine") == fine);
  CHECK(parse_lr_grid("0.01,0.1") == std::vector<double>{0.01, 0.1});
  CHECK_THROWS_WITH_AS(parse_lr_grid("0.1,x"), "'x' is not a number (nor a named grid: default, fine, half-decades)",
                       std::invalid_argument);
  CHECK_THROWS_AS(parse_lr_grid("1e-50"), std::invalid_argument);
  CHECK_THROWS_AS(parse_lr_grid("finer"), std::invalid_argument);

  CHECK(parse_lr_sweep("halving") == LrSweep::Halving);
  CHECK(parse_lr_sweep("exhaustive") == LrSweep::Exhaustive);
  CHECK_FALSE(parse_lr_sweep("Halving"));
}

TEST_CASE("lr protocol: successive halving's schedule, runs and cost against the exhaustive sweep's") {
  auto counts = [](std::size_t n) {
    std::vector<std::pair<std::size_t, double>> out;
    for (const HalvingStep& s : halving_schedule(n)) out.emplace_back(s.rates, s.fraction);
    return out;
  };
  using V = std::vector<std::pair<std::size_t, double>>;
  CHECK(counts(8) == V{{8, 0.25}, {4, 0.5}, {2, 1.0}});
  CHECK(counts(9) == V{{9, 0.125}, {5, 0.25}, {3, 0.5}, {2, 1.0}});
  CHECK(counts(4) == V{{4, 0.5}, {2, 1.0}});
  CHECK(counts(3) == V{{3, 0.5}, {2, 1.0}});
  CHECK(counts(2) == V{{2, 1.0}});
  CHECK(counts(1) == V{{1, 1.0}});
  // The last round always trains two rates at the whole budget, as the exhaustive sweep does.
  for (std::size_t n = 2; n <= 40; ++n) {
    CAPTURE(n);
    CHECK(counts(n).back() == std::pair<std::size_t, double>{2, 1.0});
    if (n != 3) CHECK(sweep_cost(n, LrSweep::Halving) <= sweep_cost(n, LrSweep::Exhaustive));
    if (n > 4) CHECK(sweep_cost(n, LrSweep::Halving) < sweep_cost(n, LrSweep::Exhaustive));
  }
  CHECK(sweep_cost(3, LrSweep::Halving) == 3.5);  // dearer than 3: halving pays from 5 rates on
  CHECK(sweep_cost(8, LrSweep::Halving) == 6.0);
  CHECK(sweep_cost(9, LrSweep::Halving) == 5.875);
  CHECK(sweep_cost(4, LrSweep::Halving) == 4.0);  // no saving on four rates
  CHECK(sweep_cost(8, LrSweep::Exhaustive) == 8.0);
  CHECK(sweep_runs(8, LrSweep::Halving) == 14);
  CHECK(sweep_runs(9, LrSweep::Halving) == 19);
  CHECK(sweep_runs(8, LrSweep::Exhaustive) == 8);
}

TEST_CASE("lr protocol: the configuration's lr.sweep and a named lr.grid, the default stored as before") {
  SearchConfig c = config_from_json(json::parse(R"({"lr": {"grid": "fine", "sweep": "halving"}})"), "search.json");
  CHECK(c.lr.grid == *named_lr_grid("fine"));
  CHECK(c.lr.sweep == LrSweep::Halving);
  json stored = to_json(c);
  CHECK(stored["lr"]["sweep"] == "halving");
  CHECK(stored["lr"]["grid"].size() == 8);  // stored as its rates
  CHECK(config_from_json(stored, "stored").lr.sweep == LrSweep::Halving);
  // The default writes no "sweep": a search stored before halving existed is the same text.
  CHECK_FALSE(to_json(SearchConfig{})["lr"].contains("sweep"));

  auto error_of = [](const char* text) {
    try {
      config_from_json(json::parse(text), "search.json");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of(R"({"lr": {"sweep": "bisect"}})") == "search.json: lr.sweep: expected exhaustive or halving, not 'bisect'");
  CHECK(error_of(R"({"lr": {"grid": "finer"}})") ==
        "search.json: lr.grid: unknown grid 'finer' (named grids: default, fine, half-decades; or a list of rates)");
}

TEST_CASE("lr protocol: the line and the JSON final prints and stores") {
  LrConfig lr;
  CHECK(describe(lr) == "lr swept over 0.001, 0.01, 0.1, 1 (1 epoch)");
  lr.grid = *named_lr_grid("half-decades");
  lr.sweep = LrSweep::Halving;
  lr.sweep_epochs = 2;
  CHECK(describe(lr) ==
        "lr by successive halving over 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1 (9 rates, 19 runs in 4 "
        "rounds, 0.653 of the exhaustive sweep's cost; the last round 2 epochs on every example)");
  json j = protocol_json(lr);
  CHECK(j["sweep"] == "halving");
  CHECK(j["runs"] == 19);
  CHECK(j["cost"] == 5.875);
  CHECK(j["cost_exhaustive"] == 9.0);
  CHECK(j["rounds"].size() == 4);
  CHECK(j["rounds"][0] == json{{"rates", 9}, {"fraction", 0.125}});
  CHECK(j["fixed"].is_null());
  CHECK(j["description"] == describe(lr));
  lr.fixed = 0.01;
  CHECK(describe(lr) == "fixed lr 0.01");
  CHECK(protocol_json(lr)["runs"] == 0);
}

}  // namespace nos::search
