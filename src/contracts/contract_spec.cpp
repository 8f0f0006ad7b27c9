#include "contracts/contract_spec.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace contracts {
namespace {

constexpr std::array<std::string_view, 17> kSecTypes = {
    "STK",  "FUT", "CASH",  "IND",    "CONTFUT", "FUT+CONTFUT", "OPT", "FOP", "FUND",
    "BOND", "CFD", "CMDTY", "CRYPTO", "WAR",     "IOPT",        "BAG", "NEWS"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  for (char ch : s)
    if (!ok(ch)) return false;
  return true;
}

bool symbol_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' ||
         ch == '/' || ch == '&' || ch == ' ';
}
bool exchange_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_';
}
bool alpha(char ch) { return std::isalpha(static_cast<unsigned char>(ch)) != 0; }
bool digit(char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; }

bool valid_expiry(std::string_view e) {
  if ((e.size() != 6 && e.size() != 8) || !all_of(e, digit)) return false;
  const int month = (e[4] - '0') * 10 + (e[5] - '0');
  if (month < 1 || month > 12) return false;
  if (e.size() == 8) {
    const int day = (e[6] - '0') * 10 + (e[7] - '0');
    if (day < 1 || day > 31) return false;
  }
  return true;
}

} // namespace

bool known_sec_type(std::string_view s) {
  for (auto t : kSecTypes)
    if (t == s) return true;
  return false;
}

std::string ContractSpec::text() const {
  std::string out = symbol + ":" + sec_type;
  if (!exchange.empty() || !currency.empty() || !expiry.empty()) out += ":" + exchange;
  if (!currency.empty() || !expiry.empty()) out += ":" + currency;
  if (!expiry.empty()) out += ":" + expiry;
  return out;
}

tws::Contract ContractSpec::query() const {
  tws::Contract c;
  c.symbol = symbol;
  c.sec_type = sec_type;
  c.exchange = exchange;
  c.currency = currency;
  c.last_trade_date_or_contract_month = expiry;
  return c;
}

std::string ContractRef::text() const { return spec ? spec->text() : std::to_string(con_id); }

std::optional<ContractRef> parse_contract_ref(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "the contract is empty: give a contract id (265598) or a spec (AAPL, "
            "ES:FUT:CME:USD:202703)";
    return std::nullopt;
  }
  if (all_of(text, digit)) {
    int id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) {
      error = "contract id '" + std::string(text) + "' must be an integer from 1 to 2147483647";
      return std::nullopt;
    }
    return ContractRef{id, std::nullopt};
  }
  std::array<std::string, 5> parts;
  std::size_t n = 0;
  std::size_t start = 0;
  while (true) {
    const auto colon = text.find(':', start);
    if (n == parts.size()) {
      error = "contract spec '" + std::string(text) +
              "' has more than 5 parts: SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]]";
      return std::nullopt;
    }
    parts[n++] = upper(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  const std::string quoted = "contract spec '" + std::string(text) + "': ";
  ContractSpec s;
  s.symbol = parts[0];
  bool letter = false;
  for (char ch : s.symbol) letter = letter || std::isalpha(static_cast<unsigned char>(ch));
  const bool symbol_ok =
      !s.symbol.empty() && s.symbol.size() <= 32 && all_of(s.symbol, symbol_char) &&
      std::isalnum(static_cast<unsigned char>(s.symbol.front())) && s.symbol.back() != ' ';
  // A bare symbol names itself with a letter ("6E", "BF.B"); "-1" or "1.5"
  // are mistyped ids.
  if (n == 1 && (!symbol_ok || !letter)) {
    error = quoted + "neither a contract id (an integer from 1 to 2147483647) nor a symbol "
                     "(1 to 32 letters, digits or . - _ / &, with a letter)";
    return std::nullopt;
  }
  if (!symbol_ok) {
    error = quoted + "the symbol must be 1 to 32 letters, digits or . - _ / & (starting with a "
                     "letter or digit)";
    return std::nullopt;
  }
  s.sec_type = n > 1 && !parts[1].empty() ? parts[1] : "STK";
  if (!known_sec_type(s.sec_type)) {
    error = quoted + "unknown security type '" + parts[1] +
            "' (STK, FUT, CASH, IND, CONTFUT, OPT, FOP, FUND, BOND, CFD, CMDTY, CRYPTO, ...)";
    return std::nullopt;
  }
  s.exchange = n > 2 ? parts[2] : "";
  if (s.exchange.size() > 20 || !all_of(s.exchange, exchange_char)) {
    error = quoted + "the exchange '" + parts[2] + "' must be letters and digits (SMART, CME)";
    return std::nullopt;
  }
  s.currency = n > 3 ? parts[3] : "";
  if (!s.currency.empty() && (s.currency.size() != 3 || !all_of(s.currency, alpha))) {
    error = quoted + "the currency '" + parts[3] + "' must be a 3-letter code (USD)";
    return std::nullopt;
  }
  s.expiry = n > 4 ? parts[4] : "";
  if (!s.expiry.empty() && !valid_expiry(s.expiry)) {
    error = quoted + "the expiry '" + parts[4] + "' must be YYYYMM or YYYYMMDD";
    return std::nullopt;
  }
  // What is omitted (not given empty) takes the usual value.
  if (s.sec_type == "STK") {
    if (n <= 2) s.exchange = "SMART";
    if (n <= 3) s.currency = "USD";
  } else if (s.sec_type == "CASH" && n <= 2) {
    s.exchange = "IDEALPRO";
  }
  return ContractRef{0, s};
}

} // namespace contracts
