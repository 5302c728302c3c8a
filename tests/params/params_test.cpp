#include <gtest/gtest.h>
#include <lorasplit/params.hpp>

namespace lorasplit {
namespace {

TEST(Params, DefaultsAreTheSeedFormulation) {
  const Params p;
  EXPECT_EQ(p.gpu_memory_bytes(), Rational(Integer(16) * 1024 * 1024 * 1024));
  EXPECT_EQ(p.gpu_flops(), Rational(Integer("15700000000000")));
  EXPECT_EQ(p.cxl_flops(), Rational(Integer("1570000000000")));
  EXPECT_EQ(p.link_bandwidth_bytes_per_s(), Rational(Integer(16) * 1024 * 1024 * 1024));
  EXPECT_EQ(p.link_latency_s(), make_rational(1, 1000000));
  EXPECT_EQ(p.d(), 512);
  EXPECT_EQ(p.r(), 4);
  EXPECT_EQ(p.element_bytes(), 4);
  EXPECT_TRUE(validate(p).ok());
}

TEST(Params, TableIsComplete) {
  ASSERT_EQ(param_specs().size(), kParamCount);
  for (std::size_t i = 0; i < kParamCount; ++i) {
    EXPECT_EQ(static_cast<std::size_t>(param_specs()[i].id), i);
    EXPECT_EQ(find_param(param_specs()[i].key), &param_specs()[i]);
  }
  EXPECT_EQ(find_param("gpu.memory"), nullptr);
}

TEST(Params, SetParamParsesUnits) {
  Params p;
  ASSERT_TRUE(set_param(p, "link.latency_s", "200 ns").ok());
  EXPECT_EQ(p.link_latency_s(), make_rational(1, 5000000));
  ASSERT_TRUE(apply_assignment(p, "gpu.memory_bytes=80 GB").ok());
  EXPECT_EQ(p.gpu_memory_bytes(), Rational(Integer("80000000000")));
  ASSERT_TRUE(apply_assignment(p, "link.latency_s=0").ok());  // zero latency is allowed
}

struct Bad {
  const char* assignment;
  ErrorCode code;
  const char* key;
};

TEST(Params, BadAssignmentsNameKeyAndValue) {
  const Bad cases[] = {
      {"gpu.memroy_bytes=16 GiB", ErrorCode::kUnknownKey, "gpu.memroy_bytes"},
      {"gpu.flops=-1", ErrorCode::kOutOfRange, "gpu.flops"},
      {"gpu.flops=0", ErrorCode::kOutOfRange, "gpu.flops"},
      {"cxl.flops=nan", ErrorCode::kBadNumber, "cxl.flops"},
      {"link.bandwidth_bytes_per_s=inf", ErrorCode::kBadNumber, "link.bandwidth_bytes_per_s"},
      {"link.latency_s=-1 us", ErrorCode::kOutOfRange, "link.latency_s"},
      {"link.latency_s=16 GiB", ErrorCode::kWrongDimension, "link.latency_s"},
      {"lora.d=512.5", ErrorCode::kNotInteger, "lora.d"},
      {"lora.d=0", ErrorCode::kOutOfRange, "lora.d"},
      {"lora.d=2e6", ErrorCode::kOutOfRange, "lora.d"},
      {"lora.r=1.5", ErrorCode::kNotInteger, "lora.r"},
      {"lora.element_bytes=3.5", ErrorCode::kNotInteger, "lora.element_bytes"},
      {"gpu.memory_bytes=0.5", ErrorCode::kNotInteger, "gpu.memory_bytes"},
      {"gpu.memory_bytes=2 EiB", ErrorCode::kOutOfRange, "gpu.memory_bytes"},
      {"gpu.flops=1e31", ErrorCode::kOutOfRange, "gpu.flops"},
      {"gpu.flops=1e-31", ErrorCode::kOutOfRange, "gpu.flops"},
      {"gpu.flops", ErrorCode::kBadOption, "assignment"},  // the CLI says --set (cli.error.set_without_equals)
  };
  for (const auto& c : cases) {
    Params p;
    const Status st = apply_assignment(p, c.assignment);
    ASSERT_FALSE(st.ok()) << c.assignment;
    EXPECT_EQ(st.error().code, c.code) << c.assignment << ": " << st.error().message;
    EXPECT_EQ(st.error().key, c.key);
    EXPECT_NE(st.error().message.find(c.key), std::string::npos) << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos);
  }
}

TEST(Params, RankAboveDimensionIsRejected) {
  Params p;
  ASSERT_TRUE(apply_assignment(p, "lora.r=600").ok());  // fine alone...
  const Status st = validate(p);                        // ...but r > d = 512
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInconsistent);
  EXPECT_NE(st.error().message.find("lora.r"), std::string::npos);
  EXPECT_NE(st.error().message.find("600"), std::string::npos);
}

TEST(Presets, AuthorsParameterSets) {
  ASSERT_GE(presets().size(), 4U);
  EXPECT_EQ(presets()[0].name, "seed");
  auto seed = preset("seed");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->gpu_memory_bytes(), Params().gpu_memory_bytes());

  auto big = preset("seed-256g-d1024");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->gpu_memory_bytes(), Rational(Integer(256) << 30));
  EXPECT_EQ(big->d(), 1024);

  auto a100 = preset("a100-128g");
  ASSERT_TRUE(a100.ok());
  EXPECT_EQ(a100->gpu_flops(), Rational(Integer("312000000000000")));
  EXPECT_EQ(a100->cxl_flops(), Rational(Integer("4000000000000")));
  EXPECT_EQ(a100->link_bandwidth_bytes_per_s(), Rational(Integer(128) << 30));

  auto fp16 = preset("a100-fp16-d8192");
  ASSERT_TRUE(fp16.ok());
  EXPECT_EQ(fp16->gpu_memory_bytes(), Rational(Integer("80000000000")));
  EXPECT_EQ(fp16->link_bandwidth_bytes_per_s(), Rational(Integer("128000000000")));
  EXPECT_EQ(fp16->link_latency_s(), make_rational(1, 5000000));
  EXPECT_EQ(fp16->d(), 8192);
  EXPECT_EQ(fp16->element_bytes(), 2);
  for (const auto& info : presets()) {
    auto p = preset(info.name);
    ASSERT_TRUE(p.ok()) << info.name;
    EXPECT_TRUE(validate(p.value()).ok()) << info.name;
    // Presets state the hardware and the adapter; the model choice and its switches keep their defaults.
    std::size_t hardware = 0;
    for (const auto& s : param_specs()) hardware += s.id < ParamId::kModelName ? 1 : 0;
    EXPECT_EQ(info.values.size(), hardware) << info.name;
  }
  auto bad = preset("a200");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnknownPreset);
  EXPECT_NE(bad.error().message.find("a200"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit

namespace lorasplit {
namespace {

TEST(Params, BareNumbersFarFromTheValueTheyReplaceAreSaid) {
  Params p;
  std::vector<std::string> warnings;
  ASSERT_TRUE(set_param(p, "link.latency_s", "250", &warnings).ok());
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("link.latency_s = 250 has no unit and is read as 250 s"), std::string::npos) << warnings[0];
  EXPECT_EQ(p.get(ParamId::kLinkLatencyS), Rational(250));  // the value is still the one written
  warnings.clear();
  Params q;
  ASSERT_TRUE(set_param(q, "gpu.memory_bytes", "80", &warnings).ok());  // 80 B where 16 GiB was
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("1/2.15e+08 of the 16 GiB it replaces"), std::string::npos) << warnings[0];
  warnings.clear();
  Params r;
  ASSERT_TRUE(set_param(r, "link.latency_s", "250 ns", &warnings).ok());  // a unit: nothing to say
  ASSERT_TRUE(set_param(r, "gpu.flops", "31.4e12", &warnings).ok());     // bare, but 2x the seed's
  ASSERT_TRUE(set_param(r, "lora.d", "4096", &warnings).ok());           // a count has no unit to forget
  EXPECT_TRUE(warnings.empty());
  ASSERT_TRUE(set_param(r, "link.latency_s", "1", nullptr).ok());        // no list: no warning kept anywhere
}

}  // namespace
}  // namespace lorasplit

