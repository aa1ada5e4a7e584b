// RuleOptimizer on CPU: Adam, SGD and RMSProp written as rules reproduce LibTorch's optimizers over
// 200 steps of a real network; checkpoints resume bit for bit and refuse another rule; the
// optimizer's bookkeeping (state per rule, skipped parameters, groups, T) behaves as documented.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <torch/serialize.h>

#include "equivalence.h"
#include "runtime/rule_optimizer.h"
#include "runtime/torch_compat.h"
#include "test_data_files.h"
// Last: LibTorch pulls in glog, whose CHECK macros must not replace doctest's.
#include <doctest/doctest.h>

using namespace nos;
using namespace nos::testing;

namespace {

std::vector<std::string> cpu_backends() {
  std::vector<std::string> backends{"interp"};
  if (codegen::backend_available(codegen::Backend::Cpu)) backends.push_back("cpu");
  return backends;
}

compiler::CompiledRule compile(const std::string& text) { return compiler::compile_text(text); }

}  // namespace

TEST_CASE("Adam, SGD and RMSProp as rules match LibTorch's optimizers over 200 steps on CPU") {
  for (const std::string& backend : cpu_backends())
    for (const EquivalenceCase& c : equivalence_cases()) {
      CAPTURE(backend);
      CAPTURE(c.rule);
      EquivalenceResult r = run_equivalence(c, torch::Device(torch::kCPU), backend);
      MESSAGE(backend << " '" << c.rule << "': max |diff| shadowed " << r.shadowed.max_abs << ", free-running "
                      << r.free_early.max_abs << " at step 50 and " << r.free_final.max_abs << " at step 200"
                      << " (parameters moved up to " << r.free_final.max_moved << ")");
      CHECK(r.rule_steps == kEquivalenceSteps);
      CHECK(r.shadowed.all_finite);
      CHECK(r.free_final.all_finite);
      CHECK(r.shadowed.max_moved > 100 * kShadowedMaxAbs);  // the comparison is not vacuous
      CHECK(r.shadowed.max_abs < kShadowedMaxAbs);
      CHECK(r.free_early.max_abs < kFreeEarlyMaxAbs);
      CHECK(r.free_final.max_abs < kFreeFinalMaxAbs);
      CHECK(r.free_final.max_abs < 0.01 * r.free_final.max_moved);
    }
}

TEST_CASE("a checkpoint resumes training bit for bit") {
  torch::Device cpu(torch::kCPU);
  std::vector<Batch> batches = random_batches(cpu);
  // State (m, v) and a random stream (noise, keyed by t): both must survive the checkpoint.
  const std::string text = "adam + 0.01 * noise";
  std::string path = temp_dir("checkpoint") + "/optimizer.pt";
  for (const std::string& backend : cpu_backends()) {
    CAPTURE(backend);
    auto options = RuleOptimizerOptions(1e-3).backend(backend).seed(17);
    torch::nn::Sequential straight = test_model(cpu);
    RuleOptimizer straight_opt(straight->parameters(), compile(text), options);
    train_steps(straight, straight_opt, batches, 20);

    torch::nn::Sequential first = test_model(cpu);
    {
      RuleOptimizer opt(first->parameters(), compile(text), options);
      train_steps(first, opt, batches, 7);
      torch::save(opt, path);
    }
    torch::nn::Sequential resumed = test_model(cpu, /*seed=*/99);  // different weights until copied
    {
      torch::NoGradGuard no_grad;
      auto from = first->parameters(), to = resumed->parameters();
      for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    }
    RuleOptimizer resumed_opt(resumed->parameters(), compile(text), RuleOptimizerOptions(0.5));
    torch::load(resumed_opt, path);
    CHECK(resumed_opt.step_count() == 7);
    CHECK(static_cast<const RuleOptimizerOptions&>(resumed_opt.param_groups()[0].options()).seed() == 17);
    train_steps(resumed, resumed_opt, batches, 13, /*first_step=*/7);

    auto a = straight->parameters(), b = resumed->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  }
}

TEST_CASE("a checkpoint of another rule is refused, naming both hashes") {
  torch::Device cpu(torch::kCPU);
  std::string path = temp_dir("checkpoint_other") + "/optimizer.pt";
  torch::nn::Sequential model = test_model(cpu);
  compiler::CompiledRule powersign = compile("exp(sign_g * sign_m) * g"), adam = compile("adam");
  RuleOptimizer saved(model->parameters(), powersign, RuleOptimizerOptions(0.01).backend("interp"));
  train_steps(model, saved, random_batches(cpu), 2);
  torch::save(saved, path);

  RuleOptimizer other(model->parameters(), adam);
  try {
    torch::load(other, path);
    FAIL("loading another rule's checkpoint must throw");
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    CHECK(message.find(powersign.hash_hex()) != std::string::npos);
    CHECK(message.find(adam.hash_hex()) != std::string::npos);
  }
  CHECK(other.step_count() == 0);
  CHECK(other.state().empty());

  // The same rule written differently has the same canonical hash, so its checkpoint loads.
  RuleOptimizer same(model->parameters(), compile("g * exp(sign(m) * sign(g))"));
  torch::load(same, path);
  CHECK(same.step_count() == 2);
}

TEST_CASE("a checkpoint with differently shaped parameter groups is refused") {
  torch::Device cpu(torch::kCPU);
  std::string path = temp_dir("checkpoint_shape") + "/optimizer.pt";
  torch::nn::Sequential model = test_model(cpu);
  RuleOptimizer saved(model->parameters(), compile("g"));
  torch::save(saved, path);
  std::vector<torch::Tensor> fewer = model->parameters();
  fewer.pop_back();
  RuleOptimizer other(fewer, compile("g"));
  CHECK_THROWS_WITH_AS(torch::load(other, path), doctest::Contains("parameter group 0"), std::runtime_error);
}

TEST_CASE("state buffers exist only for what the rule reads, in float32, zero before the first step") {
  struct Expect {
    const char* rule;
    std::size_t buffers;
  };
  for (Expect e : {Expect{"g", 0}, Expect{"exp(sign_g * sign_m) * g", 1}, Expect{"adam", 2}, Expect{"g3 / y + adam", 3}}) {
    CAPTURE(e.rule);
    torch::Tensor w = torch::ones({3, 2}, torch::requires_grad());
    RuleOptimizer opt({w}, compile(e.rule), RuleOptimizerOptions(0.0).backend("interp"));
    w.mutable_grad() = torch::zeros({3, 2});
    opt.step();
    REQUIRE(opt.state().size() == 1);
    const auto& state = static_cast<const RuleParamState&>(*opt.state().begin()->second);
    REQUIRE(state.buffers().size() == e.buffers);
    for (const torch::Tensor& b : state.buffers()) {
      CHECK((b.scalar_type() == torch::kFloat));
      CHECK((b.sizes() == w.sizes()));
      CHECK(torch::equal(b, torch::zeros_like(b)));  // zero gradients keep zero averages
    }
  }
}

TEST_CASE("parameters without a gradient are skipped, groups keep their own learning rate") {
  torch::Tensor a = torch::full({4}, 1.0, torch::requires_grad()), b = torch::full({2, 2}, 1.0, torch::requires_grad()),
                c = torch::full({3}, 1.0, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a, b});
  groups.emplace_back(std::vector<torch::Tensor>{c}, std::make_unique<RuleOptimizerOptions>(0.5));
  RuleOptimizer opt(std::move(groups), compile("g"), RuleOptimizerOptions(0.1).backend("interp"));
  a.mutable_grad() = torch::full({4}, 2.0);
  c.mutable_grad() = torch::full({3}, 2.0);
  opt.step();
  CHECK(torch::allclose(a, torch::full({4}, 1.0 - 0.1 * 2.0)));
  CHECK(torch::equal(b, torch::full({2, 2}, 1.0)));  // no gradient: untouched
  CHECK(torch::allclose(c, torch::full({3}, 1.0 - 0.5 * 2.0)));
  CHECK(opt.state().size() == 2);
  CHECK(opt.state().count(runtime::compat::state_key(b)) == 0);
}

TEST_CASE("step() with a closure returns its loss, and zero_grad clears gradients") {
  torch::Tensor w = torch::full({2}, 3.0, torch::requires_grad());
  RuleOptimizer opt({w}, compile("g"), RuleOptimizerOptions(0.25).backend("interp"));
  torch::Tensor loss = opt.step([&] {
    opt.zero_grad();
    torch::Tensor l = (w * w).sum();
    l.backward();
    return l;
  });
  CHECK(loss.item<double>() == 18.0);
  CHECK(torch::allclose(w, torch::full({2}, 3.0 - 0.25 * 6.0)));
  opt.zero_grad();
  CHECK((!w.grad().defined() || torch::equal(w.grad(), torch::zeros({2}))));
}

TEST_CASE("a rule that reads T needs total_steps at construction") {
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  CHECK_THROWS_WITH_AS(RuleOptimizer({w}, compile("(1 + ld * sign_g * sign_m) * g")),
                       doctest::Contains("total_steps"), std::invalid_argument);
  RuleOptimizer ok({w}, compile("(1 + ld * sign_g * sign_m) * g"),
                   RuleOptimizerOptions(0.1).total_steps(10).backend("interp"));
  w.mutable_grad() = torch::ones({2});
  ok.step();
  // ld = 1 - 1/10 at t = 1; sign(m) = sign(g) = 1, so delta = (1 + 0.9) * 1.
  CHECK(torch::allclose(w, torch::full({2}, 1.0 - 0.1 * 1.9)));
}

TEST_CASE("invalid options are refused with the option named") {
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  CHECK_THROWS_WITH_AS(RuleOptimizer({w}, compile("g"), RuleOptimizerOptions(0.1).backend("tpu")),
                       doctest::Contains("unknown backend 'tpu'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(RuleOptimizer({w}, compile("g"), RuleOptimizerOptions(-1)), doctest::Contains("learning rate"),
                       std::invalid_argument);
  RuleOptimizer on_cpu({w}, compile("g"), RuleOptimizerOptions(0.1).backend("cuda"));
  w.mutable_grad() = torch::ones({2});
  CHECK_THROWS_WITH_AS(on_cpu.step(), doctest::Contains("cannot update parameters on cpu"), std::invalid_argument);
  torch::Tensor ints = torch::ones({2}, torch::kDouble).requires_grad_();
  RuleOptimizer doubles({ints}, compile("g"));
  ints.mutable_grad() = torch::ones({2}, torch::kDouble);
  CHECK_THROWS_WITH_AS(doubles.step(), doctest::Contains("Double"), std::invalid_argument);
  CHECK(doubles.step_count() == 0);  // a refused step does not count
}

TEST_CASE("backend auto picks the LLVM CPU backend when this build has it, else the interpreter") {
  RuleOptimizerOptions options(0.1);
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  RuleOptimizer opt({w}, compile("g"), options);
  codegen::Backend expected =
      codegen::backend_available(codegen::Backend::Cpu) ? codegen::Backend::Cpu : codegen::Backend::Interp;
  CHECK((opt.backend_for(options, torch::Device(torch::kCPU)) == expected));
  CHECK((opt.backend_for(options, torch::Device(torch::kCUDA, 0)) == codegen::Backend::Cuda));
}

TEST_CASE("CPU kernels on LibTorch's pool run on more than one thread when the pool has them") {
  if (std::thread::hardware_concurrency() < 2) {
    MESSAGE("[SKIP] one hardware thread");
    return;
  }
  int saved = at::get_num_threads();
  at::set_num_threads(2);
  std::mutex mutex;
  std::set<std::thread::id> workers;
  nos::torch_parallel_for()(64, [&](std::int64_t, std::int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // long enough for both to start
    std::lock_guard<std::mutex> lock(mutex);
    workers.insert(std::this_thread::get_id());
  });
  at::set_num_threads(saved);
  CHECK(workers.size() == 2);
}

TEST_CASE("step scalars kept in memory give the same updates as scalars passed per step, bit for bit") {
  // ld and cd (schedules over T), eps and noise (random streams keyed by t and the seed), adam's
  // bias corrections (per-step inputs): everything that changes from step to step.
  torch::Device cpu(torch::kCPU);
  std::vector<Batch> batches = random_batches(cpu);
  const std::int64_t total = 24;
  for (const std::string& backend : cpu_backends())
    for (const char* text : {"adam * ld + eps", "sign(m) * cd + 0.01 * noise", "rmsprop * ld"}) {
      CAPTURE(backend);
      CAPTURE(text);
      auto options = RuleOptimizerOptions(3e-3).backend(backend).seed(11).total_steps(total);
      torch::nn::Sequential by_argument = test_model(cpu), in_memory = test_model(cpu);
      RuleOptimizer argument_opt(by_argument->parameters(), compile(text), options);
      RuleOptimizer memory_opt(in_memory->parameters(), compile(text), options);
      memory_opt.set_step_in_memory(true);
      train_steps(by_argument, argument_opt, batches, 10);
      train_steps(in_memory, memory_opt, batches, 10);
      // A caller that resets the count (as after a CUDA graph's capture) keeps the table in step.
      memory_opt.reset_step_count(10);
      train_steps(by_argument, argument_opt, batches, 14, /*first_step=*/10);
      train_steps(in_memory, memory_opt, batches, 14, /*first_step=*/10);
      CHECK(memory_opt.step_count() == total);
      auto a = by_argument->parameters(), b = in_memory->parameters();
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
      // The table ends at T: one step more is refused, and leaves the optimizer as it was.
      backward_on(in_memory, batches[0]);
      CHECK_THROWS_WITH_AS(memory_opt.step(), doctest::Contains("beyond total_steps 24"), std::invalid_argument);
      CHECK(memory_opt.step_count() == total);
    }
}

TEST_CASE("step scalars in memory follow a checkpoint's step count") {
  torch::Device cpu(torch::kCPU);
  std::vector<Batch> batches = random_batches(cpu);
  const std::string text = "adam * ld + 0.01 * noise";
  std::string path = temp_dir("checkpoint_memory") + "/optimizer.pt";
  auto options = RuleOptimizerOptions(1e-3).seed(5).total_steps(20);
  torch::nn::Sequential straight = test_model(cpu), first = test_model(cpu);
  RuleOptimizer straight_opt(straight->parameters(), compile(text), options);
  train_steps(straight, straight_opt, batches, 20);
  {
    RuleOptimizer opt(first->parameters(), compile(text), options);
    train_steps(first, opt, batches, 7);
    torch::save(opt, path);
  }
  // Loaded at step 7, its first step moves the device counter there from 0.
  RuleOptimizer resumed_opt(first->parameters(), compile(text), options);
  resumed_opt.set_step_in_memory(true);
  torch::load(resumed_opt, path);
  train_steps(first, resumed_opt, batches, 13, /*first_step=*/7);
  auto a = straight->parameters(), b = first->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
}

TEST_CASE("step scalars in memory need T, and a table of bounded size") {
  torch::Device cpu(torch::kCPU);
  torch::nn::Sequential model = test_model(cpu);
  RuleOptimizer no_total(model->parameters(), compile("adam"), RuleOptimizerOptions(1e-3));
  CHECK_THROWS_WITH_AS(no_total.set_step_in_memory(true), doctest::Contains("need total_steps"), std::invalid_argument);
  RuleOptimizer huge(model->parameters(), compile("adam"), RuleOptimizerOptions(1e-3).total_steps(4'000'000'000));
  CHECK_THROWS_WITH_AS(huge.set_step_in_memory(true), doctest::Contains("exceeds 256 MiB"), std::invalid_argument);
  CHECK_FALSE(huge.step_in_memory());
}
