// What `nos-search report` shows, read from a search's storage into plain series (no drawing, no
// HTML), so that the extraction is testable on its own. Every JSON field is optional: an older
// search, a result known without training or a strategy without statistics leaves a gap, not an
// error (controller/search/README.md, "What the JSON columns hold").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/search/storage.h"
#include "controller/search/tally.h"
#include "tools/nos_search/replica_summary.h"

namespace nos::search::cli {

// One batch: its stage-1 results (from the evaluations) and the strategy's statistics after it
// (from the batch record, when one was saved).
struct BatchSummary {
  std::int64_t batch = 0;
  std::int64_t candidates = 0;  // proposed in this batch
  std::int64_t results = 0;     // of them, with an accepted stage-1 result
  std::optional<double> mean_reward, max_reward;  // over the results that carry a reward
  Tally tally;                                    // its results by source and status
  bool recorded = false;                          // a batch record exists
  std::optional<double> baseline, entropy;        // its "strategy" statistics
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
  std::string title;  // the legend: "rank 1: RULE (lr 0.1)", "adam (lr 0.001)"
  std::vector<double> epochs, val_acc;
};

// The screened results (rejected by the probes, or invalid) grouped by why.
struct ScreeningReason {
  Status status = Status::Rejected;  // rejected or invalid
  std::string reason;  // the probe's verdict (zero, not_descent, ...), "only produces NaN/inf", "does not compile"
  std::int64_t count = 0;
  std::string example, example_rule;  // the first one's detail and rule
};

// One optimizer's line of a stored `final`.
struct FinalRow {
  std::string optimizer, kind, hash, rule;
  std::optional<double> mean, std;
  std::vector<std::optional<double>> metrics;  // per seed
  std::vector<double> lrs;                     // per seed
  int ok = 0;
};

// One found rule against one baseline in a stored `final` (its "comparisons"; for an older
// document, decided here from the per-seed metrics).
struct FinalPair {
  std::string rule, baseline;
  std::string decision, verdict;     // final_verdict.h's name(Decision) and short_verdict()
  int pairs = 0, excluded = 0;
  std::optional<double> difference, ci_low, ci_high, p;
  std::string seeds_to_tell;         // seeds_to_tell_text()
};

// One task of a stored `final`: its heading (data, model, epochs, ...), the optimizers by mean and
// the verdict.
struct FinalTaskResult {
  std::string heading;
  std::string metric = "metric";
  std::size_t seeds = 0;
  std::vector<FinalRow> rows;
  std::vector<FinalPair> pairs;  // every found rule against every baseline
  bool pairs_recomputed = false;  // an older document without "comparisons"
  std::string verdict;  // the stored sentence, or recomputed for a document without "comparison"
  std::string decision;  // final_verdict.h's name(Decision)
  bool recomputed = false;  // an older document: the verdict decided here from its per-seed metrics
  std::string error;        // a transfer task that could not run
};

// One stored run of `nos-search final` (final_artifacts.h).
struct FinalRun {
  std::string key;
  int number = 0;  // 0: the unnumbered 'final' of an older database
  std::optional<double> finished_at;  // unix seconds; absent in older documents
  std::optional<double> seconds;
  std::string settings;               // "top 3, 3 seeds, baselines adam, rmsprop, sgd, ..."
  std::optional<FinalTaskResult> search, transfer;
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
  std::vector<RankedResult> top;      // the first k, as `top` ranks them (standing.h)
  // A per-seed funnel's: each rule's standing and paired differences (standing_lines), as `top`.
  std::vector<std::vector<std::string>> top_standing;
  std::vector<Curve> top_curves;      // the first kCurveRules of `top` that have a curve
  std::vector<Baseline> baselines;    // every `baseline:NAME` artifact, adam first
  std::vector<FinalRun> finals;       // every stored `final`, oldest first
  std::vector<ScreeningReason> screening;  // most frequent first
  // Every stage-1 result by source and status; the time from the search's creation to its last
  // result (a resumed search includes its pause).
  Tally tally;
  double duration = 0;
  bool several_searches = false;      // the file holds others: commands need --search
  std::vector<std::string> notes;     // what could not be read (bad JSON, a missing curve), for the page
  std::string metric_note;            // the metric's name and direction; "" for an accuracy (metric_label.h)
  ReplicaOverview replicas;           // controller replicas; empty (any() false) for a search without them
  bool any_baseline() const;          // some batch has a strategy baseline
  bool any_entropy() const;
  const Baseline* adam() const;
  const FinalRun* latest_final() const { return finals.empty() ? nullptr : &finals.back(); }
  // Adam's metric as a reward (the search's reward transform); none without an Adam metric.
  std::optional<double> adam_reward;
};

inline constexpr int kCurveRules = 5;
inline constexpr std::size_t kLegendRuleWidth = 40;  // a rule's text in a plot's legend

// Reads everything the report shows of `search`; `top_k` rules for the table.
ReportData read_report(Storage& storage, const SearchInfo& search, int top_k);

// The per-epoch validation accuracy in a curves JSON document (`{"epochs": [{"epoch", "val_acc"},
// ...]}`); epochs without a val_acc are skipped, a missing "epoch" counts from 1. Empty when the
// document holds none; `problem` is set when the text is not a JSON object.
Curve val_acc_curve(const std::string& curves_json, std::string* problem = nullptr);

// A stored `final` document read for the page; `problem` set (and nothing else) when it is not a
// JSON object.
FinalRun read_final(const std::string& key, const std::string& json_text, std::string* problem = nullptr);

// `text` when it fits in `width` characters (bytes; UTF-8 kept whole), else its start and "...".
std::string shorten(const std::string& text, std::size_t width);

}  // namespace nos::search::cli
