#include "tools/nos_search/report_data.h"

#include "tools/nos_search/metric_label.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tools/nos_search/final_artifacts.h"
#include "tools/nos_search/final_verdict.h"
#include "controller/reward.h"
#include "controller/search/standing.h"
#include "runtime/json_text.h"

namespace nos::search::cli {
namespace {

using nlohmann::json;

// A JSON text as an object; null (and `problem` set) when it is not one.
json parse_object(const std::string& text, std::string* problem) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_object()) return value;
  if (problem) *problem = value.is_discarded() ? "not JSON" : "not a JSON object";
  return nullptr;
}

std::optional<double> number_at(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string string_at(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? json(nullptr) : *it;
}

Curve curve_of(const json& curves) {
  Curve curve;
  if (!curves.is_object()) return curve;
  auto epochs = curves.find("epochs");
  if (epochs == curves.end() || !epochs->is_array()) return curve;
  for (std::size_t i = 0; i < epochs->size(); ++i) {
    std::optional<double> acc = number_at((*epochs)[i], "val_acc");
    if (!acc) continue;
    curve.epochs.push_back(number_at((*epochs)[i], "epoch").value_or(static_cast<double>(i + 1)));
    curve.val_acc.push_back(*acc);
  }
  return curve;
}

void summarize_rewards(BatchSummary& b, const std::vector<double>& rewards) {
  if (rewards.empty()) return;
  double sum = 0;
  for (double r : rewards) sum += r;
  b.mean_reward = sum / static_cast<double>(rewards.size());
  b.max_reward = *std::max_element(rewards.begin(), rewards.end());
}

// The batch records' strategy statistics, merged into the summaries they belong to.
void read_batch_records(Storage& storage, const SearchInfo& search, std::map<std::int64_t, BatchSummary>& batches,
                        std::vector<std::string>& notes) {
  for (const BatchRecord& record : storage.batch_records(search.id)) {
    std::string problem;
    json statistics = parse_object(record.statistics_json, &problem);
    BatchSummary& b = batches[record.batch];
    b.batch = record.batch;
    b.recorded = true;
    if (statistics.is_null()) {
      notes.push_back(fmt::format("batch {}: its statistics are {}", record.batch + 1, problem));
      continue;
    }
    auto strategy = statistics.find("strategy");
    if (strategy == statistics.end()) continue;
    b.baseline = number_at(*strategy, "baseline");
    b.entropy = number_at(*strategy, "entropy");
  }
}

const Evaluation* accepted_at(const std::vector<Evaluation>& evaluations, std::int64_t candidate, int stage) {
  for (const Evaluation& e : evaluations)
    if (e.accepted && e.candidate == candidate && e.stage == stage) return &e;
  return nullptr;
}

// The first kCurveRules ranked rules' curves; a hit that stored no curve of its own shows the
// curve of the candidate it reused.
void read_top_curves(ReportData& data, const std::vector<Evaluation>& evaluations) {
  for (std::size_t i = 0; i < data.top.size() && i < static_cast<std::size_t>(kCurveRules); ++i) {
    const Evaluation& e = data.top[i].evaluation;
    std::string problem;
    Curve curve = val_acc_curve(e.curves_json, &problem);
    if (curve.epochs.empty() && e.reused_from)
      if (const Evaluation* source = accepted_at(evaluations, *e.reused_from, e.stage))
        curve = val_acc_curve(source->curves_json);
    if (curve.epochs.empty()) {
      data.notes.push_back(fmt::format("rank {} ({}, {}): no per-epoch validation accuracy stored{}", i + 1,
                                       name(e.status), name(e.source), problem.empty() ? "" : " (its curves are " + problem + ")"));
      continue;
    }
    curve.title = fmt::format("rank {}: {}{}", i + 1, shorten(data.top[i].candidate.rule, kLegendRuleWidth),
                              e.lr ? fmt::format(" (lr {:g})", *e.lr) : std::string());
    data.top_curves.push_back(std::move(curve));
  }
}

void read_baselines(Storage& storage, ReportData& data) {
  const std::string prefix = "baseline:";
  for (const std::string& key : storage.artifact_keys(data.search.id)) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::optional<std::string> text = storage.artifact(data.search.id, key);
    if (!text) continue;
    std::string problem;
    json document = parse_object(*text, &problem);
    if (document.is_null()) {
      data.notes.push_back(fmt::format("artifact '{}' is {}", key, problem));
      continue;
    }
    Baseline b;
    b.name = key.substr(prefix.size());
    b.lr = number_at(document, "lr");
    b.metric = number_at(document, "metric");
    if (auto status = document.find("status"); status != document.end() && status->is_string()) b.status = *status;
    if (auto curves = document.find("curves"); curves != document.end()) b.curve = curve_of(*curves);
    b.curve.title = b.lr ? fmt::format("{} (lr {:g})", b.name, *b.lr) : b.name;
    data.baselines.push_back(std::move(b));
  }
  std::stable_sort(data.baselines.begin(), data.baselines.end(),
                   [](const Baseline& a, const Baseline& b) { return a.name == "adam" && b.name != "adam"; });
}

// What a screened result was screened for: the probe's verdict (the detail's first word: zero,
// not_descent, ...), or why the rule is invalid.
std::string screening_reason(const Evaluation& e) {
  if (e.status == Status::Invalid)
    return e.detail.rfind("only produces NaN/inf", 0) == 0 ? "only produces NaN/inf" : "does not compile";
  std::size_t colon = e.detail.find(':');
  return colon == std::string::npos || colon == 0 ? (e.detail.empty() ? "unknown" : e.detail) : e.detail.substr(0, colon);
}

std::string optional_count(const json& value, const char* what) {
  return value.is_number_integer() ? fmt::format("{} {}", value.get<std::int64_t>(), what) : "";
}

// What a final was asked for, in words; an older document has no "settings": what its tasks show.
std::string settings_text(const json& document) {
  json settings = member(document, "settings");
  json task = member(document, "task");
  std::vector<std::string> parts;
  if (settings.is_object()) {
    parts.push_back(optional_count(member(settings, "top"), "top rules"));
    parts.push_back(optional_count(member(settings, "seeds"), "seeds"));
    std::string baselines;
    for (const json& b : member(settings, "baselines"))
      if (b.is_string()) baselines += (baselines.empty() ? "" : ", ") + b.get<std::string>();
    parts.push_back("baselines " + (baselines.empty() ? std::string("none") : baselines));
    if (member(settings, "greedy") == false) parts.push_back("no greedy rule");
    if (member(settings, "search_epochs").is_number())
      parts.push_back(fmt::format("--search-epochs {}", member(settings, "search_epochs").get<std::int64_t>()));
    if (member(settings, "search_train_subset").is_number())
      parts.push_back(fmt::format("--search-train-subset {}", member(settings, "search_train_subset").get<std::int64_t>()));
    json transfer = member(settings, "transfer");
    if (transfer.is_object()) {
      std::string t;
      for (const auto& [key, value] : transfer.items())
        t += fmt::format("{}{} {}", t.empty() ? "" : ", ", key, value.is_string() ? value.get<std::string>() : json_text(value));
      parts.push_back("transfer task: " + t);
    }
    if (json budget = member(settings, "time_budget"); budget.is_number() && budget.get<double>() > 0)
      parts.push_back(fmt::format("time budget {:g} s per training", budget.get<double>()));
  } else if (task.is_object() && member(task, "seeds").is_array()) {
    parts.push_back(fmt::format("{} seeds", member(task, "seeds").size()));
  }
  std::string out;
  for (const std::string& p : parts)
    if (!p.empty()) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string task_heading(const json& task) {
  if (!task.is_object()) return "";
  auto subset = [](const json& n) {
    return n.is_number_integer() && n.get<std::int64_t>() > 0 ? std::to_string(n.get<std::int64_t>()) : std::string("all");
  };
  std::string hidden;
  for (const json& h : member(task, "hidden"))
    if (h.is_number_integer()) hidden += (hidden.empty() ? "" : ",") + std::to_string(h.get<std::int64_t>());
  std::string model = string_at(task, "model");
  auto epochs = [](const json& n) {
    if (!n.is_number_integer()) return std::string("? epochs");
    return fmt::format("{} epoch{}", n.get<std::int64_t>(), n.get<std::int64_t>() == 1 ? "" : "s");
  };
  std::string changed;
  if (json searched = member(task, "searched"); searched.is_object())
    changed = fmt::format(" (changed from the search's {}, train subset {})", epochs(member(searched, "epochs")),
                          subset(member(searched, "train_subset")));
  std::size_t seeds = member(task, "seeds").is_array() ? member(task, "seeds").size() : 0;
  return fmt::format("{} task{}: {}, {}{}, {}, train subset {}, {} over {} seed{}", string_at(task, "name"), changed,
                     string_at(task, "data"), model, model == "mlp" && !hidden.empty() ? " [" + hidden + "]" : "",
                     epochs(member(task, "epochs")), subset(member(task, "train_subset")), string_at(task, "metric"),
                     seeds, seeds == 1 ? "" : "s");
}

std::optional<double> finite_number(const json& value) {
  return value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt;
}

FinalPair read_pair(const json& c) {
  FinalPair p;
  p.rule = string_at(c, "rule");
  p.baseline = string_at(c, "baseline");
  p.decision = string_at(c, "decision");
  p.verdict = string_at(c, "short");
  if (member(c, "pairs").is_number_integer()) p.pairs = member(c, "pairs").get<int>();
  if (member(c, "excluded").is_number_integer()) p.excluded = member(c, "excluded").get<int>();
  if (p.pairs > 0) p.difference = finite_number(member(c, "mean_difference"));
  if (json ci = member(c, "ci95"); ci.is_array() && ci.size() == 2) {
    p.ci_low = finite_number(ci[0]);
    p.ci_high = finite_number(ci[1]);
  }
  p.p = finite_number(member(c, "p"));
  p.seeds_to_tell = string_at(c, "seeds_to_tell_text");
  return p;
}

FinalTaskResult read_final_task(const json& part) {
  FinalTaskResult t;
  json task = member(part, "task");
  t.heading = task_heading(task);
  if (std::string metric = string_at(task, "metric"); !metric.empty()) t.metric = metric;
  t.seeds = member(task, "seeds").is_array() ? member(task, "seeds").size() : 0;
  t.error = string_at(part, "error");
  for (const json& r : member(part, "results")) {
    if (!r.is_object()) continue;
    FinalRow row;
    row.optimizer = string_at(r, "optimizer");
    row.kind = string_at(r, "kind");
    row.hash = string_at(r, "hash");
    row.rule = string_at(r, "rule");
    row.mean = finite_number(member(r, "mean"));
    row.std = finite_number(member(r, "std"));
    for (const json& m : member(r, "metrics")) row.metrics.push_back(finite_number(m));
    for (const json& lr : member(r, "lrs"))
      if (lr.is_number()) row.lrs.push_back(lr.get<double>());
    if (member(r, "ok").is_number_integer()) row.ok = member(r, "ok").get<int>();
    t.rows.push_back(std::move(row));
  }
  json pairs = member(part, "comparisons");
  if (!pairs.is_array() && t.error.empty()) {
    // An older final: every pair decided here from its stored per-seed metrics.
    std::vector<Contender> found, baselines;
    for (const FinalRow& row : t.rows)
      (row.kind == "baseline" ? baselines : found).push_back(Contender{row.optimizer, row.mean, row.std, row.metrics});
    pairs = comparisons_json(compare_all(found, baselines, t.metric));
    t.pairs_recomputed = true;
  }
  for (const json& c : pairs)
    if (c.is_object()) t.pairs.push_back(read_pair(c));
  t.verdict = string_at(part, "verdict");
  t.decision = string_at(member(part, "comparison"), "decision");
  if (t.decision.empty() && t.error.empty()) {
    // An older final: its stored sentence predates the paired test; decide again from its metrics.
    std::optional<Contender> rule, baseline;
    for (const FinalRow& row : t.rows) {
      std::optional<Contender>& slot = row.kind == "baseline" ? baseline : rule;
      if (!slot) slot = Contender{row.optimizer, row.mean, row.std, row.metrics};
    }
    Verdict v = decide(rule ? &*rule : nullptr, baseline ? &*baseline : nullptr, t.metric);
    t.verdict = v.sentence;
    t.decision = name(v.decision);
    t.recomputed = true;
  }
  return t;
}

void read_finals(Storage& storage, ReportData& data) {
  for (const std::string& key : final_keys(storage.artifact_keys(data.search.id))) {
    std::optional<std::string> text = storage.artifact(data.search.id, key);
    if (!text) continue;
    std::string problem;
    FinalRun run = read_final(key, *text, &problem);
    if (!problem.empty()) {
      data.notes.push_back(fmt::format("artifact '{}' is {}", key, problem));
      continue;
    }
    data.finals.push_back(std::move(run));
  }
}

// Adam's metric on the reward's scale: the configuration's transform ("reward"), identity when
// the configuration names none (or one this NOS does not know: then a note says so).
void read_adam_reward(ReportData& data) {
  const Baseline* adam = data.adam();
  if (!adam || !adam->metric) return;
  controller::RewardTransform transform = controller::RewardTransform::Identity;
  json config = json::parse(data.search.config_json, nullptr, /*allow_exceptions=*/false);
  if (std::string name = string_at(config, "reward"); !name.empty()) {
    try {
      transform = controller::parse_reward_transform(name);
    } catch (const std::invalid_argument& e) {
      data.notes.push_back(fmt::format("Adam's line on the best-reward plots is its metric: {}", e.what()));
    }
  }
  data.adam_reward = controller::transform_reward(transform, *adam->metric);
}

}  // namespace

FinalRun read_final(const std::string& key, const std::string& json_text, std::string* problem) {
  FinalRun run;
  run.key = key;
  run.number = final_number(key).value_or(0);
  json document = parse_object(json_text, problem);
  if (document.is_null()) return run;
  run.finished_at = finite_number(member(document, "finished_at"));
  run.seconds = finite_number(member(document, "seconds"));
  run.settings = settings_text(document);
  run.search = read_final_task(document);
  if (json transfer = member(document, "transfer"); transfer.is_object()) run.transfer = read_final_task(transfer);
  return run;
}

std::string shorten(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  std::size_t cut = width > 3 ? width - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "...";
}

bool ReportData::any_baseline() const {
  return std::any_of(batches.begin(), batches.end(), [](const BatchSummary& b) { return b.baseline.has_value(); });
}

bool ReportData::any_entropy() const {
  return std::any_of(batches.begin(), batches.end(), [](const BatchSummary& b) { return b.entropy.has_value(); });
}

const Baseline* ReportData::adam() const {
  for (const Baseline& b : baselines)
    if (b.name == "adam") return &b;
  return nullptr;
}

Curve val_acc_curve(const std::string& curves_json, std::string* problem) {
  return curve_of(parse_object(curves_json, problem));
}

ReportData read_report(Storage& storage, const SearchInfo& search, int top_k) {
  ReportData data;
  data.location = storage.location();
  data.search = search;
  data.metric_note = metric_note(stored_objective(search));
  data.tasks = storage.counts(search.id);

  std::map<std::int64_t, BatchSummary> batches;
  std::map<std::int64_t, std::int64_t> batch_of;  // candidate index -> batch
  std::map<std::int64_t, std::string> rule_of;
  for (const Candidate& c : storage.candidates(search.id)) {
    batch_of[c.index] = c.batch;
    rule_of[c.index] = c.rule;
    BatchSummary& b = batches[c.batch];
    b.batch = c.batch;
    ++b.candidates;
    ++data.candidates;
  }

  // Stage-1 results in the order they were stored: per batch, and the best so far.
  std::vector<Evaluation> evaluations = storage.evaluations(search.id);
  std::map<std::int64_t, std::vector<double>> rewards;
  std::optional<double> best;
  double last_finish = 0;
  for (const Evaluation& e : evaluations) {
    if (!e.accepted || e.stage != 1) continue;
    auto batch = batch_of.find(e.candidate);
    if (batch == batch_of.end()) continue;  // cannot happen: evaluations reference candidates
    BatchSummary& b = batches[batch->second];
    ++b.results;
    b.tally.add(e);
    data.tally.add(e);
    if (e.source == Source::Screened) {
      std::string reason = screening_reason(e);
      auto it = std::find_if(data.screening.begin(), data.screening.end(), [&](const ScreeningReason& r) {
        return r.status == e.status && r.reason == reason;
      });
      if (it == data.screening.end())
        it = data.screening.insert(data.screening.end(),
                                   ScreeningReason{e.status, reason, 0, e.detail, rule_of[e.candidate]});
      ++it->count;
    }
    ++data.results;
    last_finish = std::max(last_finish, e.finished_at - search.created_at);
    if (!e.reward) continue;
    rewards[b.batch].push_back(*e.reward);
    if (best && *best >= *e.reward) continue;
    best = e.reward;
    data.best.push_back({data.results, std::max(0.0, e.finished_at - search.created_at), *e.reward});
  }
  // The best so far holds until the last result: a step plot reaches it.
  if (best && data.best.back().evaluations < data.results) data.best.push_back({data.results, last_finish, *best});
  for (auto& [batch, values] : rewards) summarize_rewards(batches[batch], values);
  data.duration = last_finish;
  std::stable_sort(data.screening.begin(), data.screening.end(),
                   [](const ScreeningReason& a, const ScreeningReason& b) { return a.count > b.count; });

  read_batch_records(storage, search, batches, data.notes);
  for (auto& [batch, summary] : batches) data.batches.push_back(std::move(summary));

  const bool per_seed = per_seed_search(search);
  data.top = ranked_rules(storage, search.id, top_k, default_rank_by(per_seed));
  if (per_seed) {
    std::vector<Evaluation> baselines = storage.baseline_results(search.id);
    for (const RankedResult& r : data.top) data.top_standing.push_back(standing_lines(r, baselines));
  }
  read_top_curves(data, evaluations);
  read_baselines(storage, data);
  read_finals(storage, data);
  read_adam_reward(data);
  data.replicas = read_replicas(storage, search.id);
  data.several_searches = storage.searches().size() > 1;
  return data;
}

}  // namespace nos::search::cli
