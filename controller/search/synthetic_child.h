// A synthetic child for scale and coordination tests (`nos-search run --child synthetic:SECONDS`):
// it trains nothing, takes SECONDS, and returns a metric that is a deterministic function of the
// rule's canonical hash (and the stage), so that many workers on a small machine exercise the
// queue, the leases and the controller exactly as real children would, and results still compare
// bit for bit between runs. Torch-free.
#pragma once

#include "controller/search/search_config.h"
#include "controller/search/storage.h"

namespace nos::search {

// In [0.5, 0.95): the same for the same rule, unrelated for different rules; a second stage adds 0.01.
double synthetic_metric(const std::string& hash, int stage);

// Seed noise for a per-seed funnel (FunnelConfig::per_seed): what seed slot `slot` adds to the
// metric of the optimizer named `who` (a rule's hash, a baseline's name): a part every optimizer
// shares on that slot (the same data order and initial weights) and one of its own, each within
// ±0.01, so that paired differences have less spread than the metrics and one optimizer against
// itself differs by exactly 0.
double synthetic_seed_noise(const std::string& who, int slot);

// The stored result of a synthetic evaluation that took `seconds` (the caller waits them): of the
// candidate's rule, or of the lease's baseline (whose metric is synthetic_metric of its name).
// Stage 2 of a per-seed funnel adds the seed slot's noise.
EvaluationResult synthetic_evaluation(const SearchConfig& config, const Candidate& candidate, int stage, double seconds);
EvaluationResult synthetic_evaluation(const SearchConfig& config, const ClaimedTask& task, double seconds);

}  // namespace nos::search
