// explain, export --format lp, check --plan.
#include <fmt/format.h>
#include <lorasplit/report.hpp>

#include <nlohmann/json.hpp>

#include "solve/problem.hpp"

namespace lorasplit {
namespace {

const char* const kCol[3] = {"b1", "b2", "b3"};

// "c1 b1 + c2 b2 + c3 b3 + c0" with exact coefficients, zero terms dropped.
std::string affine_text(const Affine& f) {
  std::string out;
  for (std::size_t j = 0; j < 3; ++j) {
    if (f.coef[j] == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : " + ", format_exact(f.coef[j]), kCol[j]);
  }
  if (f.constant != 0 || out.empty()) out += fmt::format("{}{}", out.empty() ? "" : " + ", format_exact(f.constant));
  return out;
}

std::string int_row_text(const std::array<Integer, 3>& a) {
  std::string out;
  for (std::size_t j = 0; j < 3; ++j) {
    if (a[j] == 0) continue;
    const bool neg = a[j] < 0;
    const Integer mag = neg ? Integer(-a[j]) : a[j];
    if (out.empty()) {
      out += fmt::format("{}{} {}", neg ? "-" : "", mag.get_str(), kCol[j]);
    } else {
      out += fmt::format(" {} {} {}", neg ? "-" : "+", mag.get_str(), kCol[j]);
    }
  }
  return out.empty() ? "0 b1" : out;
}

}  // namespace

std::string render_explain(const Analysis& a) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  const Model& m = a.model;
  line(fmt::format("{} model, {} domain{}", m.name, to_string(a.options.domain),
                   m.block_tokens > 1 ? fmt::format(", blocks of {} tokens", m.block_tokens) : std::string()));
  line("");
  line("MAXIMIZE throughput = tokens / batch_time   [tokens/s]");
  line(fmt::format("  tokens     = {}   [tokens]", affine_text(m.tokens)));
  if (m.case_name.empty()) {
    line(fmt::format("  batch_time = T_GPU_S1 + T_GPU_S2 = {}   [s]", affine_text(m.batch_time)));
  } else {
    line(fmt::format("  the linear case that holds the optimum: {}", m.case_name));
    line(fmt::format("  batch_time = T_S1 + T_S2 = {}   [s]", affine_text(m.batch_time)));
  }
  line(fmt::format("  T_GPU_S1 = {}   [s]", affine_text(m.gpu_s1)));
  line(fmt::format("  T_CXL_S1 = {}   [s]", affine_text(m.cxl_s1)));
  line(fmt::format("  T_GPU_S2 = {}   [s]", affine_text(m.gpu_s2)));
  line(fmt::format("  T_CXL_S2 = {}   [s]", affine_text(m.cxl_s2)));
  line("SUBJECT TO (exact, in the row's unit)");
  for (const auto& c : m.constraints) {
    line(fmt::format("  {:<12} {} <= {}   [{}]   ({})", c.name + ":", affine_text(c.lhs), affine_text(c.rhs), c.unit,
                     c.formula));
  }
  const char* dom = a.options.domain == Domain::kInteger    ? "integer"
                    : a.options.domain == Domain::kBinary   ? "in {0, 1} blocks"
                                                            : "real";
  line(fmt::format("  b1, b2, b3 >= 0, {}{}", dom,
                   m.block_tokens > 1 ? fmt::format(", multiples of {}", m.block_tokens) : std::string()));
  if (!m.case_name.empty()) {
    std::string used;
    for (std::size_t j = 0; j < 3; ++j) {
      used += fmt::format("{}{} {}", used.empty() ? "" : ", ", kCol[j], m.support[j] == 0 ? "= 0" : ">= one block");
    }
    line("  paths of this case: " + used);
  }
  line("");
  line("Integer form used by the solver (each row times the least common denominator of its");
  line("coefficients, divided by their gcd; right-hand sides rounded down, exact for integer b)");
  Model in_b = m;  // rows in b itself (the solver shifts a used path by one block; the listing does not)
  in_b.support = {-1, -1, -1};
  const detail::IntProblem pb = detail::to_integer_form(in_b, 1);
  for (const auto& row : pb.rows) {
    line(fmt::format("  {:<12} {} <= {}", row.name + ":", int_row_text(row.a), row.h_int.get_str()));
  }
  line("");
  const Certificate& c = a.result.certificate;
  line("Solver path");
  line("  method: " + c.method);
  for (const auto& p : c.presolve) line("  presolve: " + p);
  if (!c.reduced_problem.empty()) line("  reduced problem: " + c.reduced_problem);
  for (const auto& cs : c.cases) line("  case " + cs);
  int i = 0;
  for (const auto& st : c.steps) {
    line(fmt::format("  subproblem {}: lambda = {} tokens/s ({}): max tokens - lambda*batch_time = {} tokens at "
                     "(b1, b2, b3) = ({}, {}, {})",
                     ++i, fmt::format("{:.12g}", to_double(st.lambda_tokens_per_s)),
                     format_fraction(st.lambda_tokens_per_s), format_exact(st.max_tokens), st.argmax.b[0],
                     st.argmax.b[1], st.argmax.b[2]));
  }
  if (a.result.status == SolveStatus::kOptimal) {
    line(fmt::format("  optimum: ({}, {}, {}) at {} tokens/s; the last subproblem's maximum is {}, so no split does better",
                     a.result.plan.b[0], a.result.plan.b[1], a.result.plan.b[2],
                     format_fraction(a.result.throughput_tokens_per_s), format_exact(c.final_subproblem_max)));
    if (c.iteration_bound > 0) {
      line(fmt::format("  {} subproblems; the proven bound for this instance is {}", c.iterations, c.iteration_bound));
    }
  } else {
    line("  infeasible: " + a.infeasibility_reason);
  }
  return out;
}

std::string render_lp(const Analysis& a) {
  const Model& m = a.model;
  Model in_b = m;  // rows in b itself; the case's support becomes bounds below
  in_b.support = {-1, -1, -1};
  const detail::IntProblem pb = detail::to_integer_form(in_b, 1);
  // λ* = num/den in the scaled units of (pb.p, pb.q); 0 when infeasible (maximise tokens).
  Rational lambda_scaled = 0;
  if (a.result.status == SolveStatus::kOptimal) {
    lambda_scaled = a.result.throughput_tokens_per_s * pb.scale_n / pb.scale_d;
  }
  const Integer num = lambda_scaled.get_num(), den = lambda_scaled.get_den();
  std::array<Integer, 3> obj;
  for (std::size_t j = 0; j < 3; ++j) obj[j] = den * pb.p[j] - num * pb.q[j];
  std::string out;
  out += fmt::format("\\ lorasplit export: the final Dinkelbach step of the {} model ({} domain)\n", m.name,
                     to_string(a.options.domain));
  if (!m.case_name.empty()) {
    out += fmt::format("\\ restricted to the linear case that holds the optimum: {}\n", m.case_name);
  }
  out += fmt::format("\\ lambda* = {} tokens/s; objective = {} * tokens*{} - {} * batch_time*{} (integer units)\n",
                     format_fraction(a.result.throughput_tokens_per_s), den.get_str(), pb.scale_n.get_str(),
                     num.get_str(), pb.scale_d.get_str());
  out += "\\ Its maximum is exactly 0, reached by the splits whose throughput is lambda*.\n";
  if (pb.p0 != 0 || pb.q0 != 0) out += "\\ (constant objective terms omitted: they do not move the argmax)\n";
  // Every column appears in the objective, in order, so readers number them b1, b2, b3.
  std::string objective;
  for (std::size_t j = 0; j < 3; ++j) {
    const bool neg = obj[j] < 0;
    objective += fmt::format("{}{} {}", j == 0 ? (neg ? "-" : "") : (neg ? " - " : " + "),
                             (neg ? Integer(-obj[j]) : obj[j]).get_str(), kCol[j]);
  }
  out += fmt::format("Maximize\n obj: {}\nSubject To\n", objective);
  for (const auto& row : pb.rows) {
    if (row.a[0] == 0 && row.a[1] == 0 && row.a[2] == 0) continue;
    out += fmt::format(" {}: {} <= {}\n", row.name, int_row_text(row.a), row.h_int.get_str());
  }
  const std::int64_t k = m.block_tokens;
  out += fmt::format(" nonempty: b1 + b2 + b3 >= {}\n", k);
  if (k > 1) {
    for (std::size_t j = 0; j < 3; ++j) out += fmt::format(" block_{}: {} - {} y{} = 0\n", kCol[j], kCol[j], k, j + 1);
  }
  out += "Bounds\n";
  for (std::size_t j = 0; j < 3; ++j) {
    if (m.support[j] == 0) {
      out += fmt::format(" {} = 0\n", kCol[j]);
    } else if (m.support[j] == 1 && a.options.domain == Domain::kBinary) {
      out += fmt::format(" {} = {}\n", kCol[j], k);
    } else if (m.support[j] == 1) {
      out += fmt::format(" {} >= {}\n", kCol[j], k);
    } else if (a.options.domain == Domain::kBinary) {
      out += fmt::format(" 0 <= {} <= {}\n", kCol[j], k);
    } else {
      out += fmt::format(" {} >= 0\n", kCol[j]);
    }
  }
  out += "General\n b1 b2 b3";
  if (k > 1) out += " y1 y2 y3";
  out += "\nEnd\n";
  return out;
}

PlanCheck check_plan(const Model& model, const Plan& plan) {
  PlanCheck c;
  c.feasible = is_feasible(model, plan);
  for (const auto& row : model.constraints) {
    if (row.lhs.eval(plan) > row.rhs.eval(plan)) c.violated.push_back(row.name);
  }
  for (const auto b : plan.b) {
    if (b < 0) c.violated.emplace_back("nonnegative");
    if (b % model.block_tokens != 0) c.violated.emplace_back("block");
  }
  c.throughput_tokens_per_s = throughput_tokens_per_s(model, plan);
  return c;
}

std::string render_plan_check(const Model& model, const Plan& plan, const PlanCheck& c, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["b1"] = plan.b[0];
    j["b2"] = plan.b[1];
    j["b3"] = plan.b[2];
    j["feasible"] = c.feasible;
    j["violated"] = c.violated;
    j["throughput_tokens_per_s"] = to_double(c.throughput_tokens_per_s);
    j["throughput_tokens_per_s_exact"] = format_fraction(c.throughput_tokens_per_s);
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : model.constraints) {
      const Rational slack = row.rhs.eval(plan) - row.lhs.eval(plan);
      rows.push_back({{"name", row.name}, {"slack", to_double(slack)}, {"slack_exact", format_fraction(slack)}});
    }
    j["constraints"] = rows;
    return j.dump(2) + "\n";
  }
  std::string out = fmt::format("plan (b1, b2, b3) = ({}, {}, {}): {}\n", plan.b[0], plan.b[1], plan.b[2],
                                c.feasible ? "feasible in exact arithmetic" : "INFEASIBLE in exact arithmetic");
  for (const auto& row : model.constraints) {
    const Rational slack = row.rhs.eval(plan) - row.lhs.eval(plan);
    out += fmt::format("  {:<12} slack {:>24} {}{}\n", row.name, format_number(slack), row.unit,
                       slack < 0 ? "   VIOLATED" : "");
  }
  out += fmt::format("  throughput {} tokens/s (exact {})\n", fmt::format("{:.12g}", to_double(c.throughput_tokens_per_s)),
                     format_fraction(c.throughput_tokens_per_s));
  return out;
}

}  // namespace lorasplit
