// The parameter server's tables (controller replicas, docs/distributed.md): the controller's shared
// parameters by version, and every batch a replica sampled with the update it produced. One
// self-contained migration step, so that it can take its place in any order of schema versions.
#pragma once

#include <string>
#include <vector>

#include "controller/search/storage/schema.h"

namespace nos::search::schema {

// CREATE statements of the parameter server's tables (part of create_statements, and the whole of
// the migration that adds them).
std::vector<std::string> parameter_tables(Dialect dialect);

}  // namespace nos::search::schema
