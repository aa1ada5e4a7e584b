// What `status` shows of controller replicas (docs/distributed.md): per replica its batches and
// updates (applied, refused, open) and their staleness, and the parameter versions over time.
// Nothing for a search without replicas. Torch-free.
#pragma once

#include <string>

#include "controller/search/storage.h"

namespace nos::search::cli {

// The lines, or "" when the search has no controller parameters.
std::string replica_status(Storage& storage, SearchId search);

}  // namespace nos::search::cli
