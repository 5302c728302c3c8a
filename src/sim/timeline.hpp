#pragma once
// A simulated schedule as bars on resource tracks, whatever model produced it: what the
// Gantt chart (SVG) and the Chrome trace of `lorasplit simulate` draw, written once for
// the seed and pipeline models' simulations and the serving model's.
#include <lorasplit/rational.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorasplit::detail {

struct TimelineBar {
  std::string name;       ///< the task's name, drawn on its bar where it fits
  std::string resource;   ///< its track
  std::size_t colour{0};  ///< index into the chart's palette (six colours, repeating)
  std::string context;    ///< in the bar's tooltip after its name, e.g. "batch 1, stage 2"
  std::string category;   ///< the trace event's "cat"
  Rational start_s, end_s, done_s;  ///< done_s > end_s: a transfer's latency, drawn after it
  nlohmann::ordered_json args;      ///< the trace event's args (the exact times are appended)
};

struct Timeline {
  std::string title;                ///< the chart's first line
  std::vector<std::string> tracks;  ///< one row (SVG) or thread (trace) per resource
  std::vector<TimelineBar> bars;
  Rational span_s;                  ///< the time axis runs from 0 to it
  std::vector<std::pair<std::size_t, std::string>> legend;  ///< (colour, label)
  nlohmann::ordered_json other;     ///< the trace's otherData
};

std::string timeline_gantt_svg(const Timeline& t);
std::string timeline_trace_json(const Timeline& t);

}  // namespace lorasplit::detail
