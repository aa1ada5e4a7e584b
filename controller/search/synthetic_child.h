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

// The stored result of a synthetic evaluation that took `seconds` (the caller waits them).
EvaluationResult synthetic_evaluation(const SearchConfig& config, const Candidate& candidate, int stage, double seconds);

}  // namespace nos::search
