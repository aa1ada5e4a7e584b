#include "controller/search/storage_queries.h"

#include <fmt/format.h>

namespace nos::search::queries {

// A batch's reads name the batch's candidates first with CROSS JOIN: SQLite then keeps that order
// (its documented way to fix a join order; without ANALYZE statistics it would start from the
// search's whole evaluations or tasks), and PostgreSQL plans it as the inner join it is.

std::string top(schema::Dialect dialect, int limit) {
  // Ranks every accepted result within its hash (highest stage, then reward, then the earliest
  // candidate), keeps each hash's first, and orders those the same way. `reward IS NULL` sorts
  // false before true in both dialects.
  constexpr const char* kOrder = "e.stage DESC, (e.reward IS NULL), e.reward DESC, c.idx";
  const bool sqlite = dialect == schema::Dialect::SQLite;
  std::string limit_clause = limit > 0 ? std::to_string(limit) : sqlite ? "-1" : "ALL";
  return fmt::format("SELECT * FROM (SELECT {0}, c.idx, c.batch, c.tokens, c.rule, c.hash, "
                     "c.fingerprint, c.strategy_data, c.created_at, "
                     "ROW_NUMBER() OVER (PARTITION BY c.hash ORDER BY {1}) AS nth, "
                     "ROW_NUMBER() OVER (ORDER BY {1}) AS position "
                     "FROM evaluations e JOIN candidates c "
                     "ON c.search_id = e.search_id AND c.idx = e.candidate "
                     "WHERE e.search_id = {2} AND e.accepted = 1) ranked "
                     "WHERE nth = 1 ORDER BY position LIMIT {3}",
                     kEvaluationColumns, kOrder, sqlite ? "?" : "$1", limit_clause);
}

std::string evaluations_of_batch(schema::Dialect dialect) {
  const bool sqlite = dialect == schema::Dialect::SQLite;
  // From the batch's candidates (candidates_by_batch) to their evaluations (evaluations_by_candidate).
  return fmt::format("SELECT {} FROM candidates c CROSS JOIN evaluations e WHERE e.search_id = c.search_id AND e.candidate = c.idx "
                     "AND c.search_id = {} AND c.batch = {} ORDER BY e.candidate, e.id",
                     kEvaluationColumns, sqlite ? "?1" : "$1", sqlite ? "?2" : "$2");
}

std::string task_counts(schema::Dialect dialect, bool one_batch) {
  const bool sqlite = dialect == schema::Dialect::SQLite;
  if (!one_batch) return fmt::format("SELECT state, count(*) FROM tasks WHERE search_id = {} GROUP BY state", sqlite ? "?1" : "$1");
  return fmt::format("SELECT t.state, count(*) FROM candidates c CROSS JOIN tasks t WHERE t.search_id = c.search_id AND "
                     "t.candidate = c.idx AND c.search_id = {} AND c.batch = {} GROUP BY t.state",
                     sqlite ? "?1" : "$1", sqlite ? "?2" : "$2");
}

std::string resolved_count(schema::Dialect dialect, bool one_batch) {
  const bool sqlite = dialect == schema::Dialect::SQLite;
  if (!one_batch)
    return fmt::format("SELECT count(*) FROM evaluations WHERE search_id = {} AND task IS NULL AND accepted = 1", sqlite ? "?1" : "$1");
  return fmt::format("SELECT count(*) FROM candidates c CROSS JOIN evaluations e WHERE e.search_id = c.search_id AND "
                     "e.candidate = c.idx AND c.search_id = {} AND c.batch = {} AND e.task IS NULL AND e.accepted = 1",
                     sqlite ? "?1" : "$1", sqlite ? "?2" : "$2");
}

}  // namespace nos::search::queries
