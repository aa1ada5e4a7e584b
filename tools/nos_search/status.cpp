// nos-search status: what a search database holds: each search's configuration, its queue, its
// results by status and source, its best rule so far and its evaluation rate.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "tools/nos_search/replica_status.h"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "controller/search/tally.h"
#include "controller/search/standing.h"
#include "tools/nos_search/commands.h"
#include "tools/nos_search/metric_label.h"
#include "tools/nos_search/open_search.h"
#include "tools/nos_search/table.h"

namespace nos::search::cli {
namespace {

std::string utc(double unix_seconds) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}

// "ok 3, invalid 0, ..." in the order of `kinds` (kStatuses, kSources), every one shown (a zero is
// information too).
template <typename Kinds>
std::string count_list(const Kinds& kinds, const Tally& counts) {
  std::string out;
  for (auto kind : kinds) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name(kind), counts.of(kind));
  return out;
}

constexpr std::size_t kWidth = 100;  // of a status line

// A value as JSON with a space after each comma and colon, top-level strings unquoted: {"data":
// "x.csv", "epochs": 5}. The break opportunities of wrap() are the spaces after the commas.
std::string render(const nlohmann::json& value, bool top = false) {
  // replace: a stored text that is not UTF-8 is shown with U+FFFD rather than failing status.
  auto dump = [](const nlohmann::json& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  std::string out;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", dump(key), render(item));
    return "{" + out + "}";
  }
  if (value.is_array()) {
    for (const auto& item : value) out += (out.empty() ? "" : ", ") + render(item);
    return "[" + out + "]";
  }
  return top && value.is_string() ? value.get<std::string>() : dump(value);
}

// `text` in lines of at most `width` characters, broken only after ", " (never inside a number,
// a name or a path: an item longer than a line stands whole on its own), each line after the
// first indented by `indent`.
std::string wrap(const std::string& text, std::size_t first_width, std::size_t width, const std::string& indent) {
  std::string out, line;
  std::size_t limit = first_width;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(", ", start);
    std::size_t end = comma == std::string::npos ? text.size() : comma + 2;
    std::string_view item(text.data() + start, end - start);
    std::size_t trimmed = item.ends_with(' ') ? item.size() - 1 : item.size();
    if (!line.empty() && line.size() + trimmed > limit) {
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + '\n' + indent;
      line.clear();
      limit = width - indent.size();
    }
    line += item;
    start = end;
  }
  return out + line;
}

// The configuration's top-level entries, one per line, whole: a long value (the child, the lr
// grid) continues on the next lines, broken between its items, never inside one.
void print_config(const std::string& config_json) {
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    std::cout << "  config: " << wrap(config_json, kWidth - 10, kWidth, "      ") << '\n';
    return;
  }
  if (config.empty()) {
    std::cout << "  config: {}\n";
    return;
  }
  std::cout << "  config:\n";
  for (const auto& [key, value] : config.items()) {
    std::string head = fmt::format("    {}: ", key);
    std::cout << head << wrap(render(value, true), kWidth - std::min(head.size(), kWidth / 2), kWidth, "      ") << '\n';
  }
}

// What `run`'s progress line says, from the batch statistics it stores (batches learned from, the
// last batch's mean reward, the rate and the time left), with the candidates evaluated counted
// from the results themselves: a batch's statistics are written when the search learns from it,
// so after a kill they lag behind the results its workers had stored.
void print_progress(Storage& storage, const SearchInfo& search, const std::vector<Candidate>& candidates,
                    std::int64_t evaluated) {
  std::vector<BatchRecord> records = storage.batch_records(search.id);
  nlohmann::json config = nlohmann::json::parse(search.config_json, nullptr, /*allow_exceptions=*/false);
  std::int64_t budget = config.is_object() && config.contains("budget") && config["budget"].is_number_integer()
                            ? config["budget"].get<std::int64_t>()
                            : 0;
  // The search proposes whole batches: the budget it evaluates is rounded up to one.
  std::string rounding;
  std::int64_t batch = 0;
  for (const Candidate& c : candidates) batch += c.batch == 0;
  if (batch > 0 && budget > 0 && budget % batch != 0 && budget <= INT64_MAX - batch) {
    std::int64_t whole = (budget + batch - 1) / batch * batch;
    rounding = fmt::format(" (the budget {} in whole batches of {})", budget, batch);
    budget = whole;
  }
  if (records.empty()) {
    std::cout << fmt::format("progress: no batch learned from yet; {}/{} candidates evaluated{} ({} stored)\n", evaluated,
                             budget, rounding, candidates.size());
    return;
  }
  nlohmann::json last = nlohmann::json::parse(records.back().statistics_json, nullptr, false);
  if (!last.is_object()) return;
  std::int64_t learned = last.value("evaluated", std::int64_t{0});
  double elapsed = last.value("elapsed", 0.0);
  double per_minute = elapsed > 0 ? 60.0 * static_cast<double>(learned) / elapsed : 0;
  std::string mean = last.contains("rewards") && last["rewards"].is_object() && last["rewards"].contains("mean") &&
                             last["rewards"]["mean"].is_number()
                         ? fmt::format("{:.4f}", last["rewards"]["mean"].get<double>())
                         : "-";
  std::string pending = evaluated > learned ? fmt::format(", {} of them not learned from yet", evaluated - learned) : "";
  std::string left = evaluated > learned ? "every candidate evaluated" : "done";
  if (budget > evaluated)
    left = per_minute > 0 ? fmt::format("about {:.0f} s left at that rate", 60.0 * static_cast<double>(budget - evaluated) / per_minute)
                          : "?";
  std::cout << fmt::format("progress: {} batches learned from, {}/{} candidates evaluated{}{}; {} learned from in {:.0f} s "
                           "of search, {:.0f} candidates per minute; last batch's mean reward {}; {}\n",
                           records.size(), evaluated, budget, rounding, pending, learned, elapsed, per_minute, mean, left);
}

void print_search(Storage& storage, const SearchInfo& search) {
  std::cout << fmt::format("search '{}' (id {}), created {}\n", search.name, search.id, utc(search.created_at));
  std::cout << fmt::format("  leases: {:g} s, {} attempts, crash reward {:g}\n", search.policy.lease_seconds,
                           search.policy.max_attempts, search.policy.crash_reward);
  print_config(search.config_json);

  std::vector<Candidate> candidates = storage.candidates(search.id);
  std::int64_t batches = 0;
  for (const auto& c : candidates) batches = std::max(batches, c.batch + 1);
  TaskCounts tasks = storage.counts(search.id);
  std::cout << fmt::format("candidates: {} in {} batches\n", candidates.size(), batches);
  std::cout << fmt::format("tasks: queued {}, running {}, finished {}, crashed {}\n", tasks.queued, tasks.running,
                           tasks.finished, tasks.crashed);
  std::cout << replica_status(storage, search.id);  // controller replicas, when it has them

  // Accepted results per stage (a candidate has one per stage it reached); lost attempts apart.
  std::map<int, Tally> by_stage;
  std::int64_t lost_attempts = 0, trained = 0, evaluated = 0;
  double first_start = 0, last_finish = 0;
  for (const Evaluation& e : storage.evaluations(search.id)) {
    if (!e.accepted) {
      ++lost_attempts;
      continue;
    }
    evaluated += e.stage == 1;  // a candidate's one accepted stage-1 result
    by_stage[e.stage].add(e);
    if (e.source != Source::Trained) continue;
    ++trained;
    first_start = trained == 1 ? e.started_at : std::min(first_start, e.started_at);
    last_finish = std::max(last_finish, e.finished_at);
  }
  for (const auto& [stage, counts] : by_stage) {
    std::cout << fmt::format("stage {} results: {}\n", stage, count_list(kStatuses, counts));
    std::cout << fmt::format("  by source: {}\n", count_list(kSources, counts));
  }
  if (by_stage.empty()) std::cout << "results: none yet\n";
  if (lost_attempts) std::cout << fmt::format("failed attempts (crashes, expired leases): {}\n", lost_attempts);
  double minutes = (last_finish - first_start) / 60;
  if (trained > 0 && minutes > 0)
    std::cout << fmt::format("rate: {:.1f} trained evaluations per minute ({} from {} to {})\n", trained / minutes,
                             trained, utc(first_start), utc(last_finish));

  print_progress(storage, search, candidates, evaluated);

  const bool per_seed = per_seed_search(search);
  std::vector<RankedResult> best = ranked_rules(storage, search.id, 1, default_rank_by(per_seed));
  if (best.empty()) return;
  const auto& [candidate, e, seeds] = best.front();
  std::cout << fmt::format("best: reward {}, metric {}, lr {}, {} at stage {} (candidate {}, hash {})\n",
                           number_cell(e.reward), number_cell(e.metric), number_cell(e.lr), name(e.status), e.stage,
                           candidate.index, candidate.hash);
  std::cout << "  rule: " << candidate.rule << '\n';
  std::cout << "  tokens: " << candidate.tokens << '\n';
  if (std::string note = metric_note(stored_objective(search)); !note.empty()) std::cout << "  " << note << '\n';
  if (per_seed)
    for (const std::string& line : standing_lines(best.front(), storage.baseline_results(search.id)))
      std::cout << "  " << line << '\n';
}

}  // namespace

int status(const DatabaseOptions& options) {
  auto storage = open_read_only(options);
  std::vector<SearchInfo> searches = selected_searches(*storage, options);
  if (searches.empty()) std::cout << fmt::format("{}: no search yet\n", storage->location());
  for (std::size_t i = 0; i < searches.size(); ++i) {
    if (i) std::cout << '\n';
    print_search(*storage, searches[i]);
  }
  return 0;
}

}  // namespace nos::search::cli
