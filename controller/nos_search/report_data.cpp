#include "controller/nos_search/report_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

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
      notes.push_back(fmt::format("batch {}: its statistics are {}", record.batch, problem));
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
      data.notes.push_back(fmt::format("rank {} ({}, {}): no per-epoch validation accuracy stored{}", i + 1, e.status,
                                       e.source, problem.empty() ? "" : " (its curves are " + problem + ")"));
      continue;
    }
    curve.title = fmt::format("rank {}", i + 1);
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
    b.curve.title = b.name;
    data.baselines.push_back(std::move(b));
  }
  std::stable_sort(data.baselines.begin(), data.baselines.end(),
                   [](const Baseline& a, const Baseline& b) { return a.name == "adam" && b.name != "adam"; });
}

}  // namespace

double BatchSummary::share(const std::string& source) const {
  auto it = sources.find(source);
  if (results == 0 || it == sources.end()) return 0;
  return static_cast<double>(it->second) / static_cast<double>(results);
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
  data.tasks = storage.counts(search.id);

  std::map<std::int64_t, BatchSummary> batches;
  std::map<std::int64_t, std::int64_t> batch_of;  // candidate index -> batch
  for (const Candidate& c : storage.candidates(search.id)) {
    batch_of[c.index] = c.batch;
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
    ++b.statuses[e.status];
    ++b.sources[e.source];
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

  read_batch_records(storage, search, batches, data.notes);
  for (auto& [batch, summary] : batches) data.batches.push_back(std::move(summary));

  data.top = storage.top(search.id, top_k);
  read_top_curves(data, evaluations);
  read_baselines(storage, data);
  return data;
}

}  // namespace nos::search::cli
