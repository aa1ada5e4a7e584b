// Reading a task file: bounded (a regular file of at most kMaxTaskFileBytes), strict (task.h's
// keys and checks), its relative paths resolved against its own directory.
#include "runtime/task_file.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "runtime/data/dataset.h"
#include "runtime/data/input_file.h"
#include "runtime/json_section.h"

namespace nos::runtime {
namespace {

namespace fs = std::filesystem;

std::string read_bounded(const std::string& path) {
  check_regular_file(path);  // a FIFO or a device is refused before it is opened
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot read the task file", path));
  std::string text(kMaxTaskFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxTaskFileBytes)
    throw std::invalid_argument(fmt::format("{}: larger than {} bytes: not a task file", path, kMaxTaskFileBytes));
  return text;
}

std::string resolve(const fs::path& dir, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() ? path : (dir / p).lexically_normal().string();
}

// The data spec's paths (one, or the comma-separated .npy files) relative to `dir`.
std::string resolve_data(const fs::path& dir, const std::string& spec) {
  if (is_dataset_name(spec)) return spec;
  std::string resolved;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = spec.find(',', start);
    std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    resolved += part.empty() ? part : resolve(dir, part);
    if (comma == std::string::npos) break;
    resolved += ',';
    start = comma + 1;
  }
  return resolved;
}

}  // namespace

TaskSpec read_task_file(const std::string& path, const TaskSpec& base) {
  const std::string text = read_bounded(path);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::invalid_argument(fmt::format("{}: not valid JSON (a task file is one JSON object)", path));
  JsonSection(j, path, "").check_known(kTaskKeys);
  TaskSpec task = base;
  read_task(j, path, "", task);
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
  if (j.contains("model") && !is_builtin_model(task.model.name)) task.model.name = resolve(dir, task.model.name);
  if (j.contains("data")) task.data = resolve_data(dir, task.data);
  if (std::string problem = task_problem(task); !problem.empty())
    throw std::invalid_argument(fmt::format("{}: {}", path, problem));
  return task;
}

}  // namespace nos::runtime
