// The torch side of `nos-bench kernels`: NOS through its torch::optim::Optimizer, LibTorch's
// optimizers, the hand-written ATen versions, the fused Adam and the roofline buffers.
#include "benchmarks/nos_bench/step_impls.h"

#include <cmath>
#include <stdexcept>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>
#include <torch/version.h>

#if __has_include(<ATen/ops/_fused_adam.h>)
#include <ATen/ops/_fused_adam.h>
#define NOS_BENCH_HAVE_FUSED_ADAM 1
#endif

#include "benchmarks/nos_bench/roofline.h"
#include "benchmarks/nos_bench/torch_params.h"
#include "runtime/rule_optimizer.h"
#include "runtime/torch_compat.h"

namespace nos::bench {
namespace {

void synchronize_device(const std::string& device) {
  if (device != "cpu") torch::cuda::synchronize();
}

// ---- nos ----------------------------------------------------------------------------------------

class NosRunner final : public StepRunner {
 public:
  NosRunner(const BenchRule& rule, const Workload& workload, RuleOptimizerOptions options)
      : params_(workload), device_(workload.device) {
    for (std::size_t i = 0; i < params_.w.size(); ++i) params_.w[i].mutable_grad() = params_.g[i];
    optimizer_ = std::make_unique<RuleOptimizer>(params_.w, rule.rule, options);
  }
  void step() override { optimizer_->step(); }
  void synchronize() override { synchronize_device(device_); }

 private:
  TorchParams params_;
  std::string device_;
  std::unique_ptr<RuleOptimizer> optimizer_;
};

std::unique_ptr<StepRunner> make_nos(const BenchRule& rule, const Workload& workload, std::string* skipped) {
  // The backend is named, not "auto": the interpreter fallback is a correctness oracle, not a
  // contender, so a build without a compiled backend skips NOS rather than timing the oracle.
  codegen::Backend backend = workload.device == "cpu" ? codegen::Backend::Cpu : codegen::Backend::Cuda;
  std::string why;
  if (!codegen::backend_available(backend, &why)) {
    *skipped = "no compiled NOS backend for " + workload.device + ": " + why;
    return nullptr;
  }
  auto options = RuleOptimizerOptions(Hyper::lr)
                     .total_steps(Hyper::total_steps)
                     .threads(0)  // RuleOptimizer's default: LibTorch's pool, sized to workload.threads
                     .backend(codegen::name(backend));
  auto runner = std::make_unique<NosRunner>(rule, workload, options);
  runner->note = std::string("backend ") + codegen::name(backend);
  return runner;
}

// ---- libtorch -----------------------------------------------------------------------------------

class LibtorchRunner final : public StepRunner {
 public:
  LibtorchRunner(Known known, const Workload& workload) : params_(workload), device_(workload.device) {
    for (std::size_t i = 0; i < params_.w.size(); ++i) params_.w[i].mutable_grad() = params_.g[i];
    switch (known) {
      case Known::Sgd: optimizer_ = std::make_unique<torch::optim::SGD>(params_.w, torch::optim::SGDOptions(Hyper::lr)); break;
      case Known::Adam:
        optimizer_ = std::make_unique<torch::optim::Adam>(
            params_.w, torch::optim::AdamOptions(Hyper::lr).betas({Hyper::beta1, Hyper::beta2}).eps(Hyper::eps));
        break;
      case Known::Rmsprop:
        optimizer_ = std::make_unique<torch::optim::RMSprop>(
            params_.w, torch::optim::RMSpropOptions(Hyper::lr).alpha(Hyper::rmsprop_alpha).eps(Hyper::eps));
        break;
      default: throw std::logic_error("LibtorchRunner: no LibTorch optimizer for this rule");
    }
  }
  void step() override { optimizer_->step(); }
  void synchronize() override { synchronize_device(device_); }

 private:
  TorchParams params_;
  std::string device_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

// ---- aten-eager, hand-written -------------------------------------------------------------------

// What a user writes for each rule with ATen ops: in-place updates of the state and the weight,
// temporaries where the expression needs them. Bias correction as torch::optim::Adam applies it;
// sign(m) needs none (the correction is a positive factor).
class AtenEagerRunner final : public StepRunner {
 public:
  AtenEagerRunner(Known known, const Workload& workload) : known_(known), params_(workload), device_(workload.device) {
    int n_states = known == Known::Adam ? 2 : known == Known::Sgd ? 0 : 1;
    for (int s = 0; s < n_states; ++s) states_.push_back(params_.zeros_like_w());
  }

  void step() override {
    torch::NoGradGuard no_grad;
    ++t_;
    const double lr = Hyper::lr, b1 = Hyper::beta1, b2 = Hyper::beta2, eps = Hyper::eps;
    for (std::size_t i = 0; i < params_.w.size(); ++i) {
      at::Tensor& w = params_.w[i];
      const at::Tensor& g = params_.g[i];
      switch (known_) {
        case Known::Sgd: w.add_(g, -lr); break;
        case Known::Adam: {
          at::Tensor &m = states_[0][i], &v = states_[1][i];
          double bc1 = 1 - std::pow(b1, t_), bc2 = 1 - std::pow(b2, t_);
          m.mul_(b1).add_(g, 1 - b1);
          v.mul_(b2).addcmul_(g, g, 1 - b2);
          at::Tensor denom = (v / bc2).sqrt_().add_(eps);
          w.addcdiv_(m, denom, -lr / bc1);
          break;
        }
        case Known::Rmsprop: {
          at::Tensor& v = states_[0][i];
          const double alpha = Hyper::rmsprop_alpha;
          v.mul_(alpha).addcmul_(g, g, 1 - alpha);
          w.addcdiv_(g, v.sqrt().add_(eps), -lr);
          break;
        }
        case Known::PowerSign: {
          at::Tensor& m = states_[0][i];
          m.mul_(b1).add_(g, 1 - b1);
          w.add_(g * at::exp(at::sign(g) * at::sign(m)), -lr);
          break;
        }
        case Known::AddSign: {
          at::Tensor& m = states_[0][i];
          m.mul_(b1).add_(g, 1 - b1);
          w.add_(g * (1 + at::sign(g) * at::sign(m)), -lr);
          break;
        }
        case Known::None: throw std::logic_error("AtenEagerRunner: no hand-written version");
      }
    }
  }
  void synchronize() override { synchronize_device(device_); }

 private:
  Known known_;
  TorchParams params_;
  std::string device_;
  std::vector<std::vector<at::Tensor>> states_;  // [slot][tensor]
  std::int64_t t_ = 0;
};

// ---- aten-fused ---------------------------------------------------------------------------------

#ifdef NOS_BENCH_HAVE_FUSED_ADAM
// at::_fused_adam_ as torch.optim.Adam(fused=True) calls it: the step counts are float tensors on
// the device, incremented by the caller before the kernel.
class FusedAdamRunner final : public StepRunner {
 public:
  explicit FusedAdamRunner(const Workload& workload)
      : params_(workload), m_(params_.zeros_like_w()), v_(params_.zeros_like_w()), device_(workload.device) {
    for (std::size_t i = 0; i < params_.w.size(); ++i)
      steps_.push_back(at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(workload.device)));
  }
  void step() override {
    torch::NoGradGuard no_grad;
    at::_foreach_add_(steps_, 1);
    at::_fused_adam_(params_.w, params_.g, m_, v_, {}, steps_, Hyper::lr, Hyper::beta1, Hyper::beta2,
                     /*weight_decay=*/0.0, Hyper::eps, /*amsgrad=*/false, /*maximize=*/false);
  }
  void synchronize() override { synchronize_device(device_); }

 private:
  TorchParams params_;
  std::vector<at::Tensor> m_, v_, steps_;
  std::string device_;
};
#endif

// ---- roofline -----------------------------------------------------------------------------------

class RooflineRunner final : public StepRunner {
 public:
  RooflineRunner(int n_states, const Workload& workload)
      : n_states_(n_states), numel_(workload.numel), threads_(workload.threads), device_(workload.device) {
    at::TensorOptions options = at::TensorOptions().dtype(at::kFloat).device(workload.device);
    // Filled, not just allocated: the first touch of a page must not land in a timed step.
    w_ = at::randn({numel_}, options);
    g_ = at::randn({numel_}, options);
    for (int s = 0; s < n_states; ++s) states_.push_back(at::zeros({numel_}, options));
    note = workload.shapes.size() > 1 ? "one flat buffer of the same total size" : "";
    if (device_ == "cpu" && !roofline_uses_openmp()) note += (note.empty() ? "" : "; ") + std::string("std::threads per call (no OpenMP)");
    if (device_ == "cpu") {
      float* states[kMaxRooflineStates] = {};
      for (int s = 0; s < n_states; ++s) states[s] = states_[s].data_ptr<float>();
      variant_ = fastest_roofline_variant(w_.data_ptr<float>(), g_.data_ptr<float>(), states, n_states_, numel_, threads_);
      note += (note.empty() ? "" : "; ") + roofline_variant_name(variant_);
    }
  }
  void step() override {
    float* states[kMaxRooflineStates] = {};
    for (int s = 0; s < n_states_; ++s) states[s] = states_[s].data_ptr<float>();
    if (device_ == "cpu") {
      roofline_cpu(w_.data_ptr<float>(), g_.data_ptr<float>(), states, n_states_, numel_, threads_, variant_);
      return;
    }
#ifdef NOS_BENCH_NVRTC
    roofline_cuda(w_.data_ptr<float>(), g_.data_ptr<float>(), states, n_states_, numel_,
                  runtime::compat::current_stream(w_.device()));
#else
    throw std::runtime_error("this build has no NVRTC roofline kernel (NOS_WITH_CUDA=OFF)");
#endif
  }
  void synchronize() override { synchronize_device(device_); }

 private:
  int n_states_;
  std::int64_t numel_;
  int threads_;
  int variant_ = 0;  // roofline_cpu's loop variant: the fastest on this workload
  std::string device_;
  at::Tensor w_, g_;
  std::vector<at::Tensor> states_;
};

}  // namespace

const std::vector<Impl>& all_impls() {
  static const std::vector<Impl> impls = {Impl::Nos, Impl::Libtorch, Impl::AtenEager, Impl::AtenFused, Impl::Roofline};
  return impls;
}

const char* name(Impl impl) {
  switch (impl) {
    case Impl::Nos: return "nos";
    case Impl::Libtorch: return "libtorch";
    case Impl::AtenEager: return "aten-eager";
    case Impl::AtenFused: return "aten-fused";
    case Impl::Roofline: return "roofline";
  }
  return "?";
}

std::unique_ptr<StepRunner> make_runner(Impl impl, const BenchRule& rule, const Workload& workload,
                                        std::string* skipped) {
  switch (impl) {
    case Impl::Nos: return make_nos(rule, workload, skipped);
    case Impl::Libtorch:
      if (rule.known != Known::Sgd && rule.known != Known::Adam && rule.known != Known::Rmsprop) {
        *skipped = "LibTorch has no optimizer for this rule";
        return nullptr;
      }
      return std::make_unique<LibtorchRunner>(rule.known, workload);
    case Impl::AtenEager:
      if (rule.known == Known::None) return make_aten_ir_runner(rule, workload);
      return std::make_unique<AtenEagerRunner>(rule.known, workload);
    case Impl::AtenFused:
      if (rule.known != Known::Adam) {
        *skipped = "at::_fused_adam_ implements Adam only";
        return nullptr;
      }
#ifdef NOS_BENCH_HAVE_FUSED_ADAM
      return std::make_unique<FusedAdamRunner>(workload);
#else
      *skipped = "this LibTorch has no at::_fused_adam_";
      return nullptr;
#endif
    case Impl::Roofline: {
      int n_states = static_cast<int>(rule.rule.optimized.states.size());
      if (workload.device != "cpu") {
#ifndef NOS_BENCH_NVRTC
        *skipped = "this build has no NVRTC roofline kernel (NOS_WITH_CUDA=OFF)";
        return nullptr;
#endif
      }
      return std::make_unique<RooflineRunner>(n_states, workload);
    }
  }
  return nullptr;
}

void set_torch_threads(int threads) { at::set_num_threads(threads); }

bool torch_device_available(const std::string& device, std::string* why) {
  if (device == "cpu") return true;
  if (device == "cuda" && torch::cuda::is_available()) return true;
  if (why) *why = device == "cuda" ? "LibTorch sees no CUDA device (a CPU-only build, or no GPU)" : "unknown device " + device;
  return false;
}

std::string torch_description() {
  return std::string("LibTorch ") + TORCH_VERSION + (torch::cuda::is_available() ? " (CUDA)" : " (CPU)") + ", " +
         std::to_string(at::get_num_threads()) + " intra-op threads";
}

}  // namespace nos::bench
