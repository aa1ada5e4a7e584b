#include "run_tool.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nos::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string source_path(const std::string& relative) { return std::string(NOS_SOURCE_DIR) + "/" + relative; }

std::string binary_path(const std::string& tool) { return std::string(NOS_BINARY_DIR) + "/bin/" + tool; }

ToolResult run_tool_bounded(const std::string& tool, const std::vector<std::string>& args, int seconds) {
  std::vector<std::string> all{std::to_string(seconds), binary_path(tool)};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("/usr/bin/timeout", all);
}

std::string temp_file(const std::string& name, const std::string& content) {
  std::filesystem::path dir = std::filesystem::path(NOS_BINARY_DIR) / "test-tmp" / std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::filesystem::path path = dir / name;
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

namespace {

ToolResult run(const std::string& exe, const std::vector<std::string>& args, const std::string& input,
               const std::vector<std::string>& env, const std::string& stdout_path) {
  std::string in_path = temp_file("stdin.txt", input);
  std::string out_path = stdout_path.empty() ? temp_file("stdout.txt", "") : stdout_path;
  std::string err_path = temp_file("stderr.txt", "");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY), out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC),
        err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    ::dup2(in, 0), ::dup2(out, 1), ::dup2(err, 2);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ToolResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (stdout_path.empty()) r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

}  // namespace

ToolResult run_tool(const std::string& tool, const std::vector<std::string>& args, const std::string& input,
                    const std::vector<std::string>& env) {
  return run(std::string(NOS_BINARY_DIR) + "/bin/" + tool, args, input, env, "");
}

ToolResult run_tool_to(const std::string& stdout_path, const std::string& tool, const std::vector<std::string>& args) {
  return run(std::string(NOS_BINARY_DIR) + "/bin/" + tool, args, "", {}, stdout_path);
}

ToolResult run_program(const std::string& path, const std::vector<std::string>& args, const std::string& input,
                       const std::vector<std::string>& env) {
  return run(path, args, input, env, "");
}

}  // namespace nos::testing
