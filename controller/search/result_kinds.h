// How an evaluation of a candidate ended (its status) and where its result came from (its source).
// Enums in code; their names are the strings the database and the JSON documents hold (name /
// parse_*), converted at the storage boundary (storage/sql_storage.cpp) and where JSON is written.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace nos::search {

// The search's status set: runtime::Status (how a child run ended) plus the outcomes known without
// training; child_evaluation.h's storage_status maps one to the other.
enum class Status {
  Ok,          // trained to the end
  Invalid,     // the rule does not parse or compile, or only produces NaN/inf
  Rejected,    // screened out by the probes (constant, exploding, ...)
  Diverged,    // the child's loss became NaN/inf or exploded
  TimeBudget,  // the child stopped early at its time budget; its metric covers what it trained
  Crashed,     // every attempt failed (a worker crashed, leases expired)
};
enum class Source {
  Trained,         // a worker trained it
  CacheHit,        // the result of an earlier candidate with the same canonical hash
  FingerprintHit,  // ... with the same functional fingerprint
  Screened,        // known without training: invalid or rejected at intake
};

// In the order messages list them (status, report).
inline constexpr Status kStatuses[] = {Status::Ok,       Status::Invalid,    Status::Rejected,
                                       Status::Diverged, Status::TimeBudget, Status::Crashed};
inline constexpr Source kSources[] = {Source::Trained, Source::CacheHit, Source::FingerprintHit, Source::Screened};
inline constexpr std::size_t kStatusCount = std::size(kStatuses), kSourceCount = std::size(kSources);

const char* name(Status status);  // "ok", "invalid", "rejected", "diverged", "time_budget", "crashed"
const char* name(Source source);  // "trained", "cache_hit", "fingerprint_hit", "screened"
std::optional<Status> parse_status(std::string_view text);
std::optional<Source> parse_source(std::string_view text);

// Ok or TimeBudget: the result's metric means something (it earns a reward, may enter the funnel).
bool usable(Status status);
// CacheHit or FingerprintHit: another candidate's result, reused.
bool is_hit(Source source);

}  // namespace nos::search
