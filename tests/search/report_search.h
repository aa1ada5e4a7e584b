// A synthetic search database with what `nos-search run` stores (controller/search/README.md, "What
// the JSON columns hold"), made through the Storage API, for the tests of `nos-search report`:
//
//   batch 0: c0 ok 0.80 (curve), c1 ok 0.95 (curve; the best rule, its text full of HTML's
//            special characters), c2 screened out (no reward), c3 crashed twice (crash reward 0)
//   batch 1: c4 cache hit of c1, c5 fingerprint hit of c0 (no curve of its own), c6 ok 0.83
//            without a curve, c7 diverged (reward 0)
//   batch 2: c8 invalid (reward 0), c9 ok 0.85 (curve), c10 still queued
//   batch records (strategy baseline and entropy) for batches 0 and 1; batch 2 is not finished.
//   artifacts: baseline:adam (with a curve), baseline:sgd (without), and an unrelated "final:table".
#pragma once

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>

#include "controller/search/storage.h"

namespace nos::search::testing {

inline constexpr const char* kTopRule = "sign(g) * <b>m & \"v\"</b> + 'x'";

inline std::string hash_of(int i) {
  std::string hex = "0123456789abcdef";
  std::string h(16, '0');
  for (int k = 15, v = 0x5e00 + i; k >= 0 && v; --k, v >>= 4) h[k] = hex[v & 15];
  return h;
}

inline NewCandidate report_candidate(int i, const std::string& rule) {
  NewCandidate c;
  c.rule = rule;
  c.tokens = "g id id id mul";
  c.hash = hash_of(i);
  c.fingerprint = "f" + hash_of(i).substr(1);
  return c;
}

// `{"epochs": [{"epoch": 1, "val_acc": a0}, ...]}` with train/val losses beside, as the evaluate API writes.
inline std::string curves_json(std::initializer_list<double> val_acc) {
  std::string out = R"({"epochs": [)";
  int epoch = 1;
  for (double acc : val_acc) {
    if (epoch > 1) out += ", ";
    out += "{\"epoch\": " + std::to_string(epoch) + R"(, "train_loss": 0.5, "val_loss": 0.6, "val_acc": )" +
           std::to_string(acc) + R"(, "seconds": 0.3})";
    ++epoch;
  }
  return out + R"(], "sweep": [{"lr": 0.01, "status": "ok", "metric": 0.7, "message": ""}]})";
}

inline EvaluationResult ok_result(double reward, const std::string& curves = "{}") {
  EvaluationResult r;
  r.reward = reward;
  r.metric = reward;
  r.lr = 0.01;
  r.metrics_json = R"({"val_acc": )" + std::to_string(reward) + "}";
  r.curves_json = curves;
  r.timings_json = R"({"compile": 0.01, "sweep": 1.0, "training": 1.5, "validation": 0.1, "total": 2.7})";
  return r;
}

inline EvaluationResult resolved(Status status, Source source, std::optional<double> reward,
                                 std::optional<std::int64_t> reused_from = std::nullopt) {
  EvaluationResult r;
  r.status = status;
  r.source = source;
  r.reward = reward;
  r.metric = reward;
  r.reused_from = reused_from;
  return r;
}

inline void finish_claimed(Storage& storage, SearchId id, const EvaluationResult& result) {
  auto claimed = storage.claim(id, "worker-1");
  if (!claimed || !storage.finish(claimed->lease, result)) throw std::runtime_error("report_search: finish failed");
}

inline SearchId make_report_search(Storage& storage) {
  SearchId id = storage.create_search("fmnist", R"({"strategy": "lstm", "algorithm": "ppo", "batch": 4})", {});

  NewCandidate c2 = report_candidate(2, "m * 0");
  c2.resolved = resolved(Status::Rejected, Source::Screened, std::nullopt);
  c2.resolved->detail = "zero: every update is 0";
  storage.enqueue_batch(id, 0, {report_candidate(0, "g"), report_candidate(1, kTopRule), c2, report_candidate(3, "adam")});
  finish_claimed(storage, id, ok_result(0.80, curves_json({0.70, 0.76, 0.80})));
  finish_claimed(storage, id, ok_result(0.95, curves_json({0.85, 0.92, 0.95})));
  for (int attempt = 0; attempt < 2; ++attempt) storage.abandon(storage.claim(id, "worker-1")->lease, "worker died");
  storage.save_strategy_state(id, 0, "state0", R"({"batch": 0, "strategy": {"baseline": 0.5, "entropy": 2.1}})");

  NewCandidate c4 = report_candidate(1, kTopRule);  // the same rule: the same hash
  c4.resolved = ok_result(0.95);
  c4.resolved->source = Source::CacheHit;
  c4.resolved->reused_from = 1;
  NewCandidate c5 = report_candidate(5, "g * 1");
  c5.fingerprint = report_candidate(0, "g").fingerprint;
  c5.resolved = ok_result(0.80);
  c5.resolved->source = Source::FingerprintHit;
  c5.resolved->reused_from = 0;
  storage.enqueue_batch(id, 1, {c4, c5, report_candidate(6, "sign(g)"), report_candidate(7, "g * 100")});
  finish_claimed(storage, id, ok_result(0.83));  // a trained result that stored no curve
  finish_claimed(storage, id, resolved(Status::Diverged, Source::Trained, 0.0));
  storage.save_strategy_state(id, 1, "state1", R"({"batch": 1, "strategy": {"baseline": 0.6, "entropy": 1.9}})");

  NewCandidate c8 = report_candidate(8, "log(0)");
  c8.resolved = resolved(Status::Invalid, Source::Screened, 0.0);
  storage.enqueue_batch(id, 2, {c8, report_candidate(9, "g + sign(m)"), report_candidate(10, "m")});
  finish_claimed(storage, id, ok_result(0.85, curves_json({0.80, 0.83, 0.85})));

  storage.put_artifact(id, "baseline:adam",
                       R"({"optimizer": "adam", "status": "ok", "lr": 0.001, "metric": 0.86, "curves": )" +
                           curves_json({0.78, 0.84, 0.86}) + "}");
  storage.put_artifact(id, "baseline:sgd", R"({"optimizer": "sgd", "status": "ok", "lr": 0.1, "metric": 0.82})");
  storage.put_artifact(id, "final:table", R"({"rows": []})");
  return id;
}

// Three stored runs of `nos-search final`: an unnumbered 'final' as databases before the
// numbering hold (one seed, and its old sentence calls 0.8549 against 0.8546 "better"), then
// final:1 (two seeds, rates 0.1 and 1) and final:2 (three seeds, a transfer task that failed).
inline constexpr const char* kLegacyFinal = R"json({"search": "fmnist", "database": "x.db",
  "task": {"name": "search", "data": "fashion-mnist", "model": "mlp", "hidden": [256], "epochs": 5,
           "train_subset": 10000, "metric": "val_acc", "seeds": [7]},
  "results": [
    {"optimizer": "rank 1", "kind": "rule", "rule": "m / sqrt(v)", "hash": "00000000000005e1", "metrics": [0.8549],
     "mean": 0.8549, "std": 0, "ok": 1, "lrs": [0.1], "lr_median": 0.1},
    {"optimizer": "adam", "kind": "baseline", "rule": null, "hash": null, "metrics": [0.8546], "mean": 0.8546,
     "std": 0, "ok": 1, "lrs": [0.01], "lr_median": 0.01}],
  "verdict": "best found rule (rank 1) val_acc 0.8549 ± 0.0000 vs adam 0.8546 ± 0.0000: the found rule is better on this task",
  "notes": [], "transfer": null})json";

inline constexpr const char* kFinal1 = R"json({"search": "fmnist", "key": "final:1", "number": 1,
  "settings": {"top": 1, "seeds": 2, "baselines": ["adam"], "sgd_momentum": 0.9, "greedy": false,
               "search_epochs": null, "search_train_subset": null, "transfer": null, "threads": 0, "time_budget": 0},
  "started_at": 1764800000, "finished_at": 1764800090, "seconds": 90,
  "task": {"name": "search", "data": "fashion-mnist", "model": "mlp", "hidden": [256], "epochs": 5,
           "train_subset": 10000, "metric": "val_acc", "seeds": [7, 8], "searched": null},
  "results": [
    {"optimizer": "adam", "kind": "baseline", "rule": null, "hash": null, "metrics": [0.85, 0.86], "mean": 0.855,
     "std": 0.00707, "ok": 2, "lrs": [0.01, 0.01]},
    {"optimizer": "rank 1", "kind": "rule", "rule": "m / sqrt(v)", "hash": "00000000000005e1", "metrics": [0.84, 0.85],
     "mean": 0.845, "std": 0.00707, "ok": 2, "lrs": [0.1, 1]}],
  "verdict": "final:1's verdict", "comparison": {"decision": "no_significant_difference"},
  "notes": [], "transfer": null})json";

inline constexpr const char* kFinal2 = R"json({"search": "fmnist", "key": "final:2", "number": 2,
  "settings": {"top": 2, "seeds": 3, "baselines": ["adam", "sgd"], "sgd_momentum": 0.9, "greedy": true,
               "search_epochs": 1, "search_train_subset": 2000, "transfer": {"model": "convnet"}, "threads": 0,
               "time_budget": 0},
  "started_at": 1764900000, "finished_at": 1764900030, "seconds": 30,
  "task": {"name": "search", "data": "fashion-mnist", "model": "mlp", "hidden": [256], "epochs": 1,
           "train_subset": 2000, "metric": "val_acc", "seeds": [7, 8, 9],
           "searched": {"epochs": 5, "train_subset": 10000}},
  "results": [
    {"optimizer": "rank 1", "kind": "rule", "rule": "m / sqrt(v)", "hash": "00000000000005e1",
     "metrics": [0.80, 0.81, 0.82], "mean": 0.81, "std": 0.01, "ok": 3, "lrs": [0.1, 1, 0.1]},
    {"optimizer": "adam", "kind": "baseline", "rule": null, "hash": null, "metrics": [0.70, 0.71, 0.72],
     "mean": 0.71, "std": 0.01, "ok": 3, "lrs": [0.01, 0.01, 0.01]}],
  "verdict": "final:2's verdict", "comparison": {"decision": "rule_better"},
  "comparisons": [
    {"rule": "rank 1", "baseline": "adam", "decision": "rule_better", "short": "better", "pairs": 3, "excluded": 0,
     "mean_difference": 0.1, "ci95": [0.1, 0.1], "p": 0, "seeds_to_tell": null, "seeds_to_tell_text": "-"},
    {"rule": "rank 2", "baseline": "adam", "decision": "no_significant_difference",
     "short": "no significant difference", "pairs": 2, "excluded": 1, "mean_difference": 0.004,
     "ci95": [-0.02, 0.028], "p": 0.41, "seeds_to_tell": 23, "seeds_to_tell_text": "23"}],
  "notes": [], "transfer": {"task": {"name": "transfer", "data": "fashion-mnist", "model": "convnet", "epochs": 1,
                                     "train_subset": 2000, "metric": "val_acc", "seeds": [7, 8, 9]},
                            "error": "the transfer task: convnet needs images"}})json";

inline void add_report_finals(Storage& storage, SearchId id) {
  storage.put_artifact(id, "final", kLegacyFinal);
  storage.put_artifact(id, "final:2", kFinal2);
  storage.put_artifact(id, "final:1", kFinal1);
}

}  // namespace nos::search::testing
