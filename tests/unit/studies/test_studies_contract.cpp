// ib-studies' --contract: an id or a spec (parse_options), a malformed spec
// a usage error naming the bad part, and what the server's answer to
// GET /contracts/{spec} means (contract_lookup_answer): the id, or not
// found / ambiguous with the candidates one a line / unavailable, exit 1.
#include "studies_cli/contract_lookup.hpp"
#include "studies_cli/options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

using namespace studies_cli;

namespace {

/// parse_options over `args` (after the program name); usage text captured.
std::variant<StudiesOptions, int> parse(std::vector<std::string> args, std::string* err = nullptr) {
  args.insert(args.begin(), "ib-studies");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  auto out = parse_options(static_cast<int>(argv.size()), argv.data());
  const std::string e = testing::internal::GetCapturedStderr();
  testing::internal::GetCapturedStdout();
  if (err) *err = e;
  return out;
}

StudiesOptions parsed(std::vector<std::string> args) {
  std::string err;
  auto out = parse(std::move(args), &err);
  EXPECT_TRUE(std::holds_alternative<StudiesOptions>(out)) << err;
  return std::holds_alternative<StudiesOptions>(out) ? std::get<StudiesOptions>(out)
                                                     : StudiesOptions{};
}

} // namespace

TEST(StudiesContractOption, AnIdIsTheContractId) {
  const auto o = parsed({"multi-delta", "--contract", "711280073"});
  EXPECT_EQ(o.contract_id, 711280073);
  EXPECT_TRUE(o.contract_spec.empty());
}

TEST(StudiesContractOption, ASpecIsKeptCanonicalForTheServerToResolve) {
  auto o = parsed({"multi-delta", "--contract", "AAPL"});
  EXPECT_EQ(o.contract_id, 0);
  EXPECT_EQ(o.contract_spec, "AAPL:STK:SMART:USD");
  o = parsed({"delta", "--contract", "mnq:fut:cme:usd:202703", "--transport", "ws"});
  EXPECT_EQ(o.contract_spec, "MNQ:FUT:CME:USD:202703");
  EXPECT_EQ(o.study, StudyKind::delta);
  o = parsed({"delta", "--contract", "ES:FUT:CME:USD"});
  EXPECT_EQ(o.contract_spec, "ES:FUT:CME:USD");
}

TEST(StudiesContractOption, AMalformedSpecIsAUsageErrorNamingTheBadPart) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ES:FOO", "unknown security type 'FOO'"},
      {"A:STK:SMART:USD:2027:X", "more than 5 parts"},
      {"AA PL!", "symbol"},
      {"0", "contract id '0'"},
      {"99999999999", "1 to 2147483647"},
      {"", "empty"}};
  for (const auto& [spec, words] : bad) {
    std::string err;
    const auto out = parse({"multi-delta", "--contract", spec}, &err);
    ASSERT_TRUE(std::holds_alternative<int>(out)) << spec;
    EXPECT_EQ(std::get<int>(out), kExitUsage) << spec;
    EXPECT_NE(err.find("--contract"), std::string::npos) << err;
    EXPECT_NE(err.find(words), std::string::npos) << spec << ": " << err;
  }
}

TEST(StudiesContractLookup, TheTargetPercentEncodesTheSpec) {
  ServerAddress server;
  std::string error;
  ASSERT_TRUE(ServerAddress::parse("http://127.0.0.1:8000/ib/", server, error)) << error;
  EXPECT_EQ(contract_lookup_target(server, "ES:FUT:CME:USD:202703"),
            "/ib/contracts/ES%3AFUT%3ACME%3AUSD%3A202703");
  EXPECT_EQ(contract_lookup_target(server, "BRK B:STK:SMART:USD"),
            "/ib/contracts/BRK%20B%3ASTK%3ASMART%3AUSD");
}

TEST(StudiesContractLookup, FoundIsTheId) {
  const auto r = contract_lookup_answer(
      "MNQ:FUT:CME:USD:202703", 200,
      R"({"contract_id":711280073,"symbol":"MNQ","local_symbol":"MNQH7","sec_type":"FUT",)"
      R"("exchange":"CME","expiry":"20270319","trading_hours":[]})");
  EXPECT_EQ(r.contract_id, 711280073);
  EXPECT_EQ(r.summary, "MNQH7 20270319");
  EXPECT_TRUE(r.error.empty());
  const auto stock = contract_lookup_answer(
      "AAPL:STK:SMART:USD", 200,
      R"({"contract_id":265598,"symbol":"AAPL","local_symbol":"AAPL","exchange":"SMART",)"
      R"("primary_exchange":"NASDAQ","expiry":""})");
  EXPECT_EQ(stock.contract_id, 265598);
  EXPECT_EQ(stock.summary, "AAPL NASDAQ");
}

TEST(StudiesContractLookup, NotFoundIsExit1WithTheServersWords) {
  const auto r = contract_lookup_answer(
      "NOSUCH:STK:SMART:USD", 404,
      R"({"error":{"code":"CONTRACT_NOT_FOUND","message":"No contract matches 'NOSUCH:STK:SMART:USD'",)"
      R"("details":"Search with GET /contracts/search?symbol=NOSUCH"}})");
  EXPECT_EQ(r.contract_id, 0);
  EXPECT_EQ(r.exit_code, kExitCannotConnect);
  EXPECT_EQ(r.error, "no contract matches --contract NOSUCH:STK:SMART:USD (CONTRACT_NOT_FOUND: "
                     "No contract matches 'NOSUCH:STK:SMART:USD'). Search with GET "
                     "/contracts/search?symbol=NOSUCH");
}

TEST(StudiesContractLookup, AmbiguousListsTheCandidatesOneALine) {
  const auto r = contract_lookup_answer(
      "ES:FUT:CME:USD", 400,
      R"({"error":{"code":"AMBIGUOUS_CONTRACT","message":"2 contracts match 'ES:FUT:CME:USD'",)"
      R"("details":"Give the contract id ...","candidates":[)"
      R"({"contract_id":495512563,"symbol":"ES","local_symbol":"ESH7","expiry":"20270319"},)"
      R"({"contract_id":495512564,"symbol":"ES","local_symbol":"ESM7","expiry":"20270618"}]}})");
  EXPECT_EQ(r.contract_id, 0);
  EXPECT_EQ(r.exit_code, kExitCannotConnect);
  EXPECT_EQ(r.error, "--contract ES:FUT:CME:USD matches several contracts (AMBIGUOUS_CONTRACT: 2 "
                     "contracts match 'ES:FUT:CME:USD'); give one's id, or a longer spec "
                     "(exchange, currency, expiry):\n"
                     "  495512563   ESH7          20270319\n"
                     "  495512564   ESM7          20270618");
}

TEST(StudiesContractLookup, UnavailableAndRefusedAreExit1) {
  auto r = contract_lookup_answer(
      "AAPL:STK:SMART:USD", 503,
      R"({"error":{"code":"TWS_UNAVAILABLE","message":"TWS is not connected","details":""}})");
  EXPECT_EQ(r.exit_code, kExitCannotConnect);
  EXPECT_EQ(r.error, "the server cannot look up --contract AAPL:STK:SMART:USD now: HTTP 503 "
                     "TWS_UNAVAILABLE: TWS is not connected (try again later, or give the "
                     "contract id)");
  r = contract_lookup_answer("AAPL:STK:SMART:USD", 401,
                             R"({"error":{"code":"UNAUTHORIZED","message":"API key required"}})");
  EXPECT_EQ(r.exit_code, kExitCannotConnect);
  EXPECT_NE(r.error.find("--api-key"), std::string::npos) << r.error;
  r = contract_lookup_answer("AAPL:STK:SMART:USD", 200, "{}");
  EXPECT_EQ(r.contract_id, 0);
  EXPECT_EQ(r.exit_code, kExitCannotConnect);
  EXPECT_NE(r.error.find("no contract_id"), std::string::npos) << r.error;
}
