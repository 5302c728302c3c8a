// The hardware library (hardware/library.toml) and the provenance of inputs.
#include <gtest/gtest.h>
#include <lorasplit/hardware.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/serving.hpp>
#include <lorasplit/solve.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace lorasplit {
namespace {

const HardwarePart& part(std::string_view kind, std::string_view name) {
  auto p = find_hardware(kind, name);
  if (!p) throw std::runtime_error(p.error().message);
  return *p.value();
}

Rational value_of(const HardwarePart& p, std::string_view key) {
  for (const auto& v : p.values) {
    if (v.key == key) {
      auto q = parse_quantity(v.value, find_param(key)->dimension, key);
      if (!q) throw std::runtime_error(q.error().message);
      return q.value();
    }
  }
  throw std::runtime_error(std::string(key) + " not in " + p.name);
}

Rational dec(const char* text) {  // an exact decimal, as configs write them
  auto q = parse_quantity(text, Dimension::kFlopsPerSecond, "test");
  if (!q) throw std::runtime_error(q.error().message);
  return q.value();
}

TEST(Hardware, EveryValueOfTheLibrarySaysWhatItRestsOn) {
  const auto lib = hardware_library();
  ASSERT_FALSE(lib.empty()) << find_hardware("gpu", "").error().message;
  std::set<std::string> names;
  for (const auto& p : lib) {
    EXPECT_TRUE(names.insert(p.kind + "." + p.name).second) << p.name << " twice";
    EXPECT_FALSE(p.description.empty()) << p.name;
    ASSERT_FALSE(p.values.empty()) << p.name;
    for (const auto& v : p.values) {
      EXPECT_NE(v.evidence, Evidence::kNotStated) << p.name << " " << v.key;
      EXPECT_GT(v.note.size(), 10U) << p.name << " " << v.key << ": a source, a measurement or a reason";
      EXPECT_EQ(v.key.substr(0, p.kind.size() + 1), p.kind + ".") << p.name << " sets " << v.key;
      // A spec names where it is published: a datasheet, a whitepaper, a standard, an announcement.
      if (v.evidence == Evidence::kSpec) {
        EXPECT_NE(v.note.find_first_of("0123456789"), std::string::npos) << v.note;
      }
    }
  }
}

TEST(Hardware, EveryPartSetsWhatItsKindNeeds) {
  const std::map<std::string, std::vector<std::string>> needs = {
      {"gpu",
       {"gpu.flops", "gpu.memory_bandwidth_bytes_per_s", "gpu.memory_bytes", "gpu.efficiency", "gpu.kernel_overhead_s"}},
      {"cxl",
       {"cxl.flops", "cxl.memory_bandwidth_bytes_per_s", "cxl.memory_bytes", "cxl.efficiency", "cxl.kernel_overhead_s"}},
      {"link", {"link.bandwidth_bytes_per_s", "link.latency_s"}}};
  for (const auto& p : hardware_library()) {
    for (const auto& key : needs.at(p.kind)) {
      // A device without compute runs no kernel: its efficiency and overhead mean nothing.
      const bool expander = p.kind == "cxl" && value_of(p, "cxl.flops") == 0;
      if (expander && (key == "cxl.efficiency" || key == "cxl.kernel_overhead_s")) continue;
      EXPECT_TRUE(std::any_of(p.values.begin(), p.values.end(), [&](const auto& v) { return v.key == key; }))
          << p.name << " lacks " << key;
    }
  }
}

// The numbers restated from their sources (docs/hardware.md has the table): dense BF16
// peaks, HBM bandwidth and capacity; the sparse Tensor Core figures halved.
TEST(Hardware, PartsMatchTheirSources) {
  struct Gpu {
    const char* name;
    const char* flops;
    const char* bandwidth;
    const char* bytes;
  };
  const Gpu gpus[] = {{"a100-40gb-sxm", "312e12", "1555e9", "40e9"},  {"a100-80gb-sxm", "312e12", "2039e9", "80e9"},
                      {"a100-80gb-pcie", "312e12", "1935e9", "80e9"}, {"h100-sxm", "9894e11", "335e10", "80e9"},
                      {"h100-pcie", "7565e11", "2e12", "80e9"},       {"h200-sxm", "9895e11", "48e11", "141e9"}};
  for (const auto& g : gpus) {
    const auto& p = part("gpu", g.name);
    EXPECT_EQ(value_of(p, "gpu.flops"), dec(g.flops)) << g.name;
    EXPECT_EQ(value_of(p, "gpu.memory_bandwidth_bytes_per_s"), dec(g.bandwidth)) << g.name;
    EXPECT_EQ(value_of(p, "gpu.memory_bytes"), dec(g.bytes)) << g.name;
  }
  EXPECT_EQ(value_of(part("cxl", "cxl-pnm-512gb"), "cxl.memory_bandwidth_bytes_per_s"), dec("11e11"));
  EXPECT_EQ(value_of(part("cxl", "cxl-pnm-512gb"), "cxl.memory_bytes"), dec("512e9"));
  EXPECT_EQ(value_of(part("cxl", "cxl-pnm-4tb"), "cxl.memory_bandwidth_bytes_per_s"), dec("200e9"));
  EXPECT_EQ(value_of(part("cxl", "cxl-pnm-4tb"), "cxl.memory_bytes"), dec("4e12"));
  EXPECT_EQ(value_of(part("link", "pcie4-x16"), "link.bandwidth_bytes_per_s"), dec("32e9"));
  EXPECT_EQ(value_of(part("link", "cxl2-x16"), "link.bandwidth_bytes_per_s"), dec("64e9"));
  EXPECT_EQ(value_of(part("link", "cxl3-x16"), "link.bandwidth_bytes_per_s"), dec("128e9"));
  EXPECT_EQ(value_of(part("link", "cxl2-x8"), "link.bandwidth_bytes_per_s"), dec("32e9"));
  EXPECT_EQ(value_of(part("cxl", "cz120-256gb"), "cxl.memory_bytes"), dec("256e9"));
  EXPECT_EQ(value_of(part("cxl", "cz120-256gb"), "cxl.memory_bandwidth_bytes_per_s"), dec("36e9"));
  // The compute of CXL-PNM parts is not published: assumed, never spec. A memory
  // expander's "none" is what its datasheet says (spec).
  for (const auto& p : hardware_library()) {
    if (p.kind != "cxl") continue;
    for (const auto& v : p.values) {
      if (v.key == "cxl.flops") {
        EXPECT_EQ(v.evidence, value_of(p, "cxl.flops") == 0 ? Evidence::kSpec : Evidence::kAssumed) << p.name;
      }
    }
  }
}

TEST(Hardware, UnknownNamesAreErrorsThatListTheKnownOnes) {
  auto p = find_hardware("gpu", "h100");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kUnknownPreset);
  EXPECT_NE(p.error().message.find("did you mean 'h100-sxm'"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("h200-sxm"), std::string::npos);
  EXPECT_FALSE(find_hardware("link", "h100-sxm"));  // a GPU is no link
}

// A machine composed of parts: the seed model drops the roofline keys it does not read.
Params machine(std::string_view gpu, std::string_view cxl, std::string_view link, ModelName model,
               InputProvenance* prov_out = nullptr) {
  Params p;
  InputProvenance prov;
  prov.reset(Origin::kPreset, "seed");
  EXPECT_TRUE(apply_hardware(p, prov, part("gpu", gpu)).ok());
  EXPECT_TRUE(apply_hardware(p, prov, part("cxl", cxl)).ok());
  EXPECT_TRUE(apply_hardware(p, prov, part("link", link)).ok());
  if (model == ModelName::kPipeline) {
    EXPECT_TRUE(set_param(p, "model.name", "pipeline").ok());
  }
  drop_unread_parts(p, prov, model);
  if (prov_out != nullptr) *prov_out = prov;
  return p;
}

TEST(Hardware, EveryCombinationSolvesUnderTheSeedAndPipelineModels) {
  for (const auto& g : hardware_library()) {
    if (g.kind != "gpu") continue;
    for (const auto& c : hardware_library()) {
      if (c.kind != "cxl") continue;
      for (const auto& l : hardware_library()) {
        if (l.kind != "link") continue;
        for (const ModelName m : {ModelName::kSeed, ModelName::kPipeline}) {
          const Params p = machine(g.name, c.name, l.name, m);
          if (value_of(c, "cxl.flops") == 0) {  // a memory expander: the serving model's only
            ASSERT_FALSE(validate(p).ok()) << c.name;
            EXPECT_EQ(validate(p).error().key, "cxl.flops");
            continue;
          }
          ASSERT_TRUE(validate(p).ok()) << g.name << " " << c.name << " " << l.name << ": " << validate(p).error().message;
          EXPECT_EQ(p.gpu_flops(), value_of(g, "gpu.flops"));
          EXPECT_EQ(p.link_bandwidth_bytes_per_s(), value_of(l, "link.bandwidth_bytes_per_s"));
          EXPECT_EQ(p.has(ParamId::kGpuMemoryBandwidthBytesPerS), false);  // serving only: dropped
          EXPECT_EQ(p.has(ParamId::kCxlMemoryBytes), m == ModelName::kPipeline);
          auto r = solve(p);
          ASSERT_TRUE(r) << r.error().message;
          EXPECT_EQ(r->status, SolveStatus::kOptimal) << g.name << " " << c.name << " " << l.name;
        }
      }
    }
  }
}

TEST(Hardware, EveryPartPlansTheServingModel) {
  auto w = load_serving_workload(std::string(LORASPLIT_SOURCE_DIR) + "/tests/data/serving_parts.toml");
  ASSERT_TRUE(w) << w.error().message;
  const auto run = [&](std::string_view gpu, std::string_view cxl, std::string_view link) {
    Params p = machine(gpu, cxl, link, ModelName::kServing);
    ASSERT_TRUE(set_param(p, "model.name", "serving").ok());
    ASSERT_TRUE(validate_serving(p).ok()) << validate_serving(p).error().message;
    EXPECT_EQ(p.get(ParamId::kCxlMemoryBytes), value_of(part("cxl", cxl), "cxl.memory_bytes"));
    auto r = solve_serving(w.value(), p);
    ASSERT_TRUE(r) << gpu << " " << cxl << " " << link << ": " << r.error().message;
    EXPECT_TRUE(r->feasible) << gpu << " " << cxl << " " << link;
  };
  for (const auto& x : hardware_library()) {
    if (x.kind == "gpu") run(x.name, "cxl-pnm-512gb", "cxl2-x16");
    if (x.kind == "cxl") run("h100-sxm", x.name, "cxl2-x16");
    if (x.kind == "link") run("h100-sxm", "cxl-pnm-512gb", x.name);
  }
}

TEST(Hardware, AMemoryExpanderIsPlannedWithoutItsKernelRates) {
  // A part sets what it has: after a compute device, the expander's missing kernel rates
  // stay from the part before, unread while cxl.flops = 0 and not listed as inputs; its
  // memory bandwidth is its own, read (every transfer reads or writes the device's memory).
  Params p;
  InputProvenance prov;
  prov.reset(Origin::kPreset, "seed");
  ASSERT_TRUE(apply_hardware(p, prov, part("cxl", "cxl-pnm-512gb")).ok());
  ASSERT_TRUE(apply_hardware(p, prov, part("cxl", "cz120-256gb")).ok());
  EXPECT_EQ(p.cxl_flops(), 0);
  EXPECT_EQ(prov.at(ParamId::kCxlMemoryBytes).where, "cxl cz120-256gb");
  ASSERT_TRUE(set_param(p, "model.name", "serving").ok());
  ASSERT_TRUE(apply_hardware(p, prov, part("gpu", "h100-sxm")).ok());
  ASSERT_TRUE(validate_serving(p).ok()) << validate_serving(p).error().message;
  const std::string text = render_inputs_text(p, prov, ModelName::kServing);
  EXPECT_NE(text.find("cxl.flops"), std::string::npos) << text;
  EXPECT_NE(text.find("cxl.memory_bytes"), std::string::npos) << text;
  EXPECT_EQ(text.find("cxl.kernel_overhead_s"), std::string::npos) << text;
  EXPECT_EQ(text.find("cxl.efficiency"), std::string::npos) << text;
  EXPECT_NE(text.find("cxl.memory_bandwidth_bytes_per_s   36 GB/s        spec       from cxl cz120-256gb"), std::string::npos) << text;
  // Alone, it needs none of its kernel rates (its memory bandwidth is its own).
  Params alone;
  InputProvenance prov2;
  ASSERT_TRUE(apply_hardware(alone, prov2, part("cxl", "cz120-256gb")).ok());
  ASSERT_TRUE(apply_hardware(alone, prov2, part("gpu", "h100-sxm")).ok());
  ASSERT_TRUE(set_param(alone, "model.name", "serving").ok());
  EXPECT_FALSE(alone.has(ParamId::kCxlKernelOverheadS));
  EXPECT_TRUE(validate_serving(alone).ok()) << validate_serving(alone).error().message;
}

TEST(Hardware, ValuesWrittenByTheUserStayOverParts) {
  Params p;
  InputProvenance prov;
  prov.reset(Origin::kPreset, "seed");
  ASSERT_TRUE(load_config_string(p, R"(
[hardware]
gpu = "h100-sxm"
[gpu]
efficiency = "0.5"
flops = { value = "900 TFLOPS", measured = "a GEMM of 8192^3 in BF16 on this GPU, 2026-12-06" }
)",
                                 "m.toml", nullptr, &prov)
                  .ok());
  EXPECT_EQ(p.gpu_efficiency(), dec("0.5"));
  EXPECT_EQ(prov.at(ParamId::kGpuEfficiency).origin, Origin::kConfig);
  EXPECT_EQ(prov.at(ParamId::kGpuEfficiency).where, "m.toml:5");
  EXPECT_EQ(prov.at(ParamId::kGpuEfficiency).evidence, Evidence::kNotStated);
  EXPECT_EQ(p.gpu_flops(), dec("900e12"));
  EXPECT_EQ(prov.at(ParamId::kGpuFlops).evidence, Evidence::kMeasured);
  EXPECT_NE(prov.at(ParamId::kGpuFlops).note.find("8192^3"), std::string::npos);
  EXPECT_EQ(p.gpu_memory_bytes(), dec("80e9"));  // from the part
  EXPECT_EQ(prov.at(ParamId::kGpuMemoryBytes).origin, Origin::kLibrary);
  EXPECT_EQ(prov.at(ParamId::kGpuMemoryBytes).where, "gpu h100-sxm");
  // Another part named later (--gpu) replaces the first part's values, not the file's.
  ASSERT_TRUE(apply_hardware(p, prov, part("gpu", "a100-80gb-sxm")).ok());
  EXPECT_EQ(p.gpu_efficiency(), dec("0.5"));
  EXPECT_EQ(p.gpu_flops(), dec("900e12"));
  EXPECT_EQ(p.get(ParamId::kGpuMemoryBandwidthBytesPerS), dec("2039e9"));
  EXPECT_EQ(prov.at(ParamId::kGpuMemoryBandwidthBytesPerS).where, "gpu a100-80gb-sxm");
}

TEST(Hardware, ReportsShowInputsOnlyWhenOneSaysWhatItRestsOn) {
  InputProvenance prov;
  prov.reset(Origin::kPreset, "seed");
  EXPECT_FALSE(provenance_stated(prov, ModelName::kSeed));  // the seed's reports stay as they were
  InputProvenance with;
  const Params p = machine("h100-sxm", "cxl-pnm-512gb", "cxl2-x16", ModelName::kSeed, &with);
  EXPECT_TRUE(provenance_stated(with, ModelName::kSeed));
  const std::string text = render_inputs_text(p, with, ModelName::kSeed);
  EXPECT_NE(text.find("cxl.flops"), std::string::npos) << text;
  EXPECT_NE(text.find("assumed: "), std::string::npos) << text;
  EXPECT_NE(text.find("cxl.flops"), text.rfind("assumed: ")) << text;
  EXPECT_EQ(text.find("memory_bandwidth"), std::string::npos) << "the seed model does not read it:\n" << text;
  const std::string json = render_inputs_json(p, with, ModelName::kSeed);
  EXPECT_NE(json.find("\"evidence\": \"spec\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"value_exact\": \"989400000000000\""), std::string::npos) << json;
  // The serving model reads the roofline keys and the device's memory.
  const Params s = machine("h100-sxm", "cxl-pnm-512gb", "cxl2-x16", ModelName::kServing, &with);
  const std::string st = render_inputs_text(s, with, ModelName::kServing);
  EXPECT_NE(st.find("gpu.memory_bandwidth_bytes_per_s"), std::string::npos) << st;
  EXPECT_NE(st.find("cxl.memory_bytes"), std::string::npos) << st;
}

TEST(Hardware, TheSeedModelKeepsARooflineKeyTheUserWrote) {
  // A value the user wrote is never dropped: validate() then says it is the serving model's.
  Params p;
  InputProvenance prov;
  ASSERT_TRUE(load_config_string(p, "[gpu]\nmemory_bandwidth_bytes_per_s = \"2 TB/s\"\n", "u.toml", nullptr, &prov).ok());
  drop_unread_parts(p, prov, ModelName::kSeed);
  EXPECT_TRUE(p.has(ParamId::kGpuMemoryBandwidthBytesPerS));
  EXPECT_FALSE(validate(p).ok());
}

}  // namespace
}  // namespace lorasplit
