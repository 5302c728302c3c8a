#include <gtest/gtest.h>
#include <lorasplit/sweep.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace lorasplit {
namespace {

SweepAxis axis(const std::string& spec) {
  auto a = parse_sweep_axis(spec);
  EXPECT_TRUE(a.ok()) << spec << ": " << (a.ok() ? "" : a.error().message);
  return a.ok() ? a.value() : SweepAxis{};
}

TEST(SweepSpec, ListsRangesAndUnits) {
  const SweepAxis list = axis("lora.r=4,8,16");
  EXPECT_EQ(list.values, (std::vector<Rational>{4, 8, 16}));
  // lin: A + (B-A) i/(N-1), exact: 1, 1.25, 1.5, 1.75, 2 us
  const SweepAxis lin = axis("link.latency_s=lin:1us:2us:5");
  ASSERT_EQ(lin.size(), 5U);
  EXPECT_EQ(lin.value(1), make_rational(125, 100000000));
  EXPECT_EQ(lin.kind, AxisKind::kLinear);
  // log: ends exact, interior rounded to 12 significant digits: 1, 10, 100 GiB/s-ish
  const SweepAxis lg = axis("link.bandwidth_bytes_per_s=log:1e9:1e11:3");
  ASSERT_EQ(lg.size(), 3U);
  EXPECT_EQ(lg.value(0), Rational(Integer("1000000000")));
  EXPECT_EQ(lg.value(1), Rational(Integer("10000000000")));
  EXPECT_EQ(lg.value(2), Rational(Integer("100000000000")));
  // whole-number parameters are rounded to integers: 1, 2.5 -> 3 (halves up), 4
  const auto r3 = axis("lora.r=lin:1:4:3");
  EXPECT_EQ((std::vector<Rational>{r3.value(0), r3.value(1), r3.value(2)}), (std::vector<Rational>{1, 3, 4}));
  EXPECT_EQ(axis("gpu.memory_bytes=8 GiB,16 GiB").values[1], Rational(Integer(16) << 30));
}

TEST(SweepSpec, BadSpecsAreNamed) {
  for (const char* bad : {"lora.r", "nope=1,2", "lora.r=lin:1:2", "lora.r=lin:1:2:0", "link.latency_s=log:0:1us:3",
                          "gpu.flops=1,abc", "lora.d=0,512", "link.latency_s=1 GiB"}) {
    auto a = parse_sweep_axis(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.error().message.find('\n'), std::string::npos);
  }
  EXPECT_FALSE(parse_shard("0/3").ok());
  EXPECT_FALSE(parse_shard("4/3").ok());
  EXPECT_FALSE(parse_shard("1-3").ok());
  EXPECT_TRUE(parse_shard("3/3").ok());
}

TEST(SweepShards, RangesPartitionEveryPoint) {
  for (std::size_t points : {0UL, 1UL, 7UL, 100UL, 1000003UL}) {
    for (std::size_t n : {1UL, 2UL, 3UL, 7UL, 64UL}) {
      std::size_t next = 0;
      for (std::size_t i = 1; i <= n; ++i) {
        const auto [b, e] = shard_range(points, Shard{i, n});
        EXPECT_EQ(b, next);
        EXPECT_LE(b, e);
        next = e;
      }
      EXPECT_EQ(next, points);
    }
  }
}

std::vector<std::string> run_csv(const std::vector<SweepAxis>& axes, Shard shard, unsigned threads,
                                 std::size_t block) {
  std::vector<std::string> out;
  SweepOptions o;
  o.shard = shard;
  o.threads = threads;
  o.block_points = block;
  std::size_t last = 0;
  bool first = true;
  const Status st = run_sweep(Params(), axes, o, [&](const SweepRow& r) {
    EXPECT_TRUE(first || r.index == last + 1) << "rows out of order";
    first = false;
    last = r.index;
    out.push_back(sweep_csv_row(r, axes));
  });
  EXPECT_TRUE(st.ok());
  return out;
}

// A 2-D sweep equals point-by-point solves; threads and block sizes do not change it;
// shards concatenate to the whole.
TEST(Sweep, EqualsPointByPointAndShardsConcatenate) {
  const std::vector<SweepAxis> axes = {axis("link.bandwidth_bytes_per_s=log:1GiB/s:256GiB/s:7"),
                                       axis("lora.r=2,4,8,600")};  // r = 600 > d: invalid rows
  const auto whole = run_csv(axes, Shard{1, 1}, 1, 1000);
  ASSERT_EQ(whole.size(), 28U);
  for (std::size_t i = 0; i < whole.size(); ++i) {
    // Independent of the sweep machinery: set the two parameters and solve.
    Params p;
    p.set(ParamId::kLinkBandwidthBytesPerS, axes[0].value(i / 4));
    p.set(ParamId::kLoraR, axes[1].values[i % 4]);
    auto a = analyze(p, {}, AnalyzeOptions{false, false});
    if (i % 4 == 3) {
      EXPECT_FALSE(a.ok());
      EXPECT_NE(whole[i].find("invalid"), std::string::npos) << whole[i];
      continue;
    }
    ASSERT_TRUE(a.ok());
    EXPECT_NE(whole[i].find(std::to_string(a->result.plan.b[0]) + "," + std::to_string(a->result.plan.b[1]) + "," +
                            std::to_string(a->result.plan.b[2])),
              std::string::npos)
        << whole[i];
    EXPECT_EQ(whole[i], sweep_csv_row(solve_point(Params(), axes, i, {}), axes));
  }
  EXPECT_EQ(run_csv(axes, Shard{1, 1}, 2, 3), whole);  // threads, small blocks
  std::vector<std::string> joined;
  for (std::size_t s = 1; s <= 5; ++s) {
    const auto part = run_csv(axes, Shard{s, 5}, 2, 4);
    joined.insert(joined.end(), part.begin(), part.end());
  }
  EXPECT_EQ(joined, whole);
}

// Every row the fast path writes (seed model, integer domain: the solve, the GPU-only
// gain and the binding rows in 128-bit integers) equals the row of the general path
// (analyze() over GMP), text for text, over sweeps of every parameter that varies a row.
TEST(Sweep, FastPathRowsEqualTheGeneralRows) {
  const std::vector<std::vector<std::string>> sweeps = {
      {"link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:300"},
      {"gpu.memory_bytes=log:1MiB:1PiB:200"},
      {"cxl.flops=log:1e10:1e14:150", "link.latency_s=lin:0:5us:4"},
      {"lora.r=1,2,4,8,16,64", "lora.d=log:64:16384:25"},
      {"gpu.flops=log:1e12:1e15:100", "lora.max_batch_tokens=lin:1:100000:3"},
      {"lora.block_tokens=1,32,4096", "gpu.efficiency=lin:0.1:1:10"},
  };
  SweepOptions general;
  general.solve.fast_path = false;
  int rows = 0;
  for (const auto& specs : sweeps) {
    std::vector<SweepAxis> axes;
    for (const auto& s : specs) axes.push_back(axis(s));
    std::vector<std::string> fast, slow;
    ASSERT_TRUE(run_sweep(Params(), axes, SweepOptions{}, [&](const SweepRow& r) { fast.push_back(sweep_csv_row(r, axes)); }).ok());
    ASSERT_TRUE(run_sweep(Params(), axes, general, [&](const SweepRow& r) { slow.push_back(sweep_csv_row(r, axes)); }).ok());
    ASSERT_EQ(fast.size(), slow.size());
    for (std::size_t i = 0; i < fast.size(); ++i) EXPECT_EQ(fast[i], slow[i]) << specs.front() << " point " << i;
    rows += static_cast<int>(fast.size());
  }
  EXPECT_GT(rows, 1000);
}

// A sweep re-checks only what its axes vary (and the relations between parameters when an
// axis varies one they read): every row is valid exactly when validate() passes for the
// base with the row's values, with validate()'s message.
TEST(Sweep, RowValidityEqualsValidate) {
  Params big_block;  // a base that is invalid until an axis mends it
  big_block.set(ParamId::kLoraBlockTokens, Rational(1000000000));  // one block exceeds the memory
  Params rank_600;
  rank_600.set(ParamId::kLoraR, Rational(600));
  Params slow_link;
  slow_link.set(ParamId::kLinkBandwidthBytesPerS, Rational(0));  // out of range, mended by its axis
  const std::vector<std::pair<Params, std::vector<std::string>>> cases = {
      {Params(), {"lora.r=4,600,512,513"}},
      {Params(), {"lora.d=256,1024", "lora.r=lin:1:2000:9"}},
      {Params(), {"lora.block_tokens=1,1e6,1e9", "gpu.memory_bytes=log:1MiB:1TiB:7"}},
      {Params(), {"lora.max_batch_tokens=16,64", "lora.block_tokens=8,32,128"}},
      {big_block, {"link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:5"}},
      {big_block, {"lora.block_tokens=32,1e9"}},
      {rank_600, {"lora.r=4,8"}},
      {rank_600, {"cxl.flops=1e12,1e13"}},
      {slow_link, {"link.bandwidth_bytes_per_s=16 GiB/s,32 GiB/s"}},
      {slow_link, {"lora.r=4"}},
  };
  int invalid = 0, valid = 0;
  for (const auto& one_case : cases) {
    const Params& base = one_case.first;
    const auto& specs = one_case.second;
    std::vector<SweepAxis> axes;
    for (const auto& s : specs) axes.push_back(axis(s));
    SweepOptions one_slot;  // every row reuses the previous row's buffers
    one_slot.threads = 1;
    one_slot.block_points = 1;
    ASSERT_TRUE(run_sweep(base, axes, one_slot, [&](const SweepRow& r) {
                  Params p = base;
                  for (std::size_t k = 0; k < axes.size(); ++k) p.set(find_param(axes[k].key)->id, r.values[k]);
                  const Status st = validate(p);
                  EXPECT_EQ(r.valid, st.ok()) << specs.front() << " point " << r.index;
                  if (!st.ok()) {
                    EXPECT_EQ(r.error, st.error().message);
                    EXPECT_FALSE(r.gain_percent.has_value());  // nothing left from the slot's previous row
                    ++invalid;
                  } else {
                    ++valid;
                  }
                }).ok());
  }
  EXPECT_GT(invalid, 10);
  EXPECT_GT(valid, 10);
}

// With SweepOptions::format the workers format each row; the text is the row's.
TEST(Sweep, RowsFormattedByTheWorkersEqualTheRows) {
  const std::vector<SweepAxis> axes = {axis("link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:500")};
  SweepOptions o;
  o.threads = 2;
  o.block_points = 64;
  o.format = [&axes](const SweepRow& r) { return sweep_csv_row(r, axes); };
  std::size_t n = 0;
  ASSERT_TRUE(run_sweep(Params(), axes, o, [&](const SweepRow& r) {
                EXPECT_EQ(r.index, n++);
                EXPECT_EQ(r.text, sweep_csv_row(r, axes));
              }).ok());
  EXPECT_EQ(n, 500U);
}

}  // namespace
}  // namespace lorasplit

namespace lorasplit {
namespace {

std::vector<SweepAxis> bandwidth_axis(std::size_t n) {
  auto axis = parse_sweep_axis("link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:" + std::to_string(n));
  EXPECT_TRUE(axis.ok());
  return {axis.value()};
}

// A failure inside the sweep (here: emit throws, as a Python callback or a full buffer
// would) stops every thread at the next barrier, joins them, and reaches the caller as the
// same exception: no std::terminate, at any block, with 1 to 3 threads.
TEST(SweepFailures, AnExceptionFromEmitStopsAndJoinsEveryThread) {
  const auto axes = bandwidth_axis(5000);
  for (unsigned threads : {1U, 2U, 3U}) {
    for (const std::size_t fail_at : {std::size_t{0}, std::size_t{63}, std::size_t{64}, std::size_t{4999}}) {
      SweepOptions o;
      o.threads = threads;
      o.block_points = 64;
      std::size_t emitted = 0;
      EXPECT_THROW((void)run_sweep(Params{}, axes, o,
                                   [&](const SweepRow& r) {
                                     if (r.index == fail_at) throw std::runtime_error("emit failed");
                                     ++emitted;
                                   }),
                   std::runtime_error)
          << threads << " threads, failing at " << fail_at;
      EXPECT_EQ(emitted, fail_at);  // rows come in index order; none after the failure
    }
  }
}

// `cancelled` is asked between blocks: the sweep stops with kInterrupted after the rows
// already emitted (whole blocks), every thread joined.
TEST(SweepFailures, CancellationStopsBetweenBlocks) {
  const auto axes = bandwidth_axis(5000);
  for (unsigned threads : {1U, 2U}) {
    SweepOptions o;
    o.threads = threads;
    o.block_points = 100;
    std::size_t emitted = 0;
    o.cancelled = [&emitted] { return emitted >= 300; };
    const Status st = run_sweep(Params{}, axes, o, [&](const SweepRow&) { ++emitted; });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kInterrupted);
    EXPECT_EQ(emitted, 300U);
  }
}

// The axes run_sweep accepts: one or two, no key twice, a size that fits.
TEST(SweepFailures, AxesAreValidated) {
  const auto r = parse_sweep_axis("lora.r=4,8").value();
  const auto d = parse_sweep_axis("lora.d=512,1024").value();
  const auto f = parse_sweep_axis("gpu.flops=1e12,2e12").value();
  const auto big1 = parse_sweep_axis("cxl.flops=log:1e11:1e14:1099511627776").value();
  const auto big2 = parse_sweep_axis("gpu.flops=log:1e11:1e14:1099511627776").value();
  EXPECT_TRUE(validate_axes({r}).ok());
  EXPECT_TRUE(validate_axes({r, d}).ok());
  for (const auto& bad : std::vector<std::vector<SweepAxis>>{{}, {r, d, f}, {r, r}, {big1, big2}}) {
    const Status st = validate_axes(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().key, "vary");
  }
  EXPECT_FALSE(sweep_size({big1, big2}).has_value());
  const Status st = run_sweep(Params{}, {r, r}, SweepOptions{}, [](const SweepRow&) {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("varied twice"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit
