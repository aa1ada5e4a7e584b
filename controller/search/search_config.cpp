#include "controller/search/search_config.h"

#include <cmath>
#include <initializer_list>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/codegen/kernel_abi.h"
#include "controller/options.h"
#include "runtime/json_text.h"

namespace nos::search {
namespace {

using nlohmann::json;

// A value as the message shows it: JSON text, its strings made valid UTF-8, cut at 60 characters.
std::string text_of(const json& v) {
  std::string text = json_text(v);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

// Reads one JSON object of the configuration: every key must be a known one, every value of the
// field's type; messages say `where: path.key: problem`.
class Section {
 public:
  Section(const json& j, std::string_view where, std::string path) : j_(j), where_(where), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_.empty() ? "the configuration" : path_, "expected a JSON object");
  }

  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    throw ConfigError(fmt::format("{}: {}: {}", where_, key, problem));
  }
  std::string key(std::string_view name) const { return path_.empty() ? std::string(name) : path_ + "." + std::string(name); }

  void check_known(std::initializer_list<std::string_view> names) const {
    for (const auto& [name, value] : j_.items()) {
      bool known = false;
      for (std::string_view n : names) known = known || n == name;
      if (!known) fail(key(name), fmt::format("unknown key (known: {})", fmt::join(names, ", ")));
    }
  }

  bool has(std::string_view name) const { return j_.contains(name); }
  const json& at(std::string_view name) const { return j_.at(std::string(name)); }
  Section section(std::string_view name) const { return Section(at(name), where_, key(name)); }

  template <class T>
  void read(std::string_view name, T& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) fail(key(name), "expected true or false");
      out = v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      // Out of the field's range is refused, never wrapped or truncated ("seed": -1, "epochs": 1e10).
      constexpr auto lo = std::numeric_limits<T>::min();
      constexpr auto hi = std::numeric_limits<T>::max();
      bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
                  : v.is_number_integer() ? std::is_signed_v<T> ? v.get<std::int64_t>() >= static_cast<std::int64_t>(lo) &&
                                                                      v.get<std::int64_t>() <= static_cast<std::int64_t>(hi)
                                                                : v.get<std::int64_t>() >= 0
                                          : false;
      if (!v.is_number_integer()) fail(key(name), fmt::format("expected an integer, not {}", text_of(v)));
      if (!fits) fail(key(name), fmt::format("expected an integer from {} to {}, not {}", lo, hi, text_of(v)));
      out = v.get<T>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) fail(key(name), fmt::format("expected a number, not {}", text_of(v)));
      out = v.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) fail(key(name), fmt::format("expected a string, not {}", text_of(v)));
      out = v.get<std::string>();
    } else {
      static_assert(sizeof(T) == 0, "no reader for this type");
    }
  }

  void read(std::string_view name, std::optional<double>& out) const {
    if (!has(name) || at(name).is_null()) return;
    double value = 0;
    read(name, value);
    out = value;
  }

  void read(std::string_view name, std::vector<double>& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if (!v.is_array()) fail(key(name), "expected an array of numbers");
    out.clear();
    for (const json& x : v) {
      if (!x.is_number()) fail(key(name), fmt::format("expected an array of numbers, found {}", text_of(x)));
      out.push_back(x.get<double>());
    }
  }

  void read(std::string_view name, std::vector<std::int64_t>& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if (!v.is_array()) fail(key(name), "expected an array of integers");
    out.clear();
    for (const json& x : v) {
      if (!x.is_number_integer()) fail(key(name), fmt::format("expected an array of integers, found {}", text_of(x)));
      out.push_back(x.get<std::int64_t>());
    }
  }

 private:
  const json& j_;
  std::string_view where_;
  std::string path_;
};

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

// SplitMix64's finalizer: nearby inputs (seed 0 and 1, candidates 5 and 6) give unrelated seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

SearchConfig config_from_json(const json& j, std::string_view where) {
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
    s.check_known({"data", "model", "hidden", "train_subset", "val_fraction", "epochs", "batch_size", "metric", "last_k",
                   "backend", "device", "time_budget", "divergence_factor", "synthetic"});
    s.read("data", c.child.data);
    s.read("model", c.child.model.name);
    s.read("hidden", c.child.model.hidden);
    s.read("train_subset", c.child.train_subset);
    s.read("val_fraction", c.child.val_fraction);
    s.read("epochs", c.child.epochs);
    s.read("batch_size", c.child.batch_size);
    if (s.has("metric")) {
      std::string metric;
      s.read("metric", metric);
      std::optional<runtime::Metric> parsed = runtime::parse_metric(metric);
      if (!parsed) s.fail(s.key("metric"), fmt::format("unknown metric '{}' (val_acc, val_acc_mean_last_k, val_acc_max_last_k)", metric));
      c.child.metric = *parsed;
    }
    s.read("last_k", c.child.last_k);
    s.read("backend", c.child.backend);
    s.read("device", c.child.device);
    s.read("time_budget", c.child.time_budget);
    s.read("divergence_factor", c.child.divergence_factor);
    s.read("synthetic", c.child.synthetic);
  }
  if (top.has("lr")) {
    Section s = top.section("lr");
    s.check_known({"grid", "sweep_epochs", "fixed"});
    s.read("grid", c.lr.grid);
    s.read("sweep_epochs", c.lr.sweep_epochs);
    s.read("fixed", c.lr.fixed);
  }
  if (top.has("funnel")) {
    Section s = top.section("funnel");
    s.check_known({"top_fraction", "margin", "train_subset", "epochs"});
    s.read("top_fraction", c.funnel.top_fraction);
    s.read("margin", c.funnel.margin);
    s.read("train_subset", c.funnel.train_subset);
    s.read("epochs", c.funnel.epochs);
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
  if (ch.epochs < 1 || ch.epochs > 100000) return fmt::format("child.epochs: must be 1 .. 100000, not {}", ch.epochs);
  if (ch.train_subset < 0) return "child.train_subset: must be >= 0 (0: the whole training split)";
  if (!(ch.val_fraction > 0 && ch.val_fraction < 1)) return "child.val_fraction: must be strictly between 0 and 1";
  if (ch.batch_size < 1) return "child.batch_size: must be at least 1";
  if (ch.last_k < 1) return "child.last_k: must be at least 1";
  if (!(ch.time_budget >= 0) || !std::isfinite(ch.time_budget)) return "child.time_budget: must be >= 0 seconds (0: none)";
  if (!(std::isfinite(ch.divergence_factor) && ch.divergence_factor > 1))
    return "child.divergence_factor: must be > 1 (a loss this many times the first one diverges)";
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
  const ChildConfig& ch = c.child;
  json lr = {{"grid", c.lr.grid}, {"sweep_epochs", c.lr.sweep_epochs}};
  if (c.lr.fixed) lr["fixed"] = *c.lr.fixed;
  json funnel = {{"top_fraction", c.funnel.top_fraction}, {"train_subset", c.funnel.train_subset}, {"epochs", c.funnel.epochs}};
  if (c.funnel.margin) funnel["margin"] = *c.funnel.margin;
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
      {"child",
       {{"data", ch.data},
        {"model", ch.model.name},
        {"hidden", ch.model.hidden},
        {"train_subset", ch.train_subset},
        {"val_fraction", ch.val_fraction},
        {"epochs", ch.epochs},
        {"batch_size", ch.batch_size},
        {"metric", runtime::name(ch.metric)},
        {"last_k", ch.last_k},
        {"backend", ch.backend},
        {"device", ch.device},
        {"time_budget", ch.time_budget},
        {"divergence_factor", ch.divergence_factor},
        {"synthetic", ch.synthetic}}},
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

runtime::EvaluateSpec child_spec(const SearchConfig& c, int stage, std::int64_t index) {
  const ChildConfig& ch = c.child;
  runtime::EvaluateSpec spec;
  spec.model = ch.model;
  spec.data = ch.data;
  spec.train_subset = stage >= 2 ? c.funnel.train_subset : ch.train_subset;
  spec.val_fraction = ch.val_fraction;
  spec.epochs = stage >= 2 ? c.funnel.epochs : ch.epochs;
  spec.batch_size = ch.batch_size;
  spec.seed = child_seed(c.seed, index);
  spec.split_seed = split_seed(c.seed);
  spec.threads = c.threads_per_worker;
  spec.device = ch.device;
  spec.backend = ch.backend;
  spec.time_budget = ch.time_budget;
  spec.metric = ch.metric;
  spec.last_k = ch.last_k;
  spec.divergence_factor = ch.divergence_factor;
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

double reward_of(const SearchConfig& c, std::string_view status, std::optional<double> metric) {
  if ((status != "ok" && status != "time_budget") || !metric || !std::isfinite(*metric)) return c.failure_reward;
  return controller::transform_reward(c.reward, *metric);
}

}  // namespace nos::search
