#include "compiler/emit/emit.h"

#include "compiler/emit/emitters.h"

namespace nos::compiler {

std::optional<EmitTarget> parse_emit_target(std::string_view text) {
  for (EmitTarget t : {EmitTarget::PyTorch, EmitTarget::Cpp, EmitTarget::CudaStandalone})
    if (text == name(t)) return t;
  return std::nullopt;
}

const char* name(EmitTarget target) {
  switch (target) {
    case EmitTarget::PyTorch: return "pytorch";
    case EmitTarget::Cpp: return "cpp";
    case EmitTarget::CudaStandalone: return "cuda-standalone";
  }
  return "?";
}

const char* file_extension(EmitTarget target) {
  switch (target) {
    case EmitTarget::PyTorch: return ".py";
    case EmitTarget::Cpp: return ".cpp";
    case EmitTarget::CudaStandalone: return ".cu";
  }
  return "";
}

std::string emit(const CompiledRule& rule, EmitTarget target, const EmitOptions& options) {
  const emit_detail::Source source{rule.optimized, rule.display(), options.name};
  switch (target) {
    case EmitTarget::PyTorch: return emit_detail::pytorch(source);
    case EmitTarget::Cpp: return emit_detail::cpp(source);
    case EmitTarget::CudaStandalone: return emit_detail::cuda_standalone(source);
  }
  return {};
}

}  // namespace nos::compiler
