#include "controller/strategies/random.h"

namespace nos::controller {
namespace {

constexpr OptionSpec kOptions[] = {
    {"batch", "20", "proposals per batch"},
    {"groups", "2", "groups per sequence, or a schedule over batches such as 1:100,2:300,3"},
};

}  // namespace

RandomStrategy::Config RandomStrategy::parse(const Options& options) {
  options.check_known("random", kOptions);
  Config config;
  config.batch = static_cast<int>(options.get_int("batch", 20, 1, kMaxBatch));
  config.groups = GroupSchedule::parse(options.get_string("groups", "2"));
  return config;
}

StrategyInfo RandomStrategy::info() {
  return {"random", "uniform over valid token sequences: the baseline", kOptions,
          [](const Options& options, std::uint64_t seed) -> std::unique_ptr<Strategy> {
            return std::make_unique<RandomStrategy>(parse(options), seed);
          }};
}

RandomStrategy::RandomStrategy(Config config, std::uint64_t seed) : config_(std::move(config)), rng_(seed) {}

std::vector<Proposal> RandomStrategy::propose(int count) {
  std::vector<Proposal> batch;
  for (int i = 0; i < count; ++i) {
    int groups = config_.groups.groups_at(static_cast<std::int64_t>(proposed_ / config_.batch));
    batch.push_back({proposed_++, dsl::random_tokens(rng_.engine(), groups), -1, "random", ""});
  }
  return batch;
}

void RandomStrategy::observe(std::span<const Outcome> outcomes) { observed_ += outcomes.size(); }

std::vector<Statistic> RandomStrategy::statistics() const {
  return {{"proposed", static_cast<double>(proposed_)}, {"observed", static_cast<double>(observed_)}};
}

std::string RandomStrategy::save() const {
  ByteWriter out("random");
  out.str(config_.groups.text());
  out.u64(static_cast<std::uint64_t>(config_.batch));
  out.u64(proposed_);
  out.u64(observed_);
  rng_.save(out);
  return out.take();
}

void RandomStrategy::restore(std::string_view state) {
  ByteReader in(state, "random");
  std::string groups = in.str();
  std::uint64_t batch = in.u64();
  if (groups != config_.groups.text() || batch != static_cast<std::uint64_t>(config_.batch))
    bad_state("saved with batch=" + std::to_string(batch) + " groups=" + groups + ", these options have batch=" +
              std::to_string(config_.batch) + " groups=" + config_.groups.text());
  std::uint64_t proposed = in.u64(), observed = in.u64();
  Rng rng;
  rng.restore(in);
  in.expect_end();
  proposed_ = proposed;
  observed_ = observed;
  rng_ = rng;
}

}  // namespace nos::controller
