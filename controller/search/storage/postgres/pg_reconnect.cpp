#include "controller/search/storage/postgres/pg_reconnect.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "controller/search/storage/postgres/pg_db.h"

namespace nos::search::pg {

ReconnectPolicy ReconnectPolicy::from_environment() {
  ReconnectPolicy policy;
  if (const char* text = std::getenv("NOS_DB_RETRY_SECONDS"); text && *text) {
    char* end = nullptr;
    double seconds = std::strtod(text, &end);
    if (*end != '\0' || !(seconds >= 0))
      throw StorageError(fmt::format("NOS_DB_RETRY_SECONDS: expected seconds (a number >= 0), not '{}'", text));
    policy.give_up_after = seconds;
  }
  return policy;
}

void reconnect(Connection& db, const std::string& location, const std::string& reason, const ReconnectPolicy& policy,
               const std::function<void()>& setup) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double delay = policy.first_delay;
  std::string last = reason;
  // One line each, flushed (stderr is unbuffered): a worker's log shows when the database was away.
  if (policy.give_up_after <= 0)
    throw StorageError(fmt::format("{}: lost the connection to the database ({}); not retrying "
                                   "(NOS_DB_RETRY_SECONDS=0)",
                                   location, reason));
  std::fputs(fmt::format("lost the connection to {} ({}); retrying in {:g} s\n", location, reason, delay).c_str(), stderr);
  while (true) {
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    std::string problem = db.reconnect();
    if (problem.empty()) {
      try {
        setup();
        std::fputs(fmt::format("reconnected to {} after {:.1f} s\n", location, elapsed()).c_str(), stderr);
        return;
      } catch (const Error& e) {
        if (!e.connection_lost()) throw;
        problem = e.reason().empty() ? e.what() : e.reason();
      }
    }
    last = problem;
    if (elapsed() >= policy.give_up_after)
      throw StorageError(fmt::format("{}: lost the connection to the database and could not reconnect within {:g} s: {}",
                                     location, policy.give_up_after, last));
    delay = std::min(delay * 2, policy.max_delay);
    delay = std::min(delay, std::max(0.05, policy.give_up_after - elapsed()));
    std::fputs(fmt::format("cannot reconnect to {} yet ({}); retrying in {:.1f} s\n", location, last, delay).c_str(),
               stderr);
  }
}

}  // namespace nos::search::pg
