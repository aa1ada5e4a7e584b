// A search over PostgreSQL end to end, with the faults of a real cluster: `nos-search run --workers
// 0` (the controller only) and 3 `nos-search worker` processes on a tiny child (blobs, 16 hidden
// units); one worker killed with SIGKILL mid-evaluation, a 4th added half way, the database server
// restarted once during the run. Every candidate ends with exactly one accepted stage-1 result,
// none is lost, and `top --json` equals a one-machine SQLite run with the same seed. A second run
// on the same search is refused by the run lock meanwhile.
//
// The server is a private one (tests/postgres/cluster.sh in a temporary directory), so that its
// restart disturbs no other test; the test runs where NOS_TEST_POSTGRES_URL says PostgreSQL is
// there (tests/run.sh), else [SKIP]. Where no private server can start (an external server, no
// local binaries), it runs on NOS_TEST_POSTGRES_URL without the restart and says [SKIP] for that.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/search/storage.h"
#include "tests/runtime/test_data_files.h"
#include "tests/search/postgres_test_db.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using Clock = std::chrono::steady_clock;

// A process of build/bin/nos-search in `dir`, its stdout and stderr to `log`; SIGKILLed if the test
// ends before it does.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& dir, const std::string& log) : log_(log) {
    std::string exe = std::string(NOS_BINARY_DIR) + "/bin/nos-search";
    std::vector<std::string> all{exe};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(dir.c_str()) != 0) _exit(126);  // a run on a URL writes its files in the working directory
      FILE* out = std::freopen(log.c_str(), "w", stdout);
      (void)out;
      dup2(STDOUT_FILENO, STDERR_FILENO);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The exit status (128 + signal when killed), or -1 when it is still running after `seconds`.
  int wait(double seconds) {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Runs a shell command; its exit status and standard output.
std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, ""};
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
  int status = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A private server in `dir`/pg (cluster.sh), stopped and removed at the end; url() is "" when it
// could not start.
class PrivateServer {
 public:
  explicit PrivateServer(const std::string& dir) : dir_(dir + "/pg") {
    auto [status, out] = shell(fmt::format("bash {}/tests/postgres/cluster.sh start {} 2>{}/cluster.log", NOS_SOURCE_DIR,
                                           dir_, dir));
    if (status == 0 && out.starts_with("postgresql://")) url_ = out;
  }
  ~PrivateServer() { shell(fmt::format("bash {}/tests/postgres/cluster.sh stop {} 2>/dev/null", NOS_SOURCE_DIR, dir_)); }
  const std::string& url() const { return url_; }
  bool restart() {
    return shell(fmt::format("bash {}/tests/postgres/cluster.sh restart {} >&2", NOS_SOURCE_DIR, dir_)).first == 0;
  }

 private:
  std::string dir_, url_;
};

std::vector<std::string> search_args(const std::string& db, int workers, const std::string& config, const std::string& blobs) {
  return {"run", "--db", db, "--name", "e2e", "--config", config, "--data", blobs, "--hidden", "16", "--epochs", "8",
          "--train-subset", "0", "--lr-grid", "0.01,0.1", "--budget", "24", "--batch", "8", "--seed", "11",
          "--workers", std::to_string(workers), "--no-baseline", "--quiet", "--no-report"};
}

// Polls the database read-only until `ready` holds (or `seconds` pass: false). The database may
// be restarting meanwhile: errors mean "not yet".
template <class Ready>
bool poll(const std::string& db, double seconds, Ready ready) {
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    try {
      auto storage = open_storage(db, OpenMode::ReadOnly);
      std::vector<SearchInfo> searches = storage->searches();
      if (!searches.empty() && ready(*storage, searches[0].id)) return true;
    } catch (const StorageError&) {
      // not created yet, or the server is away
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::int64_t accepted_stage1(Storage& s, SearchId id) {
  std::int64_t n = 0;
  for (const Evaluation& e : s.evaluations(id)) n += e.accepted && e.stage == 1;
  return n;
}

pid_t pid_of(const std::string& owner) { return static_cast<pid_t>(std::stol(owner.substr(owner.rfind('/') + 1))); }

}  // namespace

TEST_CASE("nos-search on PostgreSQL: 3 workers, one killed, one added, the server restarted: one result each, top as on one machine") {
  std::optional<std::string> shared = testing::postgres_test_url();
  if (!shared) {
    MESSAGE(std::string(testing::kNoPostgres));
    return;
  }
  testing::TempDir dir;
  chmod(dir.path().c_str(), 0755);  // as root (CI), the server runs as `postgres` and needs to get in
  const std::string blobs = nos::testing::write_blobs_csv(dir.file("blobs.csv"), 1500, 8, 3, false);
  // Short leases, so that the killed worker's task comes back in seconds; attempts to spare.
  const std::string config = dir.file("search.json");
  std::ofstream(config) << R"({"lease": {"seconds": 5, "max_attempts": 4}})";

  PrivateServer server(dir.path().string());
  std::unique_ptr<testing::FreshPostgresDatabase> fallback;
  std::string url = server.url();
  if (url.empty()) {
    std::ifstream log(dir.file("cluster.log"));
    std::stringstream why;
    why << log.rdbuf();
    MESSAGE("[SKIP] the database restart: no private PostgreSQL server could start (tests/postgres/cluster.sh: ",
            why.str(), "); the rest runs on NOS_TEST_POSTGRES_URL without it");
    fallback = std::make_unique<testing::FreshPostgresDatabase>(*shared);
    url = fallback->url();
  }
  auto start = Clock::now();

  Process controller(search_args(url, 0, config, blobs), dir.path().string(), dir.file("controller.log"));
  REQUIRE_MESSAGE(poll(url, 30, [](Storage&, SearchId) { return true; }), controller.log());
  std::vector<std::unique_ptr<Process>> workers;
  auto add_worker = [&] {
    std::string log = dir.file(fmt::format("worker{}.log", workers.size()));
    workers.push_back(std::make_unique<Process>(std::vector<std::string>{"worker", "--db", url, "--search", "e2e"},
                                                dir.path().string(), log));
  };
  for (int i = 0; i < 3; ++i) add_worker();

  // One worker killed mid-evaluation (a candidate of the first batch after the first few).
  std::string victim;
  std::int64_t victim_candidate = -1;
  REQUIRE_MESSAGE(poll(url, 60,
                       [&](Storage& s, SearchId id) {
                         for (const Lease& lease : s.running(id))
                           if (lease.candidate >= 2) {
                             victim = lease.owner, victim_candidate = lease.candidate;
                             return true;
                           }
                         return false;
                       }),
                  controller.log());
  REQUIRE(kill(pid_of(victim), SIGKILL) == 0);

  // A second run on the same search, while this one works: refused by the run lock.
  ToolResult second = run_tool("nos-search", {"run", "--db", url, "--name", "e2e", "--resume", "--workers", "0"});
  CHECK(second.exit_code == 1);
  CHECK_MESSAGE(second.err.find("another nos-search run is working on search 'e2e'") != std::string::npos, second.err);


  // The server restarted once a few results are in, a 4th worker added half way.
  bool restarted = false;
  if (!server.url().empty()) {
    REQUIRE(poll(url, 60, [](Storage& s, SearchId id) { return accepted_stage1(s, id) >= 6; }));
    restarted = server.restart();
    CHECK_MESSAGE(restarted, "cluster.sh restart failed");
  }
  REQUIRE(poll(url, 60, [](Storage& s, SearchId id) { return accepted_stage1(s, id) >= 12; }));
  add_worker();

  int controller_exit = controller.wait(90);
  INFO("controller's log:\n", controller.log());
  REQUIRE(controller_exit == 0);
  MESSAGE(fmt::format("the distributed search took {:.1f} s",
                      std::chrono::duration<double>(Clock::now() - start).count()));
  // Idle workers leave at once on SIGTERM; the killed one has gone already. (A worker that came
  // late may still be starting: it is told to stop once it works, so that SIGTERM finds its handler.)
  std::string worker_logs;
  for (auto& w : workers) {
    if (w->pid() == pid_of(victim)) {
      CHECK(w->wait(5) == 128 + SIGKILL);
      worker_logs += w->log();
      continue;
    }
    auto started = Clock::now();
    while (w->log().find("working on search 'e2e'") == std::string::npos && Clock::now() - started < std::chrono::seconds(30))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kill(w->pid(), SIGTERM);
    CHECK(w->wait(30) == 130);  // stopped by a signal, as its help says
    worker_logs += w->log();
  }
  INFO("workers' logs:\n", worker_logs);

  // Every candidate: exactly one accepted stage-1 result, none lost; the killed attempt kept.
  auto storage = open_storage(url, OpenMode::ReadOnly);
  SearchId id = storage->find_search("e2e")->id;
  std::vector<Candidate> candidates = storage->candidates(id);
  REQUIRE(candidates.size() == 24);
  std::map<std::int64_t, int> accepted;
  std::set<std::string> evaluated_by;
  for (const Evaluation& e : storage->evaluations(id)) {
    if (e.accepted && e.stage == 1) ++accepted[e.candidate];
    if (e.accepted && e.source == search::Source::Trained) evaluated_by.insert(e.worker);
  }
  for (const Candidate& c : candidates) CHECK_MESSAGE(accepted[c.index] == 1, "candidate ", c.index);
  std::vector<Evaluation> attempts = storage->evaluations(id, victim_candidate);
  REQUIRE(attempts.size() >= 2);
  CHECK(attempts.front().status == search::Status::Crashed);
  CHECK_FALSE(attempts.front().accepted);
  CHECK(attempts.front().detail.find("the lease of " + victim) != std::string::npos);
  CHECK(attempts.back().accepted);
  CHECK(attempts.back().status != search::Status::Crashed);
  // The work was shared; the 4th worker joined (it trains what is left when it comes, maybe nothing).
  CHECK(evaluated_by.size() >= 2);
  CHECK(workers.back()->log().find("working on search 'e2e'") != std::string::npos);
  MESSAGE(evaluated_by.size(), " workers trained candidates");
  if (restarted) {
    // Everyone lost the connection and came back; nothing was refused that had been accepted.
    CHECK(controller.log().find("lost the connection to ") != std::string::npos);
    CHECK(controller.log().find("reconnected to ") != std::string::npos);
    CHECK(worker_logs.find("reconnected to ") != std::string::npos);
  }

  // The same search on one machine with SQLite: the same ranking, value for value.
  const std::string sqlite = dir.file("one.db");
  ToolResult one = run_tool("nos-search", search_args(sqlite, 2, config, blobs));
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  ToolResult top_pg = run_tool("nos-search", {"top", url, "--json", "-k", "100"});
  ToolResult top_one = run_tool("nos-search", {"top", sqlite, "--json", "-k", "100"});
  REQUIRE_MESSAGE(top_pg.exit_code == 0, top_pg.err);
  REQUIRE(top_one.exit_code == 0);
  nlohmann::json a = nlohmann::json::parse(top_pg.out), b = nlohmann::json::parse(top_one.out);
  REQUIRE(a.size() == b.size());
  CHECK(a.size() > 1);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (const char* key : {"rule", "tokens", "hash", "reward", "metric", "lr", "status", "source", "stage", "candidate"})
      CHECK_MESSAGE(a[i][key] == b[i][key], "rank ", i + 1, " ", key);
}

}  // namespace nos::search
