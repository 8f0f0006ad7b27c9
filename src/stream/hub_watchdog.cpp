// stream::Hub, the watchdog and trading hours. The watchdog re-requests a
// subscription gone silent (stale) unless silence is expected: TWS says data
// is down, or the contract's trading hours (its ContractDetails' timeZoneId
// and tradingHours, parsed by src/hours) say the market is closed. Then the
// subscription is `closed`: its clients get `info` market_closed once per
// closed period, and market_open right before the first tick after it. The
// details are re-requested before the span they cover runs out.
//
// Everything here runs on the Hub's strand.
#include "stream/hub_impl.hpp"

#include "stream/tick_json.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace asio = boost::asio;

namespace stream {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", s);
  return buf;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::int64_t floor_s(std::int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

/// The start of the closed period `now` lies in: the close of the last
/// session before it, or the start of the covered span.
std::int64_t closed_since(const hours::Schedule& schedule, std::int64_t now) {
  std::int64_t from = schedule.covered_from;
  for (const auto& x : schedule.sessions) {
    if (x.close > now) break;
    from = std::max(from, x.close);
  }
  return from;
}

} // namespace

// ------------------------------------------------------------------ watchdog

void Hub::Impl::arm_watchdog() {
  const auto period = std::clamp<milliseconds>(cfg_.watchdog_min_silence / 4, milliseconds(100),
                                               milliseconds(1000));
  watchdog_timer_.expires_after(period);
  watchdog_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->shutting_down_) return;
    self->watchdog_tick();
    self->arm_watchdog();
  });
}

void Hub::Impl::watchdog_tick() {
  if (remote()) {
    remote_watchdog(); // the publisher watches the streams
    return;
  }
  // Silence is expected while TWS itself says data is down.
  if (!connected() || connectivity_lost_ || !farms_down_.empty()) return;
  refresh_hours();
  const auto now = Clock::now();
  for (auto& [key, s] : subs_) {
    if (s->req_id == 0 || s->clients.empty()) continue;
    if (s->state != Subscription::State::live && s->state != Subscription::State::stale &&
        s->state != Subscription::State::closed)
      continue;
    // Since the last tick or request, or since the session opened.
    double silent = seconds_between(s->last_activity, now);
    if (apply_hours(*s, silent)) continue; // the market is closed: silence is expected
    const double usual = s->mean_interval_s;
    const double threshold =
        std::max(std::chrono::duration<double>(cfg_.watchdog_min_silence).count(),
                 cfg_.watchdog_factor * usual);
    if (silent <= threshold || s->watchdog_requested) continue;
    if (s->state == Subscription::State::live) {
      s->state = Subscription::State::stale;
      spdlog::warn("{} silent for {} s (usually a tick every {} s): stale, re-requesting",
                   s->name(), fmt_seconds(silent), fmt_seconds(usual));
      notify(*s, Notice{Notice::Kind::info, "stale",
                        "No ticks for " + s->name() + " in " + fmt_seconds(silent) +
                            " s (usually every " + fmt_seconds(usual) +
                            " s): the stream is stale and is being re-requested.",
                        ""});
    }
    // IB allows one identical request per instrument per 15 s.
    const auto earliest = s->last_request + cfg_.same_request_spacing;
    s->watchdog_requested = true;
    if (earliest <= now) {
      watchdog_rerequest(s);
      continue;
    }
    s->rerequest_timer = std::make_shared<asio::steady_timer>(strand_, earliest);
    s->rerequest_timer->async_wait(
        [weak_self = weak_from_this(),
         weak = std::weak_ptr<Subscription>(s)](boost::system::error_code ec) {
          auto self = weak_self.lock();
          auto sub = weak.lock();
          if (ec || !self || !sub) return;
          self->watchdog_rerequest(sub);
        });
  }
}

void Hub::Impl::watchdog_rerequest(const std::shared_ptr<Subscription>& s) {
  s->watchdog_requested = false;
  s->rerequest_timer.reset();
  if (!connected() || s->clients.empty() || subs_.count(s->key) == 0) return;
  if (s->state != Subscription::State::stale) return; // ticks came back meanwhile
  spdlog::info("watchdog: re-requesting {}", s->name());
  cancel_upstream(*s);
  request_upstream(s);
}

// ------------------------------------------------------------------ trading hours

void Hub::Impl::load_schedule(Subscription& s) {
  s.details_at = Clock::now();
  const auto& d = s.details;
  try {
    if (d.trading_hours.empty()) throw std::invalid_argument("no trading hours in its details");
    const auto zone = hours::TimeZone::load(d.time_zone_id);
    auto schedule = hours::parse_hours(d.trading_hours, *zone);
    if (schedule.empty()) throw std::invalid_argument("the trading hours cover no day");
    s.schedule = std::move(schedule);
  } catch (const std::exception& e) {
    // Keep what was known (a refresh that does not parse changes nothing);
    // without hours the watchdog works as it does for any stream.
    if (!s.hours_warned)
      spdlog::warn("{}: trading hours not usable ({}; time zone '{}', hours '{}'): silence "
                   "is never taken for a closed market",
                   s.name(), e.what(), d.time_zone_id, d.trading_hours.substr(0, 80));
    s.hours_warned = true;
  }
}

bool Hub::Impl::apply_hours(Subscription& s, double& silent_s) {
  if (s.details_at == Clock::time_point{}) load_schedule(s);
  const auto wall_ms = unix_ms(wall_now());
  const auto now = floor_s(wall_ms);
  const auto st = s.schedule ? hours::status_at(*s.schedule, now) : hours::Status{};
  if (!st.known || st.open) {
    // Open, or nothing known (as without hours). A closed stream waits for
    // its first tick (market_open), and its silence counts from the open.
    if (s.state == Subscription::State::closed) {
      s.state = Subscription::State::live;
      s.announce_open = true;
    }
    if (st.known && st.session)
      silent_s = std::min(silent_s, static_cast<double>(wall_ms - st.session->open * 1000) / 1e3);
    return false;
  }
  const std::int64_t from = closed_since(*s.schedule, now);
  if (s.closed_from != from) {
    // A new closed period. Ticks after its start (late prints, a schedule
    // that is wrong) make the schedule doubtful there: as without hours.
    s.closed_from = from;
    s.closed_announced = false;
    const auto close_steady = Clock::now() - milliseconds(wall_ms - from * 1000);
    s.ticks_while_closed = s.last_tick != Clock::time_point{} && s.last_tick > close_steady;
    if (s.ticks_while_closed)
      spdlog::info("{}: ticks after the close at {}: its trading hours are not trusted until the "
                   "next open",
                   s.name(), format_iso_ms(from * 1000));
  }
  if (s.ticks_while_closed) return false;
  if (s.state == Subscription::State::live || s.state == Subscription::State::stale) {
    s.state = Subscription::State::closed;
    s.announce_open = false;
    if (!s.closed_announced) {
      s.closed_announced = true;
      const std::string next = st.next_open ? format_iso_ms(*st.next_open * 1000) : "";
      spdlog::info("{}: the market is closed (trading hours); next open {}", s.name(),
                   next.empty() ? "unknown" : next);
      Notice n{
          Notice::Kind::info, "market_closed",
          "The market of " + s.name() + " is closed (its trading hours, " + s.details.time_zone_id +
              "): " +
              (next.empty() ? "its next open is not known yet." : "it opens next at " + next + "."),
          next};
      s.closed_notice_at =
          notify(s, n, next, std::to_string(from) + " " + std::to_string(st.next_open.value_or(0)));
    }
  }
  return true;
}

void Hub::Impl::market_opened(Subscription& s) {
  if (s.state == Subscription::State::closed) s.state = Subscription::State::live;
  s.announce_open = false;
  // Not an interval of the stream's pace: the closed period.
  s.last_tick = {};
  if (s.schedule) {
    const auto now = floor_s(unix_ms(wall_now()));
    const auto st = hours::status_at(*s.schedule, now);
    if (st.known && !st.open) {
      // Ticks while the hours say closed: doubted until the next open.
      s.closed_from = closed_since(*s.schedule, now);
      s.closed_announced = true;
      s.ticks_while_closed = true;
      spdlog::info("{}: ticks while its trading hours say closed: not trusted until the next open",
                   s.name());
    }
  }
  notify(s, Notice{Notice::Kind::info, "market_open",
                   "The market of " + s.name() + " is open: ticks resume.", ""});
}

void Hub::Impl::refresh_hours() {
  const auto now = Clock::now();
  const auto wall = floor_s(unix_ms(wall_now()));
  const auto margin_s = duration_cast<std::chrono::seconds>(cfg_.hours_refresh_margin).count();
  std::set<int> due;
  for (const auto& [key, s] : subs_) {
    if (s->details_at == Clock::time_point{}) continue; // not applied yet
    const bool aged = now - s->details_at >= cfg_.hours_refresh_age;
    const bool running_out = s->schedule && s->schedule->covered_to - wall <= margin_s;
    if (aged || running_out) due.insert(key.first);
  }
  for (const int con_id : due) {
    if (auto it = hours_refreshing_.find(con_id);
        it != hours_refreshing_.end() && it->second == client_generation_)
      continue; // asked on this connection, not answered yet
    if (auto it = hours_requested_.find(con_id);
        it != hours_requested_.end() && now - it->second < cfg_.hours_refresh_retry)
      continue;
    hours_refreshing_[con_id] = client_generation_;
    hours_requested_[con_id] = now;
    spdlog::debug("re-requesting the contract details of {} (trading hours)", con_id);
    client_->request_contract_details(
        con_id, [self = shared_from_this(), con_id,
                 gen = client_generation_](std::error_code ec, const tws::ErrorMessage* err,
                                           std::vector<tws::ContractDetails> details) {
          if (auto it = self->hours_refreshing_.find(con_id);
              it != self->hours_refreshing_.end() && it->second == gen)
            self->hours_refreshing_.erase(it);
          if (ec || details.empty()) {
            // The old hours stay; another attempt after hours_refresh_retry.
            spdlog::warn("contract details of {} for its trading hours: {}; keeping the old ones",
                         con_id,
                         err  ? err->text
                         : ec ? ec.message()
                              : "no details");
            return;
          }
          auto& d = details.front();
          if (auto c = self->contract_cache_.find(con_id); c != self->contract_cache_.end()) {
            c->second.time_zone_id = d.time_zone_id;
            c->second.trading_hours = d.trading_hours;
            c->second.liquid_hours = d.liquid_hours;
          }
          for (auto& [key, s] : self->subs_) {
            if (key.first != con_id) continue;
            s->details.time_zone_id = d.time_zone_id;
            s->details.trading_hours = d.trading_hours;
            s->details.liquid_hours = d.liquid_hours;
            self->load_schedule(*s);
          }
        });
  }
}

} // namespace stream
