// Controller replicas as status and the report show them (docs/distributed.md, "Controller
// replicas"): per replica its batches, its updates applied, refused and still open, and their
// staleness; the parameter versions with who made each. Read once here so that both say the same.
// Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/search/storage.h"

namespace nos::search::cli {

struct ReplicaSummary {
  std::string name;
  std::int64_t batches = 0, applied = 0, refused = 0, open = 0;
  std::int64_t staleness_sum = 0, staleness_max = 0;  // over its applied and refused updates
  std::int64_t ended() const { return applied + refused; }
  // The mean staleness of its ended updates; none before one ended.
  std::optional<double> staleness_mean() const;
};

struct ReplicaOverview {
  std::vector<ReplicaSummary> replicas;  // by name
  std::vector<ParameterVersion> versions;  // oldest first, without their bytes
  std::int64_t applied = 0, refused = 0;
  // A search with controller parameters (run --replicas, nos-search replica); the rest is empty
  // without them.
  bool any() const { return !versions.empty(); }
};

ReplicaOverview read_replicas(Storage& storage, SearchId search);

}  // namespace nos::search::cli
