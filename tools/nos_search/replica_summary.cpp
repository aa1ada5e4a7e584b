#include "tools/nos_search/replica_summary.h"

#include <algorithm>
#include <map>

namespace nos::search::cli {

std::optional<double> ReplicaSummary::staleness_mean() const {
  if (ended() == 0) return std::nullopt;
  return static_cast<double>(staleness_sum) / static_cast<double>(ended());
}

ReplicaOverview read_replicas(Storage& storage, SearchId search) {
  ReplicaOverview out;
  out.versions = storage.parameter_history(search);
  if (out.versions.empty()) return out;
  std::map<std::string, ReplicaSummary> by_name;
  for (const ReplicaBatch& b : storage.replica_batches(search)) {
    ReplicaSummary& r = by_name[b.replica];
    r.name = b.replica;
    ++r.batches;
    if (b.state == "open") ++r.open;
    if (b.state == "applied") ++r.applied, ++out.applied;
    if (b.state == "refused") ++r.refused, ++out.refused;
    if (b.staleness) r.staleness_sum += *b.staleness, r.staleness_max = std::max(r.staleness_max, *b.staleness);
  }
  for (auto& [name, r] : by_name) out.replicas.push_back(std::move(r));
  return out;
}

}  // namespace nos::search::cli
