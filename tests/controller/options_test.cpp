#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "controller/group_schedule.h"
#include "controller/options.h"
#include "controller/reward.h"
#include "controller/state_bytes.h"
#include "controller/strategy.h"

using namespace nos::controller;

namespace {

std::string option_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const OptionError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("group schedule: fixed, the method's schedule, and its errors") {
  GroupSchedule fixed = GroupSchedule::parse("3");
  CHECK(fixed.groups_at(0) == 3);
  CHECK(fixed.groups_at(1000000) == 3);
  GroupSchedule s = GroupSchedule::parse("1:100,2:300,3");
  CHECK(s.groups_at(0) == 1);
  CHECK(s.groups_at(99) == 1);
  CHECK(s.groups_at(100) == 2);
  CHECK(s.groups_at(299) == 2);
  CHECK(s.groups_at(300) == 3);
  CHECK(s.max_groups() == 3);
  CHECK(s.text() == "1:100,2:300,3");
  CHECK(option_error([] { GroupSchedule::parse("1:100,2:50,3"); }).find("must increase") != std::string::npos);
  CHECK(option_error([] { GroupSchedule::parse("1:100"); }).find("last step") != std::string::npos);
  CHECK(option_error([] { GroupSchedule::parse("1,2"); }).find("needs a bound") != std::string::npos);
  CHECK(option_error([] { GroupSchedule::parse("0"); }).find("outside [1, 32]") != std::string::npos);
  CHECK(option_error([] { GroupSchedule::parse("two"); }).find("not a group schedule") != std::string::npos);
  CHECK(option_error([] { GroupSchedule::parse("x", "groups"); }).find("option 'groups'") != std::string::npos);
}

TEST_CASE("options: typed reads name the option, unknown keys and strategies are refused") {
  std::vector<std::string> items{"batch=7", "temperature=1.5", "batch=8"};
  Options o = Options::parse(items);
  CHECK(o.get_int("batch", 20, 1, 100) == 8);  // the last one wins
  CHECK(o.get_double("temperature", 1, 0, 10) == 1.5);
  CHECK(o.get_int("population", 100, 1, 1000) == 100);
  CHECK(option_error([&] { o.get_int("temperature", 1, 0, 9); }).find("option 'temperature': expected an integer") != std::string::npos);
  CHECK(option_error([&] { o.get_int("batch", 1, 10, 20); }).find("outside [10, 20]") != std::string::npos);
  std::vector<std::string> bad{"batch"};
  CHECK(option_error([&] { Options::parse(bad); }).find("expected KEY=VALUE") != std::string::npos);
  CHECK(option_error([] { make_strategy("random", Options().set("populaton", "3"), 1); })
            .find("unknown option 'populaton' for strategy 'random' (known: batch, groups)") != std::string::npos);
  CHECK(option_error([] { make_strategy("evolution", Options().set("tournament", "30").set("population", "20"), 1); })
            .find("larger than the population") != std::string::npos);
  CHECK(option_error([] { make_strategy("annealing", Options(), 1); }).find("unknown strategy 'annealing'") != std::string::npos);
  // This suite does not link nos_controller_lstm, so lstm was never registered.
  CHECK(option_error([] { make_strategy("lstm", Options(), 1); }).find("needs a build with LibTorch") != std::string::npos);
}

TEST_CASE("reward transforms: the method's four, increasing for negative metrics too") {
  CHECK(transform_reward(parse_reward_transform("identity"), 0.81) == 0.81);
  CHECK(transform_reward(parse_reward_transform("square"), 0.9) == doctest::Approx(0.81));
  CHECK(transform_reward(parse_reward_transform("cube"), 0.9) == doctest::Approx(0.729));
  CHECK(transform_reward(parse_reward_transform("sqrt"), 0.81) == doctest::Approx(0.9));
  CHECK(transform_reward(RewardTransform::Square, -0.5) == doctest::Approx(-0.25));
  CHECK(transform_reward(RewardTransform::Sqrt, -0.25) == doctest::Approx(-0.5));
  CHECK(option_error([] { parse_reward_transform("log"); }).find("unknown reward transform 'log'") != std::string::npos);
}

TEST_CASE("state bytes: round trip, and damaged or foreign states are refused") {
  ByteWriter w("demo");
  w.u64(42);
  w.f64(-0.1);
  w.str("abc");
  std::vector<float> f{1.5f, -0.0f, 3e-38f};
  w.floats(f);
  std::string bytes = w.take();
  ByteReader r(bytes, "demo");
  CHECK(r.u64() == 42);
  CHECK(r.f64() == -0.1);
  CHECK(r.str() == "abc");
  CHECK(r.floats() == f);
  r.expect_end();
  auto error = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error([&] { ByteReader(bytes, "other"); }).find("belongs to strategy 'demo'") != std::string::npos);
  CHECK(error([&] { ByteReader("garbage", "demo"); }).find("not a NOS strategy state") != std::string::npos);
  CHECK(error([&] {
          ByteReader t(std::string_view(bytes).substr(0, bytes.size() - 3), "demo");
          t.u64();
          t.f64();
          t.str();
          t.floats();
        }).find("truncated") != std::string::npos);
}

TEST_CASE("strategies: the registry lists random and evolution with their option tables") {
  std::vector<std::string> names;
  for (const StrategyInfo& info : strategies()) names.emplace_back(info.name);
  CHECK(std::find(names.begin(), names.end(), "random") != names.end());
  CHECK(std::find(names.begin(), names.end(), "evolution") != names.end());
  for (const StrategyInfo& info : strategies())
    if (info.name == "evolution") {
      std::string table = describe_options(info);
      CHECK(table.find("population=100") != std::string::npos);
      CHECK(table.find("tournament=10") != std::string::npos);
    }
}
