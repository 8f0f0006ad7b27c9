// valijson is included here only: it is header-only and heavy to compile.
#include "ws/message_validator.hpp"

#include "stream/json_text.hpp"
#include "ws/embedded_schemas.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>

namespace ws {
namespace json = boost::json;

namespace {

constexpr std::size_t k_max_id_length = 128;  // schemas/ws/*.json: id maxLength
constexpr std::size_t k_max_shown_value = 40; // bytes of a client value quoted in a message
/// JSON values (objects, arrays, scalars) a message may hold. The largest
/// client message has 14; more is refused before the schema is applied, whose
/// cost grows with the square of an array's length (uniqueItems: an error per
/// equal pair, each kept with its path).
constexpr std::size_t k_max_values = 64;

struct TypeSchema {
  json::value doc; // for phrasing violations
  std::unique_ptr<valijson::Schema> schema;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string kind_of(const json::value& v) {
  switch (v.kind()) {
  case json::kind::null: return "null";
  case json::kind::bool_: return "boolean";
  case json::kind::int64:
  case json::kind::uint64: return "integer";
  case json::kind::double_: return "number";
  case json::kind::string: return "string";
  case json::kind::array: return "array";
  case json::kind::object: return "object";
  }
  return "value";
}

bool matches_type(const json::value& v, std::string_view type) {
  const std::string kind = kind_of(v);
  return kind == type || (type == "number" && kind == "integer");
}

/// The client's value, short enough to quote in an error message.
std::string shown(const json::value& v) {
  std::string out;
  if (v.is_string()) {
    stream::append_json_utf8(out, stream::truncate_utf8(v.get_string(), k_max_shown_value));
    return out;
  }
  return stream::truncate_utf8(json::serialize(v), k_max_shown_value);
}

std::string shown_list(const json::array& values) {
  std::vector<std::string> items;
  for (const auto& v : values)
    items.push_back(v.is_string() ? std::string(v.get_string()) : json::serialize(v));
  return join(items);
}

/// Counts the values of `v` into `n`, stopping once past `limit`.
void count_values(const json::value& v, std::size_t limit, std::size_t& n) {
  if (++n > limit) return;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      count_values(item, limit, n);
      if (n > limit) return;
    }
  } else if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      count_values(member.value(), limit, n);
      if (n > limit) return;
    }
  }
}

std::string with_path(const std::string& path, const std::string& text) {
  return path.empty() ? text : path + ": " + text;
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

/// The path of the first number in `v` too large for a double (Boost.JSON
/// parses 1e400 to infinity, which no JSON text can carry back), if any.
std::optional<std::string> overflowing_number(const json::value& v, const std::string& path) {
  if (v.is_double()) {
    if (std::isfinite(v.get_double())) return std::nullopt;
    return path;
  }
  if (v.is_array()) {
    const auto& items = v.get_array();
    for (std::size_t i = 0; i < items.size(); ++i)
      if (auto p = overflowing_number(items[i], path + "[" + std::to_string(i) + "]")) return p;
  } else if (v.is_object()) {
    for (const auto& member : v.get_object())
      if (auto p = overflowing_number(member.value(), child_path(path, member.key()))) return p;
  }
  return std::nullopt;
}

/// A number as the schema wrote it: 1, not 1.000000.
std::string schema_number(const json::value& v) { return json::serialize(v); }

double number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

struct Violation {
  std::string path;
  std::string message;
};

/// The first keyword of `schema` that `v` breaks, looking at this node only
/// (its children were judged by valijson, which reported them separately).
std::optional<Violation> explain(const json::object& schema, const json::value& v,
                                 const std::string& path) {
  auto fail = [&](std::string text) { return Violation{path, with_path(path, text)}; };

  if (const auto* t = schema.if_contains("type")) {
    std::vector<std::string> types;
    if (t->is_string()) types.emplace_back(t->get_string());
    else if (t->is_array())
      for (const auto& x : t->get_array()) types.emplace_back(x.get_string());
    const bool ok = std::any_of(types.begin(), types.end(),
                                [&](const auto& ty) { return matches_type(v, ty); });
    if (!ok) {
      std::string wanted;
      for (std::size_t i = 0; i < types.size(); ++i)
        wanted += (i == 0 ? "" : (i + 1 == types.size() ? " or " : ", ")) + types[i];
      return fail("expected " + wanted + ", got " + kind_of(v));
    }
  }
  if (const auto* c = schema.if_contains("const"); c && v != *c)
    return fail("must be " + json::serialize(*c) + ", got " + shown(v));
  if (const auto* e = schema.if_contains("enum")) {
    const auto& values = e->get_array();
    if (std::find(values.begin(), values.end(), v) == values.end())
      return fail(shown(v) + " is not one of " + shown_list(values));
  }
  if (v.is_number()) {
    const double x = number_of(v);
    if (const auto* m = schema.if_contains("minimum"); m && x < number_of(*m))
      return fail(shown(v) + " is less than the minimum " + schema_number(*m));
    if (const auto* m = schema.if_contains("maximum"); m && x > number_of(*m))
      return fail(shown(v) + " is greater than the maximum " + schema_number(*m));
  }
  if (v.is_string()) {
    const std::size_t n = stream::utf8_length(v.get_string());
    if (const auto* m = schema.if_contains("minLength"); m && n < number_of(*m))
      return fail("must be at least " + schema_number(*m) + " characters long, got " +
                  std::to_string(n));
    if (const auto* m = schema.if_contains("maxLength"); m && n > number_of(*m))
      return fail("must be at most " + schema_number(*m) + " characters long, got " +
                  std::to_string(n));
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    if (const auto* m = schema.if_contains("minItems"); m && a.size() < number_of(*m))
      return fail("must have at least " + schema_number(*m) + " items, got " +
                  std::to_string(a.size()));
    if (const auto* m = schema.if_contains("maxItems"); m && a.size() > number_of(*m))
      return fail("must have at most " + schema_number(*m) + " items, got " +
                  std::to_string(a.size()));
    if (const auto* u = schema.if_contains("uniqueItems"); u && u->is_bool() && u->get_bool()) {
      for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t j = i + 1; j < a.size(); ++j)
          if (a[i] == a[j])
            return fail("items must be unique, " + shown(a[i]) + " appears more than once");
    }
  }
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* r = schema.if_contains("required")) {
      for (const auto& name : r->get_array()) {
        const auto key = name.get_string();
        if (!o.contains(key)) {
          const auto p = child_path(path, key);
          return Violation{p, p + ": required property is missing"};
        }
      }
    }
    const auto* props = schema.if_contains("properties");
    const auto* extra = schema.if_contains("additionalProperties");
    if (extra && extra->is_bool() && !extra->get_bool()) {
      for (const auto& member : o) {
        if (props && props->get_object().contains(member.key())) continue;
        std::vector<std::string> allowed;
        if (props)
          for (const auto& p : props->get_object()) allowed.emplace_back(p.key());
        std::string key;
        stream::append_json_utf8(key, stream::truncate_utf8(member.key(), k_max_shown_value));
        // A JSON-quoted key keeps odd names (dots, spaces) readable.
        const auto p = child_path(path, key.substr(1, key.size() - 2));
        return Violation{p, p + ": property is not allowed (allowed: " + join(allowed) + ")"};
      }
    }
  }
  return std::nullopt;
}

/// The schema that applies to the child `key` / index of an instance node.
const json::object* child_schema(const json::object& schema, const json::value& parent,
                                 std::string_view key) {
  if (parent.is_object()) {
    if (const auto* props = schema.if_contains("properties"))
      if (const auto* s = props->get_object().if_contains(key); s && s->is_object())
        return &s->get_object();
    if (const auto* extra = schema.if_contains("additionalProperties"); extra && extra->is_object())
      return &extra->get_object();
    return nullptr;
  }
  if (const auto* items = schema.if_contains("items"); items && items->is_object())
    return &items->get_object();
  return nullptr;
}

/// The error to report: the first one at a node none of whose descendants
/// failed too, i.e. the actual violation rather than its "failed to
/// validate property" echoes at the parents.
const valijson::ValidationResults::Error& leaf_error(const valijson::ValidationResults& results) {
  auto is_prefix = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
  };
  for (const auto& e : results) {
    const bool has_deeper = std::any_of(results.begin(), results.end(), [&](const auto& other) {
      return is_prefix(e.context, other.context);
    });
    if (!has_deeper) return e;
  }
  return *results.begin();
}

/// Walks valijson's context ("<root>", "[data]", "[params]", ...) down the
/// instance and the schema, then phrases the violation at that node.
Violation describe(const valijson::ValidationResults::Error& error, const json::value& doc,
                   const json::object& schema) {
  const json::value* node = &doc;
  const json::object* node_schema = &schema;
  std::string path;
  for (std::size_t i = 1; i < error.context.size() && node && node_schema; ++i) {
    std::string_view seg = error.context[i];
    if (seg.size() >= 2 && seg.front() == '[' && seg.back() == ']')
      seg = seg.substr(1, seg.size() - 2);
    const json::object* next_schema = child_schema(*node_schema, *node, seg);
    if (node->is_object()) {
      node = node->get_object().if_contains(seg);
      path = child_path(path, seg);
    } else if (node->is_array()) {
      const std::size_t index = std::strtoul(std::string(seg).c_str(), nullptr, 10);
      const auto& a = node->get_array();
      node = index < a.size() ? &a[index] : nullptr;
      path += "[" + std::string(seg) + "]";
    } else {
      node = nullptr;
    }
    node_schema = next_schema;
  }
  if (node && node_schema)
    if (auto v = explain(*node_schema, *node, path)) return *v;
  // A keyword explain() does not know: valijson's own words.
  return Violation{path, with_path(path, error.description)};
}

std::optional<int> optional_int(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key)) return static_cast<int>(v->to_number<std::int64_t>());
  return std::nullopt;
}

std::optional<std::string> optional_string(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key)) return std::string(v->get_string());
  return std::nullopt;
}

tws::TickType tick_type_of(const json::value& v) {
  // The schema's enum admits exactly the strings parse_tick_type knows.
  return *tws::parse_tick_type(v.get_string());
}

ClientMessage to_message(std::string_view type, const json::object& o, std::string id) {
  static const json::object empty;
  const auto* data_value = o.if_contains("data");
  const json::object& data = data_value ? data_value->get_object() : empty;
  const auto* params_value = data.if_contains("params");
  const json::object& params = params_value ? params_value->get_object() : empty;

  // contract_id: an integer, or a string (an id or a spec) the server resolves.
  int contract_id = 0;
  std::optional<std::string> contract;
  if (const auto* cid = data.if_contains("contract_id")) {
    if (cid->is_string()) contract = std::string(cid->get_string());
    else contract_id = static_cast<int>(cid->to_number<std::int64_t>());
  }
  if (type == "subscribe") {
    return Subscribe{std::move(id),
                     contract_id,
                     std::move(contract),
                     tick_type_of(data.at("tick_type")),
                     optional_int(params, "limit"),
                     optional_int(params, "timeout"),
                     optional_string(params, "since")};
  }
  if (type == "multi_subscribe") {
    MultiSubscribe m{std::move(id),
                     contract_id,
                     std::move(contract),
                     {},
                     optional_int(params, "limit"),
                     optional_int(params, "timeout"),
                     optional_string(params, "since")};
    for (const auto& t : data.at("tick_types").get_array()) m.tick_types.push_back(tick_type_of(t));
    return m;
  }
  if (type == "unsubscribe")
    return Unsubscribe{std::move(id), std::string(data.at("request_id").get_string())};
  if (type == "unsubscribe_all") return UnsubscribeAll{std::move(id)};
  if (type == "ping") {
    const auto* ts = o.if_contains("timestamp");
    return Ping{std::move(id), ts ? *ts : json::value()};
  }
  if (type == "get_stats") return GetStats{std::move(id)};
  if (type == "list_streams") return ListStreams{std::move(id)};
  // Unreachable: the envelope admits only the types above, and the
  // constructor checked that each has a schema.
  throw std::logic_error("ws::MessageValidator: no conversion for type " + std::string(type));
}

json::value parse_schema(const EmbeddedSchema& s) {
  json::error_code ec;
  auto v = json::parse(s.text, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("embedded WebSocket schema " + std::string(s.name) +
                             ".json is not a JSON object: " + ec.message());
  return v;
}

} // namespace

struct MessageValidator::Impl {
  std::vector<std::string> types;
  std::map<std::string, TypeSchema, std::less<>> schemas;
};

MessageValidator::MessageValidator() {
  auto impl = std::make_unique<Impl>();
  const auto all = embedded_schemas();
  auto find = [&](std::string_view name) -> const EmbeddedSchema& {
    for (const auto& s : all)
      if (s.name == name) return s;
    throw std::runtime_error("no embedded WebSocket schema " + std::string(name) + ".json");
  };

  const json::value envelope = parse_schema(find("envelope"));
  try {
    for (const auto& t : envelope.at_pointer("/properties/type/enum").as_array())
      impl->types.emplace_back(t.as_string());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("envelope.json has no properties.type.enum: ") + e.what());
  }

  valijson::SchemaParser parser; // default: draft 7, as the files declare
  for (const auto& type : impl->types) {
    TypeSchema ts{parse_schema(find(type)), std::make_unique<valijson::Schema>()};
    try {
      valijson::adapters::BoostJsonAdapter adapter(ts.doc);
      parser.populateSchema(adapter, *ts.schema);
    } catch (const std::exception& e) {
      throw std::runtime_error("embedded WebSocket schema " + type + ".json: " + e.what());
    }
    impl->schemas.emplace(type, std::move(ts));
  }
  impl_ = std::move(impl);
}

MessageValidator::~MessageValidator() = default;

const MessageValidator& MessageValidator::shared() {
  static const MessageValidator instance;
  return instance;
}

const std::vector<std::string>& MessageValidator::message_types() const { return impl_->types; }

ValidationResult MessageValidator::validate(std::string_view text) const {
  json::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return ValidationError{"message is not valid JSON: " + ec.message(), "", std::nullopt};
  if (!doc.is_object())
    return ValidationError{"message must be a JSON object, got " + kind_of(doc), "", std::nullopt};
  const auto& obj = doc.get_object();

  std::optional<std::string> id;
  if (const auto* v = obj.if_contains("id"); v && v->is_string()) {
    const std::size_t n = stream::utf8_length(v->get_string());
    if (n >= 1 && n <= k_max_id_length) id = std::string(v->get_string());
  }

  std::size_t values = 0;
  count_values(doc, k_max_values, values);
  if (values > k_max_values)
    return ValidationError{"message has more than " + std::to_string(k_max_values) +
                               " JSON values: no client message has that many",
                           "", id};

  if (auto p = overflowing_number(doc, ""))
    return ValidationError{
        with_path(*p, "number is out of range (beyond +/-1.7976931348623157e308)"), *p, id};

  const auto* type_value = obj.if_contains("type");
  if (!type_value)
    return ValidationError{"type: required property is missing (one of " + join(impl_->types) + ")",
                           "type", id};
  if (!type_value->is_string())
    return ValidationError{"type: expected string, got " + kind_of(*type_value), "type", id};
  const auto it = impl_->schemas.find(std::string_view(type_value->get_string()));
  if (it == impl_->schemas.end())
    return ValidationError{"type: " + shown(*type_value) + " is not one of " + join(impl_->types),
                           "type", id};

  // A Validator per call: it caches regexes, the Schema itself is only read.
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter adapter(doc);
  if (!validator.validate(*it->second.schema, adapter, &results)) {
    if (results.numErrors() == 0)
      return ValidationError{"message does not match the " + it->first + " schema", "", id};
    auto v = describe(leaf_error(results), doc, it->second.doc.get_object());
    return ValidationError{std::move(v.message), std::move(v.path), id};
  }
  return to_message(it->first, obj, id.value_or(std::string()));
}

} // namespace ws
