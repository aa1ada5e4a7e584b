// Storage over any SQL database a Driver (driver.h) opens: the search's rules written once -- the
// lease protocol (claim, heartbeat, fencing, expiry, attempts; storage.h), the checks of results,
// the mapping of rows, the tallies and the schema's creation and migration. The drivers supply SQL
// execution and their connection's services: sqlite/sqlite_storage.h, postgres/postgres_storage.h.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "controller/search/storage.h"
#include "controller/search/storage/driver.h"

namespace nos::search::storage {

// The texts of a batch's reads and of the progress counts, in PostgreSQL's `$n` parameters (the
// SQLite driver reads them as `?n`), exposed so that a test can check each database's plan for them.
// Parameters: the search id, then (one_batch, evaluations_of_batch) the batch.
namespace queries {
std::string evaluations_of_batch();
// The tasks by state, as rows (state, count).
std::string task_counts(bool one_batch);
// How many results were stored with their candidate (no task), as one row.
std::string resolved_count(bool one_batch);
}  // namespace queries

class SqlStorage : public Storage {
 public:
  // Checks the schema (creates it in an empty database unless `mode` is Open or ReadOnly, migrates
  // an older one when writable). StorageError naming the location.
  SqlStorage(std::unique_ptr<Driver> driver, OpenMode mode);
  ~SqlStorage() override;

  const std::string& location() const override { return driver_->location(); }
  bool wait_for_work(SearchId search, double seconds) override { return driver_->wait_for_work(search, seconds); }
  bool notifies() const override { return driver_->notifies(); }
  void lock_search(SearchId search) override { driver_->lock_search(search); }
  void checkpoint() override { driver_->checkpoint(); }

  SearchId create_search(const std::string& name, const std::string& config_json, const LeasePolicy& policy) override;
  std::optional<SearchInfo> find_search(const std::string& name) override;
  void update_config(SearchId search, const std::string& config_json) override;
  std::vector<SearchInfo> searches() override;

  std::int64_t enqueue_batch(SearchId search, std::int64_t batch, const std::vector<NewCandidate>& candidates) override;
  std::int64_t enqueue_stage(SearchId search, std::int64_t candidate, int stage, int seed = 0) override;
  bool has_task(SearchId search, std::int64_t candidate, int stage, int seed = 0) override;
  std::vector<int> stage_seeds(SearchId search, const std::string& hash, int stage) override;
  bool enqueue_baseline(SearchId search, const std::string& baseline, int stage, int seed) override;
  std::vector<Evaluation> baseline_results(SearchId search) override;
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

  bool init_parameters(SearchId search, const std::string& bytes) override;
  std::optional<ParameterVersion> latest_parameters(SearchId search) override;
  std::optional<ParameterVersion> parameters_at(SearchId search, std::int64_t version) override;
  std::vector<ParameterVersion> parameter_history(SearchId search) override;
  std::optional<std::int64_t> claim_replica_batch(SearchId search, const std::string& replica,
                                                  std::optional<std::int64_t> batch, std::int64_t limit,
                                                  std::int64_t sampled_version, const std::string& local_state) override;
  std::optional<std::int64_t> push_update(SearchId search, std::int64_t batch, std::int64_t base_version,
                                          const std::string& bytes, int keep) override;
  void refuse_update(SearchId search, std::int64_t batch, std::int64_t base_version) override;
  std::vector<ReplicaBatch> replica_batches(SearchId search, const std::string& replica) override;
  std::string replica_local_state(SearchId search, const std::string& replica) override;

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

 protected:
  Driver& driver() { return *driver_; }

 private:
  void prepare_schema(OpenMode mode);
  // Runs one operation through the driver (PostgreSQL retries it after a reconnect).
  template <class Body>
  auto operation(Body&& body) -> decltype(body());
  std::unique_ptr<Rows> exec(std::string_view sql, const Params& params = {});
  const LeasePolicy& policy(SearchId search);
  void check_writable() const;
  int requeue_expired_locked(SearchId search);
  // One failed attempt of a running task whose row this transaction holds: re-queued, or ended
  // `crashed` after max_attempts.
  void fail_attempt_locked(const Lease& lease, const std::string& why);
  void insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task, std::int64_t attempt,
                         bool accepted, const EvaluationResult& result, const std::string& worker,
                         std::optional<double> started_at, std::string_view baseline = "");
  std::optional<Evaluation> lookup(SearchId search, const char* column, const std::string& value, int stage);
  std::vector<Evaluation> read_evaluations(const std::string& sql, const Params& params);

  std::unique_ptr<Driver> driver_;
  std::map<SearchId, LeasePolicy> policies_;  // fixed at creation, so cached
  std::set<std::int64_t> held_;               // tasks claimed through this object and not yet ended by it
};

}  // namespace nos::search::storage
