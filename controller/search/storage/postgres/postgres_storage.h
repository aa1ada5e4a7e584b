// The PostgreSQL storage: many machines share one search (or several searches) through one
// database. Claims are one short transaction (`SELECT ... FOR UPDATE SKIP LOCKED`, then the UPDATE
// that records the lease), times come from the server's clock, and every enqueue sends
// `NOTIFY nos_search_<id>` for workers that listen. A Storage object is one connection: it belongs
// to one thread and never crosses a fork() (each process opens its own).
//
// A lost connection (the server restarted, the session was ended, the network broke) is not an
// error: every operation reconnects with backoff (pg_reconnect.h), restores the session (LISTENs,
// the run lock) and runs again from the start, as one transaction. Where the lost part was the
// commit's acknowledgement, the operations that are not idempotent by themselves recognize their
// own committed work on the retry (SqlStorage, through Driver::retried()): a result finish() stored
// counts as stored (accepted or refused as it was), a batch or stage is not queued twice, a claimed
// task nobody got is handed back.
#pragma once

#include <string>

#include "controller/search/storage/sql_storage.h"

namespace nos::search {

class PostgresStorage final : public storage::SqlStorage {
 public:
  // Throws StorageError naming the URL (password masked): not a URL, cannot connect (no server,
  // wrong credentials, no such database), not a NOS search database, another schema version.
  // An empty database gets the schema in Create and OpenOrCreate; Create on a NOS search database
  // adds to it (several searches share one database; their names must differ).
  PostgresStorage(const std::string& url, OpenMode mode);
  // For the tests of retries: the next commit's acknowledgement is lost (pg::Connection's).
  void lose_next_commit_acknowledgement_for_testing();
};

}  // namespace nos::search
