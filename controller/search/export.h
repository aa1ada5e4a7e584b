// Export of a found rule as standalone source, usable without NOS: a PyTorch optimizer
// (torch.optim.Optimizer subclass, same semantics as NOS's RuleOptimizer), the CUDA source of its
// fused kernel, or host C++ of the same per-element function with a one-tensor update loop. The
// CUDA and C++ forms are the CUDA code generator's own output (compiler/codegen/cuda), not a copy.
#pragma once

#include <string>
#include <string_view>

#include "compiler/ir.h"

namespace nos::search {

enum class ExportTarget { PyTorch, Cuda, Cpp };
// "pytorch", "cuda", "cpp"; throws std::invalid_argument naming the valid ones.
ExportTarget parse_export_target(std::string_view text);
const char* name(ExportTarget target);
const char* file_extension(ExportTarget target);  // ".py", ".cu", ".cpp"

struct ExportOptions {
  std::string rule_text;  // the canonical DSL text, quoted in the header (default: ir::to_text)
  std::string name;       // PyTorch: the class name; CUDA/C++: the C symbol. Empty: from the hash
};

// `optimized` as ir::optimize returns it. Throws std::invalid_argument when the rule does not fit
// the target (a CUDA/C++ kernel holds at most 3 state slots, 8 step inputs) or this build has no
// CUDA code generator (NOS_WITH_CUDA=OFF) for cuda/cpp.
std::string export_rule(const ir::Function& optimized, ExportTarget target, const ExportOptions& options = {});

// The parts, for the tests and for callers that want one form.
std::string export_pytorch(const ir::Function& optimized, const ExportOptions& options = {});
std::string export_cuda(const ir::Function& optimized, const ExportOptions& options = {});
std::string export_cpp(const ir::Function& optimized, const ExportOptions& options = {});

}  // namespace nos::search
