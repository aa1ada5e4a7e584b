// Emitting a compiled rule as standalone source, usable without NOS: the compiler's source targets,
// beside the kernel targets of `nosc compile` (llvm, asm, cuda, ptx, cubin). One entry point,
// emit(), used by `nosc compile --target pytorch|cpp|cuda-standalone` and `nos-search export`.
//   pytorch          a torch.optim.Optimizer subclass (.py), same semantics as NOS's RuleOptimizer;
//                    each function's spelling is its `pytorch` column in dsl/functions.def
//   cpp              host C++17 (.cpp): the CUDA generator's element function compiled as plain
//                    C++, a one-tensor update loop and the per-step inputs; bit for bit NOS's
//   cuda-standalone  the fused CUDA kernel (.cu) with a header saying how to launch it (`cuda` is
//                    the bare kernel of `nosc compile --target cuda`)
// The C++ and CUDA forms are the CUDA code generator's own text (compiler/codegen/cuda), not a copy.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/compile.h"

namespace nos::compiler {

enum class EmitTarget { PyTorch, Cpp, CudaStandalone };
inline constexpr const char* kEmitTargetNames = "pytorch, cpp, cuda-standalone";

// "pytorch", "cpp", "cuda-standalone"; nullopt for any other name.
std::optional<EmitTarget> parse_emit_target(std::string_view text);
const char* name(EmitTarget target);
const char* file_extension(EmitTarget target);  // ".py", ".cpp", ".cu"

struct EmitOptions {
  std::string name;  // pytorch: the class name; cpp, cuda-standalone: the C symbol. Empty: from the hash
};

// The rule's optimized IR as source for `target`; the header quotes rule.display() and its hash.
// Throws std::invalid_argument when the rule does not fit the target (a CUDA/C++ kernel holds at
// most 3 state slots, 8 step inputs), the name is not an identifier, or this build has no CUDA code
// generator (NOS_WITH_CUDA=OFF) for cpp and cuda-standalone.
std::string emit(const CompiledRule& rule, EmitTarget target, const EmitOptions& options = {});

}  // namespace nos::compiler
