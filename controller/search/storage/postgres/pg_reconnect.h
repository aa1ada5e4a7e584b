// How a PostgreSQL storage comes back after its connection was lost (the server restarted, an
// administrator ended the session, the network broke): new connections with exponential backoff
// (0.2 s doubling to 10 s) until one works or the retry time is spent, a line on stderr when the
// connection is lost and when it is back. postgres_storage.cpp then re-runs what was interrupted.
#pragma once

#include <functional>
#include <string>

namespace nos::search::pg {

class Connection;

struct ReconnectPolicy {
  double first_delay = 0.2;    // seconds before the first new connection
  double max_delay = 10;       // the delay doubles up to this
  double give_up_after = 300;  // total seconds without a connection before StorageError

  // The defaults, the total from $NOS_DB_RETRY_SECONDS where set (a number >= 0; 0: never retry).
  static ReconnectPolicy from_environment();
};

// Reconnects `db` (its URL shown as `location`) after `reason` broke it: waits, reconnects and runs
// `setup` (the session's settings, LISTENs, locks) on the new connection; a setup that loses the
// connection again is retried like the connection itself, any other error is thrown as it is.
// Throws StorageError "<location>: lost the connection to the database and could not reconnect
// within N s: <last reason>" when the time is spent.
void reconnect(Connection& db, const std::string& location, const std::string& reason, const ReconnectPolicy& policy,
               const std::function<void()>& setup);

}  // namespace nos::search::pg
