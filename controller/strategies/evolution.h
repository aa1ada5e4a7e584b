// The `evolution` strategy: regularized (aging) evolution on token sequences (Real et al. 2019, as
// AutoML-Zero and Lion use it). A population of the P latest rewarded sequences; each child is a
// mutation of the best of S members drawn at random; the oldest member dies when a child arrives.
#pragma once

#include <deque>

#include "controller/group_schedule.h"
#include "controller/rng.h"
#include "controller/strategy.h"

namespace nos::controller {

class EvolutionStrategy final : public Strategy {
 public:
  struct Config {
    int batch = 20;
    int population = 100;
    int tournament = 10;
    GroupSchedule groups{2};  // of the random members that fill the first population
    int max_groups = 4;       // add-group mutations stop here
    double add_group = 0.1;   // probability that a mutation appends a group
    double remove_group = 0.1;
    // Sequences the first population starts with, before random ones (option warm_start: files).
    std::vector<dsl::TokenSequence> warm_start;
    std::vector<std::string> warm_start_names;
  };
  static Config parse(const Options& options);
  static StrategyInfo info();

  EvolutionStrategy(Config config, std::uint64_t seed);

  std::string_view name() const override { return "evolution"; }
  int batch_size() const override { return config_.batch; }
  std::vector<Proposal> propose(int count) override;
  using Strategy::propose;
  void observe(std::span<const Outcome> outcomes) override;
  std::vector<Proposal> best(int k) const override;
  std::vector<Statistic> statistics() const override;
  std::string save() const override;
  void restore(std::string_view state) override;

  struct Member {
    Proposal proposal;
    double reward;
  };
  const std::deque<Member>& population() const { return population_; }

  // One mutation of `parent` (exposed for the tests): resample one token to another valid value,
  // append a group that takes the old result as its first operand, or remove a group (references to
  // it become its first operand, later references are renumbered). `what` says which.
  static dsl::TokenSequence mutate(const dsl::TokenSequence& parent, const Config& config, Rng& rng, std::string& what);

 private:
  Config config_;
  Rng rng_;
  std::uint64_t proposed_ = 0;
  std::uint64_t founders_ = 0;  // proposals made to fill the first population (warm start, random)
  std::uint64_t observed_ = 0;
  std::deque<Member> population_;  // oldest first
};

// Reads the sequences of warm-start files: a `.tokens` file holds one token sequence, any other file
// DSL rules; rules that the token form cannot say (w, named constants, settings) are skipped and
// named in `skipped`. Throws dsl::Error for a file that does not parse.
std::vector<std::pair<std::string, dsl::TokenSequence>> read_warm_start(const std::string& path,
                                                                        std::vector<std::string>& skipped);

}  // namespace nos::controller
