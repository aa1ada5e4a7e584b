// The tensors of one benchmark workload, shared by the two torch translation units (step_impls.cpp
// and aten_ir.cpp): parameters and gradients on the workload's device, filled from a fixed seed.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "benchmarks/nos_bench/step_impls.h"

namespace nos::bench {

struct TorchParams {
  std::vector<at::Tensor> w, g;

  // Every implementation of a workload starts from the same values: w ~ N(0, 1), g ~ N(0, 1e-2).
  // The values matter little for speed (the kernels are branch-free), but random signs keep
  // sign-dependent ops honest.
  explicit TorchParams(const Workload& workload, std::uint64_t seed = 0) {
    at::Generator generator = at::detail::createCPUGenerator(seed);
    at::TensorOptions options = at::TensorOptions().dtype(at::kFloat);
    for (const std::vector<std::int64_t>& shape : workload.shapes) {
      // Drawn on the CPU with one generator, so the values do not depend on the device.
      w.push_back(at::randn(shape, generator, options).to(workload.device));
      g.push_back(at::randn(shape, generator, options).mul_(1e-2).to(workload.device));
    }
  }

  // States of the same shapes, zero like every optimizer's initial state.
  std::vector<at::Tensor> zeros_like_w() const {
    std::vector<at::Tensor> out;
    for (const at::Tensor& t : w) out.push_back(at::zeros_like(t));
    return out;
  }
};

}  // namespace nos::bench
