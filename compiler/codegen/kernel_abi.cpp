#include "compiler/codegen/kernel_abi.h"

namespace nos::codegen {

const char* name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
  }
  return "?";
}

int element_bytes(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

}  // namespace nos::codegen
