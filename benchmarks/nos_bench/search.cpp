// nos-bench search: the search's throughput (issue 11, "Measure"). For each worker count it runs
// the built `nos-search run` (beside nos-bench) as a subprocess on the default child, one after the
// other with the same seed, into its own database, then reads that database (search_stats.h):
// candidates, trainings, cache and fingerprint hits, rejections, evaluations per hour, and the share
// of the workers' time outside child training with its parts; and the throughput ratios of the
// worker counts measured side by side in this one run.
//
//   nos-bench search                                   # 1 and 2 workers, 120 s each
//   nos-bench search --workers 2 --time-budget 1800 --json search.json   # the 30 minutes
//   nos-bench search --budget 40 --child-args "--train-subset 2000 --epochs 1"
//   nos-bench search --analyze search.db --workers 2     # a search run before, read only
//   nos-bench search --workers 2 --budget 100000 --time-budget 0 --strategy random
//       --child-args "--child synthetic:0 --batch 100" --readers [--postgres URL]   # a long search's pace
//
// Progress goes to stderr, the tables to stdout, the records to --json.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/child_process.h"
#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/search_stats.h"
#include "benchmarks/nos_bench/timing.h"
#include "controller/search/storage.h"
#include "support/atomic_file.h"
#include "support/process.h"
#include "tools/options.h"
#include "runtime/json_text.h"

namespace nos::bench {
namespace {

namespace fs = std::filesystem;

struct SearchBenchOptions {
  std::vector<int> workers{1, 2};
  double time_budget = 120;
  std::int64_t budget = 0;  // 0: unlimited (the time budget ends the search)
  std::uint64_t seed = 1;
  std::string strategy;
  std::vector<std::string> child_args;
  std::string json;
  std::string keep;
  std::string nos_search;
  std::string analyze;  // read this database instead of running a search
  std::string postgres;  // run each search in this PostgreSQL database instead of an SQLite file
  std::int64_t pace_window = 10000;
  bool readers = false;  // time nos-search status, top and report on each finished search
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The CPU seconds process `pid` itself has used (its threads, not its children), from /proc; none
// once it is gone.
std::optional<double> own_cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t paren = text.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // state is field 3; utime 14, stime 15
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Finished {
  int wait_status = 0;
  double own_cpu = 0;    // the process itself, as last seen (polled: the last quarter second may be missing)
  double total_cpu = 0;  // it and every descendant it waited for (its workers)
};

// Runs argv with its standard output and error appended to `log` and NOS_CACHE_DIR = `cache`, in
// the directory `cwd` (empty: this one), watching its CPU time until it exits.
Finished run_logged(const std::vector<std::string>& args, const std::string& log, const std::string& cache,
                    const std::string& cwd = "") {
  pid_t pid = support::spawn({.argv = args, .env = {"NOS_CACHE_DIR=" + cache}, .cwd = cwd, .log = log});
  Finished out;
  while (true) {
    if (std::optional<double> cpu = own_cpu_seconds(pid)) out.own_cpu = std::max(out.own_cpu, *cpu);
    rusage usage{};
    pid_t done = wait4(pid, &out.wait_status, WNOHANG, &usage);
    if (done < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "wait4");
    if (done == pid) {
      auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
      out.total_cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::vector<std::string> search_command(const SearchBenchOptions& o, int workers, const std::string& db,
                                        const std::string& name) {
  std::vector<std::string> args{o.nos_search, "run", "--db", db, "--workers", std::to_string(workers),
                                "--seed", std::to_string(o.seed), "--no-report", "--no-baseline"};
  if (!name.empty()) args.insert(args.end(), {"--name", name});
  // Without --budget the time budget alone ends the search (nos-search's default is 400 candidates).
  args.insert(args.end(), {"--budget", std::to_string(o.budget > 0 ? o.budget : 100'000'000)});
  if (o.time_budget > 0) args.insert(args.end(), {"--time-budget", fmt::format("{:g}", o.time_budget)});
  if (!o.strategy.empty()) args.insert(args.end(), {"--strategy", o.strategy});
  for (const std::string& group : o.child_args)
    for (std::string& word : split_words(group)) args.push_back(std::move(word));
  return args;
}

// A database that cannot be read is bad input (exit 1), not a bug of nos-bench.
std::unique_ptr<search::Storage> open_read_only(const std::string& path) {
  try {
    return search::open_storage(path, search::OpenMode::ReadOnly);
  } catch (const search::StorageError& e) {
    throw std::invalid_argument(e.what());
  }
}

void write_document(const SearchBenchOptions& o, const nlohmann::json& records, const std::vector<Scaling>& ratios) {
  if (o.json.empty()) return;
  nlohmann::json scalings = nlohmann::json::array();
  for (const Scaling& r : ratios) scalings.push_back(to_json(r));
  nlohmann::json doc = {{"benchmark", "search"},
                        {"cores", std::thread::hardware_concurrency()},
                        {"options",
                         {{"workers", o.workers}, {"time_budget", o.time_budget}, {"budget", o.budget},
                          {"seed", o.seed}, {"strategy", o.strategy}, {"child_args", o.child_args},
                          {"analyze", o.analyze}, {"postgres", !o.postgres.empty()},
                          {"pace_window", o.pace_window}, {"readers", o.readers}}},
                        {"runs", records},
                        {"scaling", scalings}};
  support::write_file_atomically(o.json, json_text(doc, 2) + "\n", "--json");
}

// --readers: the seconds `nos-search status`, `top` and `report` take on a finished search (each
// run once, its output in `log`); a reader that fails stops the benchmark.
nlohmann::json time_readers(const SearchBenchOptions& o, const std::string& db, const std::string& name,
                            const fs::path& dir, const std::string& log, const std::string& cache) {
  std::vector<std::string> select;
  if (!name.empty()) select = {"--search", name};
  std::string report_dir = (dir / fmt::format("report-{}", name.empty() ? fs::path(db).stem().string() : name)).string();
  std::vector<std::pair<std::string, std::vector<std::string>>> readers{
      {"status", {o.nos_search, "status", db}}, {"top", {o.nos_search, "top", db}},
      {"report", {o.nos_search, "report", db, "-o", report_dir}}};
  nlohmann::json seconds = nlohmann::json::object();
  for (auto& [reader, args] : readers) {
    args.insert(args.end(), select.begin(), select.end());
    double start = unix_now();
    Finished finished = run_logged(args, log, cache);
    const double wall = unix_now() - start;
    // CPU time too: on a shared machine the wall time is mostly the others' load.
    seconds[reader] = {{"wall", wall}, {"cpu", finished.total_cpu}};
    if (!WIFEXITED(finished.wait_status) || WEXITSTATUS(finished.wait_status) != 0)
      throw std::invalid_argument(fmt::format("nos-search {} failed; its output, {}:\n{}", reader, log, tail_of(log, 15)));
    std::cerr << fmt::format("nos-bench search: nos-search {}: {:.2f} s ({:.2f} s CPU)\n", reader, wall, finished.total_cpu)
              << std::flush;
  }
  return seconds;
}

// --analyze DB: an existing search (nos-search run's, or several workers started by hand), bounded
// by its creation and its last write, with the one --workers count given.
int analyze_database(const SearchBenchOptions& o) {
  if (o.workers.size() != 1) throw UsageError("--analyze needs exactly one --workers count: the workers that search ran with");
  auto storage = open_read_only(o.analyze);
  std::vector<search::SearchInfo> searches = storage->searches();
  if (searches.size() != 1)
    throw std::invalid_argument(fmt::format("{}: holds {} searches; --analyze reads a file with one", o.analyze, searches.size()));
  SearchStats stats = analyze_search(*storage, searches[0].id, {o.workers[0], 0, 0, o.pace_window});
  nlohmann::json record = to_json(stats);
  record["database"] = o.analyze;
  record["config"] = nlohmann::json::parse(stats.config_json, nullptr, false);
  std::cout << format_search_report({stats}, {});
  write_document(o, nlohmann::json::array({record}), {});
  return kOk;
}

int run_search_bench(SearchBenchOptions o) {  // a copy: --nos-search made absolute
  if (!o.analyze.empty()) return analyze_database(o);
  if (o.time_budget <= 0 && o.budget <= 0)
    throw UsageError("--time-budget 0 needs --budget N: something must end each search");
  o.nos_search = fs::absolute(o.nos_search).string();
  if (access(o.nos_search.c_str(), X_OK) != 0)
    throw std::invalid_argument(fmt::format("--nos-search: cannot run '{}': {} (build it: cmake --build build --target nos-search)",
                                            o.nos_search, std::strerror(errno)));
  if (!o.json.empty()) support::check_writable(o.json, "--json");  // before minutes of searching
  if (!o.postgres.empty() && !o.postgres.starts_with("postgresql://") && !o.postgres.starts_with("postgres://"))
    throw UsageError("--postgres: expected a postgresql:// URL, not '" + search::mask_password(o.postgres) + "'");
  const WorkDir work(o.keep, "nos-bench-search");
  const fs::path dir = fs::absolute(work.path());  // absolute: a PostgreSQL run starts in it

  std::vector<SearchStats> runs;
  nlohmann::json records = nlohmann::json::array();
  for (int workers : o.workers) {
    std::string db = (dir / fmt::format("search-w{}.db", workers)).string();
    std::string log = (dir / fmt::format("search-w{}.log", workers)).string();
    if (fs::exists(db)) throw std::invalid_argument(fmt::format("--keep: '{}' exists already (choose an empty directory)", db));
    // PostgreSQL: a new search in the database named after this run (the database keeps it).
    std::string name;
    if (!o.postgres.empty()) db = o.postgres, name = fmt::format("bench-search-{:.0f}-{}-w{}", unix_now(), getpid(), workers);
    std::vector<std::string> args = search_command(o, workers, db, name);
    std::vector<std::string> shown = args;  // the URL's password is not printed or recorded
    for (std::string& arg : shown)
      if (arg == db) arg = search::mask_password(db);
    double load_before = load_average_1m();
    std::cerr << fmt::format("nos-bench search: {} worker(s): {}\n", workers, command_line(shown)) << std::flush;
    // A kernel cache of its own: every worker count starts as cold as the first search on a
    // machine, instead of reusing the kernels the previous one compiled.
    std::string cache = (dir / fmt::format("kernel-cache-w{}", workers)).string();
    double start = unix_now();
    // On a URL nos-search run writes NAME.workers.log in its working directory: DIR's.
    Finished finished = run_logged(args, log, cache, name.empty() ? "" : dir.string());
    double end = unix_now();
    const int status = finished.wait_status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::invalid_argument(fmt::format("nos-search run with {} worker(s) failed ({}); its output, {}:\n{}", workers,
                                              WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                                                : fmt::format("signal {}", WTERMSIG(status)),
                                              log, tail_of(log, 15)));
    auto storage = open_read_only(db);
    std::vector<search::SearchInfo> searches = storage->searches();
    std::optional<search::SearchId> id;
    for (const search::SearchInfo& info : searches)
      if (name.empty() ? searches.size() == 1 : info.name == name) id = info.id;
    if (!id) throw std::logic_error(fmt::format("{}: {} searches, none is the one just run", storage->location(), searches.size()));
    SearchStats stats = analyze_search(*storage, *id, {workers, start, end, o.pace_window});
    stats.cpu = CpuTimes{finished.own_cpu, std::max(0.0, finished.total_cpu - finished.own_cpu),
                         static_cast<int>(std::thread::hardware_concurrency())};
    nlohmann::json record = to_json(stats);
    record["command"] = command_line(shown);
    record["load_avg_1m_before"] = load_before;
    record["load_avg_1m_after"] = load_average_1m();
    record["config"] = nlohmann::json::parse(stats.config_json, nullptr, false);
    if (!o.keep.empty() && name.empty()) record["database"] = db;
    if (!name.empty()) record["search"] = name;
    if (o.readers) record["reader_seconds"] = time_readers(o, db, name, dir, log, cache);
    std::cerr << fmt::format("nos-bench search: {} worker(s): {} candidates, {} trained in {:.1f} s; overhead {:.2f}%\n",
                             workers, stats.counts.results, stats.counts.trained, stats.time.wall,
                             100 * stats.overhead_share())
              << std::flush;
    records.push_back(std::move(record));
    runs.push_back(std::move(stats));
  }
  std::vector<Scaling> ratios;
  for (std::size_t i = 1; i < runs.size(); ++i) ratios.push_back(scaling(runs[0], runs[i]));
  std::cout << format_search_report(runs, ratios);
  write_document(o, records, ratios);
  return kOk;
}

}  // namespace

void add_search_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<SearchBenchOptions>();
  o->nos_search = default_nos_search();
  CLI::App* cmd = app.add_subcommand(
      "search", "search throughput: nos-search run per worker count on the default child; candidates, trainings, "
                "hits and rejections per hour, and the share of worker time outside child training");
  cmd->add_option("--workers", o->workers, "worker counts to measure one after the other, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--time-budget", o->time_budget,
                  "seconds of search per worker count (nos-search's --time-budget: the batch in progress finishes; "
                  "0: none, needs --budget)")
      ->check(tool::range_validator(0, 1e7))
      ->capture_default_str();
  cmd->add_option("--budget", o->budget, "candidates per worker count (default: unlimited, the time budget ends it)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  tool::add_seed_option(*cmd, "--seed", o->seed, "the search's seed, the same for every worker count")->capture_default_str();
  cmd->add_option("--strategy", o->strategy, "nos-search's --strategy (default: its own, lstm)");
  cmd->add_option("--child-args", o->child_args,
                  "more options for nos-search run, split at spaces (e.g. \"--train-subset 2000 --epochs 1\"); repeatable");
  cmd->add_option("--json", o->json, "write the records as JSON to this file");
  cmd->add_option("--keep", o->keep, "keep the databases and logs in this directory (default: a temporary one, removed)");
  cmd->add_option("--nos-search", o->nos_search, "the nos-search executable")->capture_default_str();
  cmd->add_option("--postgres", o->postgres,
                  "run each search in this PostgreSQL database (a new search named bench-search-TIME-PID-wN, kept) "
                  "instead of an SQLite file");
  cmd->add_option("--pace-window", o->pace_window,
                  "candidates in each window of the pace (seconds per candidate over the first and the last ones)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  cmd->add_flag("--readers", o->readers, "time nos-search status, top and report on each finished search");
  cmd->add_option("--analyze", o->analyze,
                  "run nothing: read this search database (one search, made with the one --workers count given), "
                  "its wall time from its creation to its last write");
  cmd->footer("Runs `nos-search run --db DIR/search-wN.db --workers N --seed S --no-report --no-baseline "
              "--budget B --time-budget T [--strategy X] CHILD-ARGS` for each N, its output in DIR/search-wN.log, "
              "then reads the database. docs/benchmarks.md says what each number means.");
  cmd->callback([&run, o] { run = [o] { return run_search_bench(*o); }; });
}

}  // namespace nos::bench
