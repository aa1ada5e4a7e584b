// The SQLite backend of Storage: one file per search database, WAL journal, a busy timeout, every
// write in a BEGIN IMMEDIATE transaction, synchronous=FULL so that a committed evaluation survives
// a crash of the process or the machine. Several processes on one machine share it; a Storage object
// belongs to one thread and never crosses a fork() (each process opens its own).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "controller/search/storage.h"

namespace nos::search {

namespace sqlite {
class Database;
}

class SqliteStorage final : public Storage {
 public:
  // Throws StorageError naming the file: not a regular file (a FIFO, a device, a directory),
  // missing (Open), existing even empty (Create: then nothing is left behind on failure), not a
  // NOS search, another schema version, read-only (unless ReadOnly), corrupt. ReadOnly creates no
  // file (no -wal, no -shm; see read_only_uri in the .cpp).
  SqliteStorage(std::string path, OpenMode mode);
  ~SqliteStorage() override;

  const std::string& location() const override { return path_; }
  void lock_search(SearchId search) override;

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
  void checkpoint() override;
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
  void connect(bool create);  // the connection, its schema and its settings
  void create_schema();
  void check_schema(bool writable);
  const LeasePolicy& policy(SearchId search);
  void check_writable() const;
  int requeue_expired_locked(SearchId search);
  // One failed attempt of a running task: re-queued, or ended `crashed` after max_attempts.
  void fail_attempt_locked(SearchId search, std::int64_t task, std::int64_t candidate, int stage,
                           std::int64_t attempt, const std::string& owner, double claimed_at, const std::string& why);
  void insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task, std::int64_t attempt,
                         bool accepted, const EvaluationResult& result, const std::string& worker,
                         std::optional<double> started_at);
  std::optional<Evaluation> lookup(SearchId search, const char* column, const std::string& value, int stage);

  std::string path_;
  bool read_only_;
  std::unique_ptr<sqlite::Database> db_;
  std::map<SearchId, LeasePolicy> policies_;  // fixed at creation, so cached
  int lock_fd_ = -1;                          // the file, flock()ed by lock_search
};

}  // namespace nos::search
