#include "tools/nosc/backend_run.h"

#include <memory>

#ifdef NOS_HAVE_CUDA
#include "compiler/codegen/cuda/cuda_driver.h"
#endif

namespace nos::nosc {
namespace {

void run_on_host(codegen::Executor& exec, const ir::Function& f, const StepPlan& plan, std::vector<TensorData>& tensors,
                 const std::vector<std::vector<std::vector<float>>>& grads) {
  for (std::size_t k = 0; k < grads.size(); ++k) {
    std::vector<codegen::KernelTensor> table;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      codegen::KernelTensor t{tensors[i].w.data(), grads[k][i].data(), {}, static_cast<std::int64_t>(tensors[i].w.size()),
                              tensors[i].tensor_id, 0};
      for (std::size_t s = 0; s < f.states.size(); ++s) t.state[s] = tensors[i].states[s].data();
      table.push_back(t);
    }
    exec.step(table, codegen::make_step(f, plan.lr, static_cast<std::uint32_t>(k + 1), plan.total_steps, plan.seed));
  }
}

#ifdef NOS_HAVE_CUDA
void run_on_device(codegen::Executor& exec, const ir::Function& f, const StepPlan& plan,
                   std::vector<TensorData>& tensors, const std::vector<std::vector<std::vector<float>>>& grads) {
  using codegen::cuda::DeviceBuffer;
  struct Device {
    DeviceBuffer w, g;
    std::vector<DeviceBuffer> states;
  };
  std::vector<Device> device(tensors.size());
  std::vector<codegen::KernelTensor> table;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::size_t bytes = tensors[i].w.size() * sizeof(float);
    Device& d = device[i];
    d.w = DeviceBuffer(bytes), d.g = DeviceBuffer(bytes);
    d.w.upload(tensors[i].w.data(), bytes);
    codegen::KernelTensor t{d.w.data(), d.g.data(), {}, static_cast<std::int64_t>(tensors[i].w.size()),
                            tensors[i].tensor_id, 0};
    for (std::size_t s = 0; s < f.states.size(); ++s) {
      d.states.emplace_back(bytes);
      d.states[s].upload(tensors[i].states[s].data(), bytes);
      t.state[s] = static_cast<float*>(d.states[s].data());
    }
    table.push_back(t);
  }
  for (std::size_t k = 0; k < grads.size(); ++k) {
    for (std::size_t i = 0; i < tensors.size(); ++i) device[i].g.upload(grads[k][i].data(), grads[k][i].size() * sizeof(float));
    exec.step(table, codegen::make_step(f, plan.lr, static_cast<std::uint32_t>(k + 1), plan.total_steps, plan.seed));
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::size_t bytes = tensors[i].w.size() * sizeof(float);
    device[i].w.download(tensors[i].w.data(), bytes);
    for (std::size_t s = 0; s < f.states.size(); ++s) device[i].states[s].download(tensors[i].states[s].data(), bytes);
  }
}
#endif

}  // namespace

void run_steps(const ir::Function& f, codegen::Backend backend, const StepPlan& plan, std::vector<TensorData>& tensors,
               const std::vector<std::vector<std::vector<float>>>& grads) {
  for (TensorData& t : tensors) t.states.resize(f.states.size(), std::vector<float>(t.w.size(), 0.0f));
  std::shared_ptr<codegen::Executor> exec = codegen::make_executor(f, backend, codegen::DType::F32);
#ifdef NOS_HAVE_CUDA
  if (backend == codegen::Backend::Cuda) return run_on_device(*exec, f, plan, tensors, grads);
#endif
  run_on_host(*exec, f, plan, tensors, grads);
}

}  // namespace nos::nosc
