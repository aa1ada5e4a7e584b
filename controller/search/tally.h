// Results counted by source and status: the one tally behind the search's progress line and batch
// statistics, `nos-search status`, the report and `nos-bench search`.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "controller/search/storage.h"

namespace nos::search {

struct Tally {
  std::int64_t total = 0;
  std::array<std::array<std::int64_t, kStatusCount>, kSourceCount> cells{};  // [source][status]

  void add(const EvaluationResult& result);
  std::int64_t of(Source source, Status status) const;
  std::int64_t of(Status status) const;  // every source
  std::int64_t of(Source source) const;  // every status
  // Results not reused from another candidate (trained or screened) with this status.
  std::int64_t fresh(Status status) const;
  // n / total of this source (0 without results).
  double share(Source source) const;
};

// The accepted results at `stage` (a candidate has one per stage it reached; failed attempts apart).
Tally tally(const std::vector<Evaluation>& evaluations, int stage);

}  // namespace nos::search
