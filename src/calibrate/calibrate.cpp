// Calibration with the CPU's BLAS (docs/calibration.md): measure, fit, write the profile.
#include <lorasplit/calibrate.hpp>

#include <cblas.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

namespace lorasplit {

double KernelShape::flops() const {
  return 2.0 * static_cast<double>(tokens) * static_cast<double>(d_in) * static_cast<double>(d_out);
}

double KernelShape::bytes(int element_bytes) const {
  const double t = static_cast<double>(tokens), i = static_cast<double>(d_in), o = static_cast<double>(d_out);
  return element_bytes * (t * i + i * o + t * o);
}

double roofline_time_s(const RooflineFit& fit, double flops, double bytes) {
  return std::max(flops / fit.flops_per_s, bytes / fit.bytes_per_s) + fit.overhead_s;
}

double table_time_s(const RooflineFit& fit, const KernelShape& shape, double flops, double bytes) {
  double e = 1;
  for (const auto& c : fit.efficiency_table) {
    if (c.kind == shape.kind && c.tokens == shape.tokens) e = c.efficiency;
  }
  return roofline_time_s(fit, flops, bytes) / e;
}

namespace {

// The kernel kinds of a calibration, in the order the reports list them.
constexpr std::array<std::string_view, 3> kKernelKinds{"shrink", "expand", "base"};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

double quantile(std::vector<double> v, double q) {  // nearest rank
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

// Sum of squared log errors of the roofline with rates e^x[0], e^x[1] and overhead e^x[2].
double cost(const std::array<double, 3>& x, std::span<const KernelMeasurement> m) {
  RooflineFit f;
  f.flops_per_s = std::exp(x[0]);
  f.bytes_per_s = std::exp(x[1]);
  f.overhead_s = std::exp(x[2]);
  double s = 0;
  for (const auto& k : m) {
    const double e = std::log(roofline_time_s(f, k.flops, k.bytes) / k.median_s);
    s += e * e;
  }
  return s;
}

// Nelder-Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2) from `start`.
std::array<double, 3> nelder_mead(std::array<double, 3> start, double step, std::span<const KernelMeasurement> m) {
  using P = std::array<double, 3>;
  std::array<P, 4> s{start, start, start, start};
  for (std::size_t i = 0; i < 3; ++i) s[i + 1][i] += step;
  std::array<double, 4> c{};
  for (std::size_t i = 0; i < 4; ++i) c[i] = cost(s[i], m);
  const auto along = [](const P& a, const P& b, double t) {  // a + t (b - a)
    P r{};
    for (std::size_t i = 0; i < 3; ++i) r[i] = a[i] + t * (b[i] - a[i]);
    return r;
  };
  for (int it = 0; it < 4000; ++it) {
    std::array<std::size_t, 4> o{0, 1, 2, 3};
    std::sort(o.begin(), o.end(), [&](std::size_t a, std::size_t b) { return c[a] < c[b]; });
    if (c[o[3]] - c[o[0]] < 1e-14 * (1 + c[o[0]])) break;
    P centroid{};
    for (std::size_t k = 0; k < 3; ++k) {
      for (std::size_t i = 0; i < 3; ++i) centroid[i] += s[o[k]][i] / 3;
    }
    const P reflected = along(centroid, s[o[3]], -1);
    const double cr = cost(reflected, m);
    if (cr < c[o[0]]) {
      const P expanded = along(centroid, s[o[3]], -2);
      const double ce = cost(expanded, m);
      s[o[3]] = ce < cr ? expanded : reflected;
      c[o[3]] = std::min(ce, cr);
    } else if (cr < c[o[2]]) {
      s[o[3]] = reflected;
      c[o[3]] = cr;
    } else {
      const P contracted = along(centroid, s[o[3]], 0.5);
      const double cc = cost(contracted, m);
      if (cc < c[o[3]]) {
        s[o[3]] = contracted;
        c[o[3]] = cc;
      } else {
        for (std::size_t k = 1; k < 4; ++k) {
          s[o[k]] = along(s[o[0]], s[o[k]], 0.5);
          c[o[k]] = cost(s[o[k]], m);
        }
      }
    }
  }
  const auto best = static_cast<std::size_t>(std::min_element(c.begin(), c.end()) - c.begin());
  return s[best];
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown host";
  return std::string(buf.data());
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

// The last-level cache, at least 32 MiB and at most 1 GiB: what a cold run reads through first.
std::size_t flush_bytes() {
  long l3 = ::sysconf(_SC_LEVEL3_CACHE_SIZE);
  const long l2 = ::sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l3 <= 0) l3 = l2;
  const std::size_t want = l3 > 0 ? static_cast<std::size_t>(l3) : std::size_t{0};
  return std::clamp(want + want / 4, std::size_t{32} << 20, std::size_t{1} << 30);
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

void fit_efficiency_table(RooflineFit& fit, std::span<const KernelMeasurement> m) {
  fit.efficiency_table.clear();
  // The size-dependent efficiency: per kind and token count, the factor e by which the
  // roofline's time is divided to meet the median of its shapes (predicted / measured).
  for (const std::string_view kind : kKernelKinds) {
    std::map<std::int64_t, std::vector<double>> ratios;  // by tokens, in order
    for (const auto& k : m) {
      if (k.shape.kind != kind || !(k.median_s > 0)) continue;
      ratios[k.shape.tokens].push_back(roofline_time_s(fit, k.flops, k.bytes) / k.median_s);
    }
    for (const auto& [tokens, r] : ratios) {
      fit.efficiency_table.push_back({std::string(kind), tokens, r.size(), median(r)});
    }
  }
  std::vector<double> table_err;
  for (const auto& k : m) table_err.push_back(std::abs(table_time_s(fit, k.shape, k.flops, k.bytes) / k.median_s - 1));
  fit.table_median_abs_error = median(table_err);
  fit.table_p90_abs_error = quantile(table_err, 0.9);
}

RooflineFit fit_roofline(std::span<const KernelMeasurement> m) {
  RooflineFit out;
  if (m.empty()) return out;
  double p0 = 0, w0 = 0, t_min = m.front().median_s;
  for (const auto& k : m) {
    p0 = std::max(p0, k.flops / k.median_s);
    w0 = std::max(w0, k.bytes / k.median_s);
    t_min = std::min(t_min, k.median_s);
  }
  // The max() makes the cost kinked with several local minima: Nelder-Mead (then a
  // restart from its best point, where it can stall) from the three best points of a
  // coarse grid around the rates and times the data show.
  std::vector<std::pair<double, std::array<double, 3>>> grid;
  for (int i = 0; i <= 6; ++i) {
    for (int j = 0; j <= 6; ++j) {
      for (const double f : {1e-3, 0.01, 0.1, 0.3, 0.6, 0.9}) {
        const std::array<double, 3> x{std::log(p0) - i * std::log(2.0), std::log(w0) - j * std::log(2.0),
                                      std::log(f * t_min)};
        grid.emplace_back(cost(x, m), x);
      }
    }
  }
  std::partial_sort(grid.begin(), grid.begin() + 3, grid.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
  std::array<double, 3> x = grid.front().second;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t g = 0; g < 3; ++g) {
    const std::array<double, 3> y = nelder_mead(nelder_mead(grid[g].second, 0.5, m), 0.1, m);
    if (const double cy = cost(y, m); cy < best) {
      best = cy;
      x = y;
    }
  }
  out.flops_per_s = std::exp(x[0]);
  out.bytes_per_s = std::exp(x[1]);
  out.overhead_s = std::exp(x[2]);
  std::vector<double> err;
  for (const auto& k : m) {
    err.push_back(std::abs(roofline_time_s(out, k.flops, k.bytes) / k.median_s - 1));
    (k.flops / out.flops_per_s >= k.bytes / out.bytes_per_s ? out.compute_bound : out.memory_bound) += 1;
  }
  out.median_abs_error = median(err);
  out.p90_abs_error = quantile(err, 0.9);
  fit_efficiency_table(out, m);
  return out;
}

std::vector<KernelShape> calibration_shapes(bool quick) {
  const std::vector<std::int64_t> tokens = quick ? std::vector<std::int64_t>{1, 16, 128}
                                                 : std::vector<std::int64_t>{1, 4, 16, 64, 256, 1024, 4096};
  const std::vector<std::int64_t> dims = quick ? std::vector<std::int64_t>{1024, 4096}
                                               : std::vector<std::int64_t>{1024, 2048, 4096, 8192};
  const std::vector<std::int64_t> ranks = quick ? std::vector<std::int64_t>{16, 64}
                                                : std::vector<std::int64_t>{4, 8, 16, 32, 64, 128};
  std::vector<KernelShape> out;
  for (const auto t : tokens) {
    for (const auto d : dims) {
      for (const auto r : ranks) {
        out.push_back({"shrink", t, d, r});
        out.push_back({"expand", t, r, d});
      }
    }
  }
  const std::vector<std::int64_t> base_tokens = quick ? std::vector<std::int64_t>{1, 16, 128}
                                                      : std::vector<std::int64_t>{1, 16, 256, 1024};
  const std::vector<std::int64_t> base_dims = quick ? std::vector<std::int64_t>{1024, 2048}
                                                    : std::vector<std::int64_t>{1024, 2048, 4096};
  for (const auto t : base_tokens) {
    for (const auto d : base_dims) out.push_back({"base", t, d, d});
  }
  return out;
}

Result<Calibration> calibrate_cpu(const CalibrationOptions& options) {
  const auto t_start = Clock::now();
  Calibration c;
  c.backend = "cpu";
  c.precision = "fp32";
  c.element_bytes = 4;
  c.threads = openblas_get_num_threads();
  c.library = fmt::format("OpenBLAS ({}; core {}) through CBLAS sgemm, on {}", openblas_get_config(),
                          openblas_get_corename(), cpu_name());
  while (c.library.find("  ") != std::string::npos) c.library.erase(c.library.find("  "), 1);
  c.host = host_name();
  c.date = utc_now();

  const std::vector<KernelShape> shapes = calibration_shapes(options.quick);
  const std::size_t total = shapes.size() + 1;
  // Operands come from memory, not from a cache warmed by the last repetition: a buffer
  // larger than the last-level cache is read before each timed call.
  std::vector<float> flush(flush_bytes() / sizeof(float), 1.0F);
  volatile float sink = 0;
  const auto evict = [&] {
    float s = 0;
    for (std::size_t i = 0; i < flush.size(); i += 16) s += flush[i];
    sink = sink + s;
  };

  // The streaming copy: bytes read plus bytes written per second, median of 5.
  if (options.progress) options.progress(0, total, KernelShape{"copy", 0, 0, 0});
  {
    const std::size_t n = (options.quick ? std::size_t{64} : std::size_t{256}) << 20;
    std::vector<char> a(n, 1), b(n, 0);
    std::memcpy(b.data(), a.data(), n);  // first touch
    std::vector<double> rates;
    for (int rep = 0; rep < 5; ++rep) {
      a[static_cast<std::size_t>(rep)] = static_cast<char>(rep);
      const auto t0 = Clock::now();
      std::memcpy(b.data(), a.data(), n);
      const double s = seconds_since(t0);
      rates.push_back(2.0 * static_cast<double>(n) / s);
    }
    sink = sink + static_cast<float>(b[n / 2]);
    c.stream_bytes_per_s = median(rates);
  }

  const double target_s = options.quick ? 0.01 : 0.1;  // timed time per shape, roughly
  const int max_reps = options.quick ? 5 : 15;
  std::size_t done = 1;
  for (const auto& shape : shapes) {
    if (options.progress) options.progress(done, total, shape);
    ++done;
    const auto m = static_cast<std::size_t>(shape.tokens), k = static_cast<std::size_t>(shape.d_in),
               n = static_cast<std::size_t>(shape.d_out);
    std::vector<float> x(m * k), w(k * n), y(m * n, 0.0F);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7 + 3) % 13) * 0.01F;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 5 + 1) % 11) * 0.01F;
    const auto gemm = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                  static_cast<int>(k), 1.0F, x.data(), static_cast<int>(k), w.data(), static_cast<int>(n), 0.0F,
                  y.data(), static_cast<int>(n));
    };
    evict();
    auto t0 = Clock::now();
    gemm();  // warm-up (and the estimate of how many repetitions fit the target)
    const double first = seconds_since(t0);
    const int reps = std::clamp(static_cast<int>(std::ceil(target_s / std::max(first, 1e-9))), 3, max_reps);
    std::vector<double> times;
    for (int rep = 0; rep < reps; ++rep) {
      evict();
      t0 = Clock::now();
      gemm();
      times.push_back(seconds_since(t0));
    }
    sink = sink + y[y.size() / 2];
    KernelMeasurement km;
    km.shape = shape;
    km.flops = shape.flops();
    km.bytes = shape.bytes(c.element_bytes);
    km.median_s = median(times);
    km.min_s = *std::min_element(times.begin(), times.end());
    km.max_s = *std::max_element(times.begin(), times.end());
    km.repetitions = reps;
    c.kernels.push_back(std::move(km));
  }
  if (options.progress) options.progress(total, total, KernelShape{"fit", 0, 0, 0});
  c.fit = fit_roofline(c.kernels);
  c.seconds = seconds_since(t_start);
  return c;
}

namespace {

std::string g4(double x) { return fmt::format("{:.4g}", x); }

std::string how(const Calibration& c) {
  return fmt::format("{} kernels (shrink, expand, base GEMM; {}) measured with {}, {} threads, on host {} at {}; "
                     "roofline fitted by least squares on log time, median |error| {:.1f} %, p90 {:.1f} %; {} shapes "
                     "compute-bound, {} memory-bound",
                     c.kernels.size(), c.precision, c.library, c.threads, c.host, c.date,
                     100 * c.fit.median_abs_error, 100 * c.fit.p90_abs_error, c.fit.compute_bound, c.fit.memory_bound);
}

// What a side of the roofline that no shape reached means for its rate.
std::string only_a_bound(const RooflineFit& f) {
  if (f.compute_bound == 0) return " (no shape was compute-bound: the compute rate is only a lower bound)";
  if (f.memory_bound == 0) return " (no shape was memory-bound: the memory rate is only a lower bound)";
  return "";
}

std::string toml_string(std::string_view s) {  // a TOML basic string
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(u));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::int64_t mem_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb * 1024;
  }
  return 0;
}

}  // namespace

namespace {

// The size-dependent efficiency as rows of text, each line starting with `prefix`.
std::string efficiency_rows(const RooflineFit& fit, std::string_view prefix) {
  std::vector<std::int64_t> tokens;
  for (const auto& cell : fit.efficiency_table) {
    if (std::find(tokens.begin(), tokens.end(), cell.tokens) == tokens.end()) tokens.push_back(cell.tokens);
  }
  std::sort(tokens.begin(), tokens.end());
  std::string out = fmt::format("{}{:<8}", prefix, "tokens");
  for (const auto t : tokens) out += fmt::format("{:>7}", t);
  out += "\n";
  for (const std::string_view kind : kKernelKinds) {
    std::string row = fmt::format("{}{:<8}", prefix, kind);
    bool any = false;
    for (const auto t : tokens) {
      const auto it = std::find_if(fit.efficiency_table.begin(), fit.efficiency_table.end(),
                                   [&](const EfficiencyCell& c) { return c.kind == kind && c.tokens == t; });
      any = any || it != fit.efficiency_table.end();
      row += it == fit.efficiency_table.end() ? fmt::format("{:>7}", "-") : fmt::format("{:>7.3f}", it->efficiency);
    }
    if (any) out += row + "\n";
  }
  return out;
}

}  // namespace

std::string render_efficiency_table(const RooflineFit& fit) {
  if (fit.efficiency_table.empty()) return {};
  return fmt::format(
      "\n  One rate does not fit every size: the efficiency e by kernel and tokens, the kernels taking the "
      "roofline's time / e\n  (the median of predicted / measured over each cell's shapes; reported, not read by "
      "the models,\n  whose kernels have one rate per side):\n{}"
      "  |error| with it: median {:.1f} %, p90 {:.1f} % (without: {:.1f} %, {:.1f} %)\n",
      efficiency_rows(fit, "    "), 100 * fit.table_median_abs_error, 100 * fit.table_p90_abs_error,
      100 * fit.median_abs_error, 100 * fit.p90_abs_error);
}

std::string render_calibration_profile(const Calibration& c, std::string_view side) {
  const std::string h = how(c);
  std::string out = fmt::format(
      "# A hardware profile measured by `lorasplit calibrate --backend {}` on {} at {}.\n"
      "# Use it as --{} FILE (or [hardware] {} = \"FILE\" in a config); every value says how it was measured.\n"
      "[{}]\n",
      c.backend, c.host, c.date, side, side, side);
  out += fmt::format("flops = {{ value = {}, measured = {} }}\n", toml_string(g4(c.fit.flops_per_s)),
                     toml_string("the compute rate the GEMMs reach" + only_a_bound(c.fit) + ": " + h));
  out += fmt::format("efficiency = {{ value = \"1\", measured = {} }}\n",
                     toml_string(fmt::format("the fitted flops is the rate reached (peak times efficiency), so 1; "
                                             "host {} at {}",
                                             c.host, c.date)));
  out += fmt::format("memory_bandwidth_bytes_per_s = {{ value = {}, measured = {} }}\n",
                     toml_string(g4(c.fit.bytes_per_s)),
                     toml_string(fmt::format("the memory rate the GEMMs reach (a streaming copy reached {} B/s): {}",
                                             g4(c.stream_bytes_per_s), h)));
  out += fmt::format("kernel_overhead_s = {{ value = {}, measured = {} }}\n", toml_string(g4(c.fit.overhead_s)),
                     toml_string("the fixed time of one GEMM call: " + h));
  if (const std::int64_t mem = mem_total_bytes(); mem > 0) {
    out += fmt::format("memory_bytes = {{ value = \"{}\", measured = {} }}\n", mem,
                       toml_string(fmt::format("MemTotal of /proc/meminfo on host {} at {}", c.host, c.date)));
  }
  if (!c.fit.efficiency_table.empty()) {
    out += fmt::format(
        "# The size-dependent efficiency measured with it (not read: the models have one rate per side): the\n"
        "# kernels take the roofline's time / e, by kernel and tokens; |error| median {:.1f} %, p90 {:.1f} % with "
        "it:\n{}",
        100 * c.fit.table_median_abs_error, 100 * c.fit.table_p90_abs_error, efficiency_rows(c.fit, "#   "));
  }
  return out;
}

std::string render_calibration_report(const Calibration& c) {
  std::string out = fmt::format(
      "Calibration: backend {}, {}, {}, {} threads\n  host {}, {}; {} kernels and a streaming copy in {:.1f} s\n"
      "  streaming copy: {:.4g} GB/s (read + written)\n"
      "  fitted roofline: {:.4g} GFLOP/s, {:.4g} GB/s, {:.3g} us per kernel; {} shapes compute-bound, {} "
      "memory-bound{}\n\n",
      c.backend, c.library, c.precision, c.threads, c.host, c.date, c.kernels.size(), c.seconds,
      c.stream_bytes_per_s / 1e9, c.fit.flops_per_s / 1e9, c.fit.bytes_per_s / 1e9, c.fit.overhead_s * 1e6,
      c.fit.compute_bound, c.fit.memory_bound, only_a_bound(c.fit));
  out += fmt::format("  {:<7}{:>7}{:>7}{:>7}{:>13}{:>9}{:>13}{:>9}  {:<8}{:>9}{:>9}\n", "kind", "tokens", "d_in",
                     "d_out", "measured", "spread", "predicted", "error", "bound", "GFLOP/s", "GB/s");
  std::vector<std::pair<double, std::size_t>> worst;
  for (std::size_t i = 0; i < c.kernels.size(); ++i) {
    const auto& k = c.kernels[i];
    const double pred = roofline_time_s(c.fit, k.flops, k.bytes);
    const double err = pred / k.median_s - 1;
    const bool compute = k.flops / c.fit.flops_per_s >= k.bytes / c.fit.bytes_per_s;
    out += fmt::format("  {:<7}{:>7}{:>7}{:>7}{:>10.2f} us{:>7.1f} %{:>10.2f} us{:>+7.1f} %  {:<8}{:>9.3g}{:>9.3g}\n",
                       k.shape.kind, k.shape.tokens, k.shape.d_in, k.shape.d_out, k.median_s * 1e6,
                       100 * (k.max_s - k.min_s) / k.median_s, pred * 1e6, 100 * err,
                       compute ? "compute" : "memory", k.flops / k.median_s / 1e9, k.bytes / k.median_s / 1e9);
    worst.emplace_back(std::abs(err), i);
  }
  std::sort(worst.rbegin(), worst.rend());
  out += fmt::format("\n  |error|: median {:.1f} %, p90 {:.1f} %; worst:", 100 * c.fit.median_abs_error,
                     100 * c.fit.p90_abs_error);
  for (std::size_t i = 0; i < std::min<std::size_t>(3, worst.size()); ++i) {
    const auto& k = c.kernels[worst[i].second];
    out += fmt::format("{} {} {}x{}x{} ({:+.1f} %)", i == 0 ? "" : ",", k.shape.kind, k.shape.tokens, k.shape.d_in,
                       k.shape.d_out,
                       100 * (roofline_time_s(c.fit, k.flops, k.bytes) / k.median_s - 1));
  }
  return out + "\n" + render_efficiency_table(c.fit);
}

std::string render_calibration_json(const Calibration& c) {
  nlohmann::ordered_json j;
  j["backend"] = c.backend;
  j["library"] = c.library;
  j["precision"] = c.precision;
  j["threads"] = c.threads;
  j["host"] = c.host;
  j["date"] = c.date;
  j["seconds"] = c.seconds;
  j["stream_bytes_per_s"] = c.stream_bytes_per_s;
  j["fit"] = {{"flops_per_s", c.fit.flops_per_s},
              {"bytes_per_s", c.fit.bytes_per_s},
              {"overhead_s", c.fit.overhead_s},
              {"median_abs_error", c.fit.median_abs_error},
              {"p90_abs_error", c.fit.p90_abs_error},
              {"compute_bound_shapes", c.fit.compute_bound},
              {"memory_bound_shapes", c.fit.memory_bound},
              {"table_median_abs_error", c.fit.table_median_abs_error},
              {"table_p90_abs_error", c.fit.table_p90_abs_error}};
  nlohmann::ordered_json table = nlohmann::ordered_json::array();
  for (const auto& cell : c.fit.efficiency_table) {
    table.push_back(
        {{"kind", cell.kind}, {"tokens", cell.tokens}, {"shapes", cell.shapes}, {"efficiency", cell.efficiency}});
  }
  j["efficiency_table"] = table;
  nlohmann::ordered_json ks = nlohmann::ordered_json::array();
  for (const auto& k : c.kernels) {
    const double pred = roofline_time_s(c.fit, k.flops, k.bytes);
    ks.push_back({{"kind", k.shape.kind},
                  {"tokens", k.shape.tokens},
                  {"d_in", k.shape.d_in},
                  {"d_out", k.shape.d_out},
                  {"flops", k.flops},
                  {"bytes", k.bytes},
                  {"median_s", k.median_s},
                  {"min_s", k.min_s},
                  {"max_s", k.max_s},
                  {"repetitions", k.repetitions},
                  {"predicted_s", pred},
                  {"error", pred / k.median_s - 1},
                  {"table_predicted_s", table_time_s(c.fit, k.shape, k.flops, k.bytes)}});
  }
  j["kernels"] = ks;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lorasplit
