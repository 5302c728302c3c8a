// Sweep parts (sweep.hpp, "Parts"): written by render_part_head/tail, checked and joined by
// merge_sweep_parts.
#include <gtest/gtest.h>
#include <lorasplit/sweep.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lorasplit {
namespace {

namespace fs = std::filesystem;

class Parts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lorasplit_parts_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes shard i/n of a sweep of `total` points whose row k is "k,k*k": returns its path.
  std::string part(std::size_t i, std::size_t n, std::size_t total, const std::string& format = "csv",
                   const std::string& param = "param lora.r = 8") {
    SweepPartHead head;
    head.identity = {"version: test", "model: seed", "format: " + format, "vary: lora.r=lin:1:9:9", param};
    head.shard = Shard{i, n};
    head.total_points = total;
    const auto [b, e] = shard_range(total, head.shard);
    std::string text = render_part_head(head);
    if (format == "csv") text += "k,square\n";
    for (std::size_t k = b; k < e; ++k) text += row(k);
    text += render_part_tail(e - b);
    return write(fmt("p{}of{}{}.{}", i, n, param.size(), format), text);
  }
  static std::string row(std::size_t k) { return std::to_string(k) + "," + std::to_string(k * k) + "\n"; }
  static std::string fmt(const char* pattern, std::size_t a, std::size_t b, std::size_t c, const std::string& ext) {
    std::string s = pattern;
    for (const std::string& v : {std::to_string(a), std::to_string(b), std::to_string(c), ext}) {
      s.replace(s.find("{}"), 2, v);
    }
    return s;
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static Result<std::string> merge(const std::vector<std::string>& paths) {
    std::string out;
    const Status st = merge_sweep_parts(paths, [&](std::string_view t) {
      out.append(t);
      return true;
    });
    if (!st) return st.error();
    return out;
  }
  static std::string whole_csv(std::size_t total) {
    std::string s = "k,square\n";
    for (std::size_t k = 0; k < total; ++k) s += row(k);
    return s;
  }
  fs::path dir_;
};

TEST_F(Parts, MergeInAnyOrderIsTheWholeSweep) {
  const auto m = merge({part(3, 3, 10), part(1, 3, 10), part(2, 3, 10)});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m.value(), whole_csv(10));
}

TEST_F(Parts, EmptyShardsAndJsonLines) {
  // 5 shards of 2 points: three parts hold no row; JSON lines have no header.
  std::vector<std::string> paths;
  for (std::size_t i = 1; i <= 5; ++i) paths.push_back(part(i, 5, 2, "jsonl"));
  const auto m = merge(paths);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m.value(), row(0) + row(1));
}

TEST_F(Parts, HeadSaysWhatProducedThePart) {
  const std::string text = read(part(2, 3, 10));
  EXPECT_EQ(text.rfind("# lorasplit sweep part\n# sweep id: ", 0), 0U);
  EXPECT_NE(text.find("\n# param lora.r = 8\n# shard: 2/3\n# points: begin=3 end=6 total=10\nk,square\n"),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 14), "# end: 3 rows\n");
  EXPECT_EQ(content_digest(""), "cbf29ce484222325");  // the FNV-1a 64 offset basis
  EXPECT_NE(content_digest("a"), content_digest("b"));
}

void expect_refused(const Result<std::string>& m, ErrorCode code, const std::string& want) {
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, code);
  EXPECT_NE(m.error().message.find(want), std::string::npos) << m.error().message;
}

TEST_F(Parts, MissingRepeatedAndForeignPartsAreRefused) {
  const std::string a = part(1, 3, 10), b = part(2, 3, 10), c = part(3, 3, 10);
  expect_refused(merge({a, c}), ErrorCode::kBadPart, "shard 2/3 is missing");
  expect_refused(merge({a, b, c, b}), ErrorCode::kBadPart, "shard 2/3 is given twice");
  expect_refused(merge({a, part(2, 3, 10, "csv", "param lora.r = 16"), c}), ErrorCode::kBadPart,
                 "from another sweep");
  expect_refused(merge({a, part(2, 4, 10), c}), ErrorCode::kBadPart, "shard 2/4 of 10 points");
  expect_refused(merge({a, part(2, 3, 11), c}), ErrorCode::kBadPart, "of 11 points");
  expect_refused(merge({}), ErrorCode::kBadPart, "no parts given");
  expect_refused(merge({(dir_ / "absent.csv").string()}), ErrorCode::kFileUnreadable, "cannot open");
}

TEST_F(Parts, TruncatedOrEditedPartsAreRefused) {
  const std::string a = part(1, 2, 6), b = part(2, 2, 6);
  const std::string text = read(b);
  // Cut anywhere: at the end of a line or inside one.
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    const std::string t = write("cut.csv", text.substr(0, cut));
    const auto m = merge({a, t});
    EXPECT_FALSE(m.ok()) << "cut at " << cut;
  }
  // A row lost with the count edited to match: the shard's range says how many it holds.
  std::string lost = text;
  lost.erase(lost.find(row(4)), row(4).size());
  lost.replace(lost.find("# end: 3 rows"), 13, "# end: 2 rows");
  expect_refused(merge({a, write("lost.csv", lost)}), ErrorCode::kBadPart, "truncated: 2 rows of the 3");
  // An identity line changed by hand: the sweep id no longer matches.
  std::string edited = text;
  edited.replace(edited.find("lora.r = 8"), 10, "lora.r = 9");
  expect_refused(merge({a, write("edited.csv", edited)}), ErrorCode::kBadPart, "sweep id does not match");
  // Text after the end, a '#' line among the rows, a wrong points line.
  expect_refused(merge({a, write("after.csv", text + "7,49\n")}), ErrorCode::kBadPart, "follows the '# end' line");
  std::string hash = text;
  hash.insert(hash.find(row(4)), "# note\n");
  expect_refused(merge({a, write("hash.csv", hash)}), ErrorCode::kBadPart, "a '#' line among the rows");
  std::string points = text;
  points.replace(points.find("begin=3"), 7, "begin=2");
  expect_refused(merge({a, write("points.csv", points)}), ErrorCode::kBadPart, "not begin=2 end=6");
  expect_refused(merge({a, write("plain.csv", "k,square\n0,0\n")}), ErrorCode::kBadPart,
                 "not a lorasplit sweep part");
}

TEST_F(Parts, AFailedWriteStopsTheMerge) {
  const std::string a = part(1, 2, 6), b = part(2, 2, 6);
  int calls = 0;
  const Status st = merge_sweep_parts({a, b}, [&](std::string_view) { return ++calls < 3; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kWriteFailed);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace lorasplit
