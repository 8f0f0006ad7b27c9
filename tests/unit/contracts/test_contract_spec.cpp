// contracts::parse_contract_ref: contract ids and specs
// SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]], their defaults and the
// errors that name the bad part.
#include "contracts/contract_spec.hpp"

#include <gtest/gtest.h>

namespace {

using contracts::parse_contract_ref;

contracts::ContractSpec spec_of(std::string_view text) {
  std::string err;
  auto ref = parse_contract_ref(text, err);
  EXPECT_TRUE(ref) << text << ": " << err;
  EXPECT_TRUE(ref && ref->spec) << text;
  return ref && ref->spec ? *ref->spec : contracts::ContractSpec{};
}

std::string error_of(std::string_view text) {
  std::string err;
  auto ref = parse_contract_ref(text, err);
  EXPECT_FALSE(ref) << text;
  return err;
}

TEST(ContractSpec, DigitsAreAContractId) {
  std::string err;
  auto ref = parse_contract_ref("265598", err);
  ASSERT_TRUE(ref);
  EXPECT_TRUE(ref->is_id());
  EXPECT_EQ(ref->con_id, 265598);
  EXPECT_FALSE(ref->spec);
  EXPECT_EQ(ref->text(), "265598");
  EXPECT_NE(error_of("0").find("1 to 2147483647"), std::string::npos);
  EXPECT_NE(error_of("2147483648").find("2147483648"), std::string::npos);
}

TEST(ContractSpec, ASymbolAloneIsAUsStockOnSmart) {
  const auto s = spec_of("aapl");
  EXPECT_EQ(s.symbol, "AAPL");
  EXPECT_EQ(s.sec_type, "STK");
  EXPECT_EQ(s.exchange, "SMART");
  EXPECT_EQ(s.currency, "USD");
  EXPECT_EQ(s.expiry, "");
  EXPECT_EQ(s.text(), "AAPL:STK:SMART:USD");
  const auto q = s.query();
  EXPECT_EQ(q.con_id, 0);
  EXPECT_EQ(q.symbol, "AAPL");
  EXPECT_EQ(q.sec_type, "STK");
  EXPECT_EQ(q.exchange, "SMART");
  EXPECT_EQ(q.currency, "USD");
}

TEST(ContractSpec, EveryPartAndItsDefaults) {
  const auto es = spec_of("ES:FUT:CME:USD:202703");
  EXPECT_EQ(es.text(), "ES:FUT:CME:USD:202703");
  EXPECT_EQ(es.query().last_trade_date_or_contract_month, "202703");
  // Futures take no default exchange or currency: every listed month.
  const auto any = spec_of("es:fut");
  EXPECT_EQ(any.exchange, "");
  EXPECT_EQ(any.currency, "");
  EXPECT_EQ(any.text(), "ES:FUT");
  // A currency pair trades on IDEALPRO unless told otherwise.
  const auto eur = spec_of("EUR:CASH");
  EXPECT_EQ(eur.exchange, "IDEALPRO");
  EXPECT_EQ(spec_of("EUR:CASH:IDEALPRO:USD").text(), "EUR:CASH:IDEALPRO:USD");
  // Empty parts match anything; an empty type is a stock.
  const auto blank = spec_of("ES:FUT::USD:20270319");
  EXPECT_EQ(blank.exchange, "");
  EXPECT_EQ(blank.currency, "USD");
  EXPECT_EQ(blank.expiry, "20270319");
  EXPECT_EQ(blank.text(), "ES:FUT::USD:20270319");
  const auto stock = spec_of("MSFT::NASDAQ");
  EXPECT_EQ(stock.sec_type, "STK");
  EXPECT_EQ(stock.exchange, "NASDAQ");
  EXPECT_EQ(stock.currency, "USD");
  EXPECT_EQ(spec_of("BRK B").symbol, "BRK B");
}

TEST(ContractSpec, MalformedSpecsNameTheBadPart) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of(":FUT").find("symbol"), std::string::npos);
  EXPECT_NE(error_of("ES:FUTURE").find("unknown security type 'FUTURE'"), std::string::npos);
  EXPECT_NE(error_of("ES:FUT:C-M-E").find("exchange 'C-M-E'"), std::string::npos);
  EXPECT_NE(error_of("ES:FUT:CME:US").find("currency 'US'"), std::string::npos);
  EXPECT_NE(error_of("ES:FUT:CME:USD:2027").find("expiry '2027'"), std::string::npos);
  EXPECT_NE(error_of("ES:FUT:CME:USD:202713").find("expiry '202713'"), std::string::npos);
  EXPECT_NE(error_of("ES:FUT:CME:USD:202703:X").find("more than 5 parts"), std::string::npos);
  EXPECT_NE(error_of("A\"B").find("symbol"), std::string::npos);
  EXPECT_NE(error_of(std::string(33, 'A')).find("1 to 32"), std::string::npos);
  EXPECT_NE(error_of(" AAPL").find("symbol"), std::string::npos);
  EXPECT_NE(error_of("-1").find("symbol"), std::string::npos);
  EXPECT_NE(error_of("1.5").find("neither a contract id"), std::string::npos);
  EXPECT_EQ(spec_of("6E:FUT:CME").symbol, "6E");
  EXPECT_EQ(spec_of("700:STK:SEHK:HKD").symbol, "700") << "a numeric symbol with its market";
}

TEST(ContractSpec, KnownSecurityTypes) {
  for (const char* t : {"STK", "FUT", "CASH", "IND", "CONTFUT", "FUT+CONTFUT", "OPT", "FOP"})
    EXPECT_TRUE(contracts::known_sec_type(t)) << t;
  EXPECT_FALSE(contracts::known_sec_type("stk"));
  EXPECT_FALSE(contracts::known_sec_type(""));
}

} // namespace
