#include "runtime/loss_reader.h"

#include <torch/torch.h>

namespace nos::runtime {

bool LossReader::add(std::int64_t step, const torch::Tensor& loss) {
  pending_.emplace_back(step, loss.detach());
  return static_cast<int>(pending_.size()) >= k_;
}

std::optional<LossReader::Divergence> LossReader::read(std::vector<double>& healthy) {
  if (pending_.empty()) return std::nullopt;
  std::vector<double> values;
  if (pending_.size() == 1) {
    values.push_back(pending_.front().second.item<double>());
  } else {
    std::vector<torch::Tensor> losses;
    for (const auto& [step, loss] : pending_) losses.push_back(loss.reshape({}));
    // Widened on the host, as item<double>() does: the same doubles as a per-step read.
    torch::Tensor host = torch::stack(losses).cpu().to(torch::kDouble);
    values.assign(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
  }
  std::optional<Divergence> found;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::optional<std::string> why = guard_.check(values[i], pending_[i].first)) {
      found = Divergence{pending_[i].first, *why};
      break;
    }
    healthy.push_back(values[i]);
  }
  pending_.clear();
  return found;
}

int effective_check_every(int check_every, bool cuda) {
  if (check_every > 0) return check_every;
  return cuda ? kCudaCheckEvery : 1;
}

}  // namespace nos::runtime
