// nos-search run --replicas N and nos-search replica end to end on the synthetic child, on SQLite
// and PostgreSQL (NOS_TEST_POSTGRES_URL, else [SKIP]): 3 replicas finish a search while one is
// killed with SIGKILL mid-run (run restarts it under its name and it resumes its open batches) and
// a fourth joins half way; every candidate has exactly one accepted result and the parameter
// version equals the number of applied updates. One replica gives the golden single-controller
// search's top --json; the synchronous mode gives the same top --json twice; a replicated search
// stopped with SIGINT resumes with --resume.
#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "tests/search/cli/search_processes.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"
#include <doctest/doctest.h>

#include <algorithm>

using namespace nos::testing;
using namespace nos::search;
using nos::search::testing::TempDir;
using nos::search::testing::poll_search;
using nos::search::testing::read_log;
using nos::search::testing::start_nos_search;
using nos::search::testing::wait_exit;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The pid of the live process whose command line holds every one of `parts` (the replica that run
// started), or 0.
pid_t find_process(const std::vector<std::string>& parts) {
  DIR* proc = opendir("/proc");
  pid_t found = 0;
  while (dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
    if (pid <= 0) continue;
    std::string cmdline = read_file(std::string("/proc/") + entry->d_name + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    bool all = !cmdline.empty();
    for (const std::string& p : parts) all = all && cmdline.find(p) != std::string::npos;
    if (all) found = pid;
  }
  closedir(proc);
  return found;
}

std::vector<std::string> search_args(const std::string& db) {
  return {"run", "--child", "synthetic:0.1", "--strategy", "lstm", "-O", "hidden=16", "-O", "embedding=16", "--seed", "5",
          "--budget", "160", "--batch", "8", "--workers", "3", "--no-report", "--no-baseline", "--quiet", "--db", db};
}

void check_replicated_search(const std::string& db, const std::string& cwd) {
  std::vector<std::string> args = search_args(db);
  // A slower child than the other cases: a replica that loads LibTorch late on a loaded machine
  // still finds batches to claim before the others have taken all 20.
  std::replace(args.begin(), args.end(), std::string("synthetic:0.1"), std::string("synthetic:0.3"));
  args.insert(args.end(), {"--replicas", "3"});
  pid_t run = start_nos_search(args, cwd + "/run.log");
  // Once two updates are in and replica-1 has claimed a batch (so that it dies with work in hand):
  // replica-1 is killed with SIGKILL, and another replica joins.
  REQUIRE(poll_search(db, [](Storage& s, SearchId id) {
    if (!s.latest_parameters(id) || s.latest_parameters(id)->version < 2) return false;
    for (const ReplicaBatch& b : s.replica_batches(id))
      if (b.replica == "replica-1") return true;
    return false;
  }));
  pid_t victim = find_process({"replica", db, "replica-1"});
  REQUIRE(victim > 0);
  kill(victim, SIGKILL);
  pid_t joiner = start_nos_search({"replica", "--db", db, "--name", "joiner", "--quiet"}, cwd + "/joiner.log");
  CHECK(wait_exit(joiner) == 0);
  INFO("run: ", read_log(cwd + "/run.log"), "\njoiner: ", read_log(cwd + "/joiner.log"));
  REQUIRE(wait_exit(run) == 0);

  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<Candidate> candidates = storage->candidates(id);
  CHECK(candidates.size() == 160);
  for (const Candidate& c : candidates) {
    int accepted = 0;
    for (const Evaluation& e : storage->evaluations(id, c.index)) accepted += e.accepted && e.stage == 1;
    CHECK_MESSAGE(accepted == 1, "candidate " << c.index);
  }
  std::vector<ReplicaBatch> batches = storage->replica_batches(id);
  REQUIRE(batches.size() == 20);
  std::int64_t applied = 0;
  std::set<std::string> names;
  for (const ReplicaBatch& b : batches) applied += b.state == "applied", names.insert(b.replica);
  CHECK(applied == 20);  // the killed replica's open batches were learned from after its restart
  CHECK(storage->latest_parameters(id)->version == applied);
  CHECK(names.count("replica-1"));
  CHECK(storage->counts(id).pending() == 0);
  if (!db.starts_with("postgres"))  // a URL's log is NAME.replicas.log in run's working directory
    CHECK(read_log(db + ".replicas.log").find("replica replica-1: replica replica-1 resumes") != std::string::npos);
  CHECK(read_log(cwd + "/run.log").find("replica replica-1 died") != std::string::npos);
  // status: every replica's batches and updates, the version, staleness, versions over time.
  ToolResult status = run_tool("nos-search", {"status", db});
  CHECK(status.exit_code == 0);
  CHECK_MESSAGE(status.out.find("parameters at version 20 (20 update(s) applied, 0 refused)") != std::string::npos, status.out);
  CHECK(status.out.find("replica-1 ") != std::string::npos);
  CHECK(status.out.find("staleness mean") != std::string::npos);
  CHECK(status.out.find("versions over time: 0 at +0.0 s") != std::string::npos);
  CHECK(status.out.find("progress: 20 batches learned from, 160/160 candidates evaluated") != std::string::npos);
}

}  // namespace

TEST_CASE("nos-search run --replicas 3 on SQLite: a replica killed with SIGKILL, one joining, one result per candidate") {
  TempDir dir;
  check_replicated_search(dir.file("r.db"), dir.path());
}

TEST_CASE("nos-search run --replicas 3 on PostgreSQL: a replica killed with SIGKILL, one joining, one result per candidate") {
#ifdef NOS_HAVE_POSTGRES
  std::optional<std::string> server = nos::search::testing::postgres_test_url();
  if (!server) {
    MESSAGE(std::string(nos::search::testing::kNoPostgres));
    return;
  }
  nos::search::testing::FreshPostgresDatabase database(*server);
  TempDir dir;
  check_replicated_search(database.url(), dir.path());
#else
  MESSAGE("[SKIP] PostgreSQL: not built (no libpq)");
#endif
}

TEST_CASE("nos-search run --replicas 1 gives the single-controller search's golden top --json") {
  TempDir dir;
  std::string db = dir.file("one.db");
  ToolResult run = run_tool("nos-search", {"run", "--child", "synthetic:0", "--strategy", "lstm", "--seed", "3", "--budget",
                                           "80", "--batch", "20", "--workers", "2", "--no-report", "--no-baseline",
                                           "--quiet", "--db", db, "--replicas", "1"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  ToolResult top = run_tool("nos-search", {"top", db, "-k", "25", "--json"});
  CHECK(top.out == read_file(source_path("tests/search/golden/lstm.top.json")));
}

TEST_CASE("nos-search run --replicas 3 --sync-replicas reproduces itself") {
  TempDir dir;
  std::vector<std::string> tops;
  for (const char* name : {"a.db", "b.db"}) {
    std::vector<std::string> args = search_args(dir.file(name));
    args[2] = "synthetic:0";
    args.insert(args.end(), {"--replicas", "3", "--sync-replicas"});
    ToolResult run = run_tool("nos-search", args);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    tops.push_back(run_tool("nos-search", {"top", dir.file(name), "-k", "100", "--json"}).out);
  }
  CHECK(tops[0] == tops[1]);
  CHECK(tops[0].size() > 100);

  // report: the replicas' table and the versions plot beside the search's other plots.
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    MESSAGE("[SKIP] report: gnuplot is not installed");
    return;
  }
  std::string out = dir.file("report");
  ToolResult report = run_tool("nos-search", {"report", dir.file("a.db"), "-o", out});
  REQUIRE_MESSAGE(report.exit_code == 0, report.err);
  // 7 of the 8: the synthetic child stores no training curves.
  CHECK_MESSAGE(report.out.find(": 7 plots and ") != std::string::npos, report.out);
  std::string png = read_file(out + "/versions.png");
  CHECK((png.size() > 1000 && png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0));
  std::string script = read_file(out + "/versions.gp");
  for (const char* name : {"replica-0", "replica-1", "replica-2"}) CHECK(script.find(std::string("title '") + name + "'") != std::string::npos);
  std::string page = read_file(out + "/index.html");
  CHECK(page.find("<h2 id=\"replicas\">Controller replicas</h2>") != std::string::npos);
  CHECK_MESSAGE(page.find("3 replicas sharing the controller's parameters through the search database, now at version 20 "
                          "(20 updates applied, 0 refused)") != std::string::npos, page);
  CHECK(page.find("<tr><td>replica-2</td>") != std::string::npos);
}

TEST_CASE("nos-search run --replicas: what it cannot do is a usage error before anything is written") {
  TempDir dir;
  std::string db = dir.file("x.db");
  auto refused = [&](std::vector<std::string> extra, const std::string& message) {
    std::vector<std::string> args = search_args(db);
    args.insert(args.end(), extra.begin(), extra.end());
    ToolResult run = run_tool("nos-search", args);
    CHECK(run.exit_code == 2);
    CHECK_MESSAGE(run.err.find(message) != std::string::npos, run.err);
    CHECK_FALSE(std::filesystem::exists(db));
  };
  refused({"--sync-replicas"}, "--sync-replicas needs --replicas N");
  refused({"--max-staleness", "2"}, "--max-staleness needs --replicas N");
  ToolResult random = run_tool("nos-search", {"run", "--child", "synthetic:0", "--strategy", "random", "--replicas", "2",
                                              "--db", db, "--quiet"});
  CHECK(random.exit_code == 2);
  CHECK_MESSAGE(random.err.find("--replicas: strategy 'random' has no shared parameters") != std::string::npos, random.err);
  CHECK_FALSE(std::filesystem::exists(db));
  refused({"--replicas", "2", "--async"}, "--replicas: replicas are asynchronous already");
  refused({"--replicas", "0"}, "--replicas");
}

TEST_CASE("nos-search run --replicas 2, stopped with SIGINT and resumed: every batch learned from once") {
  TempDir dir;
  std::string db = dir.file("q.db");
  std::vector<std::string> args = search_args(db);
  args.insert(args.end(), {"--replicas", "2"});
  pid_t run = start_nos_search(args, dir.file("run.log"));
  REQUIRE(poll_search(db, [](Storage& s, SearchId id) { return s.latest_parameters(id) && s.latest_parameters(id)->version >= 2; }));
  kill(run, SIGINT);
  CHECK(wait_exit(run) == 130);
  ToolResult resumed = run_tool("nos-search", {"run", "--db", db, "--resume", "--quiet", "--no-report", "--no-baseline"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  CHECK(storage->candidates(id).size() == 160);
  for (const Candidate& c : storage->candidates(id)) {
    int accepted = 0;
    for (const Evaluation& e : storage->evaluations(id, c.index)) accepted += e.accepted && e.stage == 1;
    CHECK_MESSAGE(accepted == 1, "candidate " << c.index);
  }
  std::vector<ReplicaBatch> batches = storage->replica_batches(id);
  REQUIRE(batches.size() == 20);
  for (const ReplicaBatch& b : batches) CHECK(b.state == "applied");
  CHECK(storage->latest_parameters(id)->version == 20);
}
