// The launch recipes of docs/distributed.md (examples/distributed/), as far as this machine can
// run them: the Slurm batch script under a stand-in srun (tests/search/distributed/srun: the
// controller and 2 workers finish a search; submitted again, it resumes), the ssh script under a
// stand-in ssh that runs the command here (there is no sshd: a real ssh login is not tested), and
// the Kubernetes manifest read as YAML (python3-yaml) for its pieces (no cluster here), with every
// nos-search option its commands use checked against nos-search's --help.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "controller/search/storage.h"
#include "tests/search/cli/search_processes.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif

namespace nos::search {
namespace {

using nos::testing::run_program;
using nos::testing::run_tool;
using nos::testing::source_path;
using nos::testing::ToolResult;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string nos_search = std::string(NOS_BINARY_DIR) + "/bin/nos-search";

// Whether `option` (e.g. "--max-idle") is one of `command`'s options in nos-search's --help.
bool has_option(const std::string& command, const std::string& option) {
  static std::map<std::string, std::string> helps;
  if (!helps.count(command)) helps[command] = run_tool("nos-search", {command, "--help"}).out;
  const std::string& help = helps[command];
  for (std::size_t at = help.find(option); at != std::string::npos; at = help.find(option, at + 1)) {
    char before = at > 0 ? help[at - 1] : ' ', after = at + option.size() < help.size() ? help[at + option.size()] : ' ';
    if ((before == ' ' || before == ',') && (after == ' ' || after == ',' || after == '\n')) return true;
  }
  return false;
}

// Distinct workers (owners) that stored a trained result in `db`'s only search.
std::set<std::string> trainers(const std::string& db) {
  auto storage = open_storage(db, OpenMode::ReadOnly);
  std::set<std::string> owners;
  for (const Evaluation& e : storage->evaluations(storage->searches().at(0).id))
    if (e.source == search::Source::Trained) owners.insert(e.worker);
  return owners;
}

// The Slurm script as a job of 2 tasks would run it, with the stand-in srun first on PATH.
ToolResult slurm_job(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> all{source_path("examples/distributed/slurm.sbatch")};
  all.insert(all.end(), args.begin(), args.end());
  const char* path = std::getenv("PATH");
  return run_program("/bin/bash", all, "",
                     {"PATH=" + source_path("tests/search/distributed") + ":" + (path ? path : "/usr/bin:/bin"),
                      "NOS_DB=" + db, "NOS_SEARCH=" + nos_search, "SLURM_JOB_ID=4242", "SLURM_NTASKS=2"});
}

// Runs the job in `dir` (where sbatch would be called: a resumed search's report goes there).
void slurm_search(const std::string& db, const TempDir& dir) {
  struct InDirectory {
    std::filesystem::path before = std::filesystem::current_path();
    explicit InDirectory(const std::filesystem::path& p) { std::filesystem::current_path(p); }
    ~InDirectory() { std::filesystem::current_path(before); }
  } in_dir(dir.path());
  const std::vector<std::string> search{"--child", "synthetic:0.2", "--budget", "16", "--batch", "8", "--seed", "3",
                                        "--no-report", "--quiet"};
  ToolResult r = slurm_job(db, search);
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "best rules of search 'slurm-4242'"));
  {
    auto storage = open_storage(db, OpenMode::ReadOnly);
    SearchInfo info = storage->searches().at(0);
    CHECK(info.name == "slurm-4242");
    CHECK(storage->counts(info.id).pending() == 0);
    CHECK(storage->candidates(info.id).size() == 16);
    CHECK(storage->batch_records(info.id).size() == 2);
  }
  // Both tasks' workers worked on it; nothing trained in the controller.
  std::size_t started = 0;
  for (std::size_t at = r.out.find("working on search 'slurm-4242'"); at != std::string::npos;
       at = r.out.find("working on search 'slurm-4242'", at + 1))
    ++started;
  CHECK(started == 2);
  CHECK_FALSE(trainers(db).empty());
  CHECK(contains(r.out, "stopped"));  // the workers' summaries: stopped by the SIGTERM at the end

  // Submitted again with the same name, the job resumes the search (nothing left: it ends at once).
  std::size_t before = 0;
  {
    auto storage = open_storage(db, OpenMode::ReadOnly);
    before = storage->evaluations(storage->searches().at(0).id).size();
  }
  ToolResult again = slurm_job(db, search);
  INFO(again.out, again.err);
  CHECK(again.exit_code == 0);
  auto storage = open_storage(db, OpenMode::ReadOnly);
  CHECK(storage->searches().size() == 1);
  CHECK(storage->evaluations(storage->searches().at(0).id).size() == before);
}

}  // namespace

TEST_CASE("examples/distributed: the scripts parse, and the Slurm script refuses to run without NOS_DB") {
  for (const char* script : {"examples/distributed/slurm.sbatch", "examples/distributed/ssh-workers.sh"}) {
    ToolResult r = run_program("/bin/bash", {"-n", source_path(script)});
    CHECK_MESSAGE(r.exit_code == 0, script, ": ", r.err);
  }
  ToolResult r = run_program("/bin/bash", {source_path("examples/distributed/slurm.sbatch")}, "", {"NOS_DB="});
  CHECK(r.exit_code != 0);
  CHECK(contains(r.err, "set NOS_DB"));
  r = run_program("/bin/bash", {source_path("examples/distributed/ssh-workers.sh"), "db"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "usage:"));
}

TEST_CASE("examples/distributed/slurm.sbatch: the controller and 2 workers (a stand-in srun) finish a search, then resume it (SQLite)") {
  TempDir dir;
  slurm_search(dir.file("slurm.db"), dir);
}

#ifdef NOS_HAVE_POSTGRES
TEST_CASE("examples/distributed/slurm.sbatch: the controller and 2 workers (a stand-in srun) finish a search, then resume it (PostgreSQL)") {
  std::optional<std::string> server = testing::postgres_test_url();
  if (!server) {
    MESSAGE(std::string(testing::kNoPostgres));
    return;
  }
  testing::FreshPostgresDatabase db(*server);
  TempDir dir;
  slurm_search(db.url(), dir);
}
#endif

TEST_CASE("examples/distributed/ssh-workers.sh: one worker per listed device (a stand-in ssh), stopped with SIGTERM") {
  TempDir dir;
  std::string db = dir.file("ssh.db");
  pid_t run = testing::start_nos_search({"run", "--db", db, "--name", "remote", "--child", "synthetic:0.2", "--budget",
                                         "16", "--batch", "8", "--seed", "3", "--workers", "0", "--no-report", "--quiet"},
                                        dir.file("run.log"));
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).queued > 0; }));
  const std::string script = source_path("examples/distributed/ssh-workers.sh");
  const std::vector<std::string> env{"NOS_SSH=" + source_path("tests/search/distributed/ssh"), "NOS_SEARCH=" + nos_search};
  ToolResult r = run_program("/bin/bash", {script, db, "remote", "gpu-a:cpu,cpu", "cpu-b", "--", "--max-idle", "2"}, "", env);
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(testing::wait_exit(run) == 0);
  for (const char* label : {"[gpu-a cpu] ", "[cpu-b cpu] "}) CHECK(contains(r.out, std::string(label)));
  std::size_t started = 0;
  for (std::size_t at = r.out.find("working on search 'remote'"); at != std::string::npos;
       at = r.out.find("working on search 'remote'", at + 1))
    ++started;
  CHECK(started == 3);
  {
    auto storage = open_storage(db, OpenMode::ReadOnly);
    CHECK(storage->counts(storage->searches().at(0).id).pending() == 0);
  }

  // Without --max-idle the workers wait for more work; SIGTERM to the script stops them all.
  std::string log = dir.file("ssh.log");
  pid_t workers = testing::start_process("/bin/bash", {script, db, "remote", "here:cpu,cpu"}, log, env);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto count = [&](const std::string& what) {
    std::string text = testing::read_log(log);
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  while (count("working on search 'remote'") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(count("working on search 'remote'") == 2);
  REQUIRE(kill(workers, SIGTERM) == 0);
  CHECK(testing::wait_exit(workers) == 130);
  INFO(testing::read_log(log));
  CHECK(count("; stopped") == 2);  // each worker's summary line: stopped by the signal
}

TEST_CASE("examples/distributed/kubernetes.yaml: PostgreSQL with its Service, a controller Job, a worker Job with parallelism") {
  // python3-yaml reads the manifest; the documents come back as JSON.
  ToolResult py = run_program("/usr/bin/env",
                              {"python3", "-c",
                               "import json, sys, yaml\n"
                               "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))\n",
                               source_path("examples/distributed/kubernetes.yaml")});
  if (py.exit_code != 0 && contains(py.err, "No module named 'yaml'")) {
    MESSAGE("[SKIP] python3 has no yaml module (Debian: python3-yaml, cmake/setup-debian.sh)");
    return;
  }
  REQUIRE_MESSAGE(py.exit_code == 0, py.err);
  nlohmann::json docs = nlohmann::json::parse(py.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const nlohmann::json& d : docs) by_name[d["kind"].get<std::string>() + "/" + d["metadata"]["name"].get<std::string>()] = d;

  REQUIRE(by_name.count("Service/postgres"));
  CHECK(by_name["Service/postgres"]["spec"]["ports"][0]["port"] == 5432);
  REQUIRE(by_name.count("StatefulSet/nos-postgres"));
  const nlohmann::json& db = by_name["StatefulSet/nos-postgres"];
  CHECK(db["spec"]["template"]["metadata"]["labels"] == by_name["Service/postgres"]["spec"]["selector"]);
  CHECK(db["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:15");
  REQUIRE(by_name.count("Job/nos-controller"));
  REQUIRE(by_name.count("Job/nos-workers"));
  CHECK(by_name["Job/nos-workers"]["spec"]["parallelism"].get<int>() > 1);
  CHECK_FALSE(by_name["Job/nos-workers"]["spec"].contains("completions"));  // a work queue: done when workers end

  // Every nos-search command of the Jobs (their command, args and init containers' scripts) uses
  // options that exist, and the controller trains nothing itself (--workers 0).
  std::vector<std::vector<std::string>> commands;
  for (const char* job : {"Job/nos-controller", "Job/nos-workers"}) {
    const nlohmann::json& spec = by_name[job]["spec"]["template"]["spec"];
    std::vector<nlohmann::json> containers(spec["containers"].begin(), spec["containers"].end());
    if (spec.contains("initContainers")) containers.insert(containers.end(), spec["initContainers"].begin(), spec["initContainers"].end());
    for (const nlohmann::json& c : containers) {
      std::vector<std::string> words;
      for (const char* key : {"command", "args"})
        if (c.contains(key))
          for (const nlohmann::json& w : c[key]) words.push_back(w.get<std::string>());
      CHECK(c["env"][0]["value"] == "postgresql://nos@postgres:5432/nos");  // the Service's name
      // Shell scripts are split at blanks; a command runs from "nos-search" to the end of its line
      // or a shell word (; > 2>&1 then fi).
      std::vector<std::string> tokens;
      for (const std::string& w : words) {
        if (w.find_first_of(" \n") == std::string::npos) {
          tokens.push_back(w);  // one word of a command array
          continue;
        }
        std::string word;
        for (char ch : w + "\n") {
          if (ch == ' ' || ch == '\n' || ch == '\\' || ch == ';' || ch == '"') {
            if (!word.empty()) tokens.push_back(word);
            word.clear();
            if (ch == '\n' || ch == ';') tokens.push_back(";");
          } else {
            word += ch;
          }
        }
      }
      tokens.push_back(";");
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] != "nos-search") continue;
        std::vector<std::string> command;
        for (std::size_t j = i + 1; j < tokens.size() && tokens[j] != ";" && tokens[j][0] != '>' && tokens[j] != "2>&1"; ++j)
          command.push_back(tokens[j]);
        commands.push_back(command);
      }
    }
  }
  bool controller = false, worker = false;
  for (const std::vector<std::string>& command : commands) {
    REQUIRE_FALSE(command.empty());
    for (const std::string& word : command)
      if (word.starts_with("--")) CHECK_MESSAGE(has_option(command[0], word), "nos-search ", command[0], " ", word);
    auto value_of = [&](const std::string& option) {
      for (std::size_t i = 0; i + 1 < command.size(); ++i)
        if (command[i] == option) return command[i + 1];
      return std::string();
    };
    if (command[0] == "run") {
      controller = true;
      CHECK(value_of("--workers") == "0");
    }
    if (command[0] == "worker") {
      worker = true;
      CHECK(value_of("--search") == "k8s-1");
    }
  }
  CHECK(controller);
  CHECK(worker);
}

}  // namespace nos::search
