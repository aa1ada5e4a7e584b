// examples/tasks/: every task file parses as every tool reads it (runtime::read_task_file), and
// fashion-mlp.json is the search's default child, so that `--task examples/tasks/fashion-mlp.json`
// changes nothing. Training them is the tools' tests' (nos_train_task_test.cpp trains one epoch).
#include <doctest/doctest.h>

#include <filesystem>

#include "controller/search/search_config.h"
#include "runtime/task_file.h"

namespace nos::search {

TEST_CASE("example tasks: every file parses, fashion-mlp is the search's default child") {
  const std::filesystem::path dir = std::filesystem::path(NOS_SOURCE_DIR) / "examples" / "tasks";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    CHECK_NOTHROW(runtime::read_task_file(entry.path().string()));
    ++files;
  }
  CHECK(files >= 2);
  CHECK(runtime::to_json(runtime::read_task_file((dir / "fashion-mlp.json").string())) ==
        runtime::to_json(SearchConfig{}.child.task()));
  CHECK(runtime::read_task_file((dir / "fashion-resnet.json").string()).model.name == "resnet");
}

}  // namespace nos::search
