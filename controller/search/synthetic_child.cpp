#include "controller/search/synthetic_child.h"

#include <cstdint>

#include <fmt/format.h>

namespace nos::search {

namespace {

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// In [0, 1): FNV-1a of the text (the rule's metric since the first synthetic child).
double unit_of(const std::string& text) { return static_cast<double>(fnv1a(text) >> 11) * 0x1.0p-53; }

// In [0, 1), with SplitMix64's finalizer: texts that differ in their last character ("slot 1",
// "slot 2") differ in the high bits too, which FNV-1a alone leaves nearly alike.
double mixed_unit_of(const std::string& text) {
  std::uint64_t x = fnv1a(text) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<double>((x ^ (x >> 31)) >> 11) * 0x1.0p-53;
}

}  // namespace

double synthetic_metric(const std::string& hash, int stage) {
  return 0.5 + 0.45 * unit_of(hash) + (stage >= 2 ? 0.01 : 0.0);
}

double synthetic_seed_noise(const std::string& who, int slot) {
  return 0.02 * (mixed_unit_of(fmt::format("slot {}", slot)) - 0.5) +
         0.02 * (mixed_unit_of(fmt::format("{} on slot {}", who, slot)) - 0.5);
}

EvaluationResult synthetic_evaluation(const SearchConfig& config, const Candidate& candidate, int stage, double seconds) {
  EvaluationResult r;
  r.stage = stage;
  r.status = Status::Ok;
  r.source = Source::Trained;
  r.lr = config.lr.fixed ? *config.lr.fixed : config.lr.grid.front();
  r.metric = synthetic_metric(candidate.hash, stage);
  r.reward = reward_of(config, r.status, r.metric);
  r.detail = "synthetic child";
  r.metrics_json = fmt::format(R"({{"val_acc":{},"epochs":0}})", *r.metric);
  r.timings_json = fmt::format(R"({{"compile":0,"data":0,"sweep":0,"training":{},"validation":0,"total":{}}})", seconds, seconds);
  return r;
}

EvaluationResult synthetic_evaluation(const SearchConfig& config, const ClaimedTask& task, double seconds) {
  const Lease& lease = task.lease;
  Candidate named = task.candidate;
  if (!lease.baseline.empty()) named.hash = "baseline " + lease.baseline;
  EvaluationResult r = synthetic_evaluation(config, named, lease.stage, seconds);
  r.seed = lease.seed;
  if (lease.stage >= 2 && config.funnel.per_seed()) {
    r.metric = *r.metric + synthetic_seed_noise(named.hash, lease.seed);
    r.reward = reward_of(config, r.status, r.metric);
    r.metrics_json = fmt::format(R"({{"val_acc":{},"epochs":0}})", *r.metric);
  }
  return r;
}

}  // namespace nos::search
