// TimeZone: TZif files (RFC 8536, versions 1 to 4; the 64-bit block of
// version 2+ when present, then the POSIX TZ footer for instants after the
// table), the zone cache, IB's zone names, offsets and local time to UTC.
// Leap-second records ("right/" zones) are skipped: times are POSIX times.
//
// Thread-safety: TimeZone is immutable; load() guards its cache with a mutex.
#include "hours/time_zone.hpp"
#include "hours/posix_tz.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace hours {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;

/// IB's old abbreviations and the zone each stands for (IB's contract data
/// otherwise names tzdata zones).
constexpr std::pair<std::string_view, std::string_view> kIbAbbreviations[] = {
    {"EST", "US/Eastern"},
    {"EST5EDT", "US/Eastern"},
    {"EDT", "US/Eastern"},
    {"CST", "US/Central"},
    {"CST6CDT", "US/Central"},
    {"CDT", "US/Central"},
    {"MST", "US/Mountain"},
    {"PST", "US/Pacific"},
    {"GMT", "UTC"},
    {"UTC", "UTC"},
    {"MET", "MET"},
    {"JST", "Asia/Tokyo"},
};

/// Canonical zones for tzdata's backward links that Debian 13+ ships only in
/// tzdata-legacy: tried when the link's file is missing.
constexpr std::pair<std::string_view, std::string_view> kLegacyLinks[] = {
    {"US/Eastern", "America/New_York"},
    {"US/Central", "America/Chicago"},
    {"US/Mountain", "America/Denver"},
    {"US/Pacific", "America/Los_Angeles"},
    {"MET", "Europe/Brussels"},
    {"Hongkong", "Asia/Hong_Kong"},
    {"Japan", "Asia/Tokyo"},
    {"GB", "Europe/London"},
};

std::string_view lookup(const auto& table, std::string_view key) {
  for (const auto& [from, to] : table) {
    if (from == key) return to;
  }
  return {};
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-' || c == '/';
  });
}

/// The file's bytes, or nothing when it is missing, not a regular file or
/// unreadable.
std::optional<std::string> read_zone_file(std::string_view name) {
  const char* dir = std::getenv("TZDIR");
  const std::filesystem::path path =
      std::filesystem::path(dir && *dir ? dir : "/usr/share/zoneinfo") / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes(kMaxFileBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) return std::nullopt;
  if (static_cast<std::size_t>(in.gcount()) > kMaxFileBytes) return std::nullopt;
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

/// Big-endian reads over the TZif bytes; a read past the end throws.
class Reader {
public:
  Reader(std::string_view bytes, const std::string& zone) : bytes_(bytes), zone_(zone) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("time zone '" + zone_ + "': bad TZif data: " + what);
  }
  std::size_t left() const { return bytes_.size() - pos_; }
  void need(std::uint64_t n) const {
    if (n > left()) fail("truncated");
  }
  std::string_view take(std::size_t n) {
    need(n);
    const auto s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::uint64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (const char c : take(n)) v = v << 8 | static_cast<unsigned char>(c);
    return v;
  }
  std::int64_t i32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(be(4))); }
  std::int64_t i64() { return static_cast<std::int64_t>(be(8)); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }

private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  const std::string& zone_;
};

struct Header {
  char version = 0;
  std::uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  /// Bytes of the data block that follows, with times of `time_size` bytes.
  std::uint64_t block_size(std::uint64_t time_size) const {
    return timecnt * (time_size + 1) + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

Header read_header(Reader& in) {
  if (in.take(4) != "TZif") in.fail("no TZif magic");
  Header h;
  h.version = static_cast<char>(in.u8());
  if (h.version != '\0' && h.version < '2') in.fail("unknown version");
  in.take(15);
  for (auto* count : {&h.isutcnt, &h.isstdcnt, &h.leapcnt, &h.timecnt, &h.typecnt, &h.charcnt}) {
    *count = in.be(4);
  }
  if (h.typecnt == 0) in.fail("no local time types");
  in.need(h.block_size(4)); // every count is checked before anything is allocated
  return h;
}

} // namespace

TimeZone::~TimeZone() = default;

std::shared_ptr<const TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
  std::shared_ptr<TimeZone> zone(new TimeZone);
  zone->name_ = std::move(name);
  Reader in(bytes, zone->name_);
  Header h = read_header(in);
  std::size_t time_size = 4;
  if (h.version != '\0') { // skip the 32-bit block for the 64-bit one
    in.take(static_cast<std::size_t>(h.block_size(4)));
    h = read_header(in);
    time_size = 8;
    in.need(h.block_size(8));
  }
  zone->transitions_.reserve(h.timecnt);
  for (std::uint64_t i = 0; i < h.timecnt; ++i) {
    const std::int64_t t = time_size == 8 ? in.i64() : in.i32();
    if (!zone->transitions_.empty() && t <= zone->transitions_.back()) {
      in.fail("transition times not ascending");
    }
    zone->transitions_.push_back(t);
  }
  std::vector<std::uint8_t> type_of(h.timecnt);
  for (auto& type : type_of) {
    type = in.u8();
    if (type >= h.typecnt) in.fail("transition to a type that does not exist");
  }
  std::vector<int> type_offsets(h.typecnt);
  for (auto& offset : type_offsets) {
    const std::int64_t utoff = in.i32();
    if (utoff < -kMaxOffset || utoff > kMaxOffset) in.fail("UTC offset out of range");
    offset = static_cast<int>(utoff);
    in.take(2); // isdst, abbreviation index
  }
  in.take(
      static_cast<std::size_t>(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt));
  zone->initial_offset_ = type_offsets[0];
  zone->offsets_after_.reserve(h.timecnt);
  for (const auto type : type_of) zone->offsets_after_.push_back(type_offsets[type]);

  if (h.version != '\0' && in.left() > 0) { // the footer: "\n<TZ string>\n"
    if (in.take(1) != "\n") in.fail("footer does not start with a newline");
    std::string tz;
    for (char c = in.take(1)[0]; c != '\n'; c = in.take(1)[0]) tz += c;
    if (!tz.empty()) {
      try {
        zone->rule_ = std::make_unique<Rule>(Rule::parse(tz));
      } catch (const std::invalid_argument& e) {
        in.fail(e.what());
      }
    }
  }
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(std::string_view name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> cache;
  {
    std::lock_guard lock(mutex);
    if (const auto it = cache.find(name); it != cache.end()) return it->second;
  }
  if (!valid_name(name)) {
    throw std::invalid_argument("invalid time zone name '" + std::string(name) + "'");
  }
  std::shared_ptr<const TimeZone> zone;
  if (const auto mapped = lookup(kIbAbbreviations, name); !mapped.empty() && mapped != name) {
    zone = load(mapped); // one zone for "EST" and "US/Eastern"
  } else {
    auto bytes = read_zone_file(name);
    if (!bytes) {
      if (const auto canonical = lookup(kLegacyLinks, name); !canonical.empty()) {
        bytes = read_zone_file(canonical);
      }
    }
    if (!bytes) throw std::invalid_argument("unknown time zone '" + std::string(name) + "'");
    zone = from_tzif(std::string(name), *bytes);
  }
  std::lock_guard lock(mutex);
  return cache.try_emplace(std::string(name), std::move(zone)).first->second;
}

int TimeZone::offset_at(std::int64_t utc) const {
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (after == transitions_.end() && rule_) return rule_->offset_at(utc);
  if (after == transitions_.begin()) return initial_offset_;
  return offsets_after_[static_cast<std::size_t>(after - transitions_.begin()) - 1];
}

std::int64_t TimeZone::next_change_after(std::int64_t utc) const {
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (after != transitions_.end()) return *after;
  return rule_ ? rule_->next_change_after(utc) : kNever;
}

std::int64_t TimeZone::to_utc(std::int64_t local) const {
  // Far enough either way that every offset is covered; local times beyond
  // +-2^62 s (billions of years) are clamped.
  constexpr std::int64_t kReach = 26 * 3600;
  constexpr std::int64_t kLimit = std::int64_t{1} << 62;
  local = std::clamp(local, -kLimit, kLimit);
  // Walk the spans of constant offset over [local - kReach, local + kReach]
  // in order: the first span holding a solution gives the first of two.
  std::int64_t from = local - kReach;
  int offset = offset_at(from);
  for (int span = 0; span < 64 && from <= local + kReach; ++span) {
    const std::int64_t next = next_change_after(from);
    if (local - offset >= from && local - offset < next) return local - offset;
    if (next > local + kReach) break; // kNever included
    const int next_offset = offset_at(next);
    // Skipped: `local` lies after this span's last local time and before
    // the next span's first. Moved forward by the gap: the old offset.
    if (local >= next + offset && local < next + next_offset) return local - offset;
    from = next;
    offset = next_offset;
  }
  return local - offset_at(local - offset);
}

} // namespace hours
