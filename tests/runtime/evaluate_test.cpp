// The evaluate API (runtime/evaluate.h) on short children: tiny data, one or two epochs. Every way
// a candidate can end is a status, timings are split, and the spec's problems are named.
#include <doctest/doctest.h>

#include <string>

#include "compiler/codegen/executor.h"
#include "runtime/evaluate.h"
#include "test_data_files.h"

using namespace nos;
using namespace nos::runtime;
using namespace nos::testing;

namespace {

const std::string& blobs_file() {
  static const std::string file = write_blobs_csv(temp_dir("evaluate_blobs") + "/blobs.csv", 300, 8, 3, false);
  return file;
}

EvaluateSpec small(const std::string& rule) {
  EvaluateSpec spec;
  spec.rule = compiler::RuleSource::text(rule);
  spec.model.hidden = {16};
  spec.data = blobs_file();
  spec.val_fraction = 0.2;
  spec.epochs = 2;
  spec.batch_size = 32;
  spec.threads = 1;
  spec.lrs = {0.05};
  spec.seed = 3;
  return spec;
}

}  // namespace

TEST_CASE("evaluate: a rule trains, metrics, curves and split timings come back") {
  EvaluateResult r = evaluate(small("exp(sign(g) * sign(m)) * g"));
  CHECK(r.status == Status::Ok);
  REQUIRE(r.rule.has_value());
  CHECK(r.rule->hash == compiler::compile_text("exp(sign(g) * sign(m)) * g").hash);
  REQUIRE(r.runs.size() == 1);
  CHECK(r.metric == r.runs[0].val_acc);
  CHECK(r.metric > 0.9);
  CHECK(r.runs[0].history.size() == 2);
  CHECK(r.runs[0].batch_losses.size() == 16);  // 240 examples in batches of 32, twice
  CHECK(r.data.train_size == 240);
  CHECK(r.data.val_size == 60);
  CHECK(r.timings.training > 0);
  CHECK(r.timings.validation > 0);
  CHECK(r.timings.compile >= r.runs[0].compile_seconds);
  CHECK(r.timings.total >= r.timings.training + r.timings.validation + r.timings.data);
}

TEST_CASE("evaluate: a learning-rate grid runs every rate from the same start and picks by the metric") {
  EvaluateSpec spec = small("g");
  spec.lrs = {1e-6, 0.1};
  std::vector<double> started;
  EvaluateResult r = evaluate(spec, {[&](double lr) { started.push_back(lr); }, {}});
  CHECK(started == spec.lrs);
  REQUIRE(r.runs.size() == 2);
  CHECK(r.best == 1);
  CHECK(r.lr == 0.1);
  CHECK(r.runs[1].val_acc > r.runs[0].val_acc);
}

TEST_CASE("evaluate: a diverging rule is status diverged, and loses the grid to one that does not") {
  EvaluateResult r = evaluate(small("exp(g2) * 1e30"));
  CHECK(r.status == Status::Diverged);
  CHECK_FALSE(r.message.empty());
}

TEST_CASE("evaluate: the time budget is a status") {
  EvaluateSpec spec = small("g");
  spec.time_budget = 1e-9;
  EvaluateResult r = evaluate(spec);
  CHECK(r.status == Status::TimeBudget);
  CHECK(r.runs[0].steps == 1);
}

TEST_CASE("evaluate: a rule that does not compile is status compile_failed, with the place") {
  EvaluateResult r = evaluate(small("exp(sgin(g))"));
  CHECK(r.status == Status::CompileFailed);
  CHECK(r.message.find("<expr>:1:5: error: unknown name 'sgin'") == 0);
  CHECK(r.runs.empty());
}

TEST_CASE("evaluate: a rule whose kernel cannot be built is status compile_failed, not an exception") {
  std::string why;
  if (!codegen::backend_available(codegen::Backend::Cpu, &why)) {
    MESSAGE("[SKIP] no CPU backend: " << why);
    return;
  }
  // Four state slots: one more than the kernel ABI has buffers for (no rule text can ask for it).
  compiler::CompiledRule rule = compiler::compile_text("g");
  for (int s = 0; s < 4; ++s) rule.optimized.states.push_back({1, 0.5f + 0.1f * static_cast<float>(s), true});
  rule.hash = ir::canonical_hash(rule.optimized);
  EvaluateSpec spec = small("g");
  spec.backend = "cpu";
  spec.lrs = {0.01, 0.1};
  EvaluateResult r = evaluate(spec, {}, {&rule, nullptr});
  CHECK(r.status == Status::CompileFailed);
  CHECK(r.message.find("kernel of this rule cannot be built") != std::string::npos);
  CHECK(r.message.find("state slots") != std::string::npos);
  CHECK(r.runs.size() == 1);  // the grid stops: every rate would fail the same way
}

TEST_CASE("evaluate: LibTorch's optimizers are candidates too") {
  EvaluateSpec spec = small("g");
  spec.rule.reset();
  spec.torch_optimizer = "adam";
  spec.lrs = {0.01};
  EvaluateResult r = evaluate(spec);
  CHECK(r.status == Status::Ok);
  CHECK_FALSE(r.rule.has_value());
  CHECK(r.optimizer == "torch adam");
  CHECK(r.runs[0].backend == "torch");
}

TEST_CASE("evaluate: a spec that cannot run is std::invalid_argument naming the problem") {
  EvaluateSpec spec = small("g");
  spec.threads = 5000;
  CHECK_THROWS_WITH_AS(evaluate(spec), doctest::Contains("threads 5000"), std::invalid_argument);
  spec = small("g");
  spec.lrs = {1e-60};
  CHECK_THROWS_WITH_AS(evaluate(spec), doctest::Contains("rounds to 0 in float32"), std::invalid_argument);
  spec = small("g");
  spec.model.hidden = {1 << 24, 1 << 24};
  CHECK_THROWS_WITH_AS(evaluate(spec), doctest::Contains("at most 268435456 are supported"), std::invalid_argument);
  spec = small("g");
  spec.device = "tpu";
  CHECK_THROWS_AS(evaluate(spec), std::invalid_argument);
}

TEST_CASE("evaluate: the same seed gives the same result, the data can be prepared once") {
  EvaluateSpec spec = small("adam + eps");
  Dataset data = load_dataset(blobs_file());
  EvaluateResult a = evaluate(spec), b = evaluate(spec, {}, {nullptr, &data});
  CHECK(a.runs[0].batch_losses == b.runs[0].batch_losses);
  CHECK(a.metric == b.metric);
}
