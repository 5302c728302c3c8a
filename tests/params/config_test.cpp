#include <gtest/gtest.h>
#include <lorasplit/params.hpp>

#include <cstdio>
#include <fstream>

namespace lorasplit {
namespace {

TEST(Config, NumbersStayExactAndUnitsWork) {
  Params p;
  const Status st = load_config_string(p, R"(
# a config in the seed's spirit
[gpu]
memory_bytes = "80 GB"
flops = 15.7e12         # a TOML float: read from the text, so exactly 157e11
[cxl]
flops = 1.57e+12
[link]
bandwidth_bytes_per_s = "16 GiB/s"
latency_s = 0.000_001
[lora]
d = 1_024
r = 8
element_bytes = 2
)",
                                       "test.toml");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(p.gpu_memory_bytes(), Rational(Integer("80000000000")));
  EXPECT_EQ(p.gpu_flops(), Rational(Integer("15700000000000")));
  EXPECT_EQ(p.cxl_flops(), Rational(Integer("1570000000000")));
  EXPECT_EQ(p.link_latency_s(), make_rational(1, 1000000));
  EXPECT_EQ(p.d(), 1024);
  EXPECT_EQ(p.r(), 8);
  EXPECT_EQ(p.element_bytes(), 2);
}

TEST(Config, PresetKeyStartsFromAPreset) {
  Params p;
  ASSERT_TRUE(load_config_string(p, "preset = \"a100-fp16-d8192\"\n[lora]\nr = 16\n", "t.toml").ok());
  EXPECT_EQ(p.d(), 8192);
  EXPECT_EQ(p.r(), 16);
}

TEST(Config, DottedKeysAtTopLevel) {
  Params p;
  ASSERT_TRUE(load_config_string(p, "lora.d = 256\ngpu.flops = \"1 TFLOPS\"\n", "t.toml").ok());
  EXPECT_EQ(p.d(), 256);
  EXPECT_EQ(p.gpu_flops(), Rational(Integer("1000000000000")));
}

struct Bad {
  const char* toml;
  ErrorCode code;
  const char* needle;  // must appear in the message
};

TEST(Config, BadFilesGiveOneLineNamingTheKey) {
  const Bad cases[] = {
      {"[gpu]\nmemory = 1\n", ErrorCode::kUnknownKey, "gpu.memory"},
      {"[gpux]\nflops = 1\n", ErrorCode::kUnknownKey, "gpux.flops"},
      {"size = 3\n", ErrorCode::kUnknownKey, "size"},
      {"[gpu]\nflops = nan\n", ErrorCode::kBadNumber, "gpu.flops"},
      {"[gpu]\nflops = inf\n", ErrorCode::kBadNumber, "gpu.flops"},
      {"[gpu]\nflops = -15.7e12\n", ErrorCode::kOutOfRange, "gpu.flops"},
      {"[gpu]\nflops = true\n", ErrorCode::kConfigSyntax, "gpu.flops"},
      {"[link]\nlatency_s = \"1 GiB\"\n", ErrorCode::kWrongDimension, "link.latency_s"},
      {"[lora]\nd = 10.5\n", ErrorCode::kNotInteger, "lora.d"},
      {"[gpu]\nflops = 1\nflops = 2\n", ErrorCode::kConfigSyntax, "t.toml:3"},  // duplicated key
      {"[gpu\nflops = 1\n", ErrorCode::kConfigSyntax, "malformed TOML"},
      {"preset = \"nope\"\n", ErrorCode::kUnknownPreset, "nope"},
      {"preset = 3\n", ErrorCode::kConfigSyntax, "preset"},
  };
  for (const auto& c : cases) {
    Params p;
    const Status st = load_config_string(p, c.toml, "t.toml");
    ASSERT_FALSE(st.ok()) << c.toml;
    EXPECT_EQ(st.error().code, c.code) << c.toml << " -> " << st.error().message;
    EXPECT_NE(st.error().message.find(c.needle), std::string::npos) << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos) << st.error().message;
  }
}

TEST(Config, UnreadableFile) {
  Params p;
  const Status st = load_config_file(p, "/nonexistent/lorasplit.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kFileUnreadable);
  EXPECT_NE(st.error().message.find("/nonexistent/lorasplit.toml"), std::string::npos);
}

TEST(Config, FileRoundTrip) {
  const std::string path = ::testing::TempDir() + "lorasplit_config_test.toml";
  {
    std::ofstream out(path);
    out << "[link]\nlatency_s = \"200 ns\"\n";
  }
  Params p;
  ASSERT_TRUE(load_config_file(p, path).ok());
  EXPECT_EQ(p.link_latency_s(), make_rational(1, 5000000));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace lorasplit

namespace lorasplit {
namespace {

TEST(Config, ModelTableAndPipelineSwitches) {
  Params p;
  const Status st = load_config_string(p, R"(
[model]
name = "pipeline"
[pipeline]
relaxed_sync = false
no_credit = true
chunk_tokens = 64
[link]
duplex = "shared"
[lora]
weights = "gpu"
[cxl]
memory_bytes = "1 GiB"
)",
                                       "t.toml");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(p.model_name(), ModelName::kPipeline);
  EXPECT_FALSE(p.on(ParamId::kPipelineRelaxedSync));
  EXPECT_TRUE(p.on(ParamId::kPipelineNoCredit));
  EXPECT_EQ(p.get(ParamId::kPipelineChunkTokens), 64);
  EXPECT_EQ(p.choice(ParamId::kLinkDuplex), static_cast<int>(LinkDuplex::kShared));
  EXPECT_EQ(p.choice(ParamId::kLoraWeights), static_cast<int>(WeightsPlacement::kGpu));
  EXPECT_EQ(p.get(ParamId::kCxlMemoryBytes), Rational(1073741824));
  EXPECT_TRUE(validate(p).ok());

  Params q;
  const Status bad = load_config_string(q, "[pipeline]\nrelaxed_sync = \"maybe\"\n", "b.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("b.toml:2: pipeline.relaxed_sync = 'maybe': must be one of off, on"),
            std::string::npos)
      << bad.error().message;
  Params r;
  const Status wrong = load_config_string(r, "[lora]\nd = true\n", "c.toml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("must be a number or a string with a unit"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit
