// TZif bytes (RFC 8536) built from a few fields, for the time zone tests and
// the hours fuzz target: a version 1 file, or a version 2+ file with a
// minimal 32-bit block, the 64-bit data and the TZ footer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hours_test {

struct TzifSpec {
  char version = '2';                // '\0' (version 1), '2', '3' or '4'
  std::vector<std::int64_t> times;   // transition instants
  std::vector<std::uint8_t> type_of; // the type each transition goes to
  std::vector<std::int32_t> offsets; // UTC offset of each type
  std::string footer;                // the TZ string (version 2+)
};

inline void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline void put_block(std::string& out, char version, const std::vector<std::int64_t>& times,
                      const std::vector<std::uint8_t>& type_of,
                      const std::vector<std::int32_t>& offsets, int time_size) {
  out += "TZif";
  out += version;
  out.append(15, '\0');
  for (const std::size_t count : {std::size_t{0}, std::size_t{0}, std::size_t{0}, times.size(),
                                  offsets.size(), std::size_t{4}}) {
    put_be(out, count, 4);
  }
  for (const auto t : times) put_be(out, static_cast<std::uint64_t>(t), time_size);
  for (const auto type : type_of) out += static_cast<char>(type);
  for (const auto offset : offsets) {
    put_be(out, static_cast<std::uint32_t>(offset), 4);
    out += '\0'; // isdst
    out += '\0'; // abbreviation index
  }
  out.append("LMT", 4);
}

inline std::string build_tzif(const TzifSpec& spec) {
  std::string out;
  if (spec.version == '\0') {
    put_block(out, '\0', spec.times, spec.type_of, spec.offsets, 4);
    return out;
  }
  put_block(out, spec.version, {}, {}, {0}, 4);
  put_block(out, spec.version, spec.times, spec.type_of, spec.offsets, 8);
  out += '\n' + spec.footer + '\n';
  return out;
}

} // namespace hours_test
