// Sweep parts: the shards of a sweep written apart, checked and merged back (sweep.hpp).
#include <fmt/format.h>
#include <lorasplit/sweep.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lorasplit {
namespace {

constexpr std::string_view kMagic = "# lorasplit sweep part";
constexpr std::string_view kEnd = "# end: ";

std::string identity_digest(const std::vector<std::string>& identity) {
  std::string text;
  for (const auto& line : identity) text += line + "\n";
  return content_digest(text);
}

/// What pass one learns of a part.
struct PartInfo {
  std::string path;
  std::vector<std::string> identity;
  std::string format;
  Shard shard;
  std::size_t begin{0}, end{0}, total{0};
  std::string header;  // csv: the column names
  std::size_t rows{0};
};

Error bad(const std::string& path, const std::string& why) {
  return Error{ErrorCode::kBadPart, "part", path, fmt::format("part '{}': {}", path, why)};
}

std::optional<std::size_t> whole(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::size_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  return v;
}

/// Reads a part's lines; `row` receives each data line (the CSV header excluded) when set.
Result<PartInfo> read_part(const std::string& path, const std::function<bool(std::string_view)>* row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::kFileUnreadable, "part", path, fmt::format("part '{}': cannot open the file", path)};
  }
  PartInfo info;
  info.path = path;
  std::string line;
  std::size_t number = 0;
  bool in_head = true;
  bool ended = false;
  std::string digest;
  std::optional<std::size_t> declared;
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) return bad(path, fmt::format("truncated: line {} does not end", number));
    if (ended) return bad(path, fmt::format("line {} follows the '# end' line", number));
    if (number == 1) {
      if (line != kMagic) return bad(path, fmt::format("not a lorasplit sweep part (line 1 is not '{}')", kMagic));
      continue;
    }
    if (line.starts_with(kEnd)) {
      const std::string_view count = std::string_view(line).substr(kEnd.size());
      const auto sp = count.find(' ');
      declared = sp == std::string_view::npos ? std::nullopt : whole(count.substr(0, sp));
      if (!declared || count.substr(sp) != " rows") {
        return bad(path, fmt::format("line {}: '{}' is not '# end: N rows'", number, line));
      }
      ended = true;
      continue;
    }
    if (in_head && line.starts_with("# ")) {
      const std::string_view l = std::string_view(line).substr(2);
      if (l.starts_with("sweep id: ")) {
        digest = l.substr(10);
      } else if (l.starts_with("shard: ")) {
        const auto s = parse_shard(l.substr(7));
        if (!s) return bad(path, fmt::format("line {}: '{}' is not a shard i/n", number, line));
        info.shard = s.value();
      } else if (l.starts_with("points: ")) {
        unsigned long long b = 0, e = 0, t = 0;
        char tail = 0;
        if (std::sscanf(line.c_str(), "# points: begin=%llu end=%llu total=%llu%c", &b, &e, &t, &tail) != 3 ||
            b > e || e > t) {
          return bad(path, fmt::format("line {}: '{}' is not begin=B end=E total=T", number, line));
        }
        info.begin = b;
        info.end = e;
        info.total = t;
      } else {
        info.identity.emplace_back(l);
        if (l.starts_with("format: ")) info.format = l.substr(8);
      }
      continue;
    }
    if (line.starts_with("#")) return bad(path, fmt::format("line {}: a '#' line among the rows", number));
    if (in_head) {
      in_head = false;
      if (info.format != "csv" && info.format != "jsonl") {
        return bad(path, "its head names no format (csv or jsonl)");
      }
      if (info.shard.count == 0 || info.total == 0) return bad(path, "its head lacks the shard or points line");
      if (digest != identity_digest(info.identity)) {
        return bad(path, "its sweep id does not match its head (an edited part?)");
      }
      if (info.format == "csv") {
        info.header = line;
        continue;
      }
    }
    ++info.rows;
    if (row != nullptr && !(*row)(line)) {
      return Error{ErrorCode::kWriteFailed, "output", "", "the merged sweep: write failed"};
    }
  }
  if (in.bad()) return Error{ErrorCode::kFileUnreadable, "part", path, fmt::format("part '{}': read error", path)};
  if (number == 0) return bad(path, "empty file");
  if (!ended) return bad(path, fmt::format("truncated: no '# end' line after {} rows", info.rows));
  if (in_head) {  // no data line at all: only possible for an empty jsonl shard
    if (info.format != "jsonl") return bad(path, "no CSV header");
    if (info.shard.count == 0 || info.total == 0) return bad(path, "its head lacks the shard or points line");
    if (digest != identity_digest(info.identity)) return bad(path, "its sweep id does not match its head");
  }
  if (*declared != info.rows) {
    return bad(path, fmt::format("its '# end' line says {} rows, it holds {}", *declared, info.rows));
  }
  const auto [b, e] = shard_range(info.total, info.shard);
  if (b != info.begin || e != info.end) {
    return bad(path, fmt::format("shard {}/{} of {} points is begin={} end={}, not begin={} end={}", info.shard.index,
                                 info.shard.count, info.total, b, e, info.begin, info.end));
  }
  if (info.rows != e - b) {
    return bad(path, fmt::format("truncated: {} rows of the {} of shard {}/{}", info.rows, e - b, info.shard.index,
                                 info.shard.count));
  }
  return info;
}

}  // namespace

std::string content_digest(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::string render_part_head(const SweepPartHead& head) {
  const auto [b, e] = shard_range(head.total_points, head.shard);
  std::string out = fmt::format("{}\n# sweep id: {}\n", kMagic, identity_digest(head.identity));
  for (const auto& line : head.identity) out += "# " + line + "\n";
  out += fmt::format("# shard: {}/{}\n# points: begin={} end={} total={}\n", head.shard.index, head.shard.count, b, e,
                     head.total_points);
  return out;
}

std::string render_part_tail(std::size_t rows) { return fmt::format("{}{} rows\n", kEnd, rows); }

Status merge_sweep_parts(const std::vector<std::string>& paths, const std::function<bool(std::string_view)>& write) {
  if (paths.empty()) return Error{ErrorCode::kBadPart, "part", "", "merge: no parts given"};
  std::map<std::size_t, PartInfo> by_index;
  std::optional<PartInfo> first;
  for (const auto& path : paths) {
    auto info = read_part(path, nullptr);
    if (!info) return info.error();
    if (!first) {
      first = info.value();
    } else {
      const PartInfo& f = *first;
      if (info->identity != f.identity) {
        std::size_t i = 0;
        while (i < info->identity.size() && i < f.identity.size() && info->identity[i] == f.identity[i]) ++i;
        const std::string mine = i < info->identity.size() ? info->identity[i] : "(nothing)";
        const std::string theirs = i < f.identity.size() ? f.identity[i] : "(nothing)";
        return bad(path, fmt::format("from another sweep than '{}' ('{}' against '{}')", f.path, mine, theirs));
      }
      if (info->shard.count != f.shard.count || info->total != f.total) {
        return bad(path, fmt::format("shard {}/{} of {} points; '{}' is {}/{} of {}", info->shard.index,
                                     info->shard.count, info->total, f.path, f.shard.index, f.shard.count, f.total));
      }
      if (info->header != f.header) return bad(path, fmt::format("its CSV header differs from that of '{}'", f.path));
    }
    const std::size_t index = info->shard.index;
    if (const auto it = by_index.find(index); it != by_index.end()) {
      return bad(path, fmt::format("shard {}/{} is given twice (also '{}')", index, info->shard.count, it->second.path));
    }
    by_index.emplace(index, std::move(info.value()));
  }
  const std::size_t n = first->shard.count;
  for (std::size_t i = 1; i <= n; ++i) {
    if (!by_index.contains(i)) {
      return Error{ErrorCode::kBadPart, "part", std::to_string(i),
                   fmt::format("merge: shard {}/{} is missing ({} of {} parts given)", i, n, by_index.size(), n)};
    }
  }
  if (first->format == "csv" && !write(first->header + "\n")) {
    return Error{ErrorCode::kWriteFailed, "output", "", "the merged sweep: write failed"};
  }
  std::string line;
  const std::function<bool(std::string_view)> row = [&](std::string_view text) {
    line.assign(text);
    line += '\n';
    return write(line);
  };
  for (const auto& [index, info] : by_index) {
    // Pass two streams the rows; a part changed since pass one is caught again here.
    auto again = read_part(info.path, &row);
    if (!again) return again.error();
    if (again->identity != info.identity || again->rows != info.rows) {
      return bad(info.path, "changed while it was merged");
    }
  }
  return {};
}

}  // namespace lorasplit
