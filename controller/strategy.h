// The interface every search strategy (lstm, evolution, random) offers the search: propose a batch
// of candidate token sequences, observe their rewards, and save or restore the whole state as bytes.
// Torch-free: the lstm strategy keeps LibTorch inside controller/lstm/.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controller/options.h"
#include "dsl/tokens.h"

namespace nos::controller {

// The most proposals one batch may hold. A batch is proposed, taken in and stored whole before any
// of it is evaluated, and it is one policy-gradient step: a larger one only delays the first
// result and holds more memory (measured: a batch of 1,000 lstm proposals takes ~20 s and ~0.5 GB
// from proposal to the batch's end on 2 cores; 10,000: ~5 min and 2 GB), so the `batch` option of
// every strategy stops here.
inline constexpr std::int64_t kMaxBatch = 1000;

struct Proposal {
  std::uint64_t index = 0;  // the strategy's count of proposals made before this one (0, 1, 2, ...)
  dsl::TokenSequence tokens;
  std::int64_t parent = -1;  // evolution: the index of the proposal this one mutates; -1 for none
  std::string origin;  // how it was made, for people: "sample", "mutation of #12: resample b of group 2"
  // What observe needs back (the lstm's log-probability, evolution's parent): opaque bytes that the
  // search stores with the candidate, so that observe works after a restart.
  std::string data;
};

// A proposal and its reward (larger is better), e.g. the validation accuracy of its child network.
struct Outcome {
  Proposal proposal;
  double reward = 0;
};

// A number about the strategy's latest step, for progress lines and reports.
struct Statistic {
  std::string name;  // "baseline", "entropy", "population_best", ...
  double value = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  virtual int batch_size() const = 0;  // how many proposals a batch holds (option `batch`)

  // The next `count` proposals. The same seed and the same calls give the same proposals.
  virtual std::vector<Proposal> propose(int count) = 0;
  std::vector<Proposal> propose() { return propose(batch_size()); }

  // Learns from rewarded proposals: any of them, in any order, each once. The lstm strategy makes one
  // policy update per call, so the deterministic search calls it once per whole batch.
  virtual void observe(std::span<const Outcome> outcomes) = 0;

  // The strategy's own choice of its best k sequences: the lstm's beam search (k = 1 is the greedy
  // decode), evolution's best population members; random has none and returns nothing. Sequences
  // that were never proposed (the lstm's) have index UINT64_MAX.
  virtual std::vector<Proposal> best(int k) const = 0;

  virtual std::vector<Statistic> statistics() const = 0;

  // The whole state (parameters, optimizer state, baseline, random streams, counters) as bytes;
  // restore continues bit for bit as if never stopped. restore refuses (std::invalid_argument) a
  // state saved by another strategy or under options that change its shape.
  virtual std::string save() const = 0;
  virtual void restore(std::string_view state) = 0;

  // Controller replicas (controller/search/replica_loop.h) share part of the state through the
  // parameter server: the parameters and what updates them (the lstm's Adam moments, baseline and
  // update count), while each replica keeps its own random stream and count of proposals.
  // restore_shared(save_shared()) of another replica's copy leaves this one's own part as it was.
  // A strategy without shared parameters (random, evolution) refuses with std::invalid_argument.
  virtual std::string save_shared() const;
  virtual void restore_shared(std::string_view state);
};

// ---- Factory ---------------------------------------------------------------------------------

using StrategyFactory = std::unique_ptr<Strategy> (*)(const Options& options, std::uint64_t seed);

struct StrategyInfo {
  std::string_view name;
  std::string_view summary;  // one line for --help
  std::span<const OptionSpec> options;
  StrategyFactory make;
};

// random and evolution are always there; lstm once its library has been registered, i.e. after
// register_lstm_strategy() (controller/lstm/lstm_strategy.h) in a build with LibTorch.
std::vector<StrategyInfo> strategies();
void register_strategy(const StrategyInfo& info);

// Throws OptionError for an unknown name (listing the known ones) or a bad option.
std::unique_ptr<Strategy> make_strategy(std::string_view name, const Options& options, std::uint64_t seed);

// The option table as text lines (`  key=default  meaning`), for --help and docs.
std::string describe_options(const StrategyInfo& info);

}  // namespace nos::controller
