#include "tools/nos_search/replica_status.h"

#include <algorithm>

#include <fmt/format.h>

#include "tools/nos_search/replica_summary.h"
#include "tools/nos_search/table.h"

namespace nos::search::cli {

std::string replica_status(Storage& storage, SearchId search) {
  ReplicaOverview overview = read_replicas(storage, search);
  if (!overview.any()) return "";
  const std::vector<ParameterVersion>& history = overview.versions;
  std::string out = fmt::format("replicas: {}; parameters at version {} ({} update(s) applied, {} refused)\n",
                                overview.replicas.size(), history.back().version, overview.applied, overview.refused);
  std::vector<std::vector<std::string>> rows;
  for (const ReplicaSummary& r : overview.replicas) {
    std::optional<double> mean = r.staleness_mean();
    rows.push_back({r.name, std::to_string(r.batches), std::to_string(r.applied), std::to_string(r.refused),
                    std::to_string(r.open), mean ? fmt::format("{:.2f}", *mean) : "-",
                    mean ? std::to_string(r.staleness_max) : "-"});
  }
  out += render_table({{"replica"}, {"batches", true}, {"applied", true}, {"refused", true}, {"open", true},
                       {"staleness mean", true}, {"max", true}},
                      rows);
  // The versions over time: at most 6 points, the first and the newest among them.
  std::string points;
  const std::size_t n = history.size(), step = std::max<std::size_t>(1, (n + 4) / 5);
  for (std::size_t i = 0; i < n; i += step)
    points += fmt::format("{}{} at {:+.1f} s", points.empty() ? "" : ", ", history[i].version,
                          history[i].saved_at - history[0].saved_at);
  if ((n - 1) % step != 0)
    points += fmt::format(", {} at {:+.1f} s", history.back().version, history.back().saved_at - history[0].saved_at);
  out += fmt::format("  versions over time: {}\n", points);
  return out;
}

}  // namespace nos::search::cli
