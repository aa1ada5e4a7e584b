#include "controller/search/storage/schema_parameters.h"

#include <fmt/format.h>

namespace nos::search::schema {

std::vector<std::string> parameter_tables(Dialect dialect) {
  const char* blob = dialect == Dialect::SQLite ? "BLOB" : "BYTEA";
  return {
      // Version 0 is the initial parameters; version v + 1 is version v with one update applied.
      // The bytes of old versions are emptied (the history stays): a controller state is megabytes.
      fmt::format("CREATE TABLE controller_parameters ("
                  " search_id BIGINT NOT NULL REFERENCES searches(id),"
                  " version BIGINT NOT NULL,"
                  " state {} NOT NULL,"
                  " replica TEXT NOT NULL,"      // whose update produced it ('' for version 0)
                  " batch BIGINT,"               // the batch that update learned from
                  " saved_at DOUBLE PRECISION NOT NULL,"
                  " PRIMARY KEY (search_id, version))",
                  blob),
      // One row per batch a replica sampled: claimed 'open', then 'applied' (its update made
      // `version` from `base_version`) or 'refused' (staler than the rule allows).
      fmt::format("CREATE TABLE replica_batches ("
                  " search_id BIGINT NOT NULL REFERENCES searches(id),"
                  " batch BIGINT NOT NULL,"
                  " replica TEXT NOT NULL,"
                  " sampled_version BIGINT NOT NULL,"  // the parameters the batch was sampled with
                  " local_state {} NOT NULL,"          // the replica's own state after sampling it
                  " state TEXT NOT NULL CHECK (state IN ('open', 'applied', 'refused')),"
                  " base_version BIGINT,"              // the version the update was computed against
                  " version BIGINT,"                   // the version it produced
                  " staleness BIGINT,"                 // base_version - sampled_version
                  " claimed_at DOUBLE PRECISION NOT NULL,"
                  " ended_at DOUBLE PRECISION,"
                  " PRIMARY KEY (search_id, batch))",
                  blob),
      "CREATE INDEX replica_batches_by_replica ON replica_batches (search_id, replica, batch)",
  };
}

}  // namespace nos::search::schema
