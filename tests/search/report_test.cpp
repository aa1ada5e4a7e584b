// nos-search report's parts without the binary: what read_report extracts from a synthetic search
// (tests/search/report_search.h), which figures it leads to, and the page's escaping and embedding.
#include <doctest/doctest.h>

#include <algorithm>

#include "tools/nos_search/report_data.h"
#include "tools/nos_search/report_html.h"
#include "tools/nos_search/report_plots.h"
#include "tests/search/report_search.h"
#include "tests/search/temp_dir.h"

namespace nos::search::cli {
namespace {

using testing::kTopRule;
using testing::TempDir;

const Figure& figure(const std::vector<Figure>& figures, const std::string& name) {
  auto it = std::find_if(figures.begin(), figures.end(), [&](const Figure& f) { return f.name == name; });
  REQUIRE(it != figures.end());
  return *it;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("read_report: per-batch rewards, statuses, sources and the strategy's statistics") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  CHECK(data.search.id == id);
  CHECK(data.candidates == 11);
  CHECK(data.results == 10);  // c10 is still queued
  CHECK(data.tasks.queued == 1);
  REQUIRE(data.batches.size() == 3);

  const BatchSummary& b0 = data.batches[0];
  CHECK(b0.batch == 0);
  CHECK(b0.candidates == 4);
  CHECK(b0.results == 4);
  // 0.80, 0.95 and the crash's reward 0; the screened rule has none.
  CHECK(*b0.mean_reward == doctest::Approx((0.80 + 0.95 + 0) / 3));
  CHECK(*b0.max_reward == doctest::Approx(0.95));
  CHECK(b0.tally.of(Status::Ok) == 2);
  CHECK(b0.tally.of(Status::Rejected) == 1);
  CHECK(b0.tally.of(Status::Crashed) == 1);  // the lost first attempt is not counted
  CHECK(b0.tally.of(Source::Trained) == 3);
  CHECK(b0.tally.of(Source::Screened) == 1);
  CHECK(b0.recorded);
  CHECK(*b0.baseline == doctest::Approx(0.5));
  CHECK(*b0.entropy == doctest::Approx(2.1));

  const BatchSummary& b1 = data.batches[1];
  CHECK(*b1.mean_reward == doctest::Approx((0.95 + 0.80 + 0.83 + 0) / 4));
  CHECK(b1.tally.share(Source::CacheHit) == doctest::Approx(0.25));
  CHECK(b1.tally.share(Source::FingerprintHit) == doctest::Approx(0.25));
  CHECK(b1.tally.share(Source::Screened) == 0);
  CHECK(b1.tally.of(Status::Diverged) == 1);
  CHECK(*b1.baseline == doctest::Approx(0.6));

  // Batch 2 is not finished: its results are shown, the strategy has said nothing about it yet.
  const BatchSummary& b2 = data.batches[2];
  CHECK(b2.candidates == 3);
  CHECK(b2.results == 2);
  CHECK(*b2.max_reward == doctest::Approx(0.85));
  CHECK_FALSE(b2.recorded);
  CHECK_FALSE(b2.baseline);
  CHECK_FALSE(b2.entropy);
  CHECK(data.any_baseline());
  CHECK(data.any_entropy());
}

TEST_CASE("read_report: best so far, the top rules, their curves and the baselines") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);

  // Improvements at the 2nd and 3rd result (the 1st, screened, has no reward), then the last result.
  REQUIRE(data.best.size() == 3);
  CHECK(data.best[0].evaluations == 2);
  CHECK(data.best[0].reward == doctest::Approx(0.80));
  CHECK(data.best[1].evaluations == 3);
  CHECK(data.best[1].reward == doctest::Approx(0.95));
  CHECK(data.best[2].evaluations == 10);
  CHECK(data.best[2].reward == doctest::Approx(0.95));
  for (std::size_t i = 1; i < data.best.size(); ++i) CHECK(data.best[i].seconds >= data.best[i - 1].seconds);
  CHECK(data.best[0].seconds >= 0);

  // Storage::top's order: one line per hash (the cache hit is c1 again).
  REQUIRE(data.top.size() == 9);
  CHECK(data.top[0].candidate.rule == kTopRule);
  CHECK(data.top[0].candidate.index == 1);
  CHECK(data.top[1].candidate.index == 9);
  CHECK(data.top[2].candidate.index == 6);
  CHECK(data.top[4].candidate.index == 5);
  ReportData three = read_report(*storage, *storage->find_search("fmnist"), 3);
  CHECK(three.top.size() == 3);

  // Ranks 1, 2, 4 with their own curves; rank 5 (a fingerprint hit) with the curve it reused;
  // rank 3 stored none, and the notes say so.
  REQUIRE(data.top_curves.size() == 4);
  // The legend names the rule and the rate its sweep chose, not the rank alone.
  CHECK(data.top_curves[0].title == std::string("rank 1: ") + kTopRule + " (lr 0.01)");
  CHECK(data.top_curves[0].epochs == std::vector<double>{1, 2, 3});
  CHECK(data.top_curves[0].val_acc[2] == doctest::Approx(0.95));
  CHECK(data.top_curves[1].title == "rank 2: g + sign(m) (lr 0.01)");
  CHECK(data.top_curves[2].title == "rank 4: g (lr 0.01)");
  CHECK(data.top_curves[3].title == "rank 5: g * 1 (lr 0.01)");
  CHECK(data.top_curves[3].val_acc == data.top_curves[2].val_acc);  // c5 reused c0's result
  REQUIRE(data.notes.size() == 1);
  CHECK(contains(data.notes[0], "rank 3 (ok, trained): no per-epoch validation accuracy stored"));

  // baseline:adam first, baseline:sgd without a curve; final:table is not a baseline.
  REQUIRE(data.baselines.size() == 2);
  CHECK(data.baselines[0].name == "adam");
  CHECK(*data.baselines[0].lr == doctest::Approx(0.001));
  CHECK(*data.baselines[0].metric == doctest::Approx(0.86));
  CHECK(data.baselines[0].curve.val_acc.size() == 3);
  CHECK(data.baselines[1].name == "sgd");
  CHECK(data.baselines[1].curve.epochs.empty());
  REQUIRE(data.adam());
  CHECK(data.adam()->status == "ok");
}

TEST_CASE("read_report: a search with no batch yet, and one whose strategy reports nothing") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = storage->create_search("empty", "{}", {});
  ReportData data = read_report(*storage, *storage->find_search("empty"), 20);
  CHECK(data.candidates == 0);
  CHECK(data.results == 0);
  CHECK(data.batches.empty());
  CHECK(data.best.empty());
  CHECK(data.top.empty());
  CHECK(data.baselines.empty());
  CHECK_FALSE(data.adam());
  for (const Figure& f : report_figures(data)) {
    CHECK_MESSAGE(f.script.empty(), f.name);
    CHECK_MESSAGE(!f.absent.empty(), f.name);
  }
  std::vector<Figure> figures = report_figures(data);
  CHECK(contains(figure(figures, "rewards").absent, "No batch yet"));
  CHECK(contains(figure(figures, "curves").absent, "No Adam baseline stored."));
  std::string page = report_html(data, figures, std::vector<std::string>(figures.size()));
  CHECK(contains(page, "This search has no batches yet"));
  CHECK(contains(page, "No Adam baseline stored."));
  CHECK(contains(page, "No ranked rule yet."));
  CHECK_FALSE(contains(page, "<img"));

  // A random strategy: statistics without baseline or entropy; one record that is not JSON.
  NewCandidate c = testing::report_candidate(0, "g");
  storage->enqueue_batch(id, 0, {c});
  testing::finish_claimed(*storage, id, testing::ok_result(0.5));
  storage->save_strategy_state(id, 0, "", R"({"batch": 0, "strategy": {"kind": "random"}})");
  storage->save_strategy_state(id, 1, "", "not json");
  data = read_report(*storage, *storage->find_search("empty"), 20);
  REQUIRE(data.batches.size() == 2);  // batch 1 has a record and no candidate
  CHECK_FALSE(data.any_baseline());
  CHECK_FALSE(data.any_entropy());
  REQUIRE(!data.notes.empty());
  CHECK(contains(data.notes.front(), "batch 2: its statistics are not JSON"));  // 1-based, as the console
  figures = report_figures(data);
  CHECK(contains(figure(figures, "entropy").absent, "The strategy reports no entropy"));
  CHECK(contains(figure(figures, "rewards").caption, "the strategy reports no baseline"));
  CHECK_FALSE(contains(figure(figures, "rewards").script, "title 'baseline'"));
  CHECK_FALSE(figure(figures, "statuses").script.empty());
}

TEST_CASE("report_figures: the scripts carry the series and are valid gnuplot input in form") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  std::vector<Figure> figures = report_figures(data);
  std::vector<std::string> names;
  for (const Figure& f : figures) {
    names.push_back(f.name);
    CHECK_MESSAGE(!f.script.empty(), f.name << ": " << f.absent);
    CHECK(contains(f.script, "set output '" + f.name + ".png'"));
    CHECK(contains(f.script, "set terminal pngcairo"));
  }
  CHECK(names == std::vector<std::string>{"rewards", "best_results", "best_time", "entropy", "statuses", "hits", "curves"});
  // Batches 1-based, as the console counts them. The third has no baseline: a missing value, not a zero.
  CHECK(contains(figure(figures, "rewards").script, "\n3 0.425 0.85 -\n"));
  CHECK(contains(figure(figures, "entropy").script, "\n2 1.9\n"));
  // Stacked statuses: batch 1 ok 2, diverged 1 (cumulative 3) + crashed 0, rejected 0 ...
  CHECK(contains(figure(figures, "statuses").script, "title 'diverged'"));
  CHECK(contains(figure(figures, "hits").script, "\n2 25 25 0\n"));
  CHECK_FALSE(contains(figure(figures, "hits").script, "\n0 "));
  const Figure& curves = figure(figures, "curves");
  CHECK(curves.about_top_rules);
  CHECK(contains(curves.script, "title 'rank 5: g * 1 (lr 0.01)'"));
  CHECK(contains(curves.script, "title 'adam (lr 0.001)'"));
  CHECK_FALSE(contains(curves.script, "title 'sgd'"));  // no curve stored
  CHECK_FALSE(contains(curves.caption, "No Adam baseline"));
}

TEST_CASE("report_html: escaped rule text, embedded PNGs, absent plots said in words") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  std::vector<Figure> figures = report_figures(data);
  std::vector<std::string> pngs(figures.size());
  pngs[0] = std::string("\x89PNG\r\n\x1a\n", 8);
  std::string page = report_html(data, figures, pngs);
  CHECK(contains(page, "<code>" + html_escape(kTopRule) + "</code>"));
  CHECK_FALSE(contains(page, kTopRule));  // never as raw markup
  CHECK(contains(page, "<img src=\"data:image/png;base64," + base64(pngs[0]) + "\""));
  CHECK(contains(page, "<p class=\"absent\">"));  // the other figures had no PNG here
  CHECK(contains(page, "rank 3 (ok, trained): no per-epoch validation accuracy stored"));
  // What was found first: the glance, the finals, the table, the curves that refer to its ranks;
  // then how the search went.
  CHECK(page.find("id=\"at-a-glance\"") < page.find("id=\"final\""));
  CHECK(page.find("id=\"final\"") < page.find("id=\"top\""));
  CHECK(page.find("id=\"top\"") < page.find("id=\"curves\""));
  CHECK(page.find("id=\"curves\"") < page.find("id=\"rewards\""));
  CHECK_FALSE(contains(page, "No Adam baseline stored."));
}

TEST_CASE("html_escape and base64") {
  CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(html_escape("g * m") == "g * m");
  // RFC 4648's test vectors.
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("val_acc_curve: epochs without val_acc skipped, a missing epoch counted, bad text named") {
  Curve c = val_acc_curve(R"({"epochs": [{"val_acc": 0.5}, {"epoch": 2, "val_loss": 1}, {"epoch": 3, "val_acc": 0.7}]})");
  CHECK(c.epochs == std::vector<double>{1, 3});
  CHECK(c.val_acc == std::vector<double>{0.5, 0.7});
  std::string problem;
  CHECK(val_acc_curve("{}", &problem).epochs.empty());
  CHECK(problem.empty());
  CHECK(val_acc_curve(R"({"epochs": 3})").epochs.empty());
  CHECK(val_acc_curve("[1, 2]", &problem).epochs.empty());
  CHECK(problem == "not a JSON object");
  CHECK(val_acc_curve("{oops", &problem).epochs.empty());
  CHECK(problem == "not JSON");
}

TEST_CASE("read_report: totals by status and source, the screening reasons, Adam's reward") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  CHECK(data.tally.of(Source::Trained) == 6);
  CHECK(data.tally.of(Source::CacheHit) == 1);
  CHECK(data.tally.of(Source::FingerprintHit) == 1);
  CHECK(data.tally.of(Source::Screened) == 2);
  CHECK(data.tally.of(Status::Ok) == 6);
  CHECK(data.tally.of(Status::Crashed) == 1);
  // The cards count by how a result came: the cache hit's ok is not a training's.
  CHECK(data.tally.of(Source::Trained, Status::Ok) == 4);
  CHECK(data.tally.of(Source::Trained, Status::Crashed) == 1);
  CHECK(data.tally.of(Source::Screened, Status::Rejected) == 1);
  CHECK(data.tally.of(Source::Screened, Status::Invalid) == 1);
  CHECK(data.duration >= 0);
  REQUIRE(data.screening.size() == 2);
  CHECK(data.screening[0].status == search::Status::Rejected);
  CHECK(data.screening[0].reason == "zero");
  CHECK(data.screening[0].count == 1);
  CHECK(data.screening[0].example == "zero: every update is 0");
  CHECK(data.screening[0].example_rule == "m * 0");
  CHECK(data.screening[1].status == search::Status::Invalid);
  CHECK(data.screening[1].reason == "does not compile");
  REQUIRE(data.adam_reward);
  CHECK(*data.adam_reward == doctest::Approx(0.86));  // the configuration names no transform: identity
  CHECK_FALSE(data.several_searches);
  CHECK(data.finals.empty());
}

TEST_CASE("report: Adam on the best-so-far plots, an axis that does not run below 0") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  std::vector<Figure> figures = report_figures(data);
  for (const char* name : {"best_results", "best_time"}) {
    const Figure& f = figure(figures, name);
    INFO(std::string(name));
    CHECK(contains(f.script, "0.86 with lines lw 2 dt 2 lc rgb '#000000' title 'adam 0.8600'"));
    CHECK(contains(f.caption, "Adam's metric"));
    // Rewards 0.8 to 0.95 and Adam's 0.86: fitted, never below 0.
    CHECK(contains(f.script, "set yrange [0.79:0.96]"));
  }
  // A best reward of 0 at first (the screened and crashed rules): the axis starts at 0, not -0.05.
  testing::finish_claimed(*storage, storage->find_search("fmnist")->id, testing::resolved(Status::Diverged, Source::Trained, 0.0));
  SearchId zero = storage->create_search("zero", "{}", {});
  NewCandidate c = testing::report_candidate(0, "g");
  c.resolved = testing::resolved(Status::Rejected, Source::Screened, 0.0);
  storage->enqueue_batch(zero, 0, {c, testing::report_candidate(1, "m")});
  testing::finish_claimed(*storage, zero, testing::ok_result(0.5));
  ReportData z = read_report(*storage, *storage->find_search("zero"), 20);
  CHECK_FALSE(z.adam_reward);
  CHECK(contains(figure(report_figures(z), "best_results").script, "set yrange [0:0.525]"));
  CHECK(contains(figure(report_figures(z), "best_results").caption, "No Adam baseline stored"));
  CHECK(contains(figure(report_figures(z), "rewards").script, "set yrange [0.2375:0.5125]"));  // fits the data
}

TEST_CASE("report: every stored final, the latest in full, an older one's verdict decided again") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = testing::make_report_search(*storage);
  testing::add_report_finals(*storage, id);
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  // final:table is not a final; the unnumbered one is the oldest.
  REQUIRE(data.finals.size() == 3);
  CHECK(data.finals[0].key == "final");
  CHECK(data.finals[0].number == 0);
  CHECK(data.finals[1].key == "final:1");
  CHECK(data.finals[2].key == "final:2");
  const FinalRun* latest = data.latest_final();
  REQUIRE(latest);
  CHECK(latest->key == "final:2");
  CHECK(*latest->seconds == 30);
  CHECK(latest->settings == "2 top rules, 3 seeds, baselines adam, sgd, --search-epochs 1, --search-train-subset 2000, "
                            "transfer task: model convnet");
  REQUIRE(latest->search);
  CHECK(latest->search->heading == "search task (changed from the search's 5 epochs, train subset 10000): "
                                   "fashion-mnist, mlp [256], 1 epoch, train subset 2000, val_acc over 3 seeds");
  CHECK(latest->search->decision == "rule_better");
  CHECK(latest->search->verdict == "final:2's verdict");
  CHECK_FALSE(latest->search->recomputed);
  REQUIRE(latest->transfer);
  CHECK(latest->transfer->error == "the transfer task: convnet needs images");
  // Every found rule against every baseline, as stored.
  REQUIRE(latest->search->pairs.size() == 2);
  CHECK_FALSE(latest->search->pairs_recomputed);
  const FinalPair& close = latest->search->pairs[1];
  CHECK(close.rule == "rank 2");
  CHECK(close.baseline == "adam");
  CHECK(close.decision == "no_significant_difference");
  CHECK(close.pairs == 2);
  CHECK(close.excluded == 1);
  CHECK(*close.difference == doctest::Approx(0.004));
  CHECK(*close.ci_low == doctest::Approx(-0.02));
  CHECK(*close.p == doctest::Approx(0.41));
  CHECK(close.seeds_to_tell == "23");
  CHECK(latest->transfer->pairs.empty());
  // final:1 predates the pairs: decided here from its per-seed metrics (Adam higher by 0.01 on both
  // seeds, more than the noise 0.00707 / sqrt(2)).
  REQUIRE(data.finals[1].search->pairs.size() == 1);
  CHECK(data.finals[1].search->pairs_recomputed);
  CHECK(data.finals[1].search->pairs[0].decision == "baseline_better");
  CHECK(data.finals[1].search->pairs[0].verdict == "worse");
  CHECK(*data.finals[1].search->pairs[0].difference == doctest::Approx(-0.01));

  // The old document called 0.8549 vs 0.8546 on one seed "better": decided again, it is not.
  const FinalRun& legacy = data.finals[0];
  REQUIRE(legacy.search);
  CHECK(legacy.search->recomputed);
  CHECK(legacy.search->decision == "undecided");
  CHECK(contains(legacy.search->verdict, "not decided: one seed"));
  CHECK_FALSE(contains(legacy.search->verdict, "is better"));
  CHECK(legacy.settings == "1 seeds");
  CHECK_FALSE(legacy.finished_at);

  std::vector<Figure> figures = report_figures(data);
  std::string page = report_html(data, figures, std::vector<std::string>(figures.size()));
  // The summary at the top, the vs Adam column, the final section with its verdict, the others listed.
  CHECK(contains(page, "<div class=\"cards\" id=\"at-a-glance\">"));
  for (const char* label : {">duration<", ">candidates<", ">trained<", ">hits<", ">screened<", ">throughput<"})
    CHECK_MESSAGE(contains(page, label), label);
  CHECK(contains(page, "cache 1, fingerprint 1"));
  CHECK(contains(page, "ok 4, diverged 1, crashed 1"));
  CHECK(contains(page, "rejected 1, invalid 1"));
  CHECK(contains(page, "<th class=\"num\">vs Adam</th>"));
  CHECK(contains(page, "<td class=\"num better\">+0.0900</td>"));  // 0.95 against Adam's 0.86
  CHECK(contains(page, "<td class=\"num worse\">-0.0600</td>"));   // 0.80
  CHECK(contains(page, "id=\"final\""));
  CHECK(contains(page, "The latest of 3 stored finals: <code>final:2</code>"));
  CHECK(contains(page, "<p class=\"verdict rule_better\"><b>Verdict:</b> final:2&#39;s verdict"));
  CHECK(contains(page, "<td class=\"num\">0.8100 ± 0.0100</td><td class=\"num\">0.8000 0.8100 0.8200</td>"));
  CHECK(contains(page, "<td class=\"num\">0.1 x2, 1</td>"));  // the rates, not a median of them
  CHECK(contains(page, "<caption>Paired by seed: val_acc of each found rule minus the baseline's, a two-sided "
                       "paired t-test at 5 %</caption>"));
  CHECK(contains(page, "<tr><td>rank 2</td><td>adam</td><td class=\"num\">2 (1 left out)</td><td class=\"num\">+0.0040"
                       "</td><td class=\"num\">[-0.0200, +0.0280]</td><td class=\"num\">0.41</td><td class=\"verdict "
                       "no_significant_difference\">no significant difference</td><td class=\"num\">23</td></tr>"));
  CHECK(contains(page, "<td class=\"verdict rule_better\">better</td>"));
  CHECK(contains(page, "It could not run: the transfer task: convnet needs images"));
  CHECK(contains(page, "Earlier finals (kept)"));
  CHECK(contains(page, "<code>final:1</code>"));
  CHECK(contains(page, "final:1&#39;s verdict"));
  CHECK(contains(page, "not decided: one seed"));
  // The screening reasons; per top rule its hash, tokens and export command.
  CHECK(contains(page, "id=\"screening\""));
  CHECK(contains(page, "<td>rejected</td><td>zero</td><td class=\"num\">1</td><td class=\"num\">50 %</td>"));
  CHECK(contains(page, "hash " + testing::hash_of(1) + " · tokens <code>g id id id mul</code>"));
  CHECK(contains(page, "export: <code>nos-search export " + dir.file("s.db") + " --rank 1 --target pytorch -o rank1.py"));
}

TEST_CASE("report: without a final, the page says how to run one") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  storage->create_search("other", "{}", {});
  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  CHECK(data.several_searches);
  std::vector<Figure> figures = report_figures(data);
  std::string page = report_html(data, figures, std::vector<std::string>(figures.size()));
  CHECK(contains(page, "No <code>final</code> yet."));
  CHECK(contains(page, "nos-search final " + dir.file("s.db") + " --search fmnist --top 3 --seeds 5"));
  CHECK(contains(page, "--search fmnist --rank 2 --target pytorch -o rank2.py"));
}

TEST_CASE("report: controller replicas: per replica batches, updates and staleness, the versions over time") {
  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  testing::make_report_search(*storage);
  SearchId id = storage->find_search("fmnist")->id;
  {  // Without replicas: no figure, section or card of theirs (the page as it always was).
    ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
    CHECK_FALSE(data.replicas.any());
    std::vector<Figure> figures = report_figures(data);
    CHECK(figures.size() == 7);
    std::string page = report_html(data, figures, std::vector<std::string>(figures.size()));
    CHECK_FALSE(contains(page, "replica"));
  }
  // r0 and r1 sample with version 0; r0's update is applied (version 1), r1's on version 1 (staleness
  // 1, version 2); r1's next, sampled with 0 too, is refused at 2; r0's batch 3 is still open.
  REQUIRE(storage->init_parameters(id, "p0"));
  REQUIRE(storage->claim_replica_batch(id, "r0", std::nullopt, 10, 0, "a") == 0);
  REQUIRE(storage->claim_replica_batch(id, "r1", std::nullopt, 10, 0, "b") == 1);
  REQUIRE(storage->claim_replica_batch(id, "r1", std::nullopt, 10, 0, "c") == 2);
  REQUIRE(storage->push_update(id, 0, 0, "p1") == 1);
  REQUIRE(storage->push_update(id, 1, 1, "p2") == 2);
  storage->refuse_update(id, 2, 2);
  REQUIRE(storage->claim_replica_batch(id, "r0", std::nullopt, 10, 2, "d") == 3);

  ReportData data = read_report(*storage, *storage->find_search("fmnist"), 20);
  REQUIRE(data.replicas.any());
  CHECK(data.replicas.applied == 2);
  CHECK(data.replicas.refused == 1);
  REQUIRE(data.replicas.versions.size() == 3);
  REQUIRE(data.replicas.replicas.size() == 2);
  const ReplicaSummary& r0 = data.replicas.replicas[0];
  const ReplicaSummary& r1 = data.replicas.replicas[1];
  CHECK(r0.name == "r0");
  CHECK(r0.batches == 2);
  CHECK(r0.applied == 1);
  CHECK(r0.open == 1);
  CHECK(*r0.staleness_mean() == doctest::Approx(0));
  CHECK(r1.batches == 2);
  CHECK(r1.applied == 1);
  CHECK(r1.refused == 1);
  CHECK(*r1.staleness_mean() == doctest::Approx(1.5));  // 1 and 2
  CHECK(r1.staleness_max == 2);

  std::vector<Figure> figures = report_figures(data);
  REQUIRE(figures.size() == 8);  // the others unchanged, the versions last
  const Figure& versions = figure(figures, "versions");
  CHECK(versions.about_replicas);
  CHECK(contains(versions.script, "set output 'versions.png'"));
  CHECK(contains(versions.script, "title 'newest version'"));
  CHECK(contains(versions.script, "title 'r0'"));
  CHECK(contains(versions.script, "title 'r1'"));
  CHECK(contains(versions.script, "# r0: time version\n"));
  CHECK(contains(versions.caption, "2 applied, 1 refused"));

  std::vector<std::string> pngs(figures.size());
  pngs.back() = std::string("\x89PNG\r\n\x1a\n", 8);
  std::string page = report_html(data, figures, pngs);
  CHECK(contains(page, "<h2 id=\"replicas\">Controller replicas</h2>"));
  CHECK(contains(page, "2 replicas sharing the controller's parameters through the search database, now at version 2 "
                       "(2 updates applied, 1 refused)"));
  CHECK(contains(page, "<tr><td>r1</td><td class=\"num\">2</td><td class=\"num\">1</td><td class=\"num\">1</td>"
                       "<td class=\"num\">0</td><td class=\"num\">1.50</td><td class=\"num\">2</td></tr>"));
  CHECK(contains(page, "version 2; 2 applied, 1 refused"));  // the card
  // The versions plot under the replicas' table, after the search's other plots.
  CHECK(page.find("id=\"hits\"") < page.find("id=\"replicas\""));
  CHECK(page.find("id=\"replicas\"") < page.find("id=\"versions\""));
  CHECK(contains(page, "<img src=\"data:image/png;base64," + base64(pngs.back()) + "\" alt=\"Parameter versions over time\">"));

  // Only version 0 so far: the figure says so instead of drawing.
  auto fresh = open_storage(dir.file("t.db"), OpenMode::Create);
  SearchId other = fresh->create_search("fresh", "{}", {});
  REQUIRE(fresh->init_parameters(other, "p0"));
  ReportData early = read_report(*fresh, *fresh->find_search("fresh"), 20);
  std::vector<Figure> early_figures = report_figures(early);
  const Figure& none = figure(early_figures, "versions");
  CHECK(none.script.empty());
  CHECK(contains(none.absent, "No update applied yet"));
}

TEST_CASE("read_final: a document that is not an object is named") {
  std::string problem;
  read_final("final:3", "[1, 2]", &problem);
  CHECK(problem == "not a JSON object");
  CHECK(shorten("abcdef", 5) == "ab...");
  CHECK(shorten("abc", 5) == "abc");
  CHECK(shorten("a\xc2\xb1" "bcdef", 5) == "a...");  // not cut inside ±
}

}  // namespace
}  // namespace nos::search::cli
