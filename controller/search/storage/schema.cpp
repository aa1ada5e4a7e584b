#include "controller/search/storage/schema.h"

#include <fmt/format.h>

#include "controller/search/storage/schema_parameters.h"

namespace nos::search::schema {
namespace {

// Words that differ between the dialects; everything else is common SQL.
struct Words {
  const char* id;    // an auto-incremented primary key that never reuses a value
  const char* blob;  // bytes
};

Words words(Dialect dialect) {
  if (dialect == Dialect::SQLite) return {"INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"};
  return {"BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BYTEA"};
}

// Named JSON documents of a search: a baseline's result, `final`'s table (since version 2).
std::string artifacts_table() {
  return "CREATE TABLE artifacts ("
         " search_id BIGINT NOT NULL REFERENCES searches(id),"
         " key TEXT NOT NULL,"
         " value TEXT NOT NULL,"  // JSON
         " saved_at DOUBLE PRECISION NOT NULL,"
         " PRIMARY KEY (search_id, key))";
}

// Since version 3: the indexes the search's per-batch reads and its progress counts use, so that
// their cost is bounded by the batch, not by the history (a 100,000-candidate search).
std::vector<std::string> batch_indexes() {
  return {
      // candidates(search, batch), evaluations_of_batch, counts(search, batch): a batch's candidates.
      "CREATE INDEX candidates_by_batch ON candidates (search_id, batch, idx)",
      // counts(search): the results stored with their candidate, counted from the index alone.
      "CREATE INDEX evaluations_resolved ON evaluations (search_id) WHERE task IS NULL AND accepted = 1",
  };
}

// The queue: one task per candidate, stage and seed (since version 4), with its lease; a paired
// baseline's task (version 4) has no candidate and names the baseline instead.
std::string tasks_table(const Words& w, const char* name) {
  return fmt::format(
      "CREATE TABLE {} ("
      " id {},"                        // FIFO order of the queue
      " search_id BIGINT NOT NULL,"
      " candidate BIGINT,"             // NULL for a baseline's task
      " stage INTEGER NOT NULL,"
      " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'crashed')),"
      " owner TEXT,"                   // the lease's holder while running
      " attempt INTEGER NOT NULL DEFAULT 0,"   // fencing token: +1 on every claim
      " failures INTEGER NOT NULL DEFAULT 0,"  // attempts lost to crashes and expiry
      " lease_expires DOUBLE PRECISION,"
      " heartbeat_at DOUBLE PRECISION,"
      " enqueued_at DOUBLE PRECISION NOT NULL,"
      " claimed_at DOUBLE PRECISION,"
      " finished_at DOUBLE PRECISION,"
      " seed INTEGER NOT NULL DEFAULT 0,"     // the funnel's seed slot (search_config.h: child_spec)
      " baseline TEXT NOT NULL DEFAULT '',"  // a paired baseline's optimizer; '' for a candidate
      " UNIQUE (search_id, candidate, stage, seed),"
      " FOREIGN KEY (search_id, candidate) REFERENCES candidates (search_id, idx))",
      name, w.id);
}

// Every attempt, accepted or not, and every result known without training.
std::string evaluations_table(const Words& w, const char* name) {
  return fmt::format(
      "CREATE TABLE {} ("
      " id {},"
      " search_id BIGINT NOT NULL,"
      " candidate BIGINT,"             // NULL for a baseline's result
      " stage INTEGER NOT NULL,"
      " task BIGINT,"                  // NULL for a result stored with the candidate
      " attempt INTEGER NOT NULL,"
      " accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),"
      " status TEXT NOT NULL CHECK (status IN ('ok', 'invalid', 'rejected', 'diverged', 'time_budget', 'crashed')),"
      " source TEXT NOT NULL CHECK (source IN ('trained', 'cache_hit', 'fingerprint_hit', 'screened')),"
      " reused_from BIGINT,"
      " detail TEXT NOT NULL,"
      " lr DOUBLE PRECISION,"
      " metric DOUBLE PRECISION,"
      " reward DOUBLE PRECISION,"
      " metrics TEXT NOT NULL,"        // JSON
      " curves TEXT NOT NULL,"         // JSON
      " timings TEXT NOT NULL,"        // JSON
      " worker TEXT NOT NULL,"
      " started_at DOUBLE PRECISION NOT NULL,"
      " finished_at DOUBLE PRECISION NOT NULL,"
      " seed INTEGER NOT NULL DEFAULT 0,"
      " baseline TEXT NOT NULL DEFAULT '',"
      " FOREIGN KEY (search_id, candidate) REFERENCES candidates (search_id, idx))",
      name, w.id);
}

// Since version 4: exactly one accepted result per candidate, stage and seed (and per baseline,
// stage and seed), enforced by the database itself; one baseline task per stage and seed.
std::vector<std::string> seed_indexes() {
  return {
      "CREATE UNIQUE INDEX evaluations_accepted ON evaluations (search_id, candidate, stage, seed) WHERE accepted = 1",
      "CREATE UNIQUE INDEX evaluations_baseline_accepted ON evaluations (search_id, baseline, stage, seed) "
      "WHERE accepted = 1 AND candidate IS NULL",
      "CREATE UNIQUE INDEX tasks_by_baseline ON tasks (search_id, baseline, stage, seed) WHERE candidate IS NULL",
  };
}

}  // namespace

std::vector<std::string> create_statements(Dialect dialect) {
  Words w = words(dialect);
  // Times are unix seconds from the database's clock. Status and state strings are checked here
  // so that no backend can store a value the readers do not know.
  std::vector<std::string> out{
      // One row: what this database is and which schema version it has.
      "CREATE TABLE nos_schema ("
      " application TEXT NOT NULL,"
      " version INTEGER NOT NULL,"
      " created_at DOUBLE PRECISION NOT NULL)",

      fmt::format(
          "CREATE TABLE searches ("
          " id {},"
          " name TEXT NOT NULL UNIQUE,"
          " config TEXT NOT NULL,"  // the search's configuration as JSON
          " lease_seconds DOUBLE PRECISION NOT NULL,"
          " max_attempts INTEGER NOT NULL,"
          " crash_reward DOUBLE PRECISION NOT NULL,"
          " created_at DOUBLE PRECISION NOT NULL)",
          w.id),

      fmt::format(
          "CREATE TABLE candidates ("
          " search_id BIGINT NOT NULL REFERENCES searches(id),"
          " idx BIGINT NOT NULL,"          // proposal order over the whole search, from 0
          " batch BIGINT NOT NULL,"
          " tokens TEXT NOT NULL,"         // token form
          " rule TEXT NOT NULL,"           // canonical DSL text
          " hash TEXT NOT NULL,"           // canonical hash, 16 hex digits
          " fingerprint TEXT NOT NULL,"    // functional fingerprint, '' when not computed
          " strategy_data {} NOT NULL,"    // the strategy's own bytes for this sample
          " created_at DOUBLE PRECISION NOT NULL,"
          " PRIMARY KEY (search_id, idx))",
          w.blob),
      "CREATE INDEX candidates_by_hash ON candidates (search_id, hash, idx)",
      "CREATE INDEX candidates_by_fingerprint ON candidates (search_id, fingerprint, idx)",

      tasks_table(w, "tasks"),
      "CREATE INDEX tasks_by_state ON tasks (search_id, state, id)",
      evaluations_table(w, "evaluations"),
      "CREATE INDEX evaluations_by_candidate ON evaluations (search_id, candidate, stage)",
      fmt::format(
          "CREATE TABLE strategy_states ("
          " search_id BIGINT NOT NULL REFERENCES searches(id),"
          " batch BIGINT NOT NULL,"
          " state {} NOT NULL,"
          " statistics TEXT NOT NULL DEFAULT '{{}}',"  // since version 2: the batch's statistics, JSON
          " saved_at DOUBLE PRECISION NOT NULL,"
          " PRIMARY KEY (search_id, batch))",
          w.blob),
      artifacts_table(),
  };
  for (std::string& index : batch_indexes()) out.push_back(std::move(index));
  for (std::string& index : seed_indexes()) out.push_back(std::move(index));
  for (std::string& table : parameter_tables(dialect)) out.push_back(std::move(table));
  return out;
}

// Version 1 -> 2: the batch statistics beside each saved strategy state, and the artifacts table.
static std::vector<std::string> version_2(Dialect) {
  return {"ALTER TABLE strategy_states ADD COLUMN statistics TEXT NOT NULL DEFAULT '{}'", artifacts_table()};
}

// Version 2 -> 3: the per-batch and count indexes (nothing else changes).
static std::vector<std::string> version_3(Dialect) { return batch_indexes(); }

// Version 3 -> 4: results per seed and the paired baselines' tasks and results. SQLite cannot
// change a table's UNIQUE constraint or a NOT NULL: tasks and evaluations are rebuilt, their rows
// (and ids, so AUTOINCREMENT continues) copied; PostgreSQL alters them in place.
static std::vector<std::string> version_4(Dialect dialect) {
  const char* task_columns = "id, search_id, candidate, stage, state, owner, attempt, failures, lease_expires, "
                             "heartbeat_at, enqueued_at, claimed_at, finished_at";
  const char* evaluation_columns = "id, search_id, candidate, stage, task, attempt, accepted, status, source, "
                                   "reused_from, detail, lr, metric, reward, metrics, curves, timings, worker, "
                                   "started_at, finished_at";
  std::vector<std::string> out;
  if (dialect == Dialect::SQLite) {
    Words w = words(dialect);
    out = {tasks_table(w, "tasks_v4"),
           fmt::format("INSERT INTO tasks_v4 ({0}) SELECT {0} FROM tasks", task_columns),
           "DROP TABLE tasks",
           "ALTER TABLE tasks_v4 RENAME TO tasks",
           "CREATE INDEX tasks_by_state ON tasks (search_id, state, id)",
           evaluations_table(w, "evaluations_v4"),
           fmt::format("INSERT INTO evaluations_v4 ({0}) SELECT {0} FROM evaluations", evaluation_columns),
           "DROP TABLE evaluations",
           "ALTER TABLE evaluations_v4 RENAME TO evaluations",
           "CREATE INDEX evaluations_by_candidate ON evaluations (search_id, candidate, stage)",
           "CREATE INDEX evaluations_resolved ON evaluations (search_id) WHERE task IS NULL AND accepted = 1"};
  } else {
    out = {"ALTER TABLE tasks ADD COLUMN seed INTEGER NOT NULL DEFAULT 0",
           "ALTER TABLE tasks ADD COLUMN baseline TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE tasks ALTER COLUMN candidate DROP NOT NULL",
           "ALTER TABLE tasks DROP CONSTRAINT tasks_search_id_candidate_stage_key",
           "ALTER TABLE tasks ADD CONSTRAINT tasks_search_id_candidate_stage_seed_key UNIQUE (search_id, candidate, stage, seed)",
           "ALTER TABLE evaluations ADD COLUMN seed INTEGER NOT NULL DEFAULT 0",
           "ALTER TABLE evaluations ADD COLUMN baseline TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE evaluations ALTER COLUMN candidate DROP NOT NULL",
           "DROP INDEX evaluations_accepted"};
  }
  for (std::string& index : seed_indexes()) out.push_back(std::move(index));
  return out;
}

// Version 4 -> 5: the parameter server's tables (controller replicas; schema_parameters.cpp).
static std::vector<std::string> version_5(Dialect dialect) { return parameter_tables(dialect); }

const std::vector<Migration>& migrations() {
  // A change to create_statements() bumps kVersion and adds {kVersion - 1, statements} here.
  static const std::vector<Migration> steps{{1, version_2}, {2, version_3}, {3, version_4}, {4, version_5}};
  return steps;
}

}  // namespace nos::search::schema
