// Plans, affine forms, feasibility and the cases that hold a plan.
#include <lorasplit/describe.hpp>
#include <lorasplit/model.hpp>

#include <fmt/format.h>

#include <string>

#include "checked.hpp"

namespace lorasplit {

Status validate_plan(const Plan& plan) {
  constexpr std::int64_t kMaxTotal = std::int64_t{1} << 62;
  std::int64_t total = 0;
  for (const auto b : plan.b) {
    if (b < 0) {
      return Error{ErrorCode::kBadOption, "plan", std::to_string(b),
                   fmt::format("plan: batch sizes must not be negative (got {})", b)};
    }
    const auto sum = detail::checked_add(total, b);
    if (!sum || *sum > kMaxTotal) {
      return Error{ErrorCode::kOutOfRange, "plan", std::to_string(b),
                   fmt::format("plan: the batch sizes add up to more than 2^62 tokens (at {})", b)};
    }
    total = *sum;
  }
  return {};
}

Rational Affine::eval(const Plan& plan) const {
  Rational sum = constant;
  for (std::size_t j = 0; j < coef.size(); ++j) sum += coef[j] * plan.b[j];
  return sum;
}

Rational Affine::eval(const Point& b) const {
  Rational sum = constant;
  for (std::size_t j = 0; j < coef.size(); ++j) sum += coef[j] * b[j];
  return sum;
}

Point to_point(const Plan& plan) {
  Point out;
  out.reserve(plan.b.size());
  for (const auto x : plan.b) out.emplace_back(x);
  return out;
}

Affine operator+(const Affine& x, const Affine& y) {
  Affine out(x.coef.size());
  for (std::size_t j = 0; j < x.coef.size(); ++j) out.coef[j] = x.coef[j] + y.coef[j];
  out.constant = x.constant + y.constant;
  return out;
}

Affine operator-(const Affine& x, const Affine& y) {
  Affine out(x.coef.size());
  for (std::size_t j = 0; j < x.coef.size(); ++j) out.coef[j] = x.coef[j] - y.coef[j];
  out.constant = x.constant - y.constant;
  return out;
}

std::string_view to_string(Domain domain) {
  switch (domain) {
    case Domain::kInteger: return "integer";
    case Domain::kBinary: return "binary";
    case Domain::kContinuous: return "continuous";
  }
  return "?";
}

std::vector<Column> three_path_columns() {
  return {{"b1", "both stages on the GPU"},
          {"b2", "stage 1 (X·A) on the CXL device, stage 2 (Y·B) on the GPU"},
          {"b3", "both stages on the CXL device"}};
}

Model build_seed_model(const Params& params) { return build_model(describe_seed(params), params).cases.front(); }

Formulation build_pipeline_model(const Params& params) { return build_model(describe_pipeline(params), params); }

Formulation build_model(const Params& params) { return build_model(describe(params), params); }

bool is_feasible(const Model& model, const Plan& plan) {
  if (plan.b.size() != model.size()) return false;
  for (std::size_t j = 0; j < plan.b.size(); ++j) {
    const auto b = plan.b[j];
    if (b < 0 || b % model.block_tokens != 0) return false;
    if (model.support[j] == 0 && b != 0) return false;
    if (model.support[j] == 1 && b == 0) return false;
  }
  for (const auto& c : model.constraints) {
    if (c.lhs.eval(plan) > c.rhs.eval(plan)) return false;
  }
  return true;
}

bool is_feasible(const Model& model, const Point& b) {
  if (b.size() != model.size()) return false;
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (b[j] < 0) return false;
    if (model.support[j] == 0 && b[j] != 0) return false;
  }
  for (const auto& c : model.constraints) {
    if (c.lhs.eval(b) > c.rhs.eval(b)) return false;
  }
  return true;
}

Rational throughput_tokens_per_s(const Model& model, const Point& b) {
  const Rational time = model.batch_time.eval(b);
  if (time <= 0) return 0;
  return model.tokens.eval(b) / time;
}

Rational throughput_tokens_per_s(const Model& model, const Plan& plan) {
  const Rational time = model.batch_time.eval(plan);
  if (time <= 0) return 0;
  return model.tokens.eval(plan) / time;
}

namespace {
template <class B>
bool support_ok(const Model& m, const B& b, bool integer) {
  if (b.size() != m.size()) return false;
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (m.support[j] == 0 && b[j] != 0) return false;
    if (m.support[j] == 1 && (integer ? b[j] < m.block_tokens : b[j] < 0)) return false;
  }
  return true;
}
template <class B>
bool case_rows_hold(const Model& m, const B& b) {
  for (const auto& c : m.constraints) {
    if (c.kind == RowKind::kCase && c.lhs.eval(b) > c.rhs.eval(b)) return false;
  }
  return true;
}
}  // namespace

const Model* case_of(const Formulation& f, const Plan& plan) {
  for (const auto& m : f.cases) {
    if (is_feasible(m, plan)) return &m;  // is_feasible checks the case's support too
  }
  return nullptr;
}

const Model* case_of(const Formulation& f, const Point& b) {
  for (const auto& m : f.cases) {
    if (is_feasible(m, b)) return &m;
  }
  return nullptr;
}

const Model* describing_case(const Formulation& f, const Plan& plan) {
  for (const auto& m : f.cases) {
    if (support_ok(m, plan.b, true) && case_rows_hold(m, to_point(plan))) return &m;
  }
  return nullptr;
}

bool is_feasible(const Formulation& f, const Plan& plan) { return case_of(f, plan) != nullptr; }

Rational throughput_tokens_per_s(const Formulation& f, const Plan& plan) {
  const Model* m = describing_case(f, plan);
  return m == nullptr ? Rational(0) : throughput_tokens_per_s(*m, plan);
}

}  // namespace lorasplit
