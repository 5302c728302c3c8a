#include <gtest/gtest.h>
#include <lorasplit/report.hpp>

#include <nlohmann/json.hpp>

namespace lorasplit {
namespace {

TEST(ReportJson, SeedHasEveryDocumentedField) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  const auto j = nlohmann::json::parse(render_json(a.value()));
  EXPECT_EQ(j["status"], "optimal");
  EXPECT_EQ(j["b1"], 8323128);
  EXPECT_EQ(j["b2"], 0);
  EXPECT_EQ(j["b3"], 17817);
  EXPECT_TRUE(j["throughput_tokens_per_s"].is_number());
  EXPECT_EQ(j["throughput_tokens_per_s_exact"], "21313938232421875/11097504");
  EXPECT_TRUE(j["gpu_only_throughput_tokens_per_s"].is_number());
  EXPECT_TRUE(j["gain_percent"].is_number());
  EXPECT_NEAR(j["gain_percent"].get<double>(), 0.21406637, 1e-6);
  for (const char* k : {"gpu_s1", "cxl_s1", "gpu_s2", "cxl_s2"}) EXPECT_TRUE(j["times_s"][k].is_number()) << k;
  ASSERT_EQ(j["memory_bytes"].size(), 4U);
  for (const auto& row : j["memory_bytes"]) {
    EXPECT_EQ(row["limit"], 17179869184LL);
    EXPECT_LE(row["used"].get<long long>(), row["limit"].get<long long>());
  }
  EXPECT_TRUE(j["binding"].is_array());
  // Every parameter but the serving model's own (its report lists its hardware).
  std::size_t listed = 0;
  for (const auto& s : param_specs()) listed += s.serving_only ? 0U : 1U;
  EXPECT_EQ(j["params"].size(), listed);
  EXPECT_FALSE(j["params"].contains("gpu.memory_bandwidth_bytes_per_s"));
  EXPECT_EQ(j["params"]["gpu.flops"]["exact"], "15700000000000");
  EXPECT_EQ(j["params"]["link.latency_s"]["exact"], "1/1000000");
  EXPECT_EQ(j["certificate"]["final_subproblem_max_tokens_exact"], "0");
}

TEST(ReportText, SeedReportsSayWhatTheSeedModelIs) {
  // One line in every seed report (text and JSON) points to the pipeline model; a
  // pipeline report does not carry it.
  auto seed = analyze(Params());
  ASSERT_TRUE(seed.ok());
  const std::string text = render_text(seed.value());
  EXPECT_EQ(text.find("Note: the seed model is the formulation term for term"), text.find('\n') + 1);
  EXPECT_NE(nlohmann::json::parse(render_json(seed.value()))["model_note"].get<std::string>().find("--model pipeline"),
            std::string::npos);
  Params p;
  ASSERT_TRUE(set_param(p, "model.name", "pipeline").ok());
  auto pipe = analyze(p);
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(render_text(pipe.value()).find("Note: the seed model"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(render_json(pipe.value())).contains("model_note"));
}

TEST(ReportJson, InfeasibleCarriesReason) {
  auto a = analyze(Params(), SolveOptions{Domain::kBinary});
  ASSERT_TRUE(a.ok());
  const auto j = nlohmann::json::parse(render_json(a.value()));
  EXPECT_EQ(j["status"], "infeasible");
  EXPECT_TRUE(j["b1"].is_null());
  EXPECT_NE(j["reason"].get<std::string>().find("latency"), std::string::npos);
}

TEST(ReportJson, ErrorObject) {
  const auto j = nlohmann::json::parse(render_error_json(Error{ErrorCode::kUnknownKey, "x.y", "3", "x.y: unknown"}));
  EXPECT_EQ(j["status"], "error");
  EXPECT_EQ(j["error"]["code"], "unknown_key");
  EXPECT_EQ(j["error"]["key"], "x.y");
}

TEST(ReportText, HasEverySection) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  const std::string text = render_text(a.value());
  for (const char* needle : {"Parameters", "Optimal split", "b1 =", "b2 =", "b3 =", "Stage times", "slack",
                             "GPU memory rows", "headroom", "Throughput", "GPU-only", "gain", "Binding constraints",
                             "Why:", "Certificate", "relaxation bound"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  // Every parameter the seed model reads; the pipeline's switches only where they apply.
  for (const auto& s : param_specs()) {
    EXPECT_EQ(text.find(s.key) != std::string::npos, !s.pipeline_only && !s.serving_only) << s.key;
  }
  Params pipe;
  ASSERT_TRUE(set_param(pipe, "model.name", "pipeline").ok());
  auto b = analyze(pipe, {}, AnalyzeOptions{true, false});
  ASSERT_TRUE(b.ok());
  const std::string ptext = render_text(b.value());
  for (const auto& s : param_specs()) {
    if (!s.serving_only) {
      EXPECT_NE(ptext.find(s.key), std::string::npos) << s.key;
    }
  }
  EXPECT_NE(ptext.find("linear case"), std::string::npos);
  EXPECT_NE(ptext.find("case: b1+b3"), std::string::npos);  // the case that holds the optimum
  EXPECT_NE(ptext.find("linear cases;"), std::string::npos);  // how the cases were settled
}

}  // namespace
}  // namespace lorasplit
