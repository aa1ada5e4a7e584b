#include "controller/strategy.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "controller/strategies/evolution.h"
#include "controller/strategies/random.h"

namespace nos::controller {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<StrategyInfo> entries{RandomStrategy::info(), EvolutionStrategy::info()};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::vector<StrategyInfo> strategies() {
  std::lock_guard lock(registry().mutex);
  return registry().entries;
}

void register_strategy(const StrategyInfo& info) {
  std::lock_guard lock(registry().mutex);
  for (StrategyInfo& entry : registry().entries)
    if (entry.name == info.name) {
      entry = info;
      return;
    }
  registry().entries.push_back(info);
}

std::unique_ptr<Strategy> make_strategy(std::string_view name, const Options& options, std::uint64_t seed) {
  std::string known;
  for (const StrategyInfo& info : strategies()) {
    if (info.name == name) {
      options.check_known(info.name, info.options);
      return info.make(options, seed);
    }
    known += (known.empty() ? "" : ", ") + std::string(info.name);
  }
  std::string hint = name == "lstm" ? " (the lstm strategy needs a build with LibTorch, NOS_WITH_TORCH=ON)" : "";
  throw OptionError("unknown strategy '" + std::string(name) + "' (known: " + known + ")" + hint);
}

std::string describe_options(const StrategyInfo& info) {
  std::size_t width = 0;
  for (const OptionSpec& spec : info.options) width = std::max(width, spec.name.size() + spec.default_value.size() + 1);
  std::string out;
  for (const OptionSpec& spec : info.options) {
    std::string head = std::string(spec.name) + "=" + std::string(spec.default_value);
    out += "  " + head + std::string(width - head.size() + 2, ' ') + std::string(spec.meaning) + "\n";
  }
  return out;
}

std::string Strategy::save_shared() const {
  throw std::invalid_argument("strategy '" + std::string(name()) + "' has no shared parameters: only lstm runs as replicas");
}

void Strategy::restore_shared(std::string_view) {
  throw std::invalid_argument("strategy '" + std::string(name()) + "' has no shared parameters: only lstm runs as replicas");
}

}  // namespace nos::controller
