// The one doctest main shared by every test executable. A run in which no test case passes the
// filters fails: CTest runs each discovered name as a --test-case filter, and a name CTest cut
// apart (it splits lists at ';') would otherwise match nothing and pass without testing anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

namespace {

// Remembers how many test cases the last run selected; listings (--list-test-cases) are no run.
struct SelectionListener : doctest::IReporter {
  static inline bool ran = false;
  static inline unsigned selected = 0;

  explicit SelectionListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    ran = true;
    selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("selection", 1, SelectionListener);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit()) return result;
  if (SelectionListener::ran && SelectionListener::selected == 0) {
    std::cerr << "[doctest] error: no test case matches the filters (a test name with ';' is cut apart by CTest)\n";
    return result ? result : 1;
  }
  return result;
}
