#include <fmt/format.h>
#include <lorasplit/files.hpp>
#include <lorasplit/plot.hpp>
#include <lorasplit/serving.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SweepOpts {
  ParamSources sources;
  SearchLimitOpts limits;
  std::vector<std::string> vary;
  std::string domain{"integer"};

  std::string format{"csv"};
  std::string shard{"1/1"};
  std::string part;  ///< --part FILE: the shard as a part for `lorasplit merge`
  std::string plot;
  PlotOptions plot_options;
  unsigned threads{0};
  bool progress{false};
};

// The exact text of what a workload holds (shape, adapters, context), for a part's identity.
std::string workload_text(const ServingWorkload& w) {
  const TransformerShape& t = w.shape;
  std::string out = fmt::format("shape {} {} {} {} {} {} {} {}; context {}; generator {};", t.hidden, t.intermediate,
                                t.layers, t.heads, t.kv_heads, t.head_dim, t.dtype, t.element_bytes,
                                w.context_tokens, w.generator);
  for (const auto& a : w.adapters) {
    out += fmt::format(" {} r{} n{} w{} m{};", a.name, a.rank, a.tokens, static_cast<int>(a.weights),
                       static_cast<unsigned>(a.modules));
  }
  return out;
}

// What a part records of the sweep that produced it (sweep.hpp, "Parts"): everything that
// changes a row, nothing that does not (threads, the config's path, the shard). Under the
// serving model also what the files read at every point hold (the config, a Hugging Face
// config.json, hardware profiles on an axis) and which values the user wrote (they stay
// over a part's on a hardware axis).
Result<std::vector<std::string>> part_identity(const SweepOpts& opts, const Params& params,
                                               const WorkloadOverrides& sets, const ServingSolveOptions* limits,
                                               const InputProvenance* prov, const std::vector<ServingAxis>* axes) {
  std::vector<std::string> id;
  id.push_back(fmt::format("version: {}", version()));
  const ParamSpec& model = spec(ParamId::kModelName);
  id.push_back(fmt::format("model: {}", param_text(model, params.get(ParamId::kModelName))));
  id.push_back(fmt::format("format: {}", opts.format));
  if (limits == nullptr) id.push_back(fmt::format("domain: {}", opts.domain));
  for (const auto& v : opts.vary) id.push_back(fmt::format("vary: {}", v));
  if (limits != nullptr) {
    // The workload is read from the config at every point: its bytes are part of the sweep.
    std::ifstream in(opts.sources.config, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      return Error{ErrorCode::kFileUnreadable, "--config", opts.sources.config,
                   fmt::format("--config '{}': cannot read the file", opts.sources.config)};
    }
    id.push_back(fmt::format("config digest: {}", content_digest(bytes.str())));
    for (const auto& [key, value] : sets) id.push_back(fmt::format("set {} = {}", key, value));
    // What the workload holds (a Hugging Face config.json it names is read with it).
    auto w = load_serving_workload(opts.sources.config, sets);
    if (!w) return w.error();
    id.push_back(fmt::format("workload digest: {}", content_digest(workload_text(w.value()))));
    id.push_back(fmt::format("search: gap={} node_limit={}{}", format_exact(limits->relative_gap), limits->node_limit,
                             limits->exact_lps_only ? " exact_lps" : ""));
    for (const ServingAxis& a : axes != nullptr ? *axes : std::vector<ServingAxis>{}) {
      for (const auto& value : a.values) {
        if (!a.part_kind.empty()) {  // a part, maybe a profile file: the values it sets
          auto part = resolve_hardware(a.part_kind, value);
          if (!part) return part.error();
          std::string text;
          for (const auto& v : part->values) text += fmt::format("{} = {}; ", v.key, v.value);
          id.push_back(fmt::format("axis {} = {}: {}", a.key, value, content_digest(text)));
        } else if (a.key == "transformer.hf_config") {  // a file read at the points that name it
          WorkloadOverrides over = sets;
          over.emplace_back(a.key, value);
          auto wv = load_serving_workload(opts.sources.config, over);
          if (!wv) return wv.error();
          id.push_back(fmt::format("axis {} = {}: {}", a.key, value, content_digest(workload_text(wv.value()))));
        }
      }
    }
  }
  for (const ParamSpec& s : param_specs()) {
    if (!params.has(s.id)) continue;
    // Written by the user (config, --set): such a value stays over a part on a hardware axis.
    const bool written = prov != nullptr && (prov->at(s.id).origin == Origin::kConfig ||
                                             prov->at(s.id).origin == Origin::kCommandLine);
    id.push_back(fmt::format("param {} = {}{}", s.key, param_text(s, params.get(s.id)), written ? " (written)" : ""));
  }
  return id;
}

/// Writes a part: its head, the text, its tail; whole or not at all.
int write_part(const SweepOpts& opts, std::vector<std::string> identity, const Shard& shard, std::size_t total,
               const std::string& text, std::size_t rows, const Io& io) {
  SweepPartHead head;
  head.identity = std::move(identity);
  head.shard = shard;
  head.total_points = total;
  if (auto st = write_file(opts.part, render_part_head(head) + text + render_part_tail(rows), "--part"); !st) {
    return report_error(io, st.error(), false);
  }
  return kExitOptimal;
}

// The serving model (docs/model.md §9.10): hardware keys and workload keys, one CSV or
// JSON line per point, in order.
int run_sweep_serving(const SweepOpts& opts, const Params& params, const InputProvenance& prov,
                      const WorkloadOverrides& sets, const ServingSolveOptions& limits, const Io& io) {
  const auto refuse = [&](const std::string& option, const std::string& value, const std::string& why) {
    return report_error(io, Error{ErrorCode::kBadOption, option, value, why}, false);
  };
  if (auto st = serving_command_ok(opts.sources.config, opts.domain); !st) return report_error(io, st.error(), false);
  if (!opts.plot.empty() && !opts.part.empty()) {
    return refuse("--plot", opts.plot, "--plot draws a whole sweep: plot the merged parts, not one (--part)");
  }
  std::vector<ServingAxis> axes;
  for (const auto& v : opts.vary) {
    auto axis = parse_serving_axis(v);
    if (!axis) return report_error(io, axis.error(), false);
    for (const auto& a : axes) {
      if (a.key == axis->key) return refuse("--vary", axis->key, fmt::format("{} is varied twice", axis->key));
    }
    for (const auto& [key, value] : sets) {
      if (key == axis->key) {
        return refuse("--vary", key, fmt::format("{} is both varied (--vary) and set (--set {}={}): give it once", key,
                                                 key, value));
      }
    }
    if (!axis->part_kind.empty()) {
      const std::string& named = axis->part_kind == "gpu"   ? opts.sources.gpu
                                 : axis->part_kind == "cxl" ? opts.sources.cxl
                                                            : opts.sources.link;
      if (!named.empty()) {
        return refuse("--vary", axis->key,
                      fmt::format("{} is both varied (--vary) and named (--{} {}): give it once", axis->key,
                                  axis->part_kind, named));
      }
    }
    for (const auto& set : opts.sources.sets) {
      if (assignment_key(set) == axis->key) {
        return refuse("--vary", axis->key,
                      fmt::format("{} is both varied (--vary) and set (--set {}): give it once", axis->key, set));
      }
    }
    axes.push_back(std::move(axis.value()));
  }
  auto shard = parse_shard(opts.shard);
  if (!shard) return report_error(io, shard.error(), false);
  if (!opts.plot.empty()) {  // said before the points are solved, not after
    if (shard->count != 1) {
      return refuse("--plot", opts.plot, "--plot draws a whole sweep: plot the merged parts, not one shard (--shard)");
    }
    if (auto st = check_serving_plot(axes, opts.plot); !st) return report_error(io, for_cli(st.error()), false);
  }
  const auto total = serving_sweep_size(axes);
  if (!total) return refuse("--vary", "", "sweep: the number of points does not fit a 64-bit count");
  std::vector<std::string> identity;
  if (!opts.part.empty()) {
    // A part that could not be written is known before the shard is solved, not after.
    if (auto st = output_folder_writable(opts.part, "--part"); !st) return report_error(io, st.error(), false);
    auto id = part_identity(opts, params, sets, &limits, &prov, &axes);
    if (!id) return report_error(io, id.error(), false);
    identity = std::move(id.value());
  }
  const bool csv = opts.format == "csv";
  const bool to_part = !opts.part.empty();
  std::string part_text;
  bool write_failed = false;
  // Standard output, or the part's text (written whole at the end).
  const auto put = [&](const std::string& line) {
    if (to_part) {
      part_text += line;
    } else {
      write_failed = write_failed || std::fputs(line.c_str(), io.out) < 0;
    }
  };
  // The header opens the sweep (the first shard on standard output, so that the shards
  // concatenate to it) and every part. It is written with the first row (or at the end of
  // a shard without rows): run_serving_sweep reads every workload first, so a bad value
  // stops the sweep before any output.
  bool header_written = false;
  const auto header = [&] {
    if (!header_written && csv && (to_part || shard->index == 1)) put(serving_csv_header(axes) + "\n");
    header_written = true;
  };
  std::size_t rows = 0;
  std::vector<ServingPlotRow> kept;  // only for --plot
  const auto start = std::chrono::steady_clock::now();
  ServingSweepOptions so;
  so.solve = limits;
  so.shard = shard.value();
  so.threads = opts.threads;
  so.provenance = &prov;
  const Status st = run_serving_sweep(params, opts.sources.config, sets, axes, so, [&](const ServingSweepRow& row) {
    std::string line;
    if (csv) {
      line = serving_csv_row(row);
    } else {
      nlohmann::ordered_json j;
      for (std::size_t i = 0; i < axes.size(); ++i) j[axes[i].key] = row.values[i];
      nlohmann::ordered_json out;
      out["vary"] = std::move(j);
      out["result"] = nlohmann::ordered_json::parse(render_serving_json(row.workload, row.result));
      line = out.dump();
    }
    header();
    put(line + "\n");
    ++rows;
    if (!opts.plot.empty()) kept.push_back(serving_plot_row(row));
    if (opts.progress) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fputs(fmt::format("lorasplit: progress: {} points, {:.1f} s\n", rows, secs).c_str(), io.err);
    }
  });
  if (!st) return report_error(io, st.error(), false);
  header();
  if (to_part) return write_part(opts, std::move(identity), shard.value(), *total, part_text, rows, io);
  if (write_failed || std::fflush(io.out) != 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, false);
  }
  if (!opts.plot.empty()) {
    if (const Status ps = plot_serving_sweep(axes, kept, opts.plot, opts.plot_options); !ps) {
      return plot_failed(io, ps.error());
    }
  }
  return kExitOptimal;
}

int run_sweep_cmd(const SweepOpts& opts, const Io& io) {
  if (opts.vary.empty() || opts.vary.size() > 2) {
    return report_error(io, Error{ErrorCode::kBadOption, "--vary", "", "--vary: give one or two KEY=SPEC"}, false);
  }
  if (!opts.plot.empty()) {  // a figure that could not be written is said before the sweep, not after
    if (auto st = output_folder_writable(opts.plot, "--plot"); !st) return report_error(io, st.error(), false);
  }
  ParamSources sources = opts.sources;
  const WorkloadOverrides sets = take_workload_sets(sources);
  {
    InputProvenance prov;
    auto p = load_params(sources, io, false, &prov);
    if (!p) return report_error(io, p.error(), false);
    if (auto st = workload_sets_need_serving(sets, p->model_name()); !st) return report_error(io, st.error(), false);
    auto limits = search_limits(opts.limits, p->model_name());
    if (!limits) return report_error(io, limits.error(), false);
    if (p->model_name() == ModelName::kServing) {
      SweepOpts serving = opts;
      serving.sources = sources;
      return run_sweep_serving(serving, p.value(), prov, sets, limits.value(), io);
    }
    for (const auto& v : opts.vary) {
      if (assignment_key(v).starts_with("hardware.")) {
        return report_error(io, Error{ErrorCode::kBadOption, assignment_key(v), v,
                                      fmt::format("--vary {}: parts of the hardware library are varied under the "
                                                  "serving model; here run one sweep per part (--gpu NAME ...)",
                                                  v)},
                            false);
      }
      if (is_workload_key(assignment_key(v))) {
        return report_error(io, Error{ErrorCode::kInconsistent, assignment_key(v), v,
                                      fmt::format("--vary {}: a workload key of the serving model (model.name = serving)",
                                                  v)},
                            false);
      }
    }
  }
  auto params = load_params(opts.sources, io);
  if (!params) return report_error(io, params.error(), false);
  std::vector<SweepAxis> axes;
  for (const auto& v : opts.vary) {
    auto axis = parse_sweep_axis(v);
    if (!axis) return report_error(io, axis.error(), false);
    axes.push_back(std::move(axis.value()));
  }
  if (Status st = validate_axes(axes); !st) return report_error(io, st.error(), false);
  // A key both varied and set would be solved at the varied values under a label that
  // hides the --set: rejected.
  for (const auto& a : axes) {
    for (const auto& set : opts.sources.sets) {
      if (assignment_key(set) == a.key) {
        return report_error(io, Error{ErrorCode::kBadOption, "--vary", a.key,
                                      fmt::format("{} is both varied (--vary) and set (--set {}): give it once",
                                                  a.key, set)},
                            false);
      }
    }
  }
  auto shard = parse_shard(opts.shard);
  if (!shard) return report_error(io, shard.error(), false);
  SweepOptions so;
  so.solve.domain = domain_from(opts.domain);
  so.shard = shard.value();
  so.threads = opts.threads;

  if (!opts.part.empty() && !opts.plot.empty()) {
    return report_error(io, Error{ErrorCode::kBadOption, "--plot", opts.plot,
                                  "--plot draws a whole sweep: plot the merged parts, not one (--part)"},
                        false);
  }
  std::vector<std::string> identity;
  if (!opts.part.empty()) {
    if (auto st = output_folder_writable(opts.part, "--part"); !st) return report_error(io, st.error(), false);
    auto id = part_identity(opts, params.value(), {}, nullptr, nullptr, nullptr);
    if (!id) return report_error(io, id.error(), false);
    identity = std::move(id.value());
  }
  const bool to_part = !opts.part.empty();
  std::string part_text;
  std::size_t part_rows = 0;
  const bool csv = opts.format == "csv";
  // The header opens the sweep (the first shard on standard output, so that the shards
  // concatenate to it) and every part.
  if (csv && to_part) part_text = sweep_csv_header(axes) + "\n";
  if (csv && !to_part && so.shard.index == 1) std::fputs((sweep_csv_header(axes) + "\n").c_str(), io.out);
  std::vector<SweepRow> kept;  // only for --plot
  const auto start = std::chrono::steady_clock::now();
  const bool tty = io.err == stderr && isatty(fileno(stderr)) != 0;
  bool drew = false;
  bool estimated = false;
  double last_line = 0;
  const auto progress = [&](std::size_t done, std::size_t total) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A sweep that will take more than a minute says so once, terminal or not.
    if (!estimated && done > 0 && done < total) {
      estimated = true;
      const double left = secs / static_cast<double>(done) * static_cast<double>(total - done);
      if (secs + left > 60) {
        std::fputs(fmt::format("lorasplit: note: {} points at about {:.3g} ms each: about {:.0f} s in all ({:.1f} h)\n",
                               total, 1000 * secs / static_cast<double>(done), secs + left, (secs + left) / 3600)
                       .c_str(),
                   io.err);
      }
    }
    if (!tty && opts.progress) {  // off a terminal: a line every 5 s and at the end
      if (done < total && secs - last_line < 5) return;
      last_line = secs;
      const double left = done > 0 ? secs / static_cast<double>(done) * static_cast<double>(total - done) : 0;
      std::fputs(fmt::format("lorasplit: progress: {}/{} points, {:.1f} s, about {:.0f} s left\n", done, total, secs,
                             left)
                     .c_str(),
                 io.err);
      return;
    }
    if (!tty) return;
    if (secs < 1.0 && done < total) return;
    if (!drew && done == total && secs < 1.0) return;
    const int width = 40;
    const int filled = total == 0 ? width : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::fputs(fmt::format("\r[{}{}] {}/{} points, {:.1f} s", std::string(static_cast<std::size_t>(filled), '#'),
                           std::string(static_cast<std::size_t>(width - filled), '.'), done, total, secs)
                   .c_str(),
               io.err);
    drew = true;
    if (done == total) std::fputs("\n", io.err);
  };
  so.format = [&axes, csv](const SweepRow& row) {
    return csv ? sweep_csv_row(row, axes) : sweep_jsonl_row(row, axes);
  };
  std::string buffer;
  const Status st = run_sweep(
      params.value(), axes, so,
      [&](const SweepRow& row) {
        if (to_part) {
          part_text += row.text;
          part_text += '\n';
          ++part_rows;
          return;
        }
        buffer += row.text;
        buffer += '\n';
        if (buffer.size() > (1U << 16)) {
          std::fputs(buffer.c_str(), io.out);
          buffer.clear();
        }
        if (!opts.plot.empty()) {
          // What the figure reads: the values, the throughput and the gain (not the text,
          // the plan or the binding rows).
          SweepRow& k = kept.emplace_back();
          k.index = row.index;
          k.values = row.values;
          k.valid = row.valid;
          k.status = row.status;
          k.throughput_tokens_per_s = row.throughput_tokens_per_s;
          k.gain_percent = row.gain_percent;
          k.point.clear();
        }
      },
      progress);
  std::fputs(buffer.c_str(), io.out);
  if (!st) return report_error(io, st.error(), false);
  if (to_part) {
    return write_part(opts, std::move(identity), so.shard, *sweep_size(axes), part_text, part_rows, io);
  }
  if (!opts.plot.empty()) {
    if (const Status ps = plot_sweep(axes, kept, opts.plot, opts.plot_options); !ps) return plot_failed(io, ps.error());
  }
  return kExitOptimal;
}

}  // namespace

void setup_sweep(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<SweepOpts>();
  CLI::App* sub = app.add_subcommand("sweep", "solve exactly over a grid of one or two parameters (serving: also "
                                               "workload keys serving.*, transformer.*)");
  add_param_options(sub, opts->sources);
  sub->add_option("--vary", opts->vary,
                  "KEY=lin:A:B:N, KEY=log:A:B:N or KEY=a,b,c (values may carry units); once or twice")
      ->required();
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "csv (default) or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  sub->add_option("--shard", opts->shard, "i/n: run the i-th of n slices (1-based); the slices concatenate to the sweep");
  sub->add_option("--part", opts->part,
                  "write the shard to FILE as a part for `lorasplit merge` (what produced it, its rows, a closing "
                  "row count), whole or not at all");
  sub->add_option("--threads", opts->threads, "worker threads (default: all cores)");
  add_plot_options(sub, opts->plot, opts->plot_options, "throughput and gain");
  add_search_limit_options(sub, opts->limits);
  sub->add_flag("--progress", opts->progress,
                "report progress on stderr even when it is not a terminal (a line every 5 s)");
  sub->callback([opts, &exit_status, io]() { exit_status = run_sweep_cmd(*opts, io); });
}

}  // namespace lorasplit::cli
