#include "runtime/step_graph.h"

#include <stdexcept>

#include <fmt/format.h>

#if defined(NOS_TORCH_CUDA) && __has_include(<ATen/cuda/CUDAGraph.h>)
#define NOS_CUDA_GRAPHS 1
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace nos::runtime {
namespace {

// The first line of an exception's message: CUDA's carry long backtraces.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

bool cuda_graphs_built() {
#ifdef NOS_CUDA_GRAPHS
  return true;
#else
  return false;
#endif
}

StepGraph::StepGraph(std::function<torch::Tensor()> step, RuleOptimizer& optimizer, const torch::Device& device,
                     int warmup)
    : step_(std::move(step)), optimizer_(optimizer), device_(device), warmup_(warmup) {
  if (!device.is_cuda()) mode_ = "eager: CUDA graphs need a CUDA device";
  else if (!cuda_graphs_built()) mode_ = "eager: this LibTorch has no CUDA graphs";
  else if (!optimizer.step_in_memory()) mode_ = "eager: the rule's step scalars are not in device memory";
}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const { return graph_ != nullptr; }

torch::Tensor StepGraph::run() {
  ++runs_;
#ifdef NOS_CUDA_GRAPHS
  if (graph_) {
    static_cast<at::cuda::CUDAGraph*>(graph_.get())->replay();
    optimizer_.count_replayed_step();
    return loss_.clone();
  }
  if (mode_.empty() && runs_ > warmup_) return capture();
#endif
  return step_();
}

torch::Tensor StepGraph::capture() {
#ifdef NOS_CUDA_GRAPHS
  const std::int64_t t = optimizer_.step_count();
  auto graph = std::make_shared<at::cuda::CUDAGraph>();
  bool capturing = false;
  try {
    graph->capture_begin();
    capturing = true;
    torch::Tensor loss = step_();
    capturing = false;
    graph->capture_end();
    // The capture recorded the step without running it: the count goes back, the replay runs it.
    optimizer_.reset_step_count(t);
    graph->replay();
    optimizer_.count_replayed_step();
    graph_ = graph;
    loss_ = loss;
    mode_ = "graph";
    return loss_.clone();
  } catch (const std::exception& e) {
    if (capturing) try {
        graph->capture_end();  // ends the stream's capture; it fails, having captured nothing usable
      } catch (const std::exception&) {
      }
    mode_ = "eager: the step could not be captured: " + first_line(e.what());
    // Nothing captured ran: the parameters and states are as before, and the step runs now.
    optimizer_.reset_step_count(t);
    return step_();
  }
#else
  return step_();
#endif
}

StepGraph::SideStream::SideStream(const torch::Device& device) {
#ifdef NOS_CUDA_GRAPHS
  if (!device.is_cuda()) return;
  c10::cuda::CUDAStream previous = c10::cuda::getCurrentCUDAStream(device.index());
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, previous.device_index());
  at::cuda::CUDAEvent queued;
  queued.record(previous);
  queued.block(side);
  guard_ = std::make_shared<c10::cuda::CUDAStreamGuard>(side);
#else
  (void)device;
#endif
}

StepGraph::SideStream::~SideStream() {
#ifdef NOS_CUDA_GRAPHS
  if (!guard_) return;
  // The previous stream's later work is ordered after this stream's.
  auto* guard = static_cast<c10::cuda::CUDAStreamGuard*>(guard_.get());
  c10::cuda::CUDAStream side = guard->current_stream(), previous = guard->original_stream();
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(previous);
  guard_.reset();
#endif
}

}  // namespace nos::runtime
