// --arch on every tool that hands it to NVRTC (nosc compile, nos-bench compile): an architecture
// this NVRTC cannot build is a usage error naming --arch and listing what it can, never an
// internal error from inside NVRTC.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_program;
using nos::testing::run_tool;
using nos::testing::ToolResult;

namespace {

[[maybe_unused]] bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


}  // namespace

#ifdef NOS_HAVE_CUDA
TEST_CASE("tools: an arch this NVRTC does not list is a usage error naming --arch and what it supports") {
  // sm_95 looks valid and lies between archs NVRTC knows: it used to reach NVRTC and exit 3
  // (NVRTC_ERROR_INVALID_OPTION).
  for (const char* target : {"ptx", "cubin"}) {
    CAPTURE(target);
    ToolResult r = run_tool("nosc", {"compile", "-e", "g", "--target", target, "--arch", "sm_95"});
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(contains(r.err, "--arch sm_95: NVRTC "), r.err);
    CHECK(contains(r.err, "cannot compile for sm_95; it supports sm_"));
    CHECK(contains(r.err, ", sm_90"));
  }
  // Newer than every arch NVRTC knows is still fine: PTX for the newest, which the driver JITs.
  ToolResult newer = run_tool("nosc", {"compile", "-e", "g", "--target", "ptx", "--arch", "sm_990"});
  CHECK(newer.exit_code == 0);
#ifdef NOS_HAVE_NOS_BENCH
  ToolResult bench = nos::testing::run_tool_bounded("nos-bench", {"compile", "--reps", "1", "--arch", "sm_95"});
  CHECK(bench.exit_code == 2);
  CHECK(contains(bench.err, "--arch sm_95: NVRTC "));
#endif
}
#endif
