#include "controller/search/export.h"

#include <stdexcept>
#include <string>

namespace nos::search {

ExportTarget parse_export_target(std::string_view text) {
  if (text == "pytorch") return ExportTarget::PyTorch;
  if (text == "cuda") return ExportTarget::Cuda;
  if (text == "cpp") return ExportTarget::Cpp;
  throw std::invalid_argument("unknown export target '" + std::string(text) + "' (pytorch, cuda, cpp)");
}

const char* name(ExportTarget target) {
  switch (target) {
    case ExportTarget::PyTorch: return "pytorch";
    case ExportTarget::Cuda: return "cuda";
    case ExportTarget::Cpp: return "cpp";
  }
  return "?";
}

const char* file_extension(ExportTarget target) {
  switch (target) {
    case ExportTarget::PyTorch: return ".py";
    case ExportTarget::Cuda: return ".cu";
    case ExportTarget::Cpp: return ".cpp";
  }
  return "";
}

std::string export_rule(const ir::Function& optimized, ExportTarget target, const ExportOptions& options) {
  switch (target) {
    case ExportTarget::PyTorch: return export_pytorch(optimized, options);
    case ExportTarget::Cuda: return export_cuda(optimized, options);
    case ExportTarget::Cpp: return export_cpp(optimized, options);
  }
  throw std::invalid_argument("unknown export target");
}

}  // namespace nos::search
