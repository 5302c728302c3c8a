// explain lists the integer form the solver used, carried in the certificate.
#include <gtest/gtest.h>
#include <lorasplit/report.hpp>

#include "solve/problem.hpp"

namespace lorasplit {
namespace {

Params with(std::initializer_list<std::pair<const char*, const char*>> sets) {
  Params p;
  for (const auto& [key, value] : sets) EXPECT_TRUE(set_param(p, key, value).ok()) << key;
  return p;
}

// y_j = b_j / k - offset_j: the plan in the form's own columns.
std::vector<Integer> in_blocks(const IntegerForm& f, const Plan& plan) {
  std::vector<Integer> y;
  for (std::size_t j = 0; j < plan.b.size(); ++j) {
    EXPECT_EQ(plan.b[j] % f.block_tokens, 0);
    y.emplace_back(plan.b[j] / f.block_tokens - f.offset[j]);
  }
  return y;
}

TEST(Explain, CertificateCarriesTheSeedIntegerForm) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  const auto& form = a->result.certificate.integer_form;
  ASSERT_TRUE(form.has_value());
  // The same rows as the integer form of the model (§3.1), row for row.
  const detail::IntProblem pb = detail::to_integer_form(a->model, a->model.block_tokens);
  ASSERT_EQ(form->rows.size(), pb.rows.size());
  int removed = 0;
  for (std::size_t i = 0; i < pb.rows.size(); ++i) {
    EXPECT_EQ(form->rows[i].name, pb.rows[i].name);
    EXPECT_EQ(form->rows[i].a, pb.rows[i].a) << pb.rows[i].name;
    EXPECT_EQ(form->rows[i].h, pb.rows[i].h_int) << pb.rows[i].name;
    removed += form->rows[i].removed ? 1 : 0;
  }
  EXPECT_EQ(form->p, pb.p);
  EXPECT_EQ(form->q, pb.q);
  EXPECT_EQ(form->scale_n, pb.scale_n);
  EXPECT_EQ(form->scale_d, pb.scale_d);
  EXPECT_GT(removed, 0);  // the seed's presolve removes implied rows (docs/model.md §3.2)
  EXPECT_TRUE(form->fixed_zero[1]);  // and fixes b2 (dominated by b1)
  // explain prints those rows: the sync row with its integer coefficients, the presolve marks.
  const std::string text = render_explain(a.value());
  const auto& s1 = form->rows.front();
  EXPECT_NE(text.find(s1.a[0].get_str() + " b1"), std::string::npos) << text;
  EXPECT_NE(text.find("<= " + s1.h.get_str()), std::string::npos) << text;
  EXPECT_NE(text.find("(removed by presolve: implied)"), std::string::npos);
  EXPECT_NE(text.find("b2 = 0 (fixed"), std::string::npos);
}

TEST(Explain, BlocksAndCasesAreSolvedOverWholeBlocks) {
  // Pipeline model with 64-token blocks: the winning case requires its used paths
  // (offset 1); the form is over whole blocks and the plan satisfies every row in it.
  auto a = analyze(with({{"model.name", "pipeline"}, {"lora.block_tokens", "64"}, {"lora.max_batch_tokens", "4096"}}));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->result.status, SolveStatus::kOptimal);
  const auto& form = a->result.certificate.integer_form;
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->block_tokens, 64);
  const auto y = in_blocks(*form, a->result.plan);
  for (std::size_t j = 0; j < y.size(); ++j) {
    EXPECT_GE(y[j], 0);
    EXPECT_EQ(form->offset[j], a->model.support[j] == 1 ? 1 : 0);
    if (form->fixed_zero[j]) {
      EXPECT_EQ(y[j], 0);
    }
  }
  for (const auto& row : form->rows) {
    Integer lhs = 0;
    for (std::size_t j = 0; j < y.size(); ++j) lhs += row.a[j] * y[j];
    EXPECT_LE(lhs, row.h) << row.name;
  }
  // The objective in those units is the certified throughput.
  Integer num = form->p0, den = form->q0;
  for (std::size_t j = 0; j < y.size(); ++j) {
    num += form->p[j] * y[j];
    den += form->q[j] * y[j];
  }
  EXPECT_EQ(make_rational(num * form->scale_d, den * form->scale_n), a->result.throughput_tokens_per_s);
  const std::string text = render_explain(a.value());
  EXPECT_NE(text.find("over whole blocks y >= 0: b1 = 64*"), std::string::npos) << text;
  EXPECT_NE(text.find("y_b1"), std::string::npos);
}

TEST(Explain, OnlyExplainedSolvesCarryTheForm) {
  SolveOptions lean;
  lean.explain = false;
  auto r = solve(Params(), lean);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->certificate.integer_form.has_value());
  SolveOptions explained;
  explained.relaxation_bound = false;  // the lean solver's explained path
  auto e = solve(Params(), explained);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->certificate.integer_form.has_value());
  EXPECT_EQ(e->certificate.integer_form->rows.size(), 6U);
}

TEST(Explain, InfeasibleAndOtherDomains) {
  // Infeasible: the form of the first case is still shown (the rows that hold no plan).
  auto inf = analyze(with({{"lora.max_batch_latency_s", "1e-12"}}));
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ(inf->result.status, SolveStatus::kInfeasible);
  EXPECT_TRUE(inf->result.certificate.integer_form.has_value());
  EXPECT_NE(render_explain(inf.value()).find("Integer form used by the solver"), std::string::npos);
  // The binary domain is checked exhaustively: no integer form, and explain says so.
  auto bin = analyze(with({{"lora.max_batch_latency_s", "1"}}), SolveOptions{Domain::kBinary});
  ASSERT_TRUE(bin.ok());
  EXPECT_FALSE(bin->result.certificate.integer_form.has_value());
  EXPECT_NE(render_explain(bin.value()).find("binary domain is solved on the rows above"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit
