// From a strategy's proposals to the candidates a batch stores, cheapest step first (issue 11):
//   1. compile the token sequence; a rule that cannot compile or can only produce NaN/inf: `invalid`
//   2. the same rule seen before (canonical hash): its earlier result is reused (`cache_hit`)
//   3. the same behaviour seen before (the probes' fingerprint): reused (`fingerprint_hit`)
//   4. screening on the probe outputs: `rejected` with the reason (`screened`)
//   5. otherwise the candidate is queued for training.
// A repeat of a candidate of the same batch that is not evaluated yet becomes a deferred copy: it
// gets that candidate's result once the batch is evaluated (resolve_copies), so a rule never
// trains twice and the outcome does not depend on which worker finished first. Torch-free.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "controller/search/search_config.h"
#include "controller/search/storage.h"
#include "controller/strategy.h"

namespace nos::search {

struct Intake {
  std::vector<NewCandidate> candidates;  // one per proposal, in order
  int invalid = 0, cache_hits = 0, fingerprint_hits = 0, rejected = 0, deferred = 0, queued = 0;
};

// The batches being evaluated while a new one is taken in (the overlapped search proposes the next
// batch before the current one is finished): their results are not final yet, so a repeat of one
// of their candidates is a deferred copy, whether or not its result happens to be stored already,
// and the outcome still does not depend on timing.
struct InFlight {
  std::int64_t first_index = -1;  // the first candidate of the oldest batch in flight; -1: none
  std::set<std::string> hashes, fingerprints;
  static InFlight of(Storage& storage, SearchId search, const std::vector<std::int64_t>& batches);
};

Intake take_in(const std::vector<controller::Proposal>& proposals, const SearchConfig& config, Storage& storage,
               SearchId search, const InFlight& in_flight = {});

// Once every task of `batch` and of the batches before it has ended: gives each deferred copy of
// the batch (a candidate without a stage-1 result) the result of the earliest candidate with the
// same hash (`cache_hit`), else the same fingerprint (`fingerprint_hit`). Works from the storage
// alone, so a resumed search finishes a batch the same way. Returns how many were stored.
int resolve_copies(Storage& storage, SearchId search, std::int64_t batch);

// A result reused from `from` (a hit): the same status, rate, metric, reward and documents.
EvaluationResult reused(const Evaluation& from, Source source);

}  // namespace nos::search
