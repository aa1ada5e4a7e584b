// The `random` strategy: every proposal uniform over the valid sequences (dsl::random_tokens), the
// baseline any search must beat at the same budget. It learns nothing from rewards.
#pragma once

#include "controller/group_schedule.h"
#include "controller/rng.h"
#include "controller/strategy.h"

namespace nos::controller {

class RandomStrategy final : public Strategy {
 public:
  struct Config {
    int batch = 20;
    GroupSchedule groups{2};
  };
  static Config parse(const Options& options);
  static StrategyInfo info();

  RandomStrategy(Config config, std::uint64_t seed);

  std::string_view name() const override { return "random"; }
  int batch_size() const override { return config_.batch; }
  std::vector<Proposal> propose(int count) override;
  using Strategy::propose;
  void observe(std::span<const Outcome> outcomes) override;
  std::vector<Proposal> best(int) const override { return {}; }
  std::vector<Statistic> statistics() const override;
  std::string save() const override;
  void restore(std::string_view state) override;

 private:
  Config config_;
  Rng rng_;
  std::uint64_t proposed_ = 0;
  std::uint64_t observed_ = 0;
};

}  // namespace nos::controller
