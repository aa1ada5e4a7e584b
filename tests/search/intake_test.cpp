// The intake, cheapest step first: a rule seen before is a cache hit, a repeat within the batch (or
// of a batch still in flight) a deferred copy resolved from the storage, a rule the probes reject
// is screened out, the rest is queued; the counts say which.
#include <doctest/doctest.h>

#include "controller/search/intake.h"
#include "dsl/diagnostic.h"
#include "dsl/tokens.h"
#include "tests/search/temp_dir.h"

namespace nos::search {
namespace {

using testing::TempDir;

controller::Proposal proposal(const std::string& tokens, std::uint64_t index) {
  controller::Proposal p;
  p.index = index;
  p.tokens = dsl::parse_tokens(std::make_shared<dsl::Source>("test", tokens));
  p.data = "data" + std::to_string(index);
  return p;
}

std::vector<controller::Proposal> proposals(const std::vector<std::string>& tokens, std::uint64_t first = 0) {
  std::vector<controller::Proposal> out;
  for (const std::string& t : tokens) out.push_back(proposal(t, first + out.size()));
  return out;
}

void finish_all(Storage& storage, SearchId id, double reward) {
  while (std::optional<ClaimedTask> task = storage.claim(id, "w")) {
    EvaluationResult r;
    r.metric = r.reward = reward;
    r.lr = 0.1;
    REQUIRE(storage.finish(task->lease, r));
  }
}

}  // namespace

TEST_CASE("intake: a repeat within the batch trains once, a rule seen before is a cache hit") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  SearchConfig config;
  config.failure_reward = -1;
  // sign(g) twice, and sign(m) * ... screened or queued; g - g is identically zero: rejected.
  Intake a = take_in(proposals({"sign_g sign_g id id keep", "sign_g sign_g id id keep", "g g id id sub"}), config, *storage, id);
  REQUIRE(a.candidates.size() == 3);
  CHECK(a.queued == 1);
  CHECK(a.deferred == 1);
  CHECK(a.candidates[1].deferred);
  CHECK(a.candidates[0].hash == a.candidates[1].hash);
  CHECK(a.candidates[0].strategy_data == "data0");
  REQUIRE(a.candidates[2].resolved);
  CHECK(a.candidates[2].resolved->status == Status::Rejected);
  CHECK(a.candidates[2].resolved->source == Source::Screened);
  CHECK(a.candidates[2].resolved->reward == -1);
  CHECK(a.candidates[2].resolved->detail.find("zero") != std::string::npos);
  CHECK(a.rejected == 1);
  storage->enqueue_batch(id, 0, a.candidates);
  CHECK(storage->counts(id).queued == 1);
  finish_all(*storage, id, 0.8);
  CHECK(resolve_copies(*storage, id, 0) == 1);
  std::vector<Evaluation> copy = storage->evaluations(id, 1);
  REQUIRE(copy.size() == 1);
  CHECK(copy[0].source == search::Source::CacheHit);
  CHECK(copy[0].reused_from == 0);
  CHECK(copy[0].reward == 0.8);
  CHECK(resolve_copies(*storage, id, 0) == 0);  // idempotent: a resumed search may call it again

  // The next batch: sign(g) is known now (cache hit); clip(sign(g), ...) is a new rule.
  Intake b = take_in(proposals({"sign_g sign_g id id keep"}, 3), config, *storage, id);
  REQUIRE(b.candidates[0].resolved);
  CHECK(b.candidates[0].resolved->source == Source::CacheHit);
  CHECK(b.candidates[0].resolved->reused_from == 0);
  CHECK(b.cache_hits == 1);
}

TEST_CASE("intake: a result of a batch still in flight is not final: its repeat waits as a deferred copy") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  SearchConfig config;
  Intake first = take_in(proposals({"sign_g sign_g id id keep"}), config, *storage, id);
  storage->enqueue_batch(id, 0, first.candidates);
  // Whether or not batch 0's candidate is finished when batch 1 is taken in, the outcome is the same.
  for (bool finished_first : {false, true}) {
    TempDir other;
    auto s2 = open_storage(other.file("s.db"), OpenMode::Create);
    SearchId id2 = s2->create_search("s", "{}", {});
    s2->enqueue_batch(id2, 0, first.candidates);
    if (finished_first) finish_all(*s2, id2, 0.7);
    Intake next = take_in(proposals({"sign_g sign_g id id keep"}, 1), config, *s2, id2, InFlight::of(*s2, id2, {0}));
    CHECK_MESSAGE(next.candidates[0].deferred, "finished first: ", finished_first);
    CHECK(next.deferred == 1);
    s2->enqueue_batch(id2, 1, next.candidates);
    if (!finished_first) finish_all(*s2, id2, 0.7);
    CHECK(resolve_copies(*s2, id2, 1) == 1);
    std::vector<Evaluation> copy = s2->evaluations(id2, 1);
    REQUIRE(copy.size() == 1);
    CHECK(copy[0].reused_from == 0);
    CHECK(copy[0].reward == 0.7);
  }
}

}  // namespace nos::search
