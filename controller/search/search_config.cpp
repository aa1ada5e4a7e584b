#include "controller/search/search_config.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/codegen/kernel_abi.h"
#include "controller/options.h"
#include "runtime/json_section.h"
#include "runtime/objective.h"
#include "runtime/json_text.h"

namespace nos::search {
namespace {

using nlohmann::json;

using Section = JsonSection;
std::string text_of(const json& v) { return JsonSection::text_of(v); }

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

// SplitMix64's finalizer: nearby inputs (seed 0 and 1, candidates 5 and 6) give unrelated seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

SearchConfig read_config(const json& j, std::string_view where) {
  SearchConfig c;
  Section top(j, where, "");
  top.check_known({"strategy", "strategy_options", "budget", "time_budget", "seed", "workers", "threads_per_worker",
                   "overlap", "lookahead", "async", "child", "lr", "funnel", "reward", "failure_reward", "repeat_reward",
                   "screen", "probes", "lease"});
  top.read("strategy", c.strategy);
  if (top.has("strategy_options")) {
    const json& o = top.at("strategy_options");
    if (!o.is_object()) top.fail("strategy_options", "expected an object of option: value");
    for (const auto& [name, value] : o.items()) {
      if (value.is_string()) c.strategy_options[name] = value.get<std::string>();
      else if (value.is_number() || value.is_boolean()) c.strategy_options[name] = text_of(value);
      else top.fail("strategy_options." + name, fmt::format("expected a string or a number, not {}", text_of(value)));
    }
  }
  top.read("budget", c.budget);
  top.read("time_budget", c.time_budget);
  top.read("seed", c.seed);
  top.read("workers", c.workers);
  top.read("threads_per_worker", c.threads_per_worker);
  top.read("overlap", c.overlap);
  top.read("lookahead", c.lookahead);
  top.read("async", c.async);
  top.read("failure_reward", c.failure_reward);
  if (top.has("repeat_reward") && top.at("repeat_reward").is_null()) c.repeat_reward.reset();
  else top.read("repeat_reward", c.repeat_reward);
  top.read("screen", c.screen);
  if (top.has("reward")) {
    std::string transform;
    top.read("reward", transform);
    try {
      c.reward = controller::parse_reward_transform(transform, "reward");
    } catch (const controller::OptionError& e) {
      top.fail("reward", e.what());
    }
  }
  if (top.has("child")) {
    Section s = top.section("child");
    std::vector<std::string_view> known(std::begin(runtime::kTaskKeys), std::end(runtime::kTaskKeys));
    known.insert(known.end(), {"backend", "device", "cuda_graphs", "time_budget", "synthetic"});
    s.check_known(known);
    runtime::read_task(top.at("child"), where, "child", c.child.task());
    s.read("backend", c.child.backend);
    s.read("device", c.child.device);
    s.read("cuda_graphs", c.child.cuda_graphs);
    s.read("time_budget", c.child.time_budget);
    s.read("synthetic", c.child.synthetic);
  }
  if (top.has("lr")) {
    Section s = top.section("lr");
    s.check_known({"grid", "sweep_epochs", "sweep", "fixed"});
    // A named grid ("fine") is read as its rates, and stored so.
    if (s.has("grid") && s.at("grid").is_string()) {
      std::string grid_name = s.at("grid").get<std::string>();
      std::optional<std::vector<double>> named = named_lr_grid(grid_name);
      if (!named) s.fail(s.key("grid"), fmt::format("unknown grid '{}' (named grids: {}; or a list of rates)", grid_name, kLrGridNames));
      c.lr.grid = *named;
    } else {
      s.read("grid", c.lr.grid);
    }
    s.read("sweep_epochs", c.lr.sweep_epochs);
    if (s.has("sweep")) {
      std::string sweep;
      s.read("sweep", sweep);
      std::optional<LrSweep> parsed = parse_lr_sweep(sweep);
      if (!parsed) s.fail(s.key("sweep"), fmt::format("expected exhaustive or halving, not '{}'", sweep));
      c.lr.sweep = *parsed;
    }
    s.read("fixed", c.lr.fixed);
  }
  if (top.has("funnel")) {
    Section s = top.section("funnel");
    s.check_known({"top_fraction", "margin", "train_subset", "epochs", "seeds", "baselines"});
    s.read("top_fraction", c.funnel.top_fraction);
    s.read("margin", c.funnel.margin);
    s.read("train_subset", c.funnel.train_subset);
    s.read("epochs", c.funnel.epochs);
    s.read("seeds", c.funnel.seeds);
    if (s.has("baselines")) {
      const json& names = s.at("baselines");
      bool strings = names.is_array();
      for (const json& n : names) strings = strings && n.is_string();
      if (!strings) throw ConfigError(fmt::format("{}: funnel.baselines: expected an array of optimizer names, such as [\"adam\"]", where));
      for (const json& n : names) c.funnel.baselines.push_back(n.get<std::string>());
    }
  }
  if (top.has("probes")) {
    Section s = top.section("probes");
    s.check_known({"steps", "elements", "seed", "fingerprint_bits", "max_non_finite_fraction", "constant_tolerance",
                   "min_descent_cosine"});
    s.read("steps", c.probes.steps);
    s.read("elements", c.probes.elements);
    s.read("seed", c.probes.seed);
    s.read("fingerprint_bits", c.probes.fingerprint_bits);
    s.read("max_non_finite_fraction", c.probes.max_non_finite_fraction);
    s.read("constant_tolerance", c.probes.constant_tolerance);
    s.read("min_descent_cosine", c.probes.min_descent_cosine);
  }
  if (top.has("lease")) {
    Section s = top.section("lease");
    s.check_known({"seconds", "max_attempts", "crash_reward"});
    s.read("seconds", c.lease.lease_seconds);
    s.read("max_attempts", c.lease.max_attempts);
    s.read("crash_reward", c.lease.crash_reward);
  }
  if (std::string problem = config_problem(c); !problem.empty()) throw ConfigError(fmt::format("{}: {}", where, problem));
  return c;
}

}  // namespace

SearchConfig config_from_json(const json& j, std::string_view where) {
  try {
    return read_config(j, where);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {  // JsonSection's and the task's: the same message, our type
    throw ConfigError(e.what());
  }
}

std::string config_problem(const SearchConfig& c) {
  if (c.strategy.empty()) return "strategy: must name a strategy";
  if (c.budget < 1 || c.budget > kMaxBudget)
    return fmt::format("budget: must be 1 .. {} candidates, not {}", kMaxBudget, c.budget);
  if (!(c.time_budget >= 0) || !std::isfinite(c.time_budget)) return "time_budget: must be >= 0 seconds (0: none)";
  if (c.workers < -1 || c.workers > 1024)
    return fmt::format("workers: must be -1 (one per core), 0 (none: remote workers train) .. 1024, not {}", c.workers);
  if (c.threads_per_worker < 1 || c.threads_per_worker > 1024)
    return fmt::format("threads_per_worker: must be 1 .. 1024, not {}", c.threads_per_worker);
  if (!std::isfinite(c.failure_reward)) return "failure_reward: must be a finite number";
  if (c.repeat_reward && !std::isfinite(*c.repeat_reward)) return "repeat_reward: must be a finite number or null";
  if (c.lookahead < 1 || c.lookahead > 64) return fmt::format("lookahead: must be 1 .. 64 batches, not {}", c.lookahead);
  const ChildConfig& ch = c.child;
  if (std::string problem = runtime::task_problem(ch); !problem.empty()) return "child." + problem;
  if (!(ch.time_budget >= 0) || !std::isfinite(ch.time_budget)) return "child.time_budget: must be >= 0 seconds (0: none)";
  if (!std::isfinite(ch.synthetic) || ch.synthetic > 86400) return "child.synthetic: must be a number of seconds <= 86400 (< 0: off)";
  if (c.lr.fixed) {
    if (!positive_finite(*c.lr.fixed)) return "lr.fixed: must be a positive learning rate";
    // The kernels' own check (nos-train's --lr): 1e-50 is positive, and 0 in float32.
    if (std::string problem = codegen::learning_rate_problem(*c.lr.fixed); !problem.empty())
      return fmt::format("lr.fixed: {} {}", *c.lr.fixed, problem);
  } else {
    if (c.lr.grid.empty()) return "lr.grid: give at least one learning rate (or lr.fixed)";
    for (double lr : c.lr.grid) {
      if (!positive_finite(lr)) return fmt::format("lr.grid: {} is not a positive learning rate", lr);
      if (std::string problem = codegen::learning_rate_problem(lr); !problem.empty())
        return fmt::format("lr.grid: {} {}", lr, problem);
    }
    if (c.lr.sweep_epochs < 1 || c.lr.sweep_epochs > 100000) return "lr.sweep_epochs: must be 1 .. 100000";
  }
  if (!(c.funnel.top_fraction >= 0 && c.funnel.top_fraction <= 1)) return "funnel.top_fraction: must be in [0, 1]";
  if (c.funnel.margin && !(*c.funnel.margin >= 0)) return "funnel.margin: must be >= 0";
  if (c.funnel.epochs < 1 || c.funnel.epochs > 100000) return "funnel.epochs: must be 1 .. 100000";
  if (c.funnel.train_subset < 0) return "funnel.train_subset: must be >= 0 (0: the whole training split)";
  if (c.funnel.seeds < 1 || c.funnel.seeds > kMaxFunnelSeeds)
    return fmt::format("funnel.seeds: must be 1 .. {}, not {}", kMaxFunnelSeeds, c.funnel.seeds);
  for (std::size_t i = 0; i < c.funnel.baselines.size(); ++i) {
    const std::string& b = c.funnel.baselines[i];
    if (b != "adam" && b != "rmsprop" && b != "sgd")
      return fmt::format("funnel.baselines: '{}' is not a baseline (adam, rmsprop or sgd)", b);
    for (std::size_t k = 0; k < i; ++k)
      if (c.funnel.baselines[k] == b) return fmt::format("funnel.baselines: '{}' is named twice", b);
  }
  if (c.funnel.per_seed() && !c.funnel.enabled())
    return "funnel.seeds and funnel.baselines need the funnel's second stage (funnel.top_fraction or funnel.margin)";
  if (c.probes.steps < 2 || c.probes.steps > 10000) return "probes.steps: must be 2 .. 10000";
  if (c.probes.elements < 1 || c.probes.elements > 100000) return "probes.elements: must be 1 .. 100000";
  if (c.probes.fingerprint_bits < 1 || c.probes.fingerprint_bits > 23) return "probes.fingerprint_bits: must be 1 .. 23";
  if (!(c.lease.lease_seconds > 0)) return "lease.seconds: must be > 0";
  if (c.lease.max_attempts < 1 || c.lease.max_attempts > 100) return "lease.max_attempts: must be 1 .. 100";
  // The child spec the workers will run: the evaluate API's own checks (model name, ...).
  runtime::EvaluateSpec spec = child_spec(c, 1, 0);
  spec.torch_optimizer = "sgd";
  if (std::string problem = runtime::spec_problem(spec); !problem.empty()) return "child: " + problem;
  return "";
}

json to_json(const SearchConfig& c) {
  json options = json::object();
  for (const auto& [name, value] : c.strategy_options) options[name] = value;
  // The task's keys, the model spelled as stored since the first version ("model": "mlp", "hidden").
  json child = runtime::to_json(c.child.task());
  runtime::flatten_model(child);
  child["backend"] = c.child.backend;
  child["device"] = c.child.device;
  if (c.child.cuda_graphs) child["cuda_graphs"] = true;  // absent when off: older searches stay byte-identical
  child["time_budget"] = c.child.time_budget;
  child["synthetic"] = c.child.synthetic;
  json lr = {{"grid", c.lr.grid}, {"sweep_epochs", c.lr.sweep_epochs}};
  // Only when not the default: a search stored before halving existed reads back the same.
  if (c.lr.sweep != LrSweep::Exhaustive) lr["sweep"] = name(c.lr.sweep);
  if (c.lr.fixed) lr["fixed"] = *c.lr.fixed;
  json funnel = {{"top_fraction", c.funnel.top_fraction}, {"train_subset", c.funnel.train_subset}, {"epochs", c.funnel.epochs}};
  if (c.funnel.margin) funnel["margin"] = *c.funnel.margin;
  // Written only when used, so that a search without them stores the configuration it always did.
  if (c.funnel.per_seed()) funnel["seeds"] = c.funnel.seeds, funnel["baselines"] = c.funnel.baselines;
  return {
      {"strategy", c.strategy},
      {"strategy_options", options},
      {"budget", c.budget},
      {"time_budget", c.time_budget},
      {"seed", c.seed},
      {"workers", c.workers},
      {"threads_per_worker", c.threads_per_worker},
      {"overlap", c.overlap},
      {"lookahead", c.lookahead},
      {"async", c.async},
      {"child", child},
      {"lr", lr},
      {"funnel", funnel},
      {"reward", std::string(controller::name(c.reward))},
      {"failure_reward", c.failure_reward},
      {"repeat_reward", c.repeat_reward ? json(*c.repeat_reward) : json(nullptr)},
      {"screen", c.screen},
      {"probes",
       {{"steps", c.probes.steps},
        {"elements", c.probes.elements},
        {"seed", c.probes.seed},
        {"fingerprint_bits", c.probes.fingerprint_bits},
        {"max_non_finite_fraction", c.probes.max_non_finite_fraction},
        {"constant_tolerance", c.probes.constant_tolerance},
        {"min_descent_cosine", c.probes.min_descent_cosine}}},
      {"lease",
       {{"seconds", c.lease.lease_seconds}, {"max_attempts", c.lease.max_attempts}, {"crash_reward", c.lease.crash_reward}}},
  };
}

std::uint64_t child_seed(std::uint64_t search_seed, std::int64_t index) {
  return mix(search_seed ^ mix(static_cast<std::uint64_t>(index) + 1));
}

std::uint64_t split_seed(std::uint64_t search_seed) { return mix(search_seed ^ 0x5eed5b1170ULL); }

std::uint64_t stage_seed(std::uint64_t search_seed, int stage, int slot) {
  return mix(search_seed ^ mix(0x57a9e5eedULL + static_cast<std::uint64_t>(stage)) ^ mix(static_cast<std::uint64_t>(slot) + 1));
}

runtime::EvaluateSpec child_spec(const SearchConfig& c, int stage, std::int64_t index, int slot) {
  const ChildConfig& ch = c.child;
  runtime::EvaluateSpec spec;
  spec.task() = ch.task();
  if (stage >= 2) spec.train_subset = c.funnel.train_subset, spec.epochs = c.funnel.epochs;
  spec.seed = stage >= 2 && c.funnel.per_seed() ? stage_seed(c.seed, stage, slot) : child_seed(c.seed, index);
  spec.split_seed = split_seed(c.seed);
  spec.threads = c.threads_per_worker;
  spec.device = ch.device;
  spec.backend = ch.backend;
  spec.cuda_graphs = ch.cuda_graphs;
  spec.time_budget = ch.time_budget;
  return spec;
}

std::unique_ptr<controller::Strategy> make_strategy(const SearchConfig& c, std::string_view where) {
  controller::Options options;
  for (const auto& [key, value] : c.strategy_options) options.set(key, value);
  try {
    return controller::make_strategy(c.strategy, options, c.seed);
  } catch (const controller::OptionError& e) {
    if (where.empty()) throw ConfigError(e.what());
    // Every failure here is in `strategy` or `strategy_options`: name the file and the section.
    bool unknown_strategy = std::string_view(e.what()).starts_with("unknown strategy");
    throw ConfigError(fmt::format("{}: {}: {}", where, unknown_strategy ? "strategy" : "strategy_options", e.what()));
  }
}

double reward_of(const SearchConfig& c, Status status, std::optional<double> metric) {
  if (!usable(status) || !metric || !std::isfinite(*metric)) return c.failure_reward;
  return controller::transform_reward(c.reward, runtime::reward_base(c.child.objective, *metric));
}

}  // namespace nos::search
