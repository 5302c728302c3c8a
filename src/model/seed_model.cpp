#include <lorasplit/model.hpp>

namespace lorasplit {

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

namespace {
Affine affine(Rational c1, Rational c2, Rational c3, Rational constant = 0) {
  return Affine{{std::move(c1), std::move(c2), std::move(c3)}, std::move(constant)};
}

}  // namespace

std::vector<Column> three_path_columns() {
  return {{"b1", "both stages on the GPU"},
          {"b2", "stage 1 (X·A) on the CXL device, stage 2 (Y·B) on the GPU"},
          {"b3", "both stages on the CXL device"}};
}

namespace {
}  // namespace

// Every formula below is the formulation's, term for term (docs/model.md §1), with the
// formulation's literal 4 read as lora.element_bytes and each FLOPS rate multiplied by its
// efficiency (§1.6).
Model build_seed_model(const Params& p) {
  const Rational& e = p.element_bytes();
  const Rational& d = p.d();
  const Rational& r = p.r();
  const Rational& mem = p.gpu_memory_bytes();
  const Rational gpu_flop_s = 2 * d * r / (p.gpu_flops() * p.gpu_efficiency());  // s per token and stage, GPU
  const Rational cxl_flop_s = 2 * d * r / (p.cxl_flops() * p.cxl_efficiency());  // s per token and stage, device
  const Rational x_link_s = e * d / p.link_bandwidth_bytes_per_s();  // s to move one row of X (or Z)
  const Rational y_link_s = e * r / p.link_bandwidth_bytes_per_s();  // s to move one row of Y

  Model m;
  m.name = "seed";
  m.columns = three_path_columns();
  m.support = {-1, -1, -1};
  m.tokens = affine(1, 1, 1);
  m.stages = {{"s1", affine(gpu_flop_s, 0, 0),
               affine(0, x_link_s + cxl_flop_s + y_link_s, x_link_s + cxl_flop_s, p.link_latency_s())},
              {"s2", affine(gpu_flop_s, gpu_flop_s, 0), affine(0, -y_link_s, cxl_flop_s + x_link_s)}};
  m.batch_time = m.stages[0].gpu + m.stages[1].gpu;

  const Affine limit = affine(0, 0, 0, mem);
  m.constraints = {
      {"sync_s1", RowKind::kSync, "T_CXL_S1 <= T_GPU_S1",
       "stage 1: the device's latency, X transfer, X·A and Y transfer fit within the GPU's X·A for b1", "s",
       m.stages[0].device, m.stages[0].gpu},
      {"sync_s2", RowKind::kSync, "T_CXL_S2 <= T_GPU_S2",
       "stage 2: the device's Y·B and Z transfer for b3 (less the formulation's Y-transfer credit) fit within "
       "the GPU's Y·B for b1+b2",
       "s", m.stages[1].device, m.stages[1].gpu},
      {"mem_x", RowKind::kMemory, "e*(b1+b2+b3)*d <= GPU_MEMORY", "the whole batch X resident on the GPU", "B",
       affine(e * d, e * d, e * d), limit},
      {"mem_s1", RowKind::kMemory, "e*b1*d + e*d*r + e*b1*r <= GPU_MEMORY",
       "stage 1 on the GPU: X for b1, the adapter A, and Y for b1", "B",
       affine(e * d + e * r, 0, 0, e * d * r), limit},
      {"mem_y", RowKind::kMemory, "e*(b1+b2)*r <= GPU_MEMORY", "Y for the tokens whose stage 2 runs on the GPU",
       "B", affine(e * r, e * r, 0), limit},
      {"mem_s2", RowKind::kMemory, "e*(b1+b2)*r + e*r*d + e*(b1+b2)*d <= GPU_MEMORY",
       "stage 2 on the GPU: Y and Z for b1+b2, and the adapter B", "B",
       affine(e * r + e * d, e * r + e * d, 0, e * r * d), limit},
  };
  if (p.has(ParamId::kLoraMaxBatchTokens)) {
    m.constraints.push_back({"max_tokens", RowKind::kLimit, "b1+b2+b3 <= B_max", "the batch-size bound lora.max_batch_tokens",
                             "tokens", m.tokens, affine(0, 0, 0, p.get(ParamId::kLoraMaxBatchTokens))});
  }
  if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
    m.constraints.push_back({"max_latency", RowKind::kLimit, "T_GPU_S1 + T_GPU_S2 <= T_max",
                             "the batch-latency bound lora.max_batch_latency_s", "s", m.batch_time,
                             affine(0, 0, 0, p.get(ParamId::kLoraMaxBatchLatencyS))});
  }
  m.block_tokens = p.block_tokens().get_num().get_si();
  return m;
}

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

}  // namespace lorasplit
