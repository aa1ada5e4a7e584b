// The PostgreSQL backend of Storage: many machines share one search (or several searches) through
// one database. Claims are one short transaction (`SELECT ... FOR UPDATE SKIP LOCKED`, then the
// UPDATE that records the lease), times come from the server's clock, and every enqueue sends
// `NOTIFY nos_search_<id>` for workers that listen. A Storage object is one connection: it belongs
// to one thread and never crosses a fork() (each process opens its own).
//
// A lost connection (the server restarted, the session was ended, the network broke) is not an
// error: every operation reconnects with backoff (pg_reconnect.h), restores the session (LISTENs,
// the run lock) and runs again from the start, as one transaction. Where the lost part was the
// commit's acknowledgement, the operations that are not idempotent by themselves recognize their
// own committed work on the retry: a result finish() stored counts as stored (accepted or refused as
// it was), a batch or stage is not queued twice, a claimed task nobody got is handed back.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "controller/search/pg_reconnect.h"
#include "controller/search/storage.h"

namespace nos::search {

namespace pg {
class Connection;
class Result;
}  // namespace pg

class PostgresStorage final : public Storage {
 public:
  // Throws StorageError naming the URL (password masked): not a URL, cannot connect (no server,
  // wrong credentials, no such database), not a NOS search database, another schema version.
  // An empty database gets the schema in Create and OpenOrCreate; Create on a NOS search database
  // adds to it (several searches share one database; their names must differ).
  PostgresStorage(const std::string& url, OpenMode mode);
  ~PostgresStorage() override;

  const std::string& location() const override { return location_; }
  bool wait_for_work(SearchId search, double seconds) override;
  bool notifies() const override { return true; }
  // pg_try_advisory_lock on this connection; taken again after a reconnect (StorageError when
  // another run took it meanwhile).
  void lock_search(SearchId search) override;
  // For the tests of retries: the next commit's acknowledgement is lost (pg::Connection's).
  void lose_next_commit_acknowledgement_for_testing();

  SearchId create_search(const std::string& name, const std::string& config_json, const LeasePolicy& policy) override;
  std::optional<SearchInfo> find_search(const std::string& name) override;
  void update_config(SearchId search, const std::string& config_json) override;
  std::vector<SearchInfo> searches() override;

  std::int64_t enqueue_batch(SearchId search, std::int64_t batch, const std::vector<NewCandidate>& candidates) override;
  std::int64_t enqueue_stage(SearchId search, std::int64_t candidate, int stage) override;
  bool has_task(SearchId search, std::int64_t candidate, int stage) override;
  std::optional<ClaimedTask> claim(SearchId search, const std::string& owner) override;
  bool heartbeat(Lease& lease) override;
  bool finish(const Lease& lease, const EvaluationResult& result) override;
  void release(const Lease& lease) override;
  void abandon(const Lease& lease, const std::string& why) override;
  int abandon_owner(SearchId search, const std::string& owner, const std::string& why) override;
  int requeue_expired(SearchId search) override;
  std::vector<Lease> running(SearchId search) override;

  void store_result(SearchId search, std::int64_t candidate, const EvaluationResult& result) override;

  void save_strategy_state(SearchId search, std::int64_t batch, const std::string& bytes,
                           const std::string& statistics_json) override;
  std::optional<StrategyState> latest_strategy_state(SearchId search) override;
  void drop_strategy_states_before(SearchId search, std::int64_t batch) override;
  std::vector<BatchRecord> batch_records(SearchId search) override;

  void put_artifact(SearchId search, const std::string& key, const std::string& json) override;
  bool add_artifact(SearchId search, const std::string& key, const std::string& json) override;
  std::optional<std::string> artifact(SearchId search, const std::string& key) override;
  std::vector<std::string> artifact_keys(SearchId search) override;

  std::optional<Evaluation> lookup_by_hash(SearchId search, const std::string& hash, int stage) override;
  std::optional<Evaluation> lookup_by_fingerprint(SearchId search, const std::string& fingerprint, int stage) override;
  std::vector<Candidate> candidates(SearchId search, std::int64_t batch) override;
  std::vector<Evaluation> evaluations(SearchId search, std::int64_t candidate) override;
  std::vector<Evaluation> evaluations_of_batch(SearchId search, std::int64_t batch) override;
  TaskCounts counts(SearchId search, std::int64_t batch) override;
  std::vector<RankedResult> top(SearchId search, int limit) override;

 private:
  void prepare_schema(OpenMode mode);
  // The session's state: settings, LISTENs, the run lock. At the start and after every reconnect.
  void start_session();
  // Runs `body` (one operation), reconnecting and running it again while the connection is lost.
  template <class Body>
  auto retrying(Body&& body) -> decltype(body());
  const LeasePolicy& policy(SearchId search);
  void check_writable() const;
  int requeue_expired_locked(SearchId search);
  // One failed attempt of a running task whose row this transaction has locked: re-queued, or
  // ended `crashed` after max_attempts.
  void fail_attempt_locked(SearchId search, std::int64_t task, std::int64_t candidate, int stage,
                           std::int64_t attempt, const std::string& owner, double claimed_at, const std::string& why);
  void insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task, std::int64_t attempt,
                         bool accepted, const EvaluationResult& result, const std::string& worker,
                         std::optional<double> started_at);
  void notify(SearchId search);
  std::set<SearchId> listening_;  // channels this connection LISTENs to
  std::optional<Evaluation> lookup(SearchId search, const char* column, const std::string& value, int stage);

  std::string location_;  // the URL, password masked
  bool read_only_;
  std::unique_ptr<pg::Connection> db_;
  std::map<SearchId, LeasePolicy> policies_;  // fixed at creation, so cached
  pg::ReconnectPolicy reconnect_policy_;
  int depth_ = 0;       // operations in progress (one calls another): only the outermost retries
  bool retry_ = false;  // the operation runs again after a reconnect
  std::optional<SearchId> locked_search_;
  std::string locked_name_;
  std::set<std::int64_t> held_;  // tasks claimed through this object and not yet ended by it
};

}  // namespace nos::search
