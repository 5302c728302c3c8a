// The pipeline model (docs/model.md §7): the seed's two-stage schedule with its physics
// made consistent, each correction a switch. Terms that a path pays only when it is used
// (a transfer's latency, a weight fetch) make the model piecewise; so do the maxima of
// chunked overlap and of relaxed synchronisation. The model is therefore built as a union
// of linear cases: one per set of used paths (support) and per choice of the largest term
// of each stage. Inside a case every time is affine and the case rows (kind kCase) say
// which term is the largest, so the exact solver handles each case as it handles the seed.
#include <lorasplit/model.hpp>

#include <fmt/format.h>

#include <optional>

namespace lorasplit {
namespace {

Affine affine(Rational c1, Rational c2, Rational c3, Rational constant = 0) {
  return Affine{{std::move(c1), std::move(c2), std::move(c3)}, std::move(constant)};
}

// One term of a stage's time on the device: its affine time and what it is.
struct Part {
  std::string name;     // "x_in", "compute", "y_out", "link", "z_out", "all"
  std::string formula;  // as docs/model.md §7 writes it
  Affine time;          // seconds, the stage's constant terms included
};

struct Stage {
  Affine gpu;
  std::string gpu_formula;
  std::vector<Part> parts;  // empty: the device has nothing to do in this stage
};

std::string pattern_name(const std::vector<int>& s) {
  std::string out;
  for (std::size_t j = 0; j < s.size(); ++j) {
    if (s[j] == 1) out += fmt::format("{}b{}", out.empty() ? "" : "+", j + 1);
  }
  return out;
}

}  // namespace

Formulation build_pipeline_model(const Params& p) {
  const Rational& e = p.element_bytes();
  const Rational& d = p.d();
  const Rational& r = p.r();
  const Rational& mem = p.gpu_memory_bytes();
  const Rational& bw = p.link_bandwidth_bytes_per_s();
  const Rational& lat = p.link_latency_s();
  const Rational gamma = 2 * d * r / (p.gpu_flops() * p.gpu_efficiency());
  const Rational kappa = 2 * d * r / (p.cxl_flops() * p.cxl_efficiency());
  const Rational xi = e * d / bw;
  const Rational eta = e * r / bw;
  const Rational omega = e * d * r / bw;  // one adapter matrix over the link

  const bool credit = !p.on(ParamId::kPipelineNoCredit);
  const bool per_transfer = p.on(ParamId::kPipelineTransferLatency);
  const bool shared = p.choice(ParamId::kLinkDuplex) == static_cast<int>(LinkDuplex::kShared);
  const bool relaxed = p.on(ParamId::kPipelineRelaxedSync);
  const auto weights = static_cast<WeightsPlacement>(p.choice(ParamId::kLoraWeights));
  std::optional<Rational> chunk;
  if (p.has(ParamId::kPipelineChunkTokens)) chunk = p.get(ParamId::kPipelineChunkTokens);
  const Rational lt = per_transfer ? lat : Rational(0);  // latency of one transfer

  Formulation f;
  f.name = "pipeline";
  for (int mask = 1; mask < 8; ++mask) {
    const std::vector<int> s{mask & 1, (mask >> 1) & 1, (mask >> 2) & 1};
    const bool dev1 = s[1] == 1 || s[2] == 1;  // the device works in stage 1
    const bool gpu_a = weights != WeightsPlacement::kCxl || s[0] == 1;        // A needed or kept on the GPU
    const bool gpu_b = weights != WeightsPlacement::kCxl || s[0] == 1 || s[1] == 1;
    const bool cxl_a = weights != WeightsPlacement::kGpu || dev1;
    const bool cxl_b = weights != WeightsPlacement::kGpu || s[2] == 1;

    Stage st1, st2;
    // GPU side: X·A for b1 (after fetching A when it lives on the device), Y·B for b1+b2.
    const bool fetch_a_gpu = weights == WeightsPlacement::kCxl && s[0] == 1;
    const bool fetch_b_gpu = weights == WeightsPlacement::kCxl && (s[0] == 1 || s[1] == 1);
    st1.gpu = affine(gamma, 0, 0, fetch_a_gpu ? lt + omega : Rational(0));
    st1.gpu_formula = fetch_a_gpu ? "gamma*b1 + (L + omega)" : "gamma*b1";
    st2.gpu = affine(gamma, gamma, 0, fetch_b_gpu ? lt + omega : Rational(0));
    st2.gpu_formula = fetch_b_gpu ? "gamma*(b1+b2) + (L + omega)" : "gamma*(b1+b2)";

    // Device, stage 1: X in for b2+b3, X·A, Y out for b2.
    if (dev1) {
      const bool fetch_a = weights == WeightsPlacement::kGpu;
      Rational c1 = per_transfer ? lat * (1 + s[1]) : lat;  // X in (and Y out) each pay L; else L once
      // Fetching A adds its bytes only: its latency runs while X follows it down the link.
      if (fetch_a) c1 += omega;
      const std::string c1_text = fmt::format("{}{}", per_transfer ? (s[1] == 1 ? "2L" : "L") : "L",
                                              fetch_a ? " + omega" : "");
      const Rational y = s[1] == 1 ? eta : Rational(0);
      if (!chunk) {
        st1.parts.push_back({"sum", fmt::format("{} + (xi+kappa)*(b2+b3){}", c1_text, s[1] == 1 ? " + eta*b2" : ""),
                             affine(0, xi + kappa + eta, xi + kappa, c1)});
      } else {
        const Rational& c = *chunk;
        if (!shared) {
          st1.parts.push_back({"x_in", fmt::format("{} + xi*(b2+b3) + c*(kappa{})", c1_text, s[1] ? "+eta" : ""),
                               affine(0, xi, xi, c1 + c * (kappa + y))});
          st1.parts.push_back({"compute", fmt::format("{} + kappa*(b2+b3) + c*(xi{})", c1_text, s[1] ? "+eta" : ""),
                               affine(0, kappa, kappa, c1 + c * (xi + y))});
          if (s[1] == 1) {
            st1.parts.push_back({"y_out", fmt::format("{} + eta*b2 + c*(xi+kappa)", c1_text),
                                 affine(0, eta, 0, c1 + c * (xi + kappa))});
          }
        } else {
          st1.parts.push_back({"link", fmt::format("{} + xi*(b2+b3){} + c*kappa", c1_text, s[1] ? " + eta*b2" : ""),
                               affine(0, xi + eta, xi, c1 + c * kappa)});
          st1.parts.push_back({"compute", fmt::format("{} + kappa*(b2+b3) + c*(xi{})", c1_text, s[1] ? "+eta" : ""),
                               affine(0, kappa, kappa, c1 + c * (xi + y))});
        }
      }
    }
    // Device, stage 2: Y·B and Z out for b3 (less the seed's credit, when switched back on).
    const Affine minus_credit = credit ? affine(0, -eta, 0) : affine(0, 0, 0);
    const std::string credit_text = credit ? " - eta*b2" : "";
    if (s[2] == 1) {
      const bool fetch_b = weights == WeightsPlacement::kGpu;
      Rational c2 = lt;  // Z out
      if (fetch_b) c2 += lt + omega;
      const std::string c2_text = per_transfer ? (fetch_b ? "L + (L + omega) + " : "L + ") : (fetch_b ? "omega + " : "");
      if (!chunk) {
        st2.parts.push_back({"sum", fmt::format("{}(kappa+xi)*b3{}", c2_text, credit_text),
                             affine(0, 0, kappa + xi, c2) + minus_credit});
      } else {
        const Rational& c = *chunk;
        st2.parts.push_back({"compute", fmt::format("{}kappa*b3 + c*xi{}", c2_text, credit_text),
                             affine(0, 0, kappa, c2 + c * xi) + minus_credit});
        st2.parts.push_back({"z_out", fmt::format("{}xi*b3 + c*kappa{}", c2_text, credit_text),
                             affine(0, 0, xi, c2 + c * kappa) + minus_credit});
      }
    } else if (credit && s[1] == 1) {
      st2.parts.push_back({"credit", "-eta*b2", minus_credit});
    }

    // Rows every case of this support shares.
    const Affine limit = affine(0, 0, 0, mem);
    std::vector<Constraint> rows = {
        {"mem_x", RowKind::kMemory, "e*(b1+b2+b3)*d <= GPU_MEMORY", "the whole batch X resident on the GPU", "B",
         affine(e * d, e * d, e * d), limit},
        {"mem_s1", RowKind::kMemory,
         gpu_a ? "e*b1*d + e*d*r + e*b1*r <= GPU_MEMORY" : "e*b1*d + e*b1*r <= GPU_MEMORY",
         gpu_a ? "stage 1 on the GPU: X and Y for b1, and the adapter A" : "stage 1 on the GPU: X and Y for b1", "B",
         affine(e * d + e * r, 0, 0, gpu_a ? e * d * r : Rational(0)), limit},
        {"mem_y", RowKind::kMemory, "e*(b1+b2)*r <= GPU_MEMORY", "Y for the tokens whose stage 2 runs on the GPU",
         "B", affine(e * r, e * r, 0), limit},
        {"mem_s2", RowKind::kMemory,
         gpu_b ? "e*(b1+b2)*r + e*r*d + e*(b1+b2)*d <= GPU_MEMORY" : "e*(b1+b2)*r + e*(b1+b2)*d <= GPU_MEMORY",
         gpu_b ? "stage 2 on the GPU: Y and Z for b1+b2, and the adapter B" : "stage 2 on the GPU: Y and Z for b1+b2",
         "B", affine(e * r + e * d, e * r + e * d, 0, gpu_b ? e * r * d : Rational(0)), limit},
    };
    if (p.has(ParamId::kCxlMemoryBytes)) {
      const Rational w = (cxl_a ? e * d * r : Rational(0)) + (cxl_b ? e * r * d : Rational(0));
      rows.push_back({"mem_cxl", RowKind::kMemory, "e*(b2+b3)*(d+r) + e*b3*d + weights <= CXL_MEMORY",
                      "device memory: X and Y for b2+b3, Z for b3, and the adapter matrices it holds", "B",
                      affine(0, e * (d + r), e * (d + r) + e * d, w),
                      affine(0, 0, 0, p.get(ParamId::kCxlMemoryBytes))});
    }
    if (p.has(ParamId::kLoraMaxBatchTokens)) {
      rows.push_back({"max_tokens", RowKind::kLimit, "b1+b2+b3 <= B_max", "the batch-size bound lora.max_batch_tokens",
                      "tokens", affine(1, 1, 1), affine(0, 0, 0, p.get(ParamId::kLoraMaxBatchTokens))});
    }

    // Cases: for each stage, which device term is the largest (if the device works) and,
    // with relaxed synchronisation, whether the GPU or the device sets the stage's time.
    struct Choice {
      std::optional<std::size_t> part;  // the largest device term
      bool device_bound{false};         // relaxed: the stage takes the device's time
    };
    const auto choices = [&](const Stage& st) {
      std::vector<Choice> out;
      if (st.parts.empty()) {
        out.push_back({std::nullopt, false});
        return out;
      }
      for (std::size_t j = 0; j < st.parts.size(); ++j) {
        out.push_back({j, false});
        if (relaxed) out.push_back({j, true});
      }
      return out;
    };
    for (const Choice& ch1 : choices(st1)) {
      for (const Choice& ch2 : choices(st2)) {
        Model m;
        m.name = "pipeline";
        m.columns = three_path_columns();
        m.support = s;
        m.tokens = affine(1, 1, 1);
        m.stages = {{"s1", st1.gpu, ch1.part ? st1.parts[*ch1.part].time : affine(0, 0, 0)},
                    {"s2", st2.gpu, ch2.part ? st2.parts[*ch2.part].time : affine(0, 0, 0)}};
        m.constraints = rows;
        std::string regime;
        const auto add_stage = [&](const Stage& st, const Choice& ch, int stage, Affine& time_out) {
          const std::string sname = fmt::format("s{}", stage);
          if (!ch.part) {
            time_out = st.gpu;
            regime += fmt::format("; {}: GPU only", sname);
            return;
          }
          const Part& top = st.parts[*ch.part];
          for (std::size_t j = 0; j < st.parts.size(); ++j) {
            if (j == *ch.part) continue;
            m.constraints.push_back({fmt::format("case_{}_{}_ge_{}", sname, top.name, st.parts[j].name),
                                     RowKind::kCase, fmt::format("{} >= {}", top.name, st.parts[j].name),
                                     fmt::format("stage {}: the device's {} term is its largest", stage, top.name),
                                     "s", st.parts[j].time, top.time});
          }
          const std::string sync_name = st.parts.size() == 1 ? fmt::format("sync_{}", sname)
                                                             : fmt::format("sync_{}_{}", sname, top.name);
          if (!relaxed) {
            m.constraints.push_back({sync_name, RowKind::kSync,
                                     fmt::format("T_CXL_S{} <= T_GPU_S{}", stage, stage),
                                     fmt::format("stage {}: the device ({} = {}) finishes within the GPU's {}", stage,
                                                 top.name, top.formula, st.gpu_formula),
                                     "s", top.time, st.gpu});
            time_out = st.gpu;
            regime += fmt::format("; {}: device term {}", sname, top.name);
          } else if (!ch.device_bound) {
            m.constraints.push_back({fmt::format("case_{}_gpu_bound", sname), RowKind::kCase,
                                     fmt::format("T_CXL_S{} <= T_GPU_S{}", stage, stage),
                                     fmt::format("stage {}: the GPU sets the stage time", stage), "s", top.time,
                                     st.gpu});
            time_out = st.gpu;
            regime += fmt::format("; {}: GPU-bound (device term {})", sname, top.name);
          } else {
            m.constraints.push_back({fmt::format("case_{}_device_bound", sname), RowKind::kCase,
                                     fmt::format("T_GPU_S{} <= T_CXL_S{}", stage, stage),
                                     fmt::format("stage {}: the device sets the stage time", stage), "s", st.gpu,
                                     top.time});
            time_out = top.time;
            regime += fmt::format("; {}: device-bound ({})", sname, top.name);
          }
        };
        Affine t1, t2;
        add_stage(st1, ch1, 1, t1);
        add_stage(st2, ch2, 2, t2);
        m.batch_time = t1 + t2;
        if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
          m.constraints.push_back({"max_latency", RowKind::kLimit, "T_S1 + T_S2 <= T_max",
                                   "the batch-latency bound lora.max_batch_latency_s", "s", m.batch_time,
                                   affine(0, 0, 0, p.get(ParamId::kLoraMaxBatchLatencyS))});
        }
        m.case_name = pattern_name(s) + regime;
        m.block_tokens = p.block_tokens().get_num().get_si();
        f.cases.push_back(std::move(m));
      }
    }
  }
  return f;
}

Formulation build_model(const Params& params) {
  if (params.model_name() == ModelName::kPipeline) return build_pipeline_model(params);
  Formulation f;
  f.name = "seed";
  f.cases.push_back(build_seed_model(params));
  return f;
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
