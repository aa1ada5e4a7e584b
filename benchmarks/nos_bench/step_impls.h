// The implementations of one optimizer step that `nos-bench kernels` races, behind a torch-free
// interface (step_impls.cpp and aten_ir.cpp hold the tensors):
//
//   nos         the rule's fused kernel through nos::RuleOptimizer::step()
//   libtorch    torch::optim::SGD / Adam / RMSprop, for the rules LibTorch has
//   aten-eager  the rule op by op with ATen tensor ops, in place where a user would write it;
//               rules without a hand-written version run op by op from their IR (aten_ir.cpp)
//   aten-fused  at::_fused_adam_ (Adam only; where this LibTorch has a kernel for the device)
//   roofline    the memory-bandwidth limit for the rule's bytes (roofline.h), over one flat buffer
//               of the same total size
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/nos_bench/bench_rules.h"

namespace nos::bench {

enum class Impl { Nos, Libtorch, AtenEager, AtenFused, Roofline };
const std::vector<Impl>& all_impls();
const char* name(Impl impl);

// The parameters of one measurement. Every implementation gets its own, identically initialized
// copy (seeded), so no implementation inherits another's state or cache contents.
struct Workload {
  std::string layout;                            // "single", "resnet50" or "overhead"
  std::vector<std::vector<std::int64_t>> shapes; // one entry per parameter tensor
  std::int64_t numel = 0;                        // over all tensors
  std::string device = "cpu";                    // "cpu" or "cuda"
  int threads = 1;                               // CPU threads of every implementation
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual void step() = 0;         // one optimizer step over every tensor of the workload
  virtual void synchronize() {}    // waits for the device (CUDA); nothing on the CPU
  std::string note;                // how this implementation ran, e.g. "op by op from the IR"
};

// The runner, or nullptr with *skipped saying why there is none (no LibTorch optimizer for this
// rule, no fused kernel in this LibTorch, ...). A runner may still throw on its first step() when
// LibTorch finds no kernel for the device; the caller reports that as skipped too.
std::unique_ptr<StepRunner> make_runner(Impl impl, const BenchRule& rule, const Workload& workload,
                                        std::string* skipped);

// Sets LibTorch's intra-op threads (the NOS kernel and the roofline take Workload::threads).
void set_torch_threads(int threads);
// Whether `device` can run here; `why` says what is missing.
bool torch_device_available(const std::string& device, std::string* why);
// "LibTorch 1.13.0 (CPU)" and the like, for reports.
std::string torch_description();

// aten_ir.cpp: any rule, op by op from its optimized IR (what a user transcribing the rule does).
std::unique_ptr<StepRunner> make_aten_ir_runner(const BenchRule& rule, const Workload& workload);

}  // namespace nos::bench
