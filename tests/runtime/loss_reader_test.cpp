// LossReader: losses kept on the device and read every k steps, checked in step order.
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "runtime/loss_reader.h"
// Last: LibTorch pulls in glog, whose CHECK macros must not replace doctest's.
#include <doctest/doctest.h>

using namespace nos::runtime;

TEST_CASE("a broken loss is found within k steps, named by its own step") {
  DivergenceGuard guard;
  LossReader reader(guard, 4);
  std::vector<double> healthy;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> curve{2.0, 1.5, 1.25, 1.0, 0.75, nan, 0.5, 0.25};  // exact in float32
  std::optional<std::int64_t> found_at;  // the step after which the reader reported it
  std::optional<LossReader::Divergence> divergence;
  for (std::size_t i = 0; i < curve.size() && !divergence; ++i) {
    auto step = static_cast<std::int64_t>(i + 1);
    if (reader.add(step, torch::tensor(static_cast<float>(curve[i])))) {
      divergence = reader.read(healthy);
      found_at = step;
    }
  }
  REQUIRE(divergence);
  CHECK(divergence->step == 6);
  CHECK(divergence->message == "loss is nan at step 6");
  CHECK(*found_at == 8);            // the read after step 8: within k = 4 steps of step 6
  const std::vector<double> before{2.0, 1.5, 1.25, 1.0, 0.75};
  CHECK(healthy == before);
  CHECK(reader.empty());            // the losses after the broken one are dropped
}

TEST_CASE("losses read together equal losses read one by one") {
  std::vector<float> curve{2.25f, 1.0f / 3.0f, 1e-7f, 7.5f};
  DivergenceGuard one_guard, batch_guard;
  LossReader one(one_guard, 1), batch(batch_guard, 100);
  std::vector<double> each, together;
  for (std::size_t i = 0; i < curve.size(); ++i) {
    CHECK(one.add(static_cast<std::int64_t>(i + 1), torch::tensor(curve[i])));
    CHECK_FALSE(one.read(each));
    CHECK_FALSE(batch.add(static_cast<std::int64_t>(i + 1), torch::tensor(curve[i])));
  }
  CHECK_FALSE(batch.read(together));
  CHECK(each == together);
  CHECK(each[1] == static_cast<double>(1.0f / 3.0f));
}

TEST_CASE("k defaults to 1 on the CPU and kCudaCheckEvery on CUDA") {
  CHECK(effective_check_every(0, false) == 1);
  CHECK(effective_check_every(0, true) == kCudaCheckEvery);
  CHECK(effective_check_every(5, false) == 5);
  CHECK(effective_check_every(5, true) == 5);
}
