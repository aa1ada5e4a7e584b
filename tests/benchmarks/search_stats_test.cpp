// nos-bench search's arithmetic (benchmarks/nos_bench/search_stats.h): the child training read from
// the timings JSON, the split of the workers' time on a synthetic search with known times, the
// counts and rates of a database made through the Storage API, the throughput ratios and the
// shape of the JSON and the table. The benchmark itself runs nos-search and is not a test.
#include <doctest/doctest.h>

#include <filesystem>

#include <fmt/format.h>

#include "benchmarks/nos_bench/search_stats.h"
#include "tests/search/report_search.h"

using namespace nos::bench;
using nos::search::BatchRecord;
using nos::search::Candidate;
using nos::search::Evaluation;
using nos::search::Source;
using nos::search::Status;

namespace {

constexpr const char* kTrainedTimings =
    R"({"compile": 0.05, "data": 0.01, "sweep": 0.8, "sweep_training": 0.5, "sweep_validation": 0.1,
        "training": 1.0, "validation": 0.2, "total": 2.0})";

Candidate candidate(std::int64_t index, std::int64_t batch, double created_at) {
  Candidate c;
  c.index = index;
  c.batch = batch;
  c.created_at = created_at;
  return c;
}

// Worker `worker`'s attempt (task != 0) from `start` to `end`.
Evaluation attempt(const char* worker, std::int64_t candidate, double start, double end, bool accepted,
                   Status status = Status::Ok, const char* timings = kTrainedTimings) {
  Evaluation e;
  e.worker = worker;
  e.candidate = candidate;
  e.task = candidate + 1;
  e.accepted = accepted;
  e.status = status;
  e.source = Source::Trained;
  e.timings_json = timings;
  e.started_at = start;
  e.finished_at = end;
  return e;
}

// A result known at intake (no task), stored when its batch was.
Evaluation known(std::int64_t candidate, double at, Status status, Source source) {
  Evaluation e;
  e.candidate = candidate;
  e.accepted = true;
  e.status = status;
  e.source = source;
  e.started_at = e.finished_at = at;
  return e;
}

// Two batches of four on two workers in the strict loop (a batch is proposed once the one before
// it is learned from), every time chosen:
//   run 1000..1011, search created 1001
//   batch 0 enqueued 1002: c0 trained 1002-1004, c1 trained 1002-1005, c2 rejected, c3 cache hit;
//           learned 1005.5
//   batch 1 enqueued 1006: c4 crashed attempt 1006-1008 (w2) then trained 1008-1010 (w1), c5
//           fingerprint hit, c6 invalid, c7 diverged in the sweep, claimed late: 1006.3-1007 (w1);
//           learned 1010.2
//   workers w1 and w2 (c0 on w1, c1 on w2)
SearchRecords two_batches() {
  SearchRecords r;
  r.created_at = 1001;
  for (int i = 0; i < 4; ++i) r.candidates.push_back(candidate(i, 0, 1002));
  for (int i = 4; i < 8; ++i) r.candidates.push_back(candidate(i, 1, 1006));
  r.evaluations = {
      known(2, 1002, Status::Rejected, Source::Screened),
      known(3, 1002, Status::Ok, Source::CacheHit),
      attempt("w1", 0, 1002, 1004, true),
      attempt("w2", 1, 1002, 1005, true),
      known(5, 1006, Status::Ok, Source::FingerprintHit),
      known(6, 1006, Status::Invalid, Source::Screened),
      attempt("w1", 7, 1006.3, 1007, true, Status::Diverged,
              R"({"compile": 0.02, "sweep": 0.6, "sweep_training": 0.4, "sweep_validation": 0.1, "training": 0,
                  "validation": 0, "total": 0.6})"),
      attempt("w2", 4, 1006, 1008, false, Status::Crashed, "{}"),
      attempt("w1", 4, 1008, 1010, true),
  };
  r.batches = {BatchRecord{0, "{}", 1005.5}, BatchRecord{1, "{}", 1010.2}};
  return r;
}

// The overlapped loop on one worker: batch 1 is stored while batch 0 is evaluated, so the worker
// goes on without waiting for the controller.
//   run 0..10, created 0; batch 0 (c0, c1) stored at 1, batch 1 (c2, c3) at 1.5
//   c0 1-3, c1 3-5, c2 5-7, c3 7.2-9 (a claim 0.2 s late); learned 5.1 and 9.3
SearchRecords overlapped() {
  SearchRecords r;
  r.candidates = {candidate(0, 0, 1), candidate(1, 0, 1), candidate(2, 1, 1.5), candidate(3, 1, 1.5)};
  r.evaluations = {attempt("w1", 0, 1, 3, true), attempt("w1", 1, 3, 5, true), attempt("w1", 2, 5, 7, true),
                   attempt("w1", 3, 7.2, 9, true)};
  r.batches = {BatchRecord{0, "{}", 5.1}, BatchRecord{1, "{}", 9.3}};
  return r;
}

}  // namespace

TEST_CASE("child training: the sweep's and the final run's steps and validation") {
  CHECK(child_training_seconds(kTrainedTimings) == doctest::Approx(1.8));
  bool known = true;
  // A fixed rate: no sweep.
  CHECK(child_training_seconds(R"({"training": 2, "validation": 0.5, "sweep": 0})", &known) == doctest::Approx(2.5));
  CHECK(known);
  // An older search without the sweep's split: the whole sweep counts, and the caller is told.
  CHECK(child_training_seconds(R"({"sweep": 1.0, "training": 1.5, "validation": 0.1})", &known) == doctest::Approx(2.6));
  CHECK_FALSE(known);
  CHECK(child_training_seconds("{}") == 0);
  CHECK(child_training_seconds("not json") == 0);
  CHECK(child_training_seconds(R"({"training": "1"})") == 0);
}

TEST_CASE("analyze: counts, rates and the split of the workers' time of a synthetic search") {
  SearchStats s = analyze(two_batches(), {2, 1000, 1011});
  const SearchCounts& c = s.counts;
  CHECK(c.candidates == 8);
  CHECK(c.batches == 2);
  CHECK(c.results == 8);
  CHECK(c.trained == 4);  // c0, c1, c4, c7
  CHECK(c.cache_hits == 1);
  CHECK(c.fingerprint_hits == 1);
  CHECK(c.ok == 3);
  CHECK(c.rejected == 1);
  CHECK(c.invalid == 1);
  CHECK(c.diverged == 1);
  CHECK(c.crashed == 0);
  CHECK(c.attempts == 5);
  CHECK(c.failed_attempts == 1);
  CHECK(s.rate(c.trained) == 0.5);
  CHECK(s.rate(c.cache_hits) == 0.125);

  const TimeSplit& t = s.time;
  CHECK(t.wall == 11);
  CHECK(t.worker_seconds == 22);
  CHECK(t.child_training == doctest::Approx(3 * 1.8 + 0.5));
  CHECK(t.busy == doctest::Approx(2 + 3 + 0.7 + 2 + 2));
  CHECK(t.eval_compile == doctest::Approx(3 * 0.05 + 0.02));
  CHECK(t.eval_data == doctest::Approx(3 * 0.01));
  // Inside the protocol (total) but not training, compile or data: 0.14 for each full evaluation,
  // 0.08 for c7's sweep; outside it: c1's extra second, c7's 0.1 and the crashed attempt's 2 s.
  CHECK(t.eval_setup == doctest::Approx(3 * 0.14 + 0.08));
  CHECK(t.eval_worker == doctest::Approx(1 + 0.1 + 2));
  CHECK(t.child_training + t.eval_compile + t.eval_data + t.eval_setup + t.eval_worker == doctest::Approx(t.busy));
  // Idle: both workers before 1002 and after 1010.2; one worker 1004-1005, 1007-1010 with nothing
  // queued while the other trains; both 1005-1006 and 1010-1010.2 (the controller learns and
  // proposes); one 1006-1006.3 while c7 waited in the queue.
  CHECK(t.idle_startup == doctest::Approx(2 * 2));
  CHECK(t.idle_batch_end == doctest::Approx(1 + 3));
  CHECK(t.idle_controller == doctest::Approx(2 * 1 + 2 * 0.2));
  CHECK(t.idle_claim == doctest::Approx(0.3));
  CHECK(t.idle_shutdown == doctest::Approx(2 * 0.8));
  CHECK(t.unaccounted == doctest::Approx(0).epsilon(1e-9));
  CHECK(t.sweep_split_known);

  CHECK(s.overhead_share() == doctest::Approx(1 - 5.9 / 22));
  CHECK(s.steady_overhead_share() == doctest::Approx(1 - 5.9 / (22 - 2 * 2.8)));
  CHECK(s.candidates_per_hour() == doctest::Approx(8 * 3600.0 / 11));
  CHECK(s.trainings_per_hour() == doctest::Approx(4 * 3600.0 / 11));

  // Without a window the search's creation and its last write bound it.
  SearchStats own = analyze(two_batches(), {2, 0, 0});
  CHECK(own.time.wall == doctest::Approx(1010.2 - 1001));
  CHECK(own.time.idle_shutdown == doctest::Approx(0));
  CHECK(own.time.idle_startup == doctest::Approx(2 * 1));

  // The same records read as one worker's: half the worker time for the same training.
  SearchStats one = analyze(two_batches(), {1, 1000, 1011});
  CHECK(one.time.worker_seconds == 11);
  CHECK(one.overhead_share() == doctest::Approx(1 - 5.9 / 11));
}

TEST_CASE("analyze: the overlapped loop keeps the worker busy, only a late claim and the ends are idle") {
  SearchStats s = analyze(overlapped(), {1, 0, 10});
  const TimeSplit& t = s.time;
  CHECK(t.busy == doctest::Approx(7.8));
  CHECK(t.idle_startup == doctest::Approx(1));
  CHECK(t.idle_claim == doctest::Approx(0.2));
  CHECK(t.idle_batch_end == 0);
  CHECK(t.idle_controller == doctest::Approx(0.3));  // 9 -> 9.3: learning from the last batch
  CHECK(t.idle_shutdown == doctest::Approx(0.7));
  CHECK(t.unaccounted == doctest::Approx(0).epsilon(1e-9));
  CHECK(s.overhead_share() == doctest::Approx(1 - 4 * 1.8 / 10));
  CHECK(s.steady_overhead_share() == doctest::Approx(1 - 4 * 1.8 / (10 - 1 - 0.7)));

  // A worker that claims its first task late was still starting: that wait is start-up, not a claim.
  SearchRecords late = overlapped();
  late.evaluations[0].started_at = 1.5;
  SearchStats slow = analyze(late, {1, 0, 10});
  CHECK(slow.time.idle_startup == doctest::Approx(1.5));
  CHECK(slow.time.idle_claim == doctest::Approx(0.2));
  CHECK(slow.time.unaccounted == doctest::Approx(0).epsilon(1e-9));

  // Two workers, one of which never claimed anything: it was starting the whole time the work lasted.
  SearchStats two = analyze(overlapped(), {2, 0, 10});
  CHECK(two.time.idle_startup == doctest::Approx(1 + 1 + 8.3));
  CHECK(two.time.unaccounted == doctest::Approx(0).epsilon(1e-9));
}

TEST_CASE("analyze: a search with nothing proposed is all start-up") {
  SearchRecords r;
  r.created_at = 50;
  SearchStats s = analyze(r, {1, 40, 60});
  CHECK(s.counts.candidates == 0);
  CHECK(s.rate(0) == 0);
  CHECK(s.time.idle_startup == 20);
  CHECK(s.time.unaccounted == doctest::Approx(0));
  CHECK(s.overhead_share() == 1);
  CHECK(s.candidates_per_hour() == 0);
}

TEST_CASE("analyze_search: a database made through the Storage API") {
  std::string dir = (std::filesystem::temp_directory_path() / "nos_search_stats_test").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = dir + "/search.db";
  {
    auto storage = nos::search::open_storage(path, nos::search::OpenMode::Create);
    nos::search::testing::make_report_search(*storage);
  }
  auto storage = nos::search::open_storage(path, nos::search::OpenMode::ReadOnly);
  nos::search::SearchId id = storage->searches().at(0).id;
  SearchStats s = analyze_search(*storage, id, {1, 0, 0});
  const SearchCounts& c = s.counts;
  CHECK(c.candidates == 11);
  CHECK(c.batches == 2);
  CHECK(c.results == 10);   // c10 is still queued
  CHECK(c.trained == 6);    // c0 c1 c3 (crashed) c6 c7 c9
  CHECK(c.cache_hits == 1);
  CHECK(c.fingerprint_hits == 1);
  CHECK(c.ok == 4);
  CHECK(c.rejected == 1);
  CHECK(c.invalid == 1);
  CHECK(c.diverged == 1);
  CHECK(c.crashed == 1);
  CHECK(c.attempts == 7);   // c3 twice
  CHECK(c.failed_attempts == 1);
  // The builder's timings predate sweep_training: its whole sweep (1.0) counts with training 1.5
  // and validation 0.1, for each of the four trained ok results.
  CHECK_FALSE(s.time.sweep_split_known);
  CHECK(s.time.child_training == doctest::Approx(4 * 2.6));
  CHECK(s.time.wall >= 0);
  CHECK(s.time.busy >= 0);
  CHECK(s.time.unaccounted == doctest::Approx(0).epsilon(1e-6));
  CHECK(s.config_json.find("lstm") != std::string::npos);
  CHECK_FALSE(s.cpu);

  nlohmann::json j = to_json(s);
  CHECK(j["cpu"].is_null());
  CHECK(j["counts"]["trained"] == 6);
  CHECK(j["rates"]["cache_hits"].get<double>() == doctest::Approx(1.0 / 11));
  CHECK(j["sweep_split_known"] == false);
  for (const char* key : {"candidates_per_hour", "trainings_per_hour", "overhead_share", "steady_overhead_share"})
    CHECK(j.contains(key));
  for (const char* key : {"child_training", "busy", "eval_compile", "eval_data", "eval_setup", "eval_worker",
                          "idle_startup", "idle_claim", "idle_batch_end", "idle_controller", "idle_shutdown",
                          "unaccounted"}) {
    CHECK(j["seconds"].contains(key));
    CHECK(j["shares"].contains(key));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("scaling, JSON and table: 2 workers against 1") {
  SearchStats one = analyze(two_batches(), {1, 1000, 1011});
  SearchStats two = analyze(two_batches(), {2, 1000, 1005.5});  // the same results in half the time
  Scaling r = scaling(one, two);
  CHECK(r.workers == 2);
  CHECK(r.base_workers == 1);
  REQUIRE(r.candidates);
  CHECK(*r.candidates == doctest::Approx(2));
  CHECK(*r.trainings == doctest::Approx(2));
  nlohmann::json j = to_json(r);
  CHECK(j["candidates_per_hour_ratio"].get<double>() == doctest::Approx(2));

  SearchRecords empty;
  Scaling none = scaling(analyze(empty, {1, 0, 0}), two);
  CHECK_FALSE(none.candidates);
  CHECK(to_json(none)["trainings_per_hour_ratio"].is_null());

  two.cpu = CpuTimes{1.1, 8.8, 2};
  CHECK(to_json(two)["cpu"]["controller_share_of_cores"].get<double>() == doctest::Approx(1.1 / (2 * 5.5)));
  std::string table = format_search_report({one, two}, {r});
  CHECK(table.find("1.1 s 10.0%") != std::string::npos);
  CHECK(table.find("candidates") != std::string::npos);
  CHECK(table.find("4 (50%)") != std::string::npos);  // trained, of 8
  CHECK(table.find(fmt::format("{:.2f}%", 100 * two.overhead_share())) != std::string::npos);
  CHECK(table.find("throughput 2 workers / 1: candidates 2.00x, trainings 2.00x") != std::string::npos);
}

// The pace (seconds per candidate over the first and the last window): from the time the search is
// done with its first k candidates, starting once a worker has stored a result.
TEST_CASE("search_pace: the first and the last window's seconds per candidate, after the workers' start-up") {
  std::vector<Candidate> candidates;
  for (std::int64_t i = 0; i <= 10; ++i) candidates.push_back(candidate(i, i / 2, 10 + static_cast<double>(i) / 4));
  candidates[0].created_at = 10;
  std::vector<Evaluation> evaluations{
      known(0, 10, Status::Rejected, Source::Screened),  // before any worker: start-up
      attempt("w1", 1, 11, 12, true),         // the first worker result: the first window starts here
      attempt("w2", 2, 12, 13, true),
      known(3, 13.5, Status::Ok, Source::CacheHit),
      attempt("w1", 4, 14, 15, true),
      attempt("w2", 5, 15, 16, true),
      attempt("w1", 6, 16, 18, true),
      attempt("w2", 7, 16, 17, true),         // ends before 6: the search is done with 0..7 at 18
      attempt("w1", 8, 18, 20, true),
      attempt("w2", 9, 19, 30, false),        // a lost lease: not the result
      attempt("w2", 9, 21, 22, true),
  };
  Evaluation second_stage = attempt("w1", 8, 30, 40, true);
  second_stage.stage = 2;
  evaluations.push_back(second_stage);  // later stages are not the pace of the intake; 10 has no result
  // t(k) for k = 0..10: 10, 10, 12, 13, 13.5, 15, 16, 18, 18, 20, 22; the first window from k = 2.
  std::optional<SearchPace> p = search_pace(candidates, evaluations, 3);
  REQUIRE(p);
  CHECK(p->window == 3);
  CHECK(p->from == 2);
  CHECK(p->first == doctest::Approx((15.0 - 12) / 3));
  CHECK(p->last == doctest::Approx((22.0 - 18) / 3));
  CHECK(p->ratio() == doctest::Approx(4.0 / 3));
  // A window larger than half of what follows the start-up shrinks to it (4).
  p = search_pace(candidates, evaluations, 10000);
  REQUIRE(p);
  CHECK(p->window == 4);
  CHECK(p->first == doctest::Approx(1.0));
  CHECK(p->last == doctest::Approx(1.5));
  CHECK_FALSE(search_pace(candidates, {evaluations[0], evaluations[1]}, 3));  // one candidate after start-up

  SearchRecords records;
  records.candidates = candidates;
  records.evaluations = evaluations;
  SearchStats s = analyze(records, {2, 10, 40, 3});
  REQUIRE(s.pace);
  nlohmann::json j = to_json(s)["pace"];
  CHECK(j["window"] == 3);
  CHECK(j["first_window_from"] == 2);
  CHECK(j["first_seconds_per_candidate"].get<double>() == doctest::Approx(1.0));
  CHECK(j["last_over_first"].get<double>() == doctest::Approx(4.0 / 3));
  std::string table = format_search_report({s}, {});
  CHECK(table.find("      2        3     1000.000     1333.333       1.33x") != std::string::npos);
  CHECK(to_json(analyze(SearchRecords{}, {1, 0, 0}))["pace"].is_null());
}
