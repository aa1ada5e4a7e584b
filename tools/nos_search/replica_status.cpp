#include "tools/nos_search/replica_status.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "tools/nos_search/table.h"

namespace nos::search::cli {

std::string replica_status(Storage& storage, SearchId search) {
  std::vector<ParameterVersion> history = storage.parameter_history(search);
  if (history.empty()) return "";
  struct PerReplica {
    std::int64_t batches = 0, applied = 0, refused = 0, open = 0, staleness_sum = 0, staleness_max = 0;
  };
  std::map<std::string, PerReplica> by_name;
  std::int64_t applied = 0, refused = 0;
  for (const ReplicaBatch& b : storage.replica_batches(search)) {
    PerReplica& r = by_name[b.replica];
    ++r.batches;
    if (b.state == "open") ++r.open;
    if (b.state == "applied") ++r.applied, ++applied;
    if (b.state == "refused") ++r.refused, ++refused;
    if (b.staleness) r.staleness_sum += *b.staleness, r.staleness_max = std::max(r.staleness_max, *b.staleness);
  }
  std::string out = fmt::format("replicas: {}; parameters at version {} ({} update(s) applied, {} refused)\n",
                                by_name.size(), history.back().version, applied, refused);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, r] : by_name) {
    std::int64_t ended = r.applied + r.refused;
    rows.push_back({name, std::to_string(r.batches), std::to_string(r.applied), std::to_string(r.refused),
                    std::to_string(r.open),
                    ended ? fmt::format("{:.2f}", static_cast<double>(r.staleness_sum) / static_cast<double>(ended)) : "-",
                    ended ? std::to_string(r.staleness_max) : "-"});
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
