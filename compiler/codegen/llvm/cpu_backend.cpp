// The text and object outputs of the CPU backend, and the target identity of cached objects.
#include "compiler/codegen/llvm/cpu_backend.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/raw_ostream.h>

#include "compiler/codegen/llvm/llvm_support.h"
#include "compiler/codegen/llvm/optimize.h"
#include "compiler/codegen/llvm/runtime_bitcode.h"

namespace nos::codegen::cpu {
namespace {

std::string emit_machine_code(const ir::Function& f, DType dtype, llvm::CodeGenFileType type) {
  llvm::TargetMachine& target = host_target_machine();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = optimized_kernel_module(context, f, dtype, target);
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream out(buffer);
  llvm::legacy::PassManager passes;
  if (target.addPassesToEmitFile(passes, out, nullptr, type))
    throw CodegenError("the host target cannot emit this kind of file");
  passes.run(*module);
  return std::string(buffer.data(), buffer.size());
}

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string host_target_id() {
  llvm::StringMap<bool> features;
  llvm::sys::getHostCPUFeatures(features);
  std::vector<std::string> enabled;
  for (const auto& feature : features)
    if (feature.getValue()) enabled.push_back(feature.getKey().str());
  std::sort(enabled.begin(), enabled.end());
  std::string id = llvm::sys::getProcessTriple() + " " + llvm::sys::getHostCPUName().str() + " ";
  for (const std::string& feature : enabled) id += "+" + feature + ",";
  return id + fmt::format(" llvm-{} runtime-{:016x}", LLVM_VERSION_STRING, fnv1a(runtime_bitcode()));
}

}  // namespace

std::string emit_llvm_ir(const ir::Function& f, DType dtype) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = optimized_kernel_module(context, f, dtype, host_target_machine());
  std::string text;
  llvm::raw_string_ostream out(text);
  module->print(out, nullptr);
  return out.str();
}

std::string emit_asm(const ir::Function& f, DType dtype) {
  return emit_machine_code(f, dtype, llvm::CGFT_AssemblyFile);
}

std::string emit_object(const ir::Function& f, DType dtype) {
  return emit_machine_code(f, dtype, llvm::CGFT_ObjectFile);
}

std::string cpu_target_id() {
  static const std::string id = host_target_id();  // neither the host nor the runtime changes
  return id;
}

}  // namespace nos::codegen::cpu
