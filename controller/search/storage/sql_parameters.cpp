// The parameter server of controller replicas, written once for every driver (storage.h says what
// each operation promises). The versions are ordered by the search row's lock (PostgreSQL) or the
// file's write lock (SQLite), so that an update is applied only against the version it was
// computed from: a compare-and-swap, never a half-applied update.
#include <algorithm>

#include <fmt/format.h>

#include "controller/search/storage/sql_storage.h"

namespace nos::search::storage {
namespace {

ParameterVersion read_version(const Rows& r, int row, bool with_bytes) {
  ParameterVersion v;
  v.version = r.integer(row, 0);
  v.replica = r.text(row, 1);
  v.batch = r.optional_integer(row, 2);
  v.saved_at = r.real(row, 3);
  if (with_bytes) v.bytes = r.bytes(row, 4);
  return v;
}

constexpr const char* kVersionColumns = "version, replica, batch, saved_at, state";
constexpr const char* kBatchColumns =
    "batch, replica, sampled_version, state, base_version, version, staleness, claimed_at, ended_at";

ReplicaBatch read_batch(const Rows& r, int row) {
  ReplicaBatch b;
  b.batch = r.integer(row, 0);
  b.replica = r.text(row, 1);
  b.sampled_version = r.integer(row, 2);
  b.state = r.text(row, 3);
  b.base_version = r.optional_integer(row, 4);
  b.version = r.optional_integer(row, 5);
  b.staleness = r.optional_integer(row, 6);
  b.claimed_at = r.real(row, 7);
  b.ended_at = r.optional_real(row, 8);
  return b;
}

}  // namespace

bool SqlStorage::init_parameters(SearchId search, const std::string& bytes) {
  bool stored = false;
  driver_->run([&] {
    check_writable();
    policy(search);  // the search must exist
    Transaction tx(*driver_, TxKind::Write);
    exec(fmt::format("SELECT id FROM searches WHERE id = $1{}", driver_->lock(RowLock::NoKeyUpdate)), Params().add(search));
    auto any = exec("SELECT state FROM controller_parameters WHERE search_id = $1 AND version = 0", Params().add(search));
    // A retry whose first attempt stored these very bytes did store them.
    stored = any->empty() || (driver_->retried() && any->bytes(0, 0) == bytes);
    if (any->empty())
      exec(fmt::format("INSERT INTO controller_parameters (search_id, version, state, replica, batch, saved_at) "
                       "VALUES ($1, 0, $2, '', NULL, {})",
                       driver_->now()),
           Params().add(search).add_bytes(bytes));
    tx.commit();
  });
  return stored;
}

std::optional<ParameterVersion> SqlStorage::latest_parameters(SearchId search) {
  std::optional<ParameterVersion> out;
  driver_->run([&] {
    out.reset();
    auto r = exec(fmt::format("SELECT {} FROM controller_parameters WHERE search_id = $1 ORDER BY version DESC LIMIT 1",
                              kVersionColumns),
                  Params().add(search));
    if (!r->empty()) out = read_version(*r, 0, true);
  });
  return out;
}

std::optional<ParameterVersion> SqlStorage::parameters_at(SearchId search, std::int64_t version) {
  std::optional<ParameterVersion> out;
  driver_->run([&] {
    out.reset();
    auto r = exec(fmt::format("SELECT {} FROM controller_parameters WHERE search_id = $1 AND version = $2", kVersionColumns),
                  Params().add(search).add(version));
    if (!r->empty() && !r->bytes(0, 4).empty()) out = read_version(*r, 0, true);
  });
  return out;
}

std::vector<ParameterVersion> SqlStorage::parameter_history(SearchId search) {
  std::vector<ParameterVersion> out;
  driver_->run([&] {
    out.clear();
    auto r = exec("SELECT version, replica, batch, saved_at FROM controller_parameters WHERE search_id = $1 ORDER BY version",
                  Params().add(search));
    for (int i = 0; i < r->size(); ++i) out.push_back(read_version(*r, i, false));
  });
  return out;
}

std::optional<std::int64_t> SqlStorage::claim_replica_batch(SearchId search, const std::string& replica,
                                                            std::optional<std::int64_t> batch, std::int64_t limit,
                                                            std::int64_t sampled_version, const std::string& local_state) {
  std::optional<std::int64_t> out;
  driver_->run([&] {
    out.reset();
    check_writable();
    policy(search);
    Transaction tx(*driver_, TxKind::Write);
    // The search row's lock orders claimers, so that two never get the same number.
    exec(fmt::format("SELECT id FROM searches WHERE id = $1{}", driver_->lock(RowLock::NoKeyUpdate)), Params().add(search));
    if (driver_->retried()) {
      // The attempt whose acknowledgement was lost claimed it: the same replica, state and version.
      auto mine = exec("SELECT batch, sampled_version, local_state FROM replica_batches WHERE search_id = $1 AND "
                       "replica = $2 AND state = 'open' ORDER BY batch DESC LIMIT 1",
                       Params().add(search).add(replica));
      if (!mine->empty() && mine->bytes(0, 2) == local_state && mine->integer(0, 1) == sampled_version &&
          (!batch || *batch == mine->integer(0, 0))) {
        out = mine->integer(0, 0);
        tx.commit();
        return;
      }
    }
    std::int64_t number = batch ? *batch
                                : exec("SELECT COALESCE(MAX(batch) + 1, 0) FROM replica_batches WHERE search_id = $1",
                                       Params().add(search))
                                      ->integer(0, 0);
    if (number >= limit || number < 0) return;
    if (!exec("SELECT batch FROM replica_batches WHERE search_id = $1 AND batch = $2", Params().add(search).add(number))
             ->empty())
      return;
    exec(fmt::format("INSERT INTO replica_batches (search_id, batch, replica, sampled_version, local_state, state, claimed_at) "
                     "VALUES ($1, $2, $3, $4, $5, 'open', {})",
                     driver_->now()),
         Params().add(search).add(number).add(replica).add(sampled_version).add_bytes(local_state));
    tx.commit();
    out = number;
  });
  return out;
}

std::optional<std::int64_t> SqlStorage::push_update(SearchId search, std::int64_t batch, std::int64_t base_version,
                                                    const std::string& bytes, int keep) {
  std::optional<std::int64_t> out;
  driver_->run([&] {
    out.reset();
    check_writable();
    Transaction tx(*driver_, TxKind::Write);
    exec(fmt::format("SELECT id FROM searches WHERE id = $1{}", driver_->lock(RowLock::NoKeyUpdate)), Params().add(search));
    auto row = exec("SELECT replica, sampled_version, state, base_version, version FROM replica_batches "
                    "WHERE search_id = $1 AND batch = $2",
                    Params().add(search).add(batch));
    if (row->empty()) throw StorageError(fmt::format("{}: no replica batch {} in search {}", location(), batch, search));
    const std::string state = row->text(0, 2);
    if (state != "open") {
      // Applied by the attempt whose acknowledgement was lost: that is this update.
      if (driver_->retried() && state == "applied" && row->optional_integer(0, 3) == base_version) {
        out = row->integer(0, 4);
        tx.commit();
        return;
      }
      throw StorageError(fmt::format("{}: replica batch {} is {} already: its update cannot be applied", location(), batch, state));
    }
    const std::string replica = row->text(0, 0);
    const std::int64_t sampled = row->integer(0, 1);
    auto newest = exec("SELECT MAX(version) FROM controller_parameters WHERE search_id = $1", Params().add(search));
    if (newest->is_null(0, 0))
      throw StorageError(fmt::format("{}: search {} has no controller parameters to update", location(), search));
    if (newest->integer(0, 0) != base_version) return;  // another update came first: recompute
    const std::int64_t version = base_version + 1;
    exec(fmt::format("INSERT INTO controller_parameters (search_id, version, state, replica, batch, saved_at) "
                     "VALUES ($1, $2, $3, $4, $5, {})",
                     driver_->now()),
         Params().add(search).add(version).add_bytes(bytes).add(replica).add(batch));
    exec(fmt::format("UPDATE replica_batches SET state = 'applied', base_version = $1, version = $2, staleness = $3, "
                     "ended_at = {} WHERE search_id = $4 AND batch = $5",
                     driver_->now()),
         Params().add(base_version).add(version).add(base_version - sampled).add(search).add(batch));
    exec("UPDATE controller_parameters SET state = $1 WHERE search_id = $2 AND version <= $3 AND length(state) > 0",
         Params().add_bytes("").add(search).add(version - std::max(keep, 1)));
    tx.commit();
    out = version;
  });
  return out;
}

void SqlStorage::refuse_update(SearchId search, std::int64_t batch, std::int64_t base_version) {
  driver_->run([&] {
    check_writable();
    Transaction tx(*driver_, TxKind::Write);
    auto row = exec("SELECT sampled_version, state FROM replica_batches WHERE search_id = $1 AND batch = $2",
                    Params().add(search).add(batch));
    if (row->empty()) throw StorageError(fmt::format("{}: no replica batch {} in search {}", location(), batch, search));
    if (row->text(0, 1) == "refused" && driver_->retried()) return;  // the lost acknowledgement's
    if (row->text(0, 1) != "open")
      throw StorageError(fmt::format("{}: replica batch {} is {} already", location(), batch, row->text(0, 1)));
    exec(fmt::format("UPDATE replica_batches SET state = 'refused', base_version = $1, staleness = $2, ended_at = {} "
                     "WHERE search_id = $3 AND batch = $4",
                     driver_->now()),
         Params().add(base_version).add(base_version - row->integer(0, 0)).add(search).add(batch));
    tx.commit();
  });
}

std::vector<ReplicaBatch> SqlStorage::replica_batches(SearchId search, const std::string& replica) {
  std::vector<ReplicaBatch> out;
  driver_->run([&] {
    out.clear();
    auto r = replica.empty()
                 ? exec(fmt::format("SELECT {} FROM replica_batches WHERE search_id = $1 ORDER BY batch", kBatchColumns),
                        Params().add(search))
                 : exec(fmt::format("SELECT {} FROM replica_batches WHERE search_id = $1 AND replica = $2 ORDER BY batch",
                                    kBatchColumns),
                        Params().add(search).add(replica));
    for (int i = 0; i < r->size(); ++i) out.push_back(read_batch(*r, i));
  });
  return out;
}

std::string SqlStorage::replica_local_state(SearchId search, const std::string& replica) {
  std::string out;
  driver_->run([&] {
    auto r = exec("SELECT local_state FROM replica_batches WHERE search_id = $1 AND replica = $2 ORDER BY batch DESC LIMIT 1",
                  Params().add(search).add(replica));
    out = r->empty() ? std::string() : r->bytes(0, 0);
  });
  return out;
}

}  // namespace nos::search::storage
