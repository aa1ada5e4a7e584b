// The one storage interface of a search: the search loop, the workers and the nos-search commands
// read and write the search only through `Storage` (Optuna's BaseStorage split). Its rules are written
// once (storage/sql_storage.cpp) above a driver per database: SQLite (one machine, storage/sqlite/) and
// PostgreSQL (many machines, storage/postgres/), so the two are interchangeable.
//
// What it holds: the search's configuration, every candidate rule, a queue of tasks (one per
// candidate and stage) claimed under leases, every evaluation attempt, and the strategy's saved
// state after every batch. The lease protocol (controller/search/README.md):
//   claim      first queued task first (FIFO), attempt += 1 (the fencing token), owner, expiry
//   heartbeat  pushes the expiry forward while the owner still holds the lease
//   finish     accepted only from the current owner and attempt of a running task
//   expired    leases are re-queued by whichever process claims or calls requeue_expired next;
//              after LeasePolicy::max_attempts failed attempts the task ends `crashed`
// Every time comes from the database's clock, so workers on other machines agree on expiry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "controller/search/result_kinds.h"

namespace nos::search {

// Bad input or a broken database: the message names the file (or URL). The CLI exits 1.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using SearchId = std::int64_t;

// How leases behave for one search; fixed when the search is created.
struct LeasePolicy {
  double lease_seconds = 120;  // a lease not heartbeaten for this long is presumed dead
  int max_attempts = 2;        // failed attempts (crash, expiry) before a task ends `crashed`
  double crash_reward = 0;     // the reward stored with a `crashed` result
};

struct SearchInfo {
  SearchId id = 0;
  std::string name;
  std::string config_json;
  LeasePolicy policy;
  double created_at = 0;  // unix seconds, database clock
};

// The outcome of evaluating one candidate at one stage: how it ended, and whether it was trained or
// reused (result_kinds.h). The storage reads and writes their names; a name it does not know in a
// database is a StorageError naming it.
struct EvaluationResult {
  int stage = 1;
  // The funnel's seed slot (search_config.h: child_spec): 0 unless the funnel trains on several
  // seeds or beside paired baselines (funnel.seeds, funnel.baselines).
  int seed = 0;
  Status status = Status::Ok;
  Source source = Source::Trained;
  std::optional<std::int64_t> reused_from;  // the candidate a hit took its result from
  std::string detail;                       // rejection reason, error message, ...
  std::optional<double> lr, metric, reward;
  std::string metrics_json = "{}";          // every metric the evaluation produced
  std::string curves_json = "{}";           // per-epoch curves, the lr sweep's results
  std::string timings_json = "{}";          // wall-time split: compile, sweep, train, ...
};

// The candidate of a paired baseline's task or result (the database stores NULL).
inline constexpr std::int64_t kNoCandidate = -1;

// One stored attempt (or a result known without training: then task and attempt are 0).
struct Evaluation : EvaluationResult {
  std::int64_t id = 0;
  std::int64_t candidate = 0;  // kNoCandidate for a paired baseline's result
  std::string baseline;        // the baseline's optimizer ("adam"); '' for a candidate's
  std::int64_t task = 0;
  std::int64_t attempt = 0;
  bool accepted = false;  // the candidate's one result for this stage
  std::string worker;
  double started_at = 0, finished_at = 0;
};

// A rule as the strategy proposed it, before it is stored.
struct NewCandidate {
  std::string tokens;       // token form text (dsl::print_tokens)
  std::string rule;         // canonical DSL text (ir::to_text of the optimized rule)
  std::string hash;         // ir::hash_hex(ir::canonical_hash(...)): 16 hex digits
  std::string fingerprint;  // probes.h's functional fingerprint; empty when not computed
  std::string strategy_data;  // opaque bytes the strategy needs to learn from this sample
  // A result known without training (invalid, a hash or fingerprint hit, screened out): the
  // candidate is stored finished with it, and no task is queued.
  std::optional<EvaluationResult> resolved;
  // A copy of a candidate of the same batch that is not evaluated yet (the same hash or
  // fingerprint): stored without a task and without a result; the search gives it the copied
  // result with store_result() once that candidate is finished, so that a duplicate never trains.
  bool deferred = false;
};

struct Candidate {
  std::int64_t index = 0;  // 0-based, in proposal order over the whole search
  std::int64_t batch = 0;
  std::string tokens, rule, hash, fingerprint, strategy_data;
  double created_at = 0;
};

// The right to evaluate one task, valid while (owner, attempt) are the task's current ones.
struct Lease {
  SearchId search = 0;
  std::int64_t task = 0;
  std::int64_t candidate = 0;  // kNoCandidate for a baseline's task
  int stage = 1;
  int seed = 0;                // the seed slot
  std::string baseline;        // a paired baseline's optimizer; '' for a candidate's task
  std::int64_t attempt = 0;  // the fencing token
  std::string owner;
  double claimed_at = 0;  // unix seconds, database clock
  double expires_at = 0;
};

struct ClaimedTask {
  Lease lease;
  Candidate candidate;
};

struct TaskCounts {
  std::int64_t queued = 0, running = 0, finished = 0, crashed = 0;
  std::int64_t pending() const { return queued + running; }
};

// One line of `top`: a distinct rule (canonical hash) with its best accepted result at the highest
// stage it reached.
struct RankedResult {
  Candidate candidate;
  Evaluation evaluation;
  // Every accepted result of the rule (any candidate with its hash) at the evaluation's stage, one
  // per seed slot (the earliest candidate's), in seed order: the rule's standing (standing.h).
  std::vector<Evaluation> seeds;
};

struct StrategyState {
  std::int64_t batch = 0;
  std::string bytes;
};

// What the search recorded about one batch when it saved the strategy's state after it: the
// strategy's statistics (baseline, entropy, ...) and the batch's summary, as a JSON object.
struct BatchRecord {
  std::int64_t batch = 0;
  std::string statistics_json = "{}";
  double saved_at = 0;  // unix seconds, database clock
  std::int64_t state_bytes = 0;  // the size of the strategy state kept for it: 0 once dropped
};

// ---- The parameter server (controller replicas; controller/search/replica_loop.h) ----

// One version of the controller's shared parameters (the strategy's save_shared() bytes).
struct ParameterVersion {
  std::int64_t version = 0;  // 0: the initial parameters; v + 1: version v with one update applied
  std::string bytes;         // empty once a newer version made it history
  std::string replica;       // whose update produced it ('' for version 0)
  std::optional<std::int64_t> batch;  // the batch that update learned from
  double saved_at = 0;       // unix seconds, database clock
};

// A batch a replica sampled, and what became of its update.
struct ReplicaBatch {
  std::int64_t batch = 0;
  std::string replica;
  std::int64_t sampled_version = 0;  // the parameters it was sampled with
  std::string state;                 // "open", "applied" or "refused"
  std::optional<std::int64_t> base_version, version, staleness;
  double claimed_at = 0;
  std::optional<double> ended_at;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // The file or URL, as messages name it.
  virtual const std::string& location() const = 0;

  // ---- Searches (one SQLite file usually holds one; PostgreSQL may hold many) ----
  // Throws StorageError when `name` exists.
  virtual SearchId create_search(const std::string& name, const std::string& config_json, const LeasePolicy& policy) = 0;
  virtual std::optional<SearchInfo> find_search(const std::string& name) = 0;
  // Replaces the search's stored configuration: a resumed run stores the budgets it works to, so
  // that `status` shows the ones in effect. StorageError when there is no such search.
  virtual void update_config(SearchId search, const std::string& config_json) = 0;
  virtual std::vector<SearchInfo> searches() = 0;

  // ---- Candidates and the queue ----
  // Stores a batch atomically: indices continue the search's sequence (the first is returned);
  // each unresolved candidate gets a stage-1 task, queued in order.
  virtual std::int64_t enqueue_batch(SearchId search, std::int64_t batch, const std::vector<NewCandidate>& candidates) = 0;
  // Queues another stage of a stored candidate (the funnel's re-evaluation) on seed slot `seed`.
  // StorageError when it has a task at that stage and seed already (has_task says).
  virtual std::int64_t enqueue_stage(SearchId search, std::int64_t candidate, int stage, int seed = 0) = 0;
  virtual bool has_task(SearchId search, std::int64_t candidate, int stage, int seed = 0) = 0;
  // The seed slots of the tasks at `stage` of every candidate with this hash, ascending.
  virtual std::vector<int> stage_seeds(SearchId search, const std::string& hash, int stage) = 0;
  // Queues a paired baseline (a torch optimizer) at `stage` on seed slot `seed`, once per search:
  // false, and nothing queued, when that task exists already.
  virtual bool enqueue_baseline(SearchId search, const std::string& baseline, int stage, int seed) = 0;
  // Takes the first queued task (after re-queuing expired leases), or nullopt when none is queued.
  virtual std::optional<ClaimedTask> claim(SearchId search, const std::string& owner) = 0;
  // Extends the lease; false when the lease is no longer this owner's (stop working on it).
  virtual bool heartbeat(Lease& lease) = 0;
  // Commits the result at once; false (and the attempt is kept, not accepted) for a stale lease.
  virtual bool finish(const Lease& lease, const EvaluationResult& result) = 0;
  // Gives a stored candidate without a task at `result.stage` (a deferred copy) its accepted result,
  // known without training. StorageError when it has a task at that stage or a result already.
  virtual void store_result(SearchId search, std::int64_t candidate, const EvaluationResult& result) = 0;
  // Hands the lease back unevaluated (a worker asked to stop): not a failed attempt.
  virtual void release(const Lease& lease) = 0;
  // A failed attempt (the worker crashed): re-queued, or `crashed` after max_attempts failures.
  virtual void abandon(const Lease& lease, const std::string& why) = 0;
  // The same for every task `owner` holds, without its Lease: a supervisor saw that worker die, or
  // `--resume` found the owner of a previous run gone. Returns how many.
  virtual int abandon_owner(SearchId search, const std::string& owner, const std::string& why) = 0;
  // Re-queues (or ends as `crashed`) every running task whose lease has expired; returns how many.
  virtual int requeue_expired(SearchId search) = 0;
  // The leases held now, in claim order.
  virtual std::vector<Lease> running(SearchId search) = 0;
  // Waits until work may have arrived for `search` or `seconds` have passed; true when woken early.
  // PostgreSQL wakes on the NOTIFY an enqueue sends (LISTEN; notifications are lost while
  // disconnected, so callers still claim at every timeout); SQLite just sleeps.
  virtual bool wait_for_work(SearchId search, double seconds);
  // Whether wait_for_work wakes on new work (then workers can poll rarely).
  virtual bool notifies() const { return false; }
  // One `nos-search run` at a time per search (a second one would propose the same batches): takes
  // the search's run lock, held until this object is destroyed (or its process dies). StorageError
  // naming the search when another process holds it. SQLite: an flock on the file; PostgreSQL: a
  // session-level advisory lock of this connection, taken again after a reconnect.
  virtual void lock_search(SearchId search) = 0;

  // ---- The strategy's state, saved after every batch ----
  // `statistics_json` (a JSON object) is what batch_records() returns for the batch.
  virtual void save_strategy_state(SearchId search, std::int64_t batch, const std::string& bytes,
                                   const std::string& statistics_json) = 0;
  virtual std::optional<StrategyState> latest_strategy_state(SearchId search) = 0;
  // Empties the state bytes of the batches before `batch` (their statistics stay): the search keeps
  // the latest two states only, since an lstm state is megabytes a batch. Every driver must (the
  // contract test checks it through batch_records' state_bytes): none may keep them all.
  virtual void drop_strategy_states_before(SearchId search, std::int64_t batch) = 0;
  // Moves what the journal holds into the database file, at a moment the caller chooses, so that
  // the workers' commits do not pay for it (SQLite's WAL; a no-op elsewhere). The search calls it
  // after saving each batch's strategy state.
  virtual void checkpoint() {}
  // Every saved batch's statistics and the size of its kept state, in batch order (not the bytes).
  virtual std::vector<BatchRecord> batch_records(SearchId search) = 0;

  // ---- The parameter server: the controller's parameters by version (controller replicas) ----
  // Stores `bytes` as version 0 unless a version exists: false (nothing changed) when one does.
  virtual bool init_parameters(SearchId search, const std::string& bytes) = 0;
  // The newest version (with its bytes); nullopt before init_parameters.
  virtual std::optional<ParameterVersion> latest_parameters(SearchId search) = 0;
  // Version `version` with its bytes when they are still kept (the newest `keep` of push_update).
  virtual std::optional<ParameterVersion> parameters_at(SearchId search, std::int64_t version) = 0;
  // Every version without its bytes, oldest first.
  virtual std::vector<ParameterVersion> parameter_history(SearchId search) = 0;
  // Records that `replica` sampled batch `batch` (nullopt: the next number after every claimed
  // one) with version `sampled_version`, its own state after sampling being `local_state`. Returns
  // the batch, or nullopt when that batch is claimed already or is not below `limit`.
  virtual std::optional<std::int64_t> claim_replica_batch(SearchId search, const std::string& replica,
                                                          std::optional<std::int64_t> batch, std::int64_t limit,
                                                          std::int64_t sampled_version, const std::string& local_state) = 0;
  // Applies an update, in one transaction: when `base_version` is still the newest, `bytes` (the
  // parameters after the update, computed from base_version's) become base_version + 1, made by the
  // batch's replica, and the open batch is `applied`; returns the new version. When another update
  // came first, nothing changes and it returns nullopt (the replica recomputes against the newest).
  // The bytes of versions older than the newest `keep` are emptied. StorageError unless the batch
  // is open.
  virtual std::optional<std::int64_t> push_update(SearchId search, std::int64_t batch, std::int64_t base_version,
                                                  const std::string& bytes, int keep = 2) = 0;
  // Ends an open batch `refused` (its update was staler than the rule allows), noting the newest
  // version it would have been computed against.
  virtual void refuse_update(SearchId search, std::int64_t batch, std::int64_t base_version) = 0;
  // replica "": every replica's. In batch order.
  virtual std::vector<ReplicaBatch> replica_batches(SearchId search, const std::string& replica = "") = 0;
  // The replica's own state after sampling its last claimed batch (where it resumes); "" for none.
  virtual std::string replica_local_state(SearchId search, const std::string& replica) = 0;

  // ---- Artifacts: named JSON documents of a search (a baseline's result, `final`'s table) ----
  // Replaces the document stored under `key`.
  virtual void put_artifact(SearchId search, const std::string& key, const std::string& json) = 0;
  // Stores the document under `key` unless one is stored there: false, and nothing changed, when
  // it is (a record that must never be replaced, such as each run of `final`).
  virtual bool add_artifact(SearchId search, const std::string& key, const std::string& json) = 0;
  virtual std::optional<std::string> artifact(SearchId search, const std::string& key) = 0;
  virtual std::vector<std::string> artifact_keys(SearchId search) = 0;  // sorted

  // ---- Reading ----
  // The accepted, non-crashed result at `stage` of the earliest candidate with this hash or
  // fingerprint: what a cache or fingerprint hit reuses.
  virtual std::optional<Evaluation> lookup_by_hash(SearchId search, const std::string& hash, int stage = 1) = 0;
  virtual std::optional<Evaluation> lookup_by_fingerprint(SearchId search, const std::string& fingerprint, int stage = 1) = 0;
  // The paired baselines' accepted results, by baseline, stage and seed.
  virtual std::vector<Evaluation> baseline_results(SearchId search) = 0;
  // batch < 0: every batch.
  virtual std::vector<Candidate> candidates(SearchId search, std::int64_t batch = -1) = 0;
  // candidate < 0: every candidate (not the baselines'). In storage order (attempts in the order they ended).
  virtual std::vector<Evaluation> evaluations(SearchId search, std::int64_t candidate = -1) = 0;
  // Every evaluation of the batch's candidates in one query (not one round trip per candidate):
  // by candidate, then in storage order, as evaluations(search, c) for each candidate in turn.
  virtual std::vector<Evaluation> evaluations_of_batch(SearchId search, std::int64_t batch) = 0;
  // batch < 0: the whole search.
  virtual TaskCounts counts(SearchId search, std::int64_t batch = -1) = 0;
  // The best `limit` rules (limit <= 0: all), one per canonical hash (a cache hit is the same rule
  // as the candidate it copied, listed once): each hash's accepted result at the highest stage any
  // of its candidates reached, ranked by that stage (a rule that passed more of the funnel comes
  // first), then reward (highest first, none last), then proposal order. One SQL query with a
  // window function (SQLite >= 3.25, PostgreSQL).
  virtual std::vector<RankedResult> top(SearchId search, int limit) = 0;
};

enum class OpenMode {
  Create,        // a new search database; StorageError if the file exists and is not empty
  Open,          // an existing NOS search database, read and write
  OpenOrCreate,  // Open when it exists, else Create
  ReadOnly,      // an existing one, never written (status, top, report)
};

// `location` is a path (SQLite) or a postgresql:// (or postgres://) URL: PostgreSQL, where NOS was
// built with libpq (else StorageError says so).
std::unique_ptr<Storage> open_storage(const std::string& location, OpenMode mode);

// The location as messages may show it: "postgresql://user:secret@host/db" ->
// "postgresql://user:***@host/db", a `password=` parameter likewise; a path as it is.
std::string mask_password(std::string_view location);

}  // namespace nos::search
