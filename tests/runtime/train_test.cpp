// The training loop through its torch-free interface: determinism for a fixed seed, the divergence
// guard, the time budget, LibTorch's optimizers for comparison, configuration errors, and the
// run's thread count reaching the BLAS library. The evaluate API on top of it: evaluate_test.cpp.
#include <doctest/doctest.h>

#include <string>

#include "runtime/cpu_threads.h"
#include "runtime/data/dataset.h"
#include "runtime/trainer.h"
#include "test_data_files.h"

using namespace nos::runtime;
using namespace nos::testing;

namespace {

// 3 separable classes of 8 features; small enough that a run takes milliseconds.
const Split& blobs() {
  static const Split split = [] {
    std::string dir = temp_dir("train_blobs");
    SplitOptions options;
    options.val_fraction = 0.2;
    return split_dataset(load_dataset(write_blobs_csv(dir + "/blobs.csv", 400, 8, 3, false)), options);
  }();
  return split;
}

OptimizerSpec rule(const std::string& text) {
  OptimizerSpec spec;
  spec.rule = nos::compiler::compile_text(text);
  return spec;
}

TrainConfig small_config() {
  TrainConfig config;
  config.model.hidden = {16};
  config.epochs = 3;
  config.batch_size = 32;
  config.lr = 0.05;
  config.seed = 5;
  config.threads = 1;
  return config;
}

}  // namespace

TEST_CASE("a rule trains the mlp to high accuracy on separable data") {
  RunResult run = train(blobs(), rule("exp(sign_g * sign_m) * g"), small_config());
  CHECK(run.status == Status::Ok);
  REQUIRE(run.history.size() == 3);
  CHECK(run.steps == 3 * 10);  // 320 training examples in batches of 32
  CHECK(run.batch_losses.size() == 30);
  CHECK(run.val_acc > 0.9);
  CHECK(run.history.back().train_loss < run.history.front().train_loss);
  CHECK(run.val_acc_max_last_k >= run.val_acc_mean_last_k);
}

TEST_CASE("training is deterministic for a fixed seed") {
  // eps draws fresh noise per element and step: determinism covers the rule's random streams too.
  OptimizerSpec noisy = rule("adam + eps");
  RunResult a = train(blobs(), noisy, small_config()), b = train(blobs(), noisy, small_config());
  CHECK(a.batch_losses == b.batch_losses);
  CHECK(a.val_acc == b.val_acc);
  TrainConfig other = small_config();
  other.seed = 6;
  CHECK(train(blobs(), noisy, other).batch_losses != a.batch_losses);
}

TEST_CASE("a diverging rule ends with status diverged, not an exception") {
  RunResult run = train(blobs(), rule("exp(g2) * 1e30"), small_config());
  CHECK(run.status == Status::Diverged);
  CHECK(run.message.find("loss") != std::string::npos);
  CHECK(run.steps < 30);
  REQUIRE_FALSE(run.history.empty());
  CHECK_FALSE(run.history.back().complete);
}

TEST_CASE("the time budget stops a run after the step that exceeds it") {
  TrainConfig config = small_config();
  config.time_budget = 1e-9;
  RunResult run = train(blobs(), rule("g"), config);
  CHECK(run.status == Status::TimeBudget);
  CHECK(run.steps == 1);
  CHECK(run.history.size() == 1);
}

TEST_CASE("LibTorch's optimizers train through the same loop") {
  for (const char* name : {"adam", "rmsprop", "sgd"}) {
    OptimizerSpec spec;
    spec.torch_optimizer = name;
    spec.momentum = 0.9;
    TrainConfig config = small_config();
    config.lr = std::string(name) == "sgd" ? 0.05 : 0.01;
    RunResult run = train(blobs(), spec, config);
    CAPTURE(name);
    CHECK(run.backend == "torch");
    CHECK(run.val_acc > 0.9);
  }
}

TEST_CASE("configurations that cannot run are errors naming the problem") {
  TrainConfig config = small_config();
  config.model.name = "convnet";
  CHECK_THROWS_WITH_AS(train(blobs(), rule("g"), config), doctest::Contains("convnet needs image data"),
                       std::invalid_argument);
  config = small_config();
  config.model.name = "resnet9";
  CHECK_THROWS_WITH_AS(train(blobs(), rule("g"), config), doctest::Contains("unknown model 'resnet9'"),
                       std::invalid_argument);
  config = small_config();
  config.device = "tpu";
  CHECK_THROWS_WITH_AS(train(blobs(), rule("g"), config), doctest::Contains("'tpu'"), std::invalid_argument);
  OptimizerSpec unknown;
  unknown.torch_optimizer = "lion";
  CHECK_THROWS_WITH_AS(train(blobs(), unknown, small_config()), doctest::Contains("unknown optimizer 'lion'"),
                       std::invalid_argument);
}

TEST_CASE("the convnet trains on images") {
  std::string dir = temp_dir("train_images");
  write_idx_pair(dir + "/train", 120, 8, 8, 3, true);
  SplitOptions options;
  options.val_fraction = 0.25;
  Split split = split_dataset(load_dataset(dir), options);
  TrainConfig config = small_config();
  config.model.name = "convnet";
  config.lr = 0.01;
  RunResult run = train(split, rule("adam"), config);
  CHECK(run.status == Status::Ok);
  CHECK(run.val_acc > 0.9);
}

TEST_CASE("the residual net trains on images above chance and refuses tables") {
  std::string dir = temp_dir("train_resnet");
  write_idx_pair(dir + "/train", 120, 8, 8, 3, true);
  SplitOptions options;
  options.val_fraction = 0.25;
  Split split = split_dataset(load_dataset(dir), options);
  TrainConfig config = small_config();
  config.model.name = "resnet";
  config.lr = 0.01;
  RunResult run = train(split, rule("adam"), config);
  CHECK(run.status == Status::Ok);
  CHECK(run.val_acc > 0.6);  // 3 classes: chance is 1/3
  config = small_config();
  config.model.name = "resnet";
  CHECK_THROWS_WITH_AS(train(blobs(), rule("g"), config), doctest::Contains("resnet needs image data"),
                       std::invalid_argument);
}

TEST_CASE("a run's thread count reaches the BLAS library, not only LibTorch's pool") {
  set_cpu_threads(2);
  if (blas_threads() == 0) {
    MESSAGE("skipped: this process's BLAS is not OpenBLAS (its thread count cannot be read)");
    return;
  }
  TrainConfig config = small_config();
  config.threads = 1;
  RunResult run = train(blobs(), rule("sign(m) * 0.1"), config);
  CHECK(run.status == Status::Ok);
  CHECK(blas_threads() == 1);  // left at one per core, they would spin beside the other workers
}

TEST_CASE("losses read every k steps give the per-step check's result for a diverging rule") {
  // exp(g2) * 1e30 breaks the loss within a few steps; k = 4 and 7 read it late, in batches.
  TrainConfig config = small_config();
  config.check_every = 1;
  RunResult every = train(blobs(), rule("exp(g2) * 1e30"), config);
  REQUIRE(every.status == Status::Diverged);
  for (int k : {4, 7, 100}) {
    CAPTURE(k);
    config.check_every = k;
    RunResult late = train(blobs(), rule("exp(g2) * 1e30"), config);
    CHECK(late.status == Status::Diverged);
    CHECK(late.message == every.message);
    CHECK(late.steps == every.steps);
    CHECK(late.batch_losses == every.batch_losses);
    REQUIRE(late.history.size() == every.history.size());
    CHECK(late.history.back().train_loss == doctest::Approx(every.history.back().train_loss));
    CHECK_FALSE(late.history.back().complete);
  }
}

TEST_CASE("losses read every k steps give the same healthy run, bit for bit") {
  TrainConfig config = small_config();
  RunResult every = train(blobs(), rule("adam + eps"), config);
  config.check_every = 3;  // 10 steps an epoch: a partial read at every epoch's end
  RunResult late = train(blobs(), rule("adam + eps"), config);
  CHECK(late.status == Status::Ok);
  CHECK(late.batch_losses == every.batch_losses);
  CHECK(late.val_acc == every.val_acc);
  REQUIRE(late.history.size() == every.history.size());
  for (std::size_t i = 0; i < late.history.size(); ++i) {
    CHECK(late.history[i].train_loss == every.history[i].train_loss);
    CHECK(late.history[i].val_loss == every.history[i].val_loss);
  }
}

TEST_CASE("the time budget reads the waiting losses before it stops the run") {
  TrainConfig config = small_config();
  config.time_budget = 1e-9;
  config.check_every = 8;
  RunResult run = train(blobs(), rule("g"), config);
  CHECK(run.status == Status::TimeBudget);
  CHECK(run.steps == 1);
  CHECK(run.batch_losses.size() == 1);
}

TEST_CASE("the CUDA-graph step path trains as the plain loop does, bit for bit, where it runs eagerly") {
  // On the CPU the graph path runs every step eagerly through the same fixed inputs, in-place
  // gradient zeroing and step scalars in memory that a captured graph would replay.
  for (const char* text : {"adam * ld + eps", "exp(sign_g * sign_m) * g"}) {
    CAPTURE(text);
    TrainConfig config = small_config();
    config.batch_size = 48;  // 320 examples: 6 full batches and a short one of 32 each epoch
    RunResult plain = train(blobs(), rule(text), config);
    config.cuda_graphs = true;
    RunResult graphed = train(blobs(), rule(text), config);
    CHECK(plain.graph.empty());
    CHECK(graphed.graph == "eager: CUDA graphs need a CUDA device");
    CHECK(graphed.status == plain.status);
    CHECK(graphed.steps == plain.steps);
    CHECK(graphed.batch_losses == plain.batch_losses);
    CHECK(graphed.val_acc == plain.val_acc);
  }
}

TEST_CASE("with CUDA graphs asked for, a diverging rule and LibTorch's optimizers end as without") {
  TrainConfig config = small_config();
  RunResult plain = train(blobs(), rule("exp(g2) * 1e30"), config);
  config.cuda_graphs = true;
  RunResult graphed = train(blobs(), rule("exp(g2) * 1e30"), config);
  CHECK(graphed.status == Status::Diverged);
  CHECK(graphed.message == plain.message);
  CHECK(graphed.steps == plain.steps);
  CHECK(graphed.batch_losses == plain.batch_losses);

  OptimizerSpec adam;
  adam.torch_optimizer = "adam";
  RunResult torch_run = train(blobs(), adam, config);
  CHECK(torch_run.graph == "eager: LibTorch's optimizers compute their step on the host");
  CHECK(torch_run.status == Status::Ok);
}
