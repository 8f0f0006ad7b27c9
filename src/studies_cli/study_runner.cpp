#include "studies_cli/study_runner.hpp"

#include "studies/study_output.hpp"

#include <cerrno>
#include <cstring>

namespace studies_cli {
namespace {

std::variant<studies::DeltaStudy, studies::MultiDeltaStudy> make_study(const StudiesOptions& o) {
  if (o.study == StudyKind::delta) return studies::DeltaStudy(o.window_seconds);
  return studies::MultiDeltaStudy({o.window_seconds, o.neutral_zone_pct});
}

} // namespace

StudyRunner::StudyRunner(const StudiesOptions& o, std::FILE* out, std::FILE* err)
    : o_(o), out_(out), err_(err), study_(make_study(o)) {}

StudyRunner::~StudyRunner() {
  if (output_file_) std::fclose(output_file_);
  if (record_file_) std::fclose(record_file_);
}

bool StudyRunner::open_files() {
  auto open = [this](const std::string& path, std::FILE*& f, const char* what) {
    if (path.empty()) return true;
    f = std::fopen(path.c_str(), "a");
    if (f) return true;
    std::fprintf(err_, "error: cannot open %s file %s: %s\n", what, path.c_str(),
                 std::strerror(errno));
    return false;
  };
  return open(o_.output, output_file_, "--output") && open(o_.record, record_file_, "--record");
}

void StudyRunner::start() {
  if (o_.json) return;
  line_ =
      studies::format_header(o_.study == StudyKind::delta ? "delta" : "multi-delta", o_.contract_id,
                             o_.window_seconds, o_.neutral_zone_pct, o_.tick_types_text());
  std::fprintf(out_, "%s\n", line_.c_str());
  std::fflush(out_);
}

void StudyRunner::set_min_tick(double min_tick) {
  if (min_tick > 0) decimals_ = std::max(decimals_, studies::decimals_for(min_tick, 2));
}

bool StudyRunner::on_tick(const studies::StreamEvent& ev, std::string_view record_line) {
  if (limit_reached() || finished_) return false;
  if (ev.contract_id != 0 && ev.contract_id != o_.contract_id) {
    ++other_contracts_;
    return true;
  }
  const auto* trade = std::get_if<studies::Trade>(&ev.tick);
  const auto* quote = std::get_if<studies::Quote>(&ev.tick);
  const bool wanted = (trade && trade->tick_type == o_.trade_type) || (quote && o_.quotes);
  if (!wanted) return true;
  for (const auto& item : order_.push(ev, std::string(record_line)))
    if (!apply(item.event, item.line)) return false;
  return true;
}

bool StudyRunner::flush() {
  for (const auto& item : order_.flush())
    if (!apply(item.event, item.line)) return false;
  return !limit_reached();
}

bool StudyRunner::apply(const studies::StreamEvent& ev, std::string_view record_line) {
  if (limit_reached()) return false;
  const auto* trade = std::get_if<studies::Trade>(&ev.tick);
  const auto* quote = std::get_if<studies::Quote>(&ev.tick);
  if (record_file_) {
    std::fwrite(record_line.data(), 1, record_line.size(), record_file_);
    std::fputc('\n', record_file_);
    std::fflush(record_file_);
  }
  if (quote) {
    if (auto* multi = std::get_if<studies::MultiDeltaStudy>(&study_)) multi->on_quote(*quote);
    return true;
  }
  const auto r = std::visit([&](auto& s) { return s.on_trade(*trade); }, study_);
  ++trades_;
  emit(r, ev.timestamp);
  return !limit_reached();
}

void StudyRunner::emit(const studies::TradeResult& r, const std::string& event_timestamp) {
  if (o_.json || output_file_) {
    line_ = studies::format_trade_json(r, o_.contract_id, event_timestamp);
    line_ += '\n';
    if (o_.json) {
      std::fwrite(line_.data(), 1, line_.size(), out_);
      std::fflush(out_);
    }
    if (output_file_) {
      std::fwrite(line_.data(), 1, line_.size(), output_file_);
      std::fflush(output_file_);
    }
  }
  if (o_.json) return;
  decimals_ = std::max(decimals_, studies::decimals_for(r.trade.price, 2));
  line_ = studies::format_row(r, decimals_);
  std::fprintf(out_, "%s\n", line_.c_str());
  if (o_.summary_every > 0 && trades_ % o_.summary_every == 0) periodic_summary();
  std::fflush(out_);
}

studies::WindowSummary StudyRunner::summary() const {
  return std::visit([](const auto& s) { return s.summary(); }, study_);
}

const studies::CalculationStats& StudyRunner::stats() const {
  return std::visit([](const auto& s) -> const studies::CalculationStats& { return s.stats(); },
                    study_);
}

void StudyRunner::periodic_summary() {
  if (o_.json || trades_ == trades_at_last_summary_) return;
  trades_at_last_summary_ = trades_;
  line_ = studies::format_summary("summary", summary(), stats());
  std::fprintf(out_, "%s\n", line_.c_str());
  std::fflush(out_);
}

void StudyRunner::finish() {
  if (finished_) return;
  finished_ = true;
  line_ = studies::format_summary("final summary", summary(), stats());
  // --json keeps stdout to one object per trade: the final summary goes to stderr.
  std::FILE* f = o_.json ? err_ : out_;
  std::fprintf(f, "%s\n", line_.c_str());
  if (other_contracts_ > 0)
    std::fprintf(err_, "note: %lld tick events of other contracts were skipped\n",
                 other_contracts_);
  std::fflush(f);
}

} // namespace studies_cli
