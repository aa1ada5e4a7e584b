// The few things every file of the LLVM backend needs: LLVM errors turned into NOS exceptions (in
// one place), the native target initialized once, and the host TargetMachine every kernel is
// optimized and compiled for.
#pragma once

#include <memory>
#include <string>
#include <type_traits>

#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include "compiler/codegen/llvm/cpu_backend.h"

namespace llvm::orc {
class JITTargetMachineBuilder;
}

namespace nos::codegen::cpu {

// Throws CodegenError("<what>: <llvm message>") when `error` holds one.
void check(llvm::Error error, const std::string& what);

template <typename T>
T unwrap(llvm::Expected<T> value, const std::string& what) {
  check(value.takeError(), what);
  if constexpr (std::is_reference_v<T>) return *value;
  else return std::move(*value);
}

// Registers the host target with LLVM (idempotent, thread-safe).
void initialize_native_target();

// How host_target_machine() is made: this CPU's triple, name and features, detected once per
// process, with the options below.
const llvm::orc::JITTargetMachineBuilder& host_target_builder();

// The TargetMachine for this CPU (name and every feature), optimizing aggressively with fused
// multiply-add contraction forbidden: kernels must round like the reference interpreter.
// Position-independent code, so objects can be cached on disk and linked by the JIT later.
// One per thread, created on first use: a TargetMachine is not thread-safe, and creating one
// (its subtarget tables) costs about 2 ms, a fifth of a kernel compile.
llvm::TargetMachine& host_target_machine();

}  // namespace nos::codegen::cpu
