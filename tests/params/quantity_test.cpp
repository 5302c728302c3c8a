#include <gtest/gtest.h>
#include <lorasplit/params.hpp>

#include <random>

namespace lorasplit {
namespace {

Rational parse_ok(std::string_view text, Dimension dim) {
  auto r = parse_quantity(text, dim, "k");
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : Rational(-999);
}

TEST(Quantity, DecimalsAreExact) {
  // 15.7e12 = 157 * 10^11 exactly, not the double nearest to it.
  EXPECT_EQ(parse_ok("15.7e12", Dimension::kFlopsPerSecond), Rational(Integer("15700000000000")));
  // 1e-6 = 1/10^6 exactly.
  EXPECT_EQ(parse_ok("1e-6", Dimension::kSeconds), make_rational(1, 1000000));
  EXPECT_EQ(parse_ok("0.1", Dimension::kSeconds), make_rational(1, 10));
  EXPECT_EQ(parse_ok("1.57E+12", Dimension::kFlopsPerSecond), Rational(Integer("1570000000000")));
  EXPECT_EQ(parse_ok(".5", Dimension::kSeconds), make_rational(1, 2));
  EXPECT_EQ(parse_ok("  512 ", Dimension::kCount), Rational(512));
  // Leading zeros are decimal, never octal: 0.125 = 125/1000, 010 = 10, 0.8 and 0.09 parse.
  EXPECT_EQ(parse_ok("0.125", Dimension::kCount), make_rational(1, 8));
  EXPECT_EQ(parse_ok("010", Dimension::kCount), Rational(10));
  EXPECT_EQ(parse_ok("0.8", Dimension::kFraction), make_rational(4, 5));
  EXPECT_EQ(parse_ok("0.09", Dimension::kFraction), make_rational(9, 100));
  EXPECT_EQ(parse_ok("80 %", Dimension::kFraction), make_rational(4, 5));
  // 0.1 + 0.2 == 0.3 exactly, as it should for a config language of exact decimals.
  EXPECT_EQ(parse_ok("0.1", Dimension::kCount) + parse_ok("0.2", Dimension::kCount), parse_ok("0.3", Dimension::kCount));
}

TEST(Quantity, UnitsScaleExactly) {
  EXPECT_EQ(parse_ok("16 GiB", Dimension::kBytes), Rational(Integer(16) << 30));
  EXPECT_EQ(parse_ok("80 GB", Dimension::kBytes), Rational(Integer("80000000000")));
  EXPECT_EQ(parse_ok("1.5KiB", Dimension::kBytes), Rational(1536));
  EXPECT_EQ(parse_ok("15.7 TFLOPS", Dimension::kFlopsPerSecond), Rational(Integer("15700000000000")));
  EXPECT_EQ(parse_ok("15.7 Tflop/s", Dimension::kFlopsPerSecond), Rational(Integer("15700000000000")));
  EXPECT_EQ(parse_ok("16 GiB/s", Dimension::kBytesPerSecond), Rational(Integer(16) << 30));
  EXPECT_EQ(parse_ok("128GBps", Dimension::kBytesPerSecond), Rational(Integer("128000000000")));
  EXPECT_EQ(parse_ok("1 us", Dimension::kSeconds), make_rational(1, 1000000));
  EXPECT_EQ(parse_ok("1 \xC2\xB5s", Dimension::kSeconds), make_rational(1, 1000000));
  EXPECT_EQ(parse_ok("200 ns", Dimension::kSeconds), make_rational(1, 5000000));
  EXPECT_EQ(parse_ok("0.2 us", Dimension::kSeconds), make_rational(1, 5000000));
  EXPECT_EQ(parse_ok("3 ms", Dimension::kSeconds), make_rational(3, 1000));
  EXPECT_EQ(parse_ok("2 s", Dimension::kSeconds), Rational(2));
}

struct BadCase {
  const char* text;
  Dimension dim;
  ErrorCode code;
};

TEST(Quantity, BadInputIsNamed) {
  const BadCase cases[] = {
      {"", Dimension::kBytes, ErrorCode::kBadNumber},
      {"abc", Dimension::kBytes, ErrorCode::kBadNumber},
      {"NaN", Dimension::kSeconds, ErrorCode::kBadNumber},
      {"nan us", Dimension::kSeconds, ErrorCode::kBadNumber},
      {"inf", Dimension::kFlopsPerSecond, ErrorCode::kBadNumber},
      {"-Infinity", Dimension::kFlopsPerSecond, ErrorCode::kBadNumber},
      {"1e", Dimension::kCount, ErrorCode::kBadNumber},
      {"1.2.3", Dimension::kCount, ErrorCode::kBadNumber},
      {"1 2", Dimension::kCount, ErrorCode::kBadNumber},
      {"0x10", Dimension::kCount, ErrorCode::kBadUnit},  // no hexadecimal
      {"50 %", Dimension::kSeconds, ErrorCode::kBadUnit},
      {"1e99999", Dimension::kCount, ErrorCode::kOutOfRange},
      {"10000e398", Dimension::kCount, ErrorCode::kOutOfRange},  // fuzz find: value 1e402
      {"1e399 EiB", Dimension::kBytes, ErrorCode::kOutOfRange},
      {"0.001e-399", Dimension::kSeconds, ErrorCode::kOutOfRange},
      {"16 GiBB", Dimension::kBytes, ErrorCode::kBadUnit},
      {"16 Gb", Dimension::kBytes, ErrorCode::kBadUnit},  // bits are not bytes
      {"1 us", Dimension::kBytes, ErrorCode::kWrongDimension},
      {"16 GiB", Dimension::kBytesPerSecond, ErrorCode::kWrongDimension},
      {"16 GiB/s", Dimension::kBytes, ErrorCode::kWrongDimension},
      {"4 B", Dimension::kCount, ErrorCode::kWrongDimension},
  };
  for (const auto& c : cases) {
    auto r = parse_quantity(c.text, c.dim, "some.key");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, c.code) << c.text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("some.key"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.text), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(Quantity, MessagesStayOnOneLine) {
  // Control characters in the user's text are escaped, long text is cut.
  auto r = parse_quantity("12\n34 GiB\x01", Dimension::kBytes, "gpu.memory_bytes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("\\x0A"), std::string::npos) << r.error().message;
  std::string long_text(150, '7');
  long_text.append("x").append(40, 'y');
  auto longer = parse_quantity(long_text, Dimension::kBytes, "k");
  ASSERT_FALSE(longer.ok());
  EXPECT_LE(longer.error().message.size(), 303U);
  EXPECT_EQ(printable("a\tb"), "a\\x09b");
}

TEST(Quantity, FormatExactRoundTrips) {
  for (const char* text : {"15.7e12", "1e-6", "17179869184", "0.2", "123.456", "5e-7", "3"}) {
    const Rational v = parse_ok(text, Dimension::kCount);
    EXPECT_EQ(parse_ok(format_exact(v), Dimension::kCount), v) << text << " -> " << format_exact(v);
  }
  EXPECT_EQ(format_exact(parse_ok("15.7e12", Dimension::kCount)), "1.57e13");
  EXPECT_EQ(format_exact(parse_ok("1e-6", Dimension::kCount)), "1e-6");
  EXPECT_EQ(format_exact(make_rational(1, 3)), "1/3");
  EXPECT_EQ(format_fraction(make_rational(6, 4)), "3/2");
}

// Both ways format_exact writes a decimal (machine integers when the numbers fit 64
// bits, GMP otherwise) round-trip exactly, and the layouts are as documented.
TEST(Quantity, FormatExactSameInBothWidths) {
  // A value m * 10^k written with the 64-bit path, and the same digits followed by 30
  // more (beyond 64 bits: the GMP path): the layouts agree up to those digits.
  std::mt19937_64 rng(11);
  for (int i = 0; i < 4000; ++i) {
    const long m = std::uniform_int_distribution<long>(1, 999999999999L)(rng) * (i % 2 == 0 ? 1 : -1);
    const int k = std::uniform_int_distribution<int>(-30, 12)(rng);
    Integer p10;
    mpz_ui_pow_ui(p10.get_mpz_t(), 10, static_cast<unsigned long>(k < 0 ? -k : k));
    const Rational small = k < 0 ? make_rational(Integer(m), p10) : Rational(Integer(m) * p10);
    const std::string text = format_exact(small);
    ASSERT_EQ(parse_ok(text, Dimension::kCount), small) << text;
    // The same value with 30 more digits (1 000...0001 appended to m): beyond 64 bits.
    Integer big_m = Integer(m) * Integer("1000000000000000000000000000000") + (m < 0 ? -1 : 1);
    const Rational big = make_rational(big_m, k < 0 ? Integer(p10 * Integer("1000000000000000000000000000000"))
                                                    : Integer(Integer("1000000000000000000000000000000") / p10));
    const std::string big_text = format_exact(big);
    ASSERT_EQ(parse_ok(big_text, Dimension::kCount), big) << big_text;
  }
  EXPECT_EQ(format_exact(make_rational(-1, 8)), "-0.125");
  EXPECT_EQ(format_exact(make_rational(123456789, 1000)), "123456.789");
  EXPECT_EQ(format_exact(make_rational(3, 10000000)), "3e-7");
  EXPECT_EQ(format_exact(Rational(1200)), "1200");
  EXPECT_EQ(format_exact(Rational(12000)), "12000");
  EXPECT_EQ(format_exact(Rational(120000)), "1.2e5");
  EXPECT_EQ(format_exact(Rational(0)), "0");
  EXPECT_EQ(format_exact(make_rational(1, 1024)), "9.765625e-4");
  EXPECT_EQ(format_exact(make_rational(1, 128)), "0.0078125");
  EXPECT_EQ(parse_ok(format_exact(make_rational(Integer(1), Integer(1) << 70)), Dimension::kCount),
            make_rational(Integer(1), Integer(1) << 70));
}

}  // namespace
}  // namespace lorasplit

namespace lorasplit {
namespace {

TEST(Quantity, ReadableFormsKeepTheFamilyTheValueIsExactIn) {
  const auto r = [](const char* key, const char* text) {
    const ParamSpec& s = *find_param(key);
    auto v = parse_quantity(text, s.dimension, key);
    EXPECT_TRUE(v.ok()) << text;
    return readable_quantity(s, v.value());
  };
  EXPECT_EQ(r("gpu.memory_bytes", "16 GiB"), "16 GiB");
  EXPECT_EQ(r("gpu.memory_bytes", "80 GB"), "80 GB");
  EXPECT_EQ(r("gpu.memory_bytes", "17008070492"), "17.01 GB = 15.84 GiB");
  EXPECT_EQ(r("gpu.memory_bytes", "512"), "512 B");
  EXPECT_EQ(r("link.bandwidth_bytes_per_s", "64 GB/s"), "64 GB/s");
  EXPECT_EQ(r("link.bandwidth_bytes_per_s", "16 GiB/s"), "16 GiB/s");
  EXPECT_EQ(r("cxl.flops", "1930697728880"), "1.931 TFLOPS");
  EXPECT_EQ(r("link.latency_s", "250 ns"), "250 ns");
  EXPECT_EQ(r("link.bandwidth_bytes_per_s", "1e30"), "1e30 B/s");  // beyond the prefixes: exact
  EXPECT_EQ(r("lora.d", "4096"), "4096 elements");
  EXPECT_EQ(readable_quantity(*find_param("model.name"), Rational(1)), "pipeline");
}

}  // namespace
}  // namespace lorasplit
