// A task file (runtime/task_file.h): what to_json writes reads back; keys left out keep the base;
// relative paths are the file's directory's; every bad file names itself and the key.
#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>
#include <stdexcept>

#include "../search/temp_dir.h"
#include "runtime/task_file.h"

namespace nos::runtime {
namespace {

using nlohmann::json;
using search::testing::TempDir;

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string refusal(const std::string& path, const TaskSpec& base = {}) {
  try {
    read_task_file(path, base);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("task file: to_json's output reads back, a key left out keeps the base's value") {
  TempDir dir;
  TaskSpec t;
  t.model = {"convnet", {256}};
  t.epochs = 3;
  t.train_subset = 2000;
  t.metric = Metric::ValAccMaxLastK;
  write(dir.file("t.json"), to_json(t).dump(2));
  CHECK(to_json(read_task_file(dir.file("t.json"))) == to_json(t));

  TaskSpec base;
  base.epochs = 5;
  base.train_subset = 10000;
  write(dir.file("part.json"), R"({"model": "mlp", "hidden": [32], "epochs": 2})");
  TaskSpec part = read_task_file(dir.file("part.json"), base);
  CHECK(part.epochs == 2);
  CHECK(part.train_subset == 10000);
  CHECK(part.model.hidden == std::vector<std::int64_t>{32});
  CHECK(part.data == "fashion-mnist");
}

TEST_CASE("task file: relative model and data paths are the file's directory's, names stay names") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sub" / "data");
  write((dir.path() / "sub" / "model.pt").string(), "not read here");
  write(dir.file("sub/t.json"), R"({"model": {"name": "model.pt", "hidden": [8]}, "data": "data/x.npy,data/y.npy"})");
  TaskSpec t = read_task_file(dir.file("sub/t.json"));
  CHECK(t.model.name == (dir.path() / "sub" / "model.pt").string());
  CHECK(t.data == fmt::format("{0}/data/x.npy,{0}/data/y.npy", (dir.path() / "sub").string()));

  write(dir.file("named.json"), R"({"model": "convnet", "data": "fashion-mnist"})");
  CHECK(read_task_file(dir.file("named.json")).model.name == "convnet");
  CHECK(read_task_file(dir.file("named.json")).data == "fashion-mnist");
  write(dir.file("abs.json"), json{{"data", "/elsewhere/d.npz"}}.dump());
  CHECK(read_task_file(dir.file("abs.json")).data == "/elsewhere/d.npz");
}

TEST_CASE("task file: a bad file, key, type or value is refused, naming the file and the key") {
  TempDir dir;
  const std::string path = dir.file("t.json");
  auto refused = [&](const std::string& text) {
    write(path, text);
    return refusal(path);
  };
  CHECK(refused(R"({"epoch": 3})").starts_with(path + ": epoch: unknown key"));
  CHECK(refused(R"({"epochs": "3"})").starts_with(path + ": epochs: expected an integer"));
  CHECK(refused(R"({"epochs": 0})") == path + ": epochs: must be 1 .. 100000, not 0");
  CHECK(refused(R"({"metric": "loss"})").starts_with(path + ": metric: unknown metric 'loss'"));
  CHECK(refused(R"({"model": "resnet9"})").starts_with(path + ": model: unknown model"));
  CHECK(refused(R"({"model": {"name": "mlp", "width": 3}})").starts_with(path + ": model.width: unknown key"));
  CHECK(refused("{\"epochs\": 3") == path + ": not valid JSON (a task file is one JSON object)");
  CHECK(refused("[1]").starts_with(path + ": the configuration: expected a JSON object"));
  CHECK(refusal(dir.file("missing.json")).starts_with(dir.file("missing.json") + ": cannot open"));
  CHECK(refusal(dir.path().string()) == dir.path().string() + ": is a directory, not a regular file");
  CHECK(refused(std::string(kMaxTaskFileBytes + 1, ' ')).ends_with("larger than 1048576 bytes: not a task file"));
}

}  // namespace nos::runtime
