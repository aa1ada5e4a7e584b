// The training losses read on the host every k steps instead of after every step: a `loss.item()`
// per step makes the host wait for the device, so a CUDA child never queues its next step ahead.
// Losses stay on the device until the reader holds k of them (or the epoch or the run ends), then
// one copy brings them all back and they are checked in step order by the divergence guard, with
// the same values and step numbers as a per-step check: the run's result is the same, except that
// up to k - 1 updates past a broken loss have run on the model (they are not counted as steps).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "runtime/metrics.h"

namespace nos::runtime {

class LossReader {
 public:
  // k >= 1: read after every k-th step (1: every step, before its update).
  LossReader(DivergenceGuard& guard, int k) : guard_(guard), k_(k) {}

  // The loss of step `step` (1-based, in order), kept on its device. True when k losses wait.
  bool add(std::int64_t step, const torch::Tensor& loss);
  bool empty() const { return pending_.empty(); }

  struct Divergence {
    std::int64_t step;    // the first step whose loss broke
    std::string message;  // the guard's
  };
  // Reads every waiting loss (one device-to-host copy) and checks them in order: each healthy one
  // is appended to `healthy`; the first broken one stops the read, and the rest are dropped.
  std::optional<Divergence> read(std::vector<double>& healthy);

 private:
  DivergenceGuard& guard_;
  int k_;
  std::vector<std::pair<std::int64_t, torch::Tensor>> pending_;
};

// The k a run uses: `check_every` when given (> 0), else 1 on the CPU (the loss is there already)
// and kCudaCheckEvery on CUDA.
inline constexpr int kCudaCheckEvery = 32;
int effective_check_every(int check_every, bool cuda);

}  // namespace nos::runtime
