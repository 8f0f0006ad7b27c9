#include "ws/schema_document.hpp"

#include "ws/embedded_schemas.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace ws {
namespace json = boost::json;

namespace {

json::value parse_embedded(std::string_view name) {
  for (const auto& s : embedded_schemas()) {
    if (s.name != name) continue;
    json::error_code ec;
    auto v = json::parse(s.text, ec);
    if (ec)
      throw std::runtime_error("embedded schema " + std::string(name) + ".json: " + ec.message());
    return v;
  }
  throw std::runtime_error("no embedded schema " + std::string(name) + ".json");
}

} // namespace

std::string schemas_document() {
  const json::value envelope = parse_embedded("envelope");
  json::object doc;
  json::error_code ec;
  const auto* types = envelope.find_pointer("/properties/type/enum", ec);
  if (!types || !types->is_array())
    throw std::runtime_error("envelope.json has no properties.type.enum");
  for (const auto& t : types->get_array()) {
    const auto name = t.as_string();
    doc[name] = parse_embedded(name);
  }
  // Re-serializing makes one compact line of the pretty-printed files.
  return json::serialize(doc);
}

} // namespace ws
