// SQL that every storage backend runs as it is: the column lists the backends' row readers expect,
// and the leaderboard query of Storage::top (one window-function query for SQLite and PostgreSQL).
#pragma once

#include <string>

#include "controller/search/storage_schema.h"

namespace nos::search::queries {

// Columns of evaluations (aliased `e`) in the order the backends' read_evaluation expects.
inline constexpr const char* kEvaluationColumns =
    "e.id, e.candidate, e.stage, e.task, e.attempt, e.accepted, e.status, e.source, e.reused_from, e.detail, "
    "e.lr, e.metric, e.reward, e.metrics, e.curves, e.timings, e.worker, e.started_at, e.finished_at";
inline constexpr int kEvaluationColumnCount = 19;

// Columns of candidates in the order the backends' read_candidate expects.
inline constexpr const char* kCandidateColumns = "idx, batch, tokens, rule, hash, fingerprint, strategy_data, created_at";

inline constexpr const char* kSearchColumns = "id, name, config, lease_seconds, max_attempts, crash_reward, created_at";

// Storage::top: the evaluation columns, then the candidate's (from column kEvaluationColumnCount).
// Its one parameter is the search id (`?` in SQLite, `$1` in PostgreSQL); `limit <= 0` is every
// rule (SQLite's LIMIT -1, PostgreSQL's LIMIT ALL).
std::string top(schema::Dialect dialect, int limit);

// Storage::evaluations_of_batch: every evaluation of a batch's candidates, by candidate, then in
// storage order. Parameters: the search id, then the batch.
std::string evaluations_of_batch(schema::Dialect dialect);

// Storage::counts: the tasks of the search (one_batch false; parameter: the search id) or of one
// batch (true; parameters: the search id, then the batch) by state, as rows (state, count). Two
// texts rather than `(batch < 0 OR c.batch = batch)`, which no index serves: a batch's counts read
// its candidates through candidates_by_batch, the search's read tasks_by_state alone.
std::string task_counts(schema::Dialect dialect, bool one_batch);
// Storage::counts: how many results were stored with their candidate (no task), as one row; the
// same parameters. The search's is counted in the evaluations_resolved index.
std::string resolved_count(schema::Dialect dialect, bool one_batch);

}  // namespace nos::search::queries
