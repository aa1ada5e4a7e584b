// ir::Function -> the unoptimized LLVM module of its kernel: the kernel runtime bitcode plus
// `nos_kernel` (kernel_abi.h's CpuKernelFn) calling the runtime's functions in exactly the
// reference interpreter's order of operations. The runtime is read lazily: its function bodies
// are materialized (only those the kernel calls) by optimize_kernel_module.
#pragma once

#include <memory>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen::cpu {

inline constexpr const char* kKernelSymbol = "nos_kernel";

// Throws std::logic_error for invalid IR, std::invalid_argument when the rule does not fit the
// ABI, CodegenError when the runtime bitcode cannot be read.
std::unique_ptr<llvm::Module> build_kernel_module(llvm::LLVMContext& context, const ir::Function& f,
                                                  DType dtype, const llvm::TargetMachine& target);

}  // namespace nos::codegen::cpu
