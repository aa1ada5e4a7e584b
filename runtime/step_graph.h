// One training step captured in a CUDA graph and replayed (RunSettings::cuda_graphs): a child's
// step is a few hundred small launches, each costing the host more than the GPU's work, so one
// replay of them all is what makes many children per GPU pay. The step must make the same calls on
// the same tensors every time: inputs copied into fixed tensors, gradients zeroed in place, and the
// rule's per-step scalars read from device memory (RuleOptimizer::set_step_in_memory).
//
// Where a graph is impossible (no CUDA device, a LibTorch without CUDA graphs, a capture that
// fails: a model or a rule that synchronizes), every step runs eagerly through the same function,
// and mode() says why: the run's result records it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <torch/types.h>

#include "runtime/rule_optimizer.h"

namespace nos::runtime {

// Whether this build can capture CUDA graphs (a LibTorch with CUDA and at::cuda::CUDAGraph).
bool cuda_graphs_built();

class StepGraph {
 public:
  // `step` runs one training step and returns its loss. The first `warmup` runs are eager (the
  // allocator, cuDNN and the kernels settle), the next is captured, and the rest replay it.
  StepGraph(std::function<torch::Tensor()> step, RuleOptimizer& optimizer, const torch::Device& device,
            int warmup = 3);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // One step; returns its loss as a tensor of its own (a replay overwrites the graph's output).
  torch::Tensor run();
  bool captured() const;
  // "graph" once captured; "eager: WHY" when steps run eagerly for good; "" while warming up.
  const std::string& mode() const { return mode_; }

  // While alive, LibTorch's current stream on `device` is a side stream (graphs cannot be captured
  // on the default stream), ordered after the work already queued. Nothing on the CPU.
  class SideStream {
   public:
    explicit SideStream(const torch::Device& device);
    ~SideStream();
    SideStream(const SideStream&) = delete;
    SideStream& operator=(const SideStream&) = delete;

   private:
    std::shared_ptr<void> guard_;
  };

 private:
  torch::Tensor capture();

  std::function<torch::Tensor()> step_;
  RuleOptimizer& optimizer_;
  torch::Device device_;
  int warmup_;
  int runs_ = 0;
  std::string mode_;
  std::shared_ptr<void> graph_;  // at::cuda::CUDAGraph where built
  torch::Tensor loss_;           // the graph's output
};

}  // namespace nos::runtime
