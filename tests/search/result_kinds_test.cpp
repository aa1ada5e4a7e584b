// The search's status and source enums: their names are what databases and JSON hold, so each name
// table must round-trip; the one tally counts results by source and status.
#include <doctest/doctest.h>

#include <string>

#include "controller/search/result_kinds.h"
#include "controller/search/tally.h"

namespace nos::search {
namespace {

TEST_CASE("result kinds: every status and source parses back from its name, unknown names do not") {
  for (Status s : kStatuses) {
    CAPTURE(name(s));
    CHECK(parse_status(name(s)) == s);
    CHECK_FALSE(parse_source(name(s)));  // the two vocabularies do not overlap
  }
  for (Source s : kSources) {
    CAPTURE(name(s));
    CHECK(parse_source(name(s)) == s);
    CHECK_FALSE(parse_status(name(s)));
  }
  // The names the schema's CHECK constraints allow, in the order messages list them.
  std::string statuses, sources;
  for (Status s : kStatuses) statuses += std::string(name(s)) + " ";
  for (Source s : kSources) sources += std::string(name(s)) + " ";
  CHECK(statuses == "ok invalid rejected diverged time_budget crashed ");
  CHECK(sources == "trained cache_hit fingerprint_hit screened ");
  CHECK_FALSE(parse_status("great"));
  CHECK_FALSE(parse_status("OK"));
  CHECK_FALSE(parse_status(""));
  CHECK_FALSE(parse_source("cache hit"));
  CHECK(usable(Status::Ok));
  CHECK(usable(Status::TimeBudget));
  CHECK_FALSE(usable(Status::Diverged));
  CHECK(is_hit(Source::CacheHit));
  CHECK(is_hit(Source::FingerprintHit));
  CHECK_FALSE(is_hit(Source::Screened));
}

TEST_CASE("tally: accepted results of one stage by source and status, fresh ones are not reused") {
  auto result = [](Status status, Source source, int stage = 1, bool accepted = true) {
    Evaluation e;
    e.status = status, e.source = source, e.stage = stage, e.accepted = accepted;
    return e;
  };
  std::vector<Evaluation> evaluations = {
      result(Status::Ok, Source::Trained),          result(Status::Ok, Source::CacheHit),
      result(Status::Rejected, Source::Screened),   result(Status::Diverged, Source::FingerprintHit),
      result(Status::Crashed, Source::Trained, 1, false),  // a lost attempt
      result(Status::Ok, Source::Trained, 2),              // another stage
      result(Status::Crashed, Source::Trained)};
  Tally t = tally(evaluations, 1);
  CHECK(t.total == 5);
  CHECK(t.of(Status::Ok) == 2);
  CHECK(t.fresh(Status::Ok) == 1);
  CHECK(t.fresh(Status::Diverged) == 0);  // a hit's status is the copied one's
  CHECK(t.of(Status::Diverged) == 1);
  CHECK(t.of(Source::Trained) == 2);
  CHECK(t.of(Source::Trained, Status::Crashed) == 1);
  CHECK(t.of(Source::Screened, Status::Rejected) == 1);
  CHECK(t.share(Source::CacheHit) == doctest::Approx(0.2));
  CHECK(tally(evaluations, 2).total == 1);
  CHECK(Tally{}.share(Source::Trained) == 0);
}

}  // namespace
}  // namespace nos::search
