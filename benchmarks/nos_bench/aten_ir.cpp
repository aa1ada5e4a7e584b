// aten-eager for any rule: the optimized IR evaluated one ATen op per instruction, the way a user
// transcribes a rule into tensor code. Per-step values (constants, decays) stay host scalars and are
// folded with the rule language's own float semantics; per-element values are tensors.
//
// Random draws (eps, noise, drop) use LibTorch's generator instead of NOS's counter-based one: the
// same amount of work, not the same bits. This is a speed baseline, not a reference.
#include <cmath>
#include <stdexcept>
#include <variant>

#include <torch/cuda.h>
#include <torch/utils.h>

#include "benchmarks/nos_bench/step_impls.h"
#include "benchmarks/nos_bench/torch_params.h"
#include "dsl/vocabulary.h"

namespace nos::bench {
namespace {

using Value = std::variant<float, at::Tensor>;  // step scalar or per-element tensor

at::Tensor tensor_of(const Value& v, const at::Tensor& like) {
  if (const at::Tensor* t = std::get_if<at::Tensor>(&v)) return *t;
  return at::scalar_tensor(std::get<float>(v), like.options());
}

class AtenIrRunner final : public StepRunner {
 public:
  AtenIrRunner(const BenchRule& rule, const Workload& workload)
      : f_(rule.rule.optimized), params_(workload), device_(workload.device) {
    for (std::size_t s = 0; s < f_.states.size(); ++s) states_.push_back(params_.zeros_like_w());
    note = "op by op from the IR";
  }

  void step() override {
    torch::NoGradGuard no_grad;
    ++t_;
    ir::StepInputs inputs = ir::step_inputs(f_, static_cast<std::uint32_t>(t_), Hyper::total_steps);
    for (std::size_t i = 0; i < params_.w.size(); ++i) update(i, inputs);
  }
  void synchronize() override {
    if (device_ != "cpu") torch::cuda::synchronize();
  }

 private:
  void update(std::size_t i, const ir::StepInputs& inputs) {
    at::Tensor& w = params_.w[i];
    const at::Tensor& g = params_.g[i];
    // Every state first: mavg reads this step's average (as the interpreter does).
    for (std::size_t s = 0; s < f_.states.size(); ++s) {
      const ir::StateSlot& slot = f_.states[s];
      at::Tensor power = slot.power == 1 ? g : slot.power == 2 ? g * g : g * g * g;
      states_[s][i].mul_(slot.beta).add_(power, 1 - slot.beta);
    }
    std::vector<Value> values(f_.body.size());
    std::size_t next_step_scalar = 0;
    for (std::size_t k = 0; k < f_.body.size(); ++k) {
      const ir::Instr& in = f_.body[k];
      switch (in.op) {
        case ir::Op::Const: values[k] = in.imm; break;
        case ir::Op::Step: values[k] = inputs.step_scalars.at(next_step_scalar++); break;
        case ir::Op::Grad: values[k] = g; break;
        case ir::Op::Weight: values[k] = w; break;
        case ir::Op::Mavg: values[k] = states_[in.index][i] * inputs.bias_correction.at(in.index); break;
        case ir::Op::Normal: values[k] = at::randn_like(w); break;
        default: values[k] = apply(in, values, w);
      }
    }
    const Value& delta = values[f_.result];
    if (const at::Tensor* t = std::get_if<at::Tensor>(&delta)) w.add_(*t, -Hyper::lr);
    else w.sub_(Hyper::lr * std::get<float>(delta));
  }

  static Value apply(const ir::Instr& in, const std::vector<Value>& values, const at::Tensor& like) {
    const Value& a = values[in.args[0]];
    const Value& b = values[in.args[1]];
    int arity = ir::arity(in.op);
    bool scalar = std::holds_alternative<float>(a) && (arity < 2 || std::holds_alternative<float>(b));
    if (scalar) {  // a per-step value: the rule language's semantics, once per step
      const dsl::FunctionInfo& fn = dsl::info(ir::fn_of(in.op));
      return fn.eval(std::get<float>(a), arity > 1 ? std::get<float>(b) : 0.0f, in.imm);
    }
    at::Tensor x = tensor_of(a, like);
    at::Tensor y = arity > 1 ? tensor_of(b, like) : at::Tensor();
    [[maybe_unused]] float d = in.imm;  // the Delta immediate (div's guard)
    switch (ir::fn_of(in.op)) {
#define NOS_FUNCTION(id, name, arity, infix, precedence, commutative, c_function, extra, cost, tokens, aten, pytorch, meaning) \
  case dsl::Fn::id: return aten;
#include "dsl/functions.def"
    }
    throw std::logic_error(std::string("aten-eager: unexpected IR op ") + ir::name(in.op));
  }

  ir::Function f_;
  TorchParams params_;
  std::string device_;
  std::vector<std::vector<at::Tensor>> states_;  // [slot][tensor]
  std::int64_t t_ = 0;
};

}  // namespace

std::unique_ptr<StepRunner> make_aten_ir_runner(const BenchRule& rule, const Workload& workload) {
  return std::make_unique<AtenIrRunner>(rule, workload);
}

}  // namespace nos::bench
