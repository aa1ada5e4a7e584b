// What `nos-search report` shows, read from a search's storage into plain series (no drawing, no
// HTML), so that the extraction is testable on its own. Every JSON field is optional: an older
// search, a result known without training or a strategy without statistics leaves a gap, not an
// error (controller/search/README.md, "What the JSON columns hold").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/search/storage.h"

namespace nos::search::cli {

// One batch: its stage-1 results (from the evaluations) and the strategy's statistics after it
// (from the batch record, when one was saved).
struct BatchSummary {
  std::int64_t batch = 0;
  std::int64_t candidates = 0;  // proposed in this batch
  std::int64_t results = 0;     // of them, with an accepted stage-1 result
  std::optional<double> mean_reward, max_reward;  // over the results that carry a reward
  std::map<std::string, std::int64_t> statuses;   // results by status (kStatuses)
  std::map<std::string, std::int64_t> sources;    // results by source (kSources)
  bool recorded = false;                          // a batch record exists
  std::optional<double> baseline, entropy;        // its "strategy" statistics

  // Share of the batch's results with this source (0 when it has none yet).
  double share(const std::string& source) const;
};

// The best stage-1 reward so far, one point where it improves (in the order the results were
// stored) and one at the last result, so that a step plot reaches it.
struct BestSoFar {
  std::int64_t evaluations = 0;  // stage-1 results so far (with or without a reward)
  double seconds = 0;            // the result's finish, seconds after the search was created
  double reward = 0;
};

// Validation accuracy per epoch of one training run.
struct Curve {
  std::string title;
  std::vector<double> epochs, val_acc;
};

struct Baseline {
  std::string name;  // adam, rmsprop, sgd (the artifact key's NAME)
  std::optional<double> lr, metric;
  std::string status;
  Curve curve;  // empty when the artifact holds no per-epoch curve
};

struct ReportData {
  std::string location;
  SearchInfo search;
  std::int64_t candidates = 0, results = 0;  // every candidate; those with a stage-1 result
  TaskCounts tasks;
  std::vector<BatchSummary> batches;  // in batch order, every batch that has a candidate
  std::vector<BestSoFar> best;
  std::vector<RankedResult> top;      // Storage::top's first k
  std::vector<Curve> top_curves;      // the first kCurveRules of `top` that have a curve, titled "rank N"
  std::vector<Baseline> baselines;    // every `baseline:NAME` artifact, adam first
  std::vector<std::string> notes;     // what could not be read (bad JSON, a missing curve), for the page
  bool any_baseline() const;          // some batch has a strategy baseline
  bool any_entropy() const;
  const Baseline* adam() const;
};

inline constexpr int kCurveRules = 5;

// Reads everything the report shows of `search`; `top_k` rules for the table.
ReportData read_report(Storage& storage, const SearchInfo& search, int top_k);

// The per-epoch validation accuracy in a curves JSON document (`{"epochs": [{"epoch", "val_acc"},
// ...]}`); epochs without a val_acc are skipped, a missing "epoch" counts from 1. Empty when the
// document holds none; `problem` is set when the text is not a JSON object.
Curve val_acc_curve(const std::string& curves_json, std::string* problem = nullptr);

}  // namespace nos::search::cli
