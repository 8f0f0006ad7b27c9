// Wire codec (tws/wire.hpp): number text, FieldWriter, FieldReader, parsing
// of int/double/Decimal fields, and FrameReader re-framing of a byte stream.
// Expected values come from tws-protocol.md §1 and IB's 10.30 clients.
#include "tws/wire.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;
using tws::WireError;

/// Payload whose fields each end with NUL.
std::string payload_of(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (auto f : fields) {
    out.append(f);
    out.push_back('\0');
  }
  return out;
}

/// Big-endian length prefix of n.
std::string prefix(std::uint32_t n) {
  std::string p(4, '\0');
  p[0] = static_cast<char>(n >> 24);
  p[1] = static_cast<char>((n >> 16) & 0xFF);
  p[2] = static_cast<char>((n >> 8) & 0xFF);
  p[3] = static_cast<char>(n & 0xFF);
  return p;
}

std::uint64_t bits_of(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// ------------------------------------------------------------ number text

TEST(FormatDouble, PythonStrExamplesFromSpec) {
  // §1.3: Python str(float) -> 0.0, 189.5, 1e-05.
  EXPECT_EQ(tws::format_double(0.0), "0.0");
  EXPECT_EQ(tws::format_double(189.5), "189.5");
  EXPECT_EQ(tws::format_double(1e-05), "1e-05");
  EXPECT_EQ(tws::format_double(100.0), "100.0");
}

TEST(FormatDouble, MatchesPythonReprNotationThresholds) {
  // Python repr: fixed notation for decimal exponents -4..15, else scientific.
  EXPECT_EQ(tws::format_double(0.0001), "0.0001");
  EXPECT_EQ(tws::format_double(0.00012), "0.00012");
  EXPECT_EQ(tws::format_double(1.5e-05), "1.5e-05");
  EXPECT_EQ(tws::format_double(1000.0), "1000.0");
  EXPECT_EQ(tws::format_double(100000.0), "100000.0");
  EXPECT_EQ(tws::format_double(1e15), "1000000000000000.0");
  EXPECT_EQ(tws::format_double(1e16), "1e+16");
  EXPECT_EQ(tws::format_double(1e22), "1e+22");
  EXPECT_EQ(tws::format_double(1.2345678901234568e+17), "1.2345678901234568e+17");
  EXPECT_EQ(tws::format_double(5e-324), "5e-324");
  EXPECT_EQ(tws::format_double(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(FormatDouble, SignsAndSpecialValues) {
  EXPECT_EQ(tws::format_double(-1.0), "-1.0");
  EXPECT_EQ(tws::format_double(-0.0), "-0.0");
  EXPECT_EQ(tws::format_double(-189.25), "-189.25");
  EXPECT_EQ(tws::format_double(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(tws::format_double(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(tws::format_double(0.1 + 0.2), "0.30000000000000004");
}

TEST(FormatNumber, ShortestWithoutForcedDecimalPoint) {
  EXPECT_EQ(tws::format_number(100.0), "100");
  EXPECT_EQ(tws::format_number(0.0), "0");
  EXPECT_EQ(tws::format_number(0.5), "0.5");
  EXPECT_EQ(tws::format_number(175.25), "175.25");
  EXPECT_EQ(tws::format_number(189.57), "189.57");
  EXPECT_EQ(tws::format_number(100000.0), "100000");
  EXPECT_EQ(tws::format_number(0.0001), "0.0001");
  EXPECT_EQ(tws::format_number(1e-05), "1e-05");
  EXPECT_EQ(tws::format_number(1e16), "1e+16");
  EXPECT_EQ(tws::format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(tws::format_number(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(FormatNumber, AppendKeepsExistingText) {
  std::string s = "p=";
  tws::append_number(s, 175.25);
  EXPECT_EQ(s, "p=175.25");
}

TEST(FormatNumber, RoundTripsExactly) {
  // Every finite double must come back bit for bit through text.
  std::mt19937_64 rng(12345);
  std::vector<double> values = {0.1 + 0.2, 175.25, 189.57, 1e-05,  0.0001,
                                1e15,      1e16,   1e300,  5e-324, 2.2250738585072014e-308,
                                -0.0};
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t b = rng();
    double v = 0;
    std::memcpy(&v, &b, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
  }
  std::uniform_real_distribution<double> prices(0.0, 5000.0);
  for (int i = 0; i < 5000; ++i) values.push_back(std::round(prices(rng) * 100.0) / 100.0);
  for (double v : values) {
    const std::string n = tws::format_number(v);
    const std::string d = tws::format_double(v);
    auto pn = tws::parse_double(n);
    auto pd = tws::parse_double(d);
    ASSERT_TRUE(pn.has_value()) << n;
    ASSERT_TRUE(pd.has_value()) << d;
    EXPECT_EQ(bits_of(*pn), bits_of(v)) << n;
    EXPECT_EQ(bits_of(*pd), bits_of(v)) << d;
  }
}

// ------------------------------------------------------------ FieldWriter

TEST(FieldWriter, BuildsLengthPrefixedFrame) {
  tws::FieldWriter w;
  w.add("8").add_int(1).add_int(-1);
  EXPECT_EQ(w.field_count(), 3u);
  EXPECT_EQ(w.finish(), "\x00\x00\x00\x07"
                        "8\0"
                        "1\0"
                        "-1\0"s);
  EXPECT_EQ(w.field_count(), 0u);
}

TEST(FieldWriter, IsEmptyAndReusableAfterFinish) {
  tws::FieldWriter w;
  w.add("a");
  (void)w.finish();
  w.add("49").add("1");
  EXPECT_EQ(w.finish(), "\x00\x00\x00\x05"
                        "49\0"
                        "1\0"s);
}

TEST(FieldWriter, FieldKinds) {
  tws::FieldWriter w;
  w.add("")
      .add(std::string_view("AAPL"))
      .add_bool(true)
      .add_bool(false)
      .add_int(std::numeric_limits<std::int64_t>::min())
      .add_int(2147483647)
      .add_double(0.0)
      .add_double(189.5)
      .add_price(175.25)
      .add_price(100.0)
      .add_price(0.1 + 0.2)
      .add_decimal(std::nullopt)
      .add_decimal(100.0)
      .add_decimal(0.5);
  const std::string f = w.finish();
  EXPECT_EQ(f.substr(4),
            payload_of({"", "AAPL", "1", "0", "-9223372036854775808", "2147483647", "0.0", "189.5",
                        "175.25", "100", "0.30000000000000004", "", "100", "0.5"}));
  EXPECT_EQ(f.substr(0, 4), prefix(static_cast<std::uint32_t>(f.size() - 4)));
}

TEST(FieldWriter, AddPriceIsShortestRoundTrip) {
  tws::FieldWriter w;
  w.add_price(175.25);
  const std::string f = w.finish();
  EXPECT_EQ(f, "\x00\x00\x00\x07"
               "175.25\0"s);
  EXPECT_EQ(f.find("175.25000000000001"), std::string::npos);

  tws::FieldWriter w2;
  const double sum = 0.1 + 0.2;
  w2.add_price(sum);
  const std::string frame = w2.finish();
  tws::FieldReader r(std::string_view(frame).substr(4));
  EXPECT_EQ(bits_of(r.dbl()), bits_of(sum));
  EXPECT_TRUE(r.ok());
}

TEST(MakeFrame, PrefixIsBigEndianPayloadLength) {
  EXPECT_EQ(tws::make_frame("49\0"
                            "1\0"s),
            "\x00\x00\x00\x05"
            "49\0"
            "1\0"s);
  const std::string big(0x010203, 'x');
  const std::string f = tws::make_frame(big);
  ASSERT_EQ(f.size(), big.size() + 4);
  EXPECT_EQ(f.substr(0, 4), "\x00\x01\x02\x03"s);
  EXPECT_EQ(tws::make_frame(""), std::string(4, '\0'));
}

// ------------------------------------------------------------ parsing

TEST(ParseInt, AcceptsPlainIntegers) {
  EXPECT_EQ(tws::parse_int(""), 0); // empty field = 0 (Python, C++, Java)
  EXPECT_EQ(tws::parse_int("0"), 0);
  EXPECT_EQ(tws::parse_int("7"), 7);
  EXPECT_EQ(tws::parse_int("-1"), -1);
  EXPECT_EQ(tws::parse_int("+5"), 5);
  EXPECT_EQ(tws::parse_int("2147483647"), 2147483647);
  EXPECT_EQ(tws::parse_int("1700000000"), 1700000000);
  EXPECT_EQ(tws::parse_int("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(tws::parse_int("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
}

TEST(ParseInt, RejectsEverythingElse) {
  for (const char* s : {"1.0", "abc", "1e3", " 1", "1 ", "-", "+", "+-1", "-+1", "0x10", "1,000",
                        "9223372036854775808", "Infinity", "--1"}) {
    EXPECT_FALSE(tws::parse_int(s).has_value()) << s;
  }
}

TEST(ParseDouble, AcceptsWhatTwsSends) {
  EXPECT_EQ(tws::parse_double(""), 0.0);
  EXPECT_EQ(tws::parse_double("0"), 0.0);
  EXPECT_EQ(tws::parse_double("0.0"), 0.0);
  EXPECT_EQ(tws::parse_double("189.5"), 189.5);
  EXPECT_EQ(tws::parse_double("-1"), -1.0);
  EXPECT_EQ(tws::parse_double("+2.5"), 2.5);
  EXPECT_EQ(tws::parse_double(".5"), 0.5);
  EXPECT_EQ(tws::parse_double("1e-05"), 1e-05);
  EXPECT_EQ(tws::parse_double("1.0E-4"), 1.0e-4); // Java Double.toString form
  EXPECT_EQ(tws::parse_double("1.5e+16"), 1.5e16);
  EXPECT_EQ(tws::parse_double("1.7976931348623157E308"), std::numeric_limits<double>::max());
  EXPECT_EQ(tws::parse_double("Infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(tws::parse_double("-Infinity"), -std::numeric_limits<double>::infinity());
}

TEST(ParseDouble, OutOfRangeSaturatesLikeIbDecoders) {
  // Python float(), Java parseDouble and C atof all saturate: +-inf or 0.
  EXPECT_EQ(tws::parse_double("1e400"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(tws::parse_double("-1e400"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(tws::parse_double("1.8E308"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(tws::parse_double("1e99999999999999999999"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(tws::parse_double(std::string(400, '9')), std::numeric_limits<double>::infinity());
  auto tiny = tws::parse_double("1e-400");
  ASSERT_TRUE(tiny.has_value());
  EXPECT_EQ(*tiny, 0.0);
  auto neg_tiny = tws::parse_double("-1e-400");
  ASSERT_TRUE(neg_tiny.has_value());
  EXPECT_EQ(*neg_tiny, 0.0);
  EXPECT_TRUE(std::signbit(*neg_tiny));
  auto tiny2 = tws::parse_double("0." + std::string(400, '0') + "1");
  ASSERT_TRUE(tiny2.has_value());
  EXPECT_EQ(*tiny2, 0.0);
  EXPECT_EQ(tws::parse_double("1e-99999999999999999999"), 0.0);
}

TEST(ParseDouble, RejectsGarbage) {
  for (const char* s :
       {"abc", "1.2.3", "1,5",  "1.0x",     " 1",        "1 ",   "-",  "+",  "+-1", "--1", "nan",
        "NaN", "-nan",  "+nan", "infinity", "-infinity", "0x10", "e5", "1e", "1e+", "true"}) {
    EXPECT_FALSE(tws::parse_double(s).has_value()) << s;
  }
}

// ------------------------------------------------------------ FieldReader

TEST(FieldReader, ReadsEveryKind) {
  const std::string p = payload_of({"AAPL", "-1", "2147483647", "189.5", "1", "0", "100", ""});
  tws::FieldReader r(p);
  EXPECT_EQ(r.remaining(), 8u);
  EXPECT_EQ(r.str(), "AAPL");
  EXPECT_EQ(r.i64(), -1);
  EXPECT_EQ(r.i32(), 2147483647);
  EXPECT_EQ(r.dbl(), 189.5);
  EXPECT_TRUE(r.boolean());
  EXPECT_FALSE(r.boolean());
  EXPECT_EQ(r.decimal(), tws::Decimal(100.0));
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_FALSE(r.at_end());
  EXPECT_EQ(r.str(), "");
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.error());
}

TEST(FieldReader, EmptyFieldsReadAsZero) {
  const std::string p = payload_of({"", "", ""});
  tws::FieldReader r(p);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_EQ(r.dbl(), 0.0);
  EXPECT_FALSE(r.boolean());
  EXPECT_TRUE(r.ok());
}

TEST(FieldReader, MissingFieldIsStickyError) {
  const std::string p = payload_of({"9"});
  tws::FieldReader r(p);
  EXPECT_EQ(r.i32(), 9);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), WireError::missing_field);
  EXPECT_EQ(r.str(), "");
  EXPECT_EQ(r.error(), WireError::missing_field);
}

TEST(FieldReader, MissingNulTerminator) {
  const std::string p = "9\0"
                        "1\0"
                        "5"s;
  tws::FieldReader r(p);
  EXPECT_EQ(r.i32(), 9);
  EXPECT_EQ(r.i32(), 1);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_EQ(r.error(), WireError::unterminated_payload);
  EXPECT_TRUE(r.at_end());
}

TEST(FieldReader, NonIntegerInIntField) {
  for (const char* bad : {"1.0", "abc", "1e3", "2147483648", "-2147483649"}) {
    const std::string p = payload_of({bad, "5"});
    tws::FieldReader r(p);
    EXPECT_EQ(r.i32(), 0) << bad;
    EXPECT_EQ(r.error(), WireError::bad_integer) << bad;
    // Sticky: later reads give defaults and keep the first error.
    EXPECT_EQ(r.i32(), 0) << bad;
    EXPECT_EQ(r.dbl(), 0.0) << bad;
    EXPECT_EQ(r.error(), WireError::bad_integer) << bad;
  }
  const std::string ok = payload_of({"-2147483648"});
  tws::FieldReader r(ok);
  EXPECT_EQ(r.i32(), std::numeric_limits<int>::min());
  EXPECT_TRUE(r.ok());
}

TEST(FieldReader, BadDouble) {
  const std::string p = payload_of({"189,5"});
  tws::FieldReader r(p);
  EXPECT_EQ(r.dbl(), 0.0);
  EXPECT_EQ(r.error(), WireError::bad_double);
}

TEST(FieldReader, InfinityAndScientificDoubles) {
  const std::string p = payload_of({"Infinity", "1.0E-4", "1.7976931348623157E308"});
  tws::FieldReader r(p);
  EXPECT_EQ(r.dbl(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.dbl(), 1.0e-4);
  EXPECT_EQ(r.dbl(), std::numeric_limits<double>::max());
  EXPECT_TRUE(r.ok());
}

TEST(FieldReader, UnsetDecimalLiterals) {
  // §1.3: empty, 2147483647, 9223372036854775807, 1.7976931348623157E308 -> UNSET.
  for (const char* s : {"", "2147483647", "9223372036854775807", "1.7976931348623157E308"}) {
    const std::string p = payload_of({s});
    tws::FieldReader r(p);
    EXPECT_EQ(r.decimal(), std::nullopt) << s;
    EXPECT_TRUE(r.ok()) << s;
  }
}

TEST(FieldReader, DecimalValues) {
  const std::string p = payload_of({"100", "0.5", "0.0001", "1e-05", "2147483646", "0"});
  tws::FieldReader r(p);
  EXPECT_EQ(r.decimal(), tws::Decimal(100.0));
  EXPECT_EQ(r.decimal(), tws::Decimal(0.5));
  EXPECT_EQ(r.decimal(), tws::Decimal(0.0001));
  EXPECT_EQ(r.decimal(), tws::Decimal(1e-05));
  EXPECT_EQ(r.decimal(), tws::Decimal(2147483646.0));
  EXPECT_EQ(r.decimal(), tws::Decimal(0.0));
  EXPECT_TRUE(r.ok());
}

TEST(FieldReader, BadDecimal) {
  for (const char* s : {"abc", "Infinity", "1,5", "nan"}) {
    const std::string p = payload_of({s});
    tws::FieldReader r(p);
    EXPECT_EQ(r.decimal(), std::nullopt) << s;
    EXPECT_EQ(r.error(), WireError::bad_decimal) << s;
  }
}

TEST(FieldReader, FailKeepsFirstError) {
  const std::string p = payload_of({"x"});
  tws::FieldReader r(p);
  r.fail(WireError::bad_value);
  r.fail(WireError::missing_field);
  EXPECT_EQ(r.error(), WireError::bad_value);
  EXPECT_EQ(r.str(), "");
}

TEST(SplitFields, SplitsAndChecksTerminator) {
  const std::string p = payload_of({"99", "", "6"});
  auto f = tws::split_fields(p);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0], "99");
  EXPECT_EQ((*f)[1], "");
  EXPECT_EQ((*f)[2], "6");
  EXPECT_FALSE(tws::split_fields("99\0"
                                 "6"s)
                   .has_value());
  auto empty = tws::split_fields("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(WireCategory, NamesAndMessages) {
  const std::error_code ec = WireError::oversized_frame;
  EXPECT_STREQ(ec.category().name(), "tws-wire");
  EXPECT_EQ(&ec.category(), &tws::wire_category());
  for (int e = 0; e <= static_cast<int>(WireError::bad_value); ++e) {
    const std::string m = tws::wire_category().message(e);
    EXPECT_FALSE(m.empty());
    EXPECT_NE(m, "unknown wire error") << e;
  }
  EXPECT_EQ(tws::wire_category().message(9999), "unknown wire error");
  EXPECT_FALSE(std::error_code(WireError::ok));
}

// ------------------------------------------------------------ FrameReader

std::vector<std::string> drain(tws::FrameReader& fr, std::error_code* err = nullptr) {
  std::vector<std::string> out;
  for (;;) {
    std::string_view p;
    std::error_code ec;
    auto st = fr.next(p, ec);
    if (st == tws::FrameReader::Status::frame) {
      out.emplace_back(p);
      continue;
    }
    if (st == tws::FrameReader::Status::error && err) *err = ec;
    return out;
  }
}

const std::vector<std::string> kPayloads = {
    payload_of({"9", "1", "1"}),
    payload_of({"15", "1", "DU1234567"}),
    payload_of({"4", "2", "-1", "2104", "Market data farm connection is OK:usfarm", ""}),
    payload_of({"99", "6", "3", "1700000000", "189.4", "189.6", "300", "200", "0"}),
    payload_of({"x"}),
    std::string(1000, 'z') + '\0',
};

std::string stream_of(const std::vector<std::string>& payloads) {
  std::string s;
  for (const auto& p : payloads) s += tws::make_frame(p);
  return s;
}

TEST(FrameReader, OneFrame) {
  tws::FrameReader fr;
  fr.append(tws::make_frame(kPayloads[0]));
  std::string_view p;
  std::error_code ec;
  ASSERT_EQ(fr.next(p, ec), tws::FrameReader::Status::frame);
  EXPECT_EQ(p, kPayloads[0]);
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::need_more);
  EXPECT_FALSE(ec);
  EXPECT_EQ(fr.buffered(), 0u);
}

TEST(FrameReader, SeveralFramesInOneChunk) {
  tws::FrameReader fr;
  fr.append(stream_of(kPayloads));
  std::error_code ec;
  EXPECT_EQ(drain(fr, &ec), kPayloads);
  EXPECT_FALSE(ec);
}

TEST(FrameReader, ByteByByte) {
  const std::string s = stream_of(kPayloads);
  tws::FrameReader fr;
  std::vector<std::string> got;
  for (char ch : s) {
    fr.append(std::string_view(&ch, 1));
    for (auto& f : drain(fr)) got.push_back(std::move(f));
  }
  EXPECT_EQ(got, kPayloads);
  EXPECT_EQ(fr.buffered(), 0u);
}

TEST(FrameReader, ArbitraryChunkBoundaries) {
  const std::string s = stream_of(kPayloads);
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::uniform_int_distribution<std::size_t> size(0, round % 2 ? 7 : 600);
    tws::FrameReader fr;
    std::vector<std::string> got;
    std::size_t pos = 0;
    while (pos < s.size()) {
      const std::size_t n = std::min(size(rng), s.size() - pos);
      fr.append(std::string_view(s).substr(pos, n));
      pos += n;
      for (auto& f : drain(fr)) got.push_back(std::move(f));
    }
    ASSERT_EQ(got, kPayloads) << "round " << round;
  }
}

TEST(FrameReader, PrepareCommitInterface) {
  const std::string s = stream_of(kPayloads);
  tws::FrameReader fr;
  std::vector<std::string> got;
  for (std::size_t pos = 0; pos < s.size(); pos += 5) {
    const std::size_t n = std::min<std::size_t>(5, s.size() - pos);
    char* dst = fr.prepare(64); // more room than used, like a socket read
    std::copy_n(s.data() + pos, n, dst);
    fr.commit(n);
    for (auto& f : drain(fr)) got.push_back(std::move(f));
  }
  EXPECT_EQ(got, kPayloads);
}

TEST(FrameReader, ZeroLengthIsFatal) {
  tws::FrameReader fr;
  fr.append(tws::make_frame(kPayloads[0]));
  fr.append(std::string(4, '\0'));
  fr.append(tws::make_frame(kPayloads[1]));
  std::error_code ec;
  EXPECT_EQ(drain(fr, &ec), std::vector<std::string>{kPayloads[0]});
  EXPECT_EQ(ec, WireError::zero_length_frame);
  // Framing is lost: it stays errored.
  fr.append(tws::make_frame(kPayloads[0]));
  std::string_view p;
  std::error_code ec2;
  EXPECT_EQ(fr.next(p, ec2), tws::FrameReader::Status::error);
  EXPECT_EQ(ec2, WireError::zero_length_frame);
}

TEST(FrameReader, OversizedIsFatalAndStaysErrored) {
  tws::FrameReader fr;
  fr.append(prefix(0x01000000)); // 0xFFFFFF + 1
  std::string_view p;
  std::error_code ec;
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::error);
  EXPECT_EQ(ec, WireError::oversized_frame);
  fr.append(tws::make_frame(kPayloads[0]));
  ec.clear();
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::error);
  EXPECT_EQ(ec, WireError::oversized_frame);

  tws::FrameReader fr2;
  fr2.append("\xFF\xFF\xFF\xFF"s);
  EXPECT_EQ(fr2.next(p, ec), tws::FrameReader::Status::error);
  EXPECT_EQ(ec, WireError::oversized_frame);
}

TEST(FrameReader, MaximumLengthIsAccepted) {
  // N = 0xFFFFFF is legal: the reader waits for the payload.
  tws::FrameReader fr;
  fr.append(prefix(0xFFFFFF));
  fr.append("abc");
  std::string_view p;
  std::error_code ec;
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::need_more);
  EXPECT_FALSE(ec);
}

TEST(FrameReader, CustomCap) {
  tws::FrameReader fr(10);
  fr.append(tws::make_frame(std::string(10, 'a')));
  fr.append(tws::make_frame(std::string(11, 'b')));
  std::error_code ec;
  EXPECT_EQ(drain(fr, &ec), std::vector<std::string>{std::string(10, 'a')});
  EXPECT_EQ(ec, WireError::oversized_frame);
}

TEST(FrameReader, IncompletePrefixAndPayloadNeedMore) {
  tws::FrameReader fr;
  std::string_view p;
  std::error_code ec;
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::need_more);
  fr.append("\x00\x00"s);
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::need_more);
  fr.append("\x00\x03"
            "ab"s);
  EXPECT_EQ(fr.next(p, ec), tws::FrameReader::Status::need_more);
  EXPECT_EQ(fr.buffered(), 6u);
  fr.append(std::string(1, '\0'));
  ASSERT_EQ(fr.next(p, ec), tws::FrameReader::Status::frame);
  EXPECT_EQ(p, "ab\0"s);
}

TEST(FrameReader, TakeRawForHandshakePrefix) {
  tws::FrameReader fr;
  fr.append("AP"s);
  EXPECT_FALSE(fr.take_raw(4).has_value());
  fr.append("I\0"s + tws::make_frame("v100..187"));
  auto raw = fr.take_raw(4);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(*raw, "API\0"s);
  std::string_view p;
  std::error_code ec;
  ASSERT_EQ(fr.next(p, ec), tws::FrameReader::Status::frame);
  EXPECT_EQ(p, "v100..187");
}

} // namespace

// ------------------------------------------------------------ fast paths
//
// write_number and the FieldReader's inline number parsing take shortcuts
// for the common shapes; these compare them with straightforward reference
// implementations (the code they replaced) over many values.

namespace {

/// The reference: shortest digits via to_chars scientific, then fixed when
/// the decimal exponent is in -4..15 (what append_number did before).
std::string reference_number(double v) {
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  const auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* e = std::find(buf, sci.ptr, 'e');
  int exp10 = 0;
  if (e != sci.ptr) std::from_chars(e + (e[1] == '+' ? 2 : 1), sci.ptr, exp10);
  if (exp10 < -4 || exp10 >= 16) return std::string(buf, sci.ptr);
  const auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::vector<double> number_samples() {
  std::vector<double> v = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           0.1,
                           0.5,
                           175.25,
                           189.42,
                           1e-4,
                           1e-5,
                           9.99e-5,
                           0.000099999999999999991,
                           0.00010000000000000001,
                           1.5e-5,
                           100000.0,
                           1e5,
                           1e6,
                           1e15,
                           1e16,
                           9999999999999998.0,
                           9007199254740991.0,
                           9007199254740992.0,
                           9007199254740993.0,
                           9007199254740994.0,
                           4503599627370495.5,
                           -4503599627370495.5,
                           123456789012.0,
                           1.2345678901234568e+17,
                           5e-324,
                           2.2250738585072014e-308,
                           1.7976931348623157e308,
                           -1.7976931348623157e308,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::nan("")};
  for (int k = -30; k <= 30; ++k) {
    const double p = std::pow(10.0, k);
    v.push_back(p);
    v.push_back(std::nextafter(p, 0.0));
    v.push_back(std::nextafter(p, 1e300));
    v.push_back(-p);
    v.push_back(1.5 * p);
  }
  std::mt19937_64 rng(20251125);
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t b = rng();
    double d = 0;
    std::memcpy(&d, &b, sizeof d);
    v.push_back(d);
  }
  std::uniform_int_distribution<std::int64_t> cents(-100000000, 100000000);
  std::uniform_int_distribution<int> scale(0, 8);
  for (int i = 0; i < 200000; ++i)
    v.push_back(static_cast<double>(cents(rng)) / std::pow(10.0, scale(rng)));
  std::uniform_int_distribution<std::int64_t> big(-(std::int64_t{1} << 60), std::int64_t{1} << 60);
  for (int i = 0; i < 50000; ++i) v.push_back(static_cast<double>(big(rng)));
  return v;
}

} // namespace

TEST(WriteNumber, MatchesReferenceFormatting) {
  for (double d : number_samples()) {
    char buf[tws::kMaxNumberChars];
    const std::string got(buf, tws::write_number(buf, d));
    ASSERT_EQ(got, reference_number(d)) << "bits " << bits_of(d);
    ASSERT_LE(got.size(), tws::kMaxNumberChars);
    ASSERT_EQ(tws::format_number(d), got);
  }
}

namespace {

/// Number-ish field texts: plain shapes the fast paths take and every near
/// miss that must go the general way.
std::vector<std::string> field_samples() {
  std::vector<std::string> v = {"",
                                "0",
                                "-0",
                                "00",
                                "007",
                                "-",
                                "+",
                                "+1",
                                "+-1",
                                "-+1",
                                "--1",
                                "1-",
                                "1.",
                                ".5",
                                "-.5",
                                "-1.",
                                ".",
                                "1..2",
                                "1.2.3",
                                "0.0",
                                "-0.0",
                                "1e5",
                                "1E5",
                                "1.5e-3",
                                "Infinity",
                                "-Infinity",
                                "inf",
                                "nan",
                                "NaN",
                                " 1",
                                "1 ",
                                "0x10",
                                "12a",
                                "2147483647",
                                "-2147483647",
                                "2147483648",
                                "-2147483648",
                                "-2147483649",
                                "02147483647",
                                "2147483647.0",
                                "2147483647.5",
                                "9223372036854775807",
                                "-9223372036854775808",
                                "9223372036854775808",
                                "999999999999999999",
                                "-999999999999999999",
                                "1000000000000000000",
                                "99999999999999999999",
                                "1.7976931348623157E308",
                                "9007199254740992",
                                "9007199254740993",
                                "9007199254740993.0",
                                "0.9007199254740993",
                                "0.1234567890123456789",
                                "0.12345678901234567890",
                                "0.0000000000000000000001",
                                "0.00000000000000000000001",
                                "123456789.123456789",
                                "189.42",
                                "-189.42",
                                "175.25",
                                "0.30000000000000004",
                                "1e400",
                                "1e-400"};
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789.-";
  std::uniform_int_distribution<int> len(1, 24);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> digit_heavy(0, 9);
  for (int i = 0; i < 100000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k)
      s += digit_heavy(rng) < 8 ? static_cast<char>('0' + digit_heavy(rng)) : alphabet[pick(rng)];
    v.push_back(s);
  }
  return v;
}

} // namespace

TEST(FieldReader, FastPathsMatchGeneralParsing) {
  for (const std::string& s : field_samples()) {
    // Each kind read from a payload of this field followed by a sentinel.
    const std::string payload = s + '\0' + "next" + '\0';
    {
      tws::FieldReader r(payload);
      const auto v = r.i64();
      const auto want = tws::parse_int(s);
      ASSERT_EQ(r.ok(), want.has_value()) << '"' << s << '"';
      if (want) {
        ASSERT_EQ(v, *want) << s;
        ASSERT_EQ(r.str(), "next") << s;
      }
    }
    {
      tws::FieldReader r(payload);
      const auto v = r.i32();
      const auto want = tws::parse_int(s);
      const bool fits = want && *want >= std::numeric_limits<int>::min() &&
                        *want <= std::numeric_limits<int>::max();
      ASSERT_EQ(r.ok(), fits) << '"' << s << '"';
      if (fits) {
        ASSERT_EQ(v, *want) << s;
      }
    }
    {
      tws::FieldReader r(payload);
      const auto v = r.dbl();
      const auto want = tws::parse_double(s);
      ASSERT_EQ(r.ok(), want.has_value()) << '"' << s << '"';
      if (want) {
        ASSERT_EQ(bits_of(v), bits_of(*want)) << s;
        ASSERT_EQ(r.str(), "next") << s;
      }
    }
    {
      tws::FieldReader r(payload);
      const auto v = r.decimal();
      const bool unset = s.empty() || s == "2147483647" || s == "9223372036854775807" ||
                         s == "1.7976931348623157E308";
      const auto want = tws::parse_double(s);
      const bool good = unset || (want && std::isfinite(*want));
      ASSERT_EQ(r.ok(), good) << '"' << s << '"';
      if (!good) continue;
      ASSERT_EQ(v.has_value(), !unset) << s;
      if (v) {
        ASSERT_EQ(bits_of(*v), bits_of(*want)) << s;
      }
      ASSERT_EQ(r.str(), "next") << s;
    }
  }
}

TEST(FieldReader, FastPathsRespectStickyErrors) {
  const std::string payload = payload_of({"x", "12", "1.5", "3"});
  tws::FieldReader r(payload);
  EXPECT_EQ(r.i64(), 0);
  EXPECT_EQ(r.error(), WireError::bad_integer);
  EXPECT_EQ(r.i64(), 0);
  EXPECT_EQ(r.dbl(), 0.0);
  EXPECT_FALSE(r.decimal().has_value());
  EXPECT_EQ(r.str(), "");
  EXPECT_EQ(r.error(), WireError::bad_integer);
}

TEST(FieldReader, LongFieldsAndUnterminatedNumbers) {
  const std::string long_field(1000, 'a');
  const std::string payload = long_field + '\0' + "7" + '\0';
  tws::FieldReader r(payload);
  EXPECT_EQ(r.str(), long_field);
  EXPECT_EQ(r.i32(), 7);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());

  for (std::string_view text : {"12", "1.5", "-3", ""}) {
    tws::FieldReader i(text), d(text), m(text);
    i.i64();
    d.dbl();
    m.decimal();
    const auto want = text.empty() ? WireError::missing_field : WireError::unterminated_payload;
    EXPECT_EQ(i.error(), want) << text;
    EXPECT_EQ(d.error(), want) << text;
    EXPECT_EQ(m.error(), want) << text;
  }
}
