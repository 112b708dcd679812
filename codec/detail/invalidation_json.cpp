// The invalidation wire format shared with the multi-tier-cache crate.
//
// The crate's message is a serde enum tagged by "type". Serde buffers an internally tagged
// object, so "type" may come after the fields it governs; decoding therefore runs two
// passes over the (at most 1 MiB) message: the first checks the whole JSON and finds the
// type, the second reads the fields that type knows and skips everything else, just as
// serde ignores fields a variant does not declare.

#include "mtcache/codec/detail/invalidation_json.hpp"

#include <cstdint>
#include <iterator>
#include <limits>

#include "mtcache/codec/detail/hex.hpp"
#include "mtcache/codec/detail/json_reader.hpp"
#include "mtcache/codec/detail/json_writer.hpp"

namespace mtcache::detail {

namespace {

using kind = invalidation::kind;

constexpr uint64_t max_int64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

enum field : unsigned {
  f_key,
  f_value,
  f_ttl_secs,
  f_ttl_ms,
  f_pattern,
  f_keys,
  f_origin,
  f_seq,
  f_ts,
  f_epoch,
  f_from,
  f_reread,
  f_tag,
  f_removed_us
};

constexpr unsigned bit(kind k) {
  return 1u << static_cast<unsigned>(k);
}

constexpr unsigned every_kind = 0x3F;

struct field_spec {
  std::string_view name;
  // The message types that read the field (one bit per kind); others skip it.
  unsigned kinds;
};

// Indexed by `field`.
constexpr field_spec fields[] = {
    {"key", bit(kind::remove) | bit(kind::update)},
    {"value", bit(kind::update)},
    {"ttl_secs", bit(kind::update)},
    {"ttl_ms", bit(kind::update)},
    {"pattern", bit(kind::remove_pattern)},
    {"keys", bit(kind::remove_bulk)},
    {"origin", every_kind},
    {"seq", every_kind},
    {"ts", every_kind},
    {"epoch", every_kind},
    {"from", every_kind},
    {"reread", every_kind},
    {"tag", bit(kind::remove_tag)},
    {"removed_us", bit(kind::remove_tag)},
};

std::string_view type_name(kind k) {
  switch (k) {
  case kind::remove:
    return "Remove";
  case kind::update:
    return "Update";
  case kind::remove_pattern:
    return "RemovePattern";
  case kind::remove_bulk:
    return "RemoveBulk";
  case kind::remove_tag:
    return "RemoveTag";
  case kind::clear:
    return "Clear";
  }
  return "Remove";
}

std::optional<kind> kind_of(std::string_view name) {
  for (auto k : {kind::remove, kind::update, kind::remove_pattern, kind::remove_bulk,
                 kind::remove_tag, kind::clear})
    if (type_name(k) == name)
      return k;
  return std::nullopt;
}

std::optional<field> field_of(std::string_view name, kind k) {
  for (unsigned f = 0; f < std::size(fields); ++f)
    if (fields[f].name == name && (fields[f].kinds & bit(k)))
      return static_cast<field>(f);
  return std::nullopt;
}

// For error messages: at most 64 bytes, non-printable bytes as '?'.
std::string printable(std::string_view x) {
  std::string result{x.substr(0, 64)};
  for (auto& c : result)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      c = '?';
  return x.size() > 64 ? result + "..." : result;
}

class decoder {
public:
  decoder(std::string_view json, const invalidation_limits& limits, bool skip_values)
      : json_(json), limits_(limits), skip_values_(skip_values) {
    // nop
  }

  std::optional<invalidation> run(std::string& error) {
    if (!skip_values_ && json_.size() > limits_.max_message_bytes) {
      error = "message is " + std::to_string(json_.size()) + " bytes, over the limit of " +
              std::to_string(limits_.max_message_bytes);
      return std::nullopt;
    }
    auto type = find_type(error);
    if (!type)
      return std::nullopt;
    return read_fields(*type, error);
  }

private:
  json_reader make_reader() const {
    return json_reader{json_, limits_.max_string_bytes, limits_.max_depth};
  }

  std::optional<kind> find_type(std::string& error) {
    auto r = make_reader();
    std::string name;
    std::optional<std::string> type;
    if (r.begin_object()) {
      while (r.next_member(name)) {
        if (name != "type") {
          r.skip_value();
        } else if (type) {
          r.fail("duplicate field 'type'");
        } else if (r.peek() != json_type::string) {
          r.fail("field 'type' must be a string");
        } else {
          type.emplace();
          r.read_string(*type, limits_.max_message_bytes);
        }
      }
      r.end();
    }
    if (r.failed()) {
      error = "invalid message: " + r.error();
      return std::nullopt;
    }
    if (!type) {
      error = "missing field 'type'";
      return std::nullopt;
    }
    auto k = kind_of(*type);
    if (!k)
      error = "unknown type '" + printable(*type) +
              "' (expected Remove, Update, RemovePattern, RemoveBulk, RemoveTag or Clear)";
    return k;
  }

  std::optional<invalidation> read_fields(kind k, std::string& error) {
    auto r = make_reader();
    invalidation x;
    x.type = k;
    unsigned seen = 0;
    std::string name;
    r.begin_object();
    while (r.next_member(name)) {
      auto f = field_of(name, k);
      if (!f) {
        r.skip_value();
        continue;
      }
      if (seen & (1u << *f)) {
        error = "duplicate field '" + name + "'";
        return std::nullopt;
      }
      seen |= 1u << *f;
      if (!read_field(r, *f, x)) {
        error = "field '" + name + "': " + r.error();
        return std::nullopt;
      }
    }
    if (r.failed()) {
      error = "invalid message: " + r.error();
      return std::nullopt;
    }
    for (auto f : {f_key, f_value, f_pattern, f_keys, f_tag, f_removed_us}) {
      if ((fields[f].kinds & bit(k)) && !(seen & (1u << f))) {
        error =
            "missing field '" + std::string{fields[f].name} + "' in " + std::string{type_name(k)};
        return std::nullopt;
      }
    }
    if (k == kind::update)
      x.ttl_ms = ttl_ms_ >= 0 ? ttl_ms_ : ttl_secs_ms_;
    if (skip_values_ && k == kind::update) {
      x.type = kind::remove;
      x.ttl_ms = -1;
    }
    return x;
  }

  static bool read_string_field(json_reader& r, std::string& out) {
    if (r.peek() != json_type::string)
      return r.fail("expected a string");
    return r.read_string(out);
  }

  // An optional integer: `null` leaves `out` empty.
  static bool read_optional_uint(json_reader& r, std::optional<uint64_t>& out, uint64_t max) {
    if (r.read_null())
      return true;
    if (r.failed())
      return false;
    if (r.peek() != json_type::number)
      return r.fail("expected an integer or null");
    uint64_t n = 0;
    if (!r.read_uint(n, max))
      return false;
    out = n;
    return true;
  }

  bool read_value(json_reader& r, bytes& out) {
    std::string buf;
    auto type = r.peek();
    if (type == json_type::array) {
      r.begin_array();
      while (r.next_element()) {
        uint64_t b = 0;
        if (r.peek() != json_type::number)
          return r.fail("expected an integer 0..255");
        if (!r.read_uint(b, 255))
          return false;
        buf.push_back(static_cast<char>(b));
      }
    } else if (type == json_type::string) {
      std::string hex;
      if (!r.read_string(hex, limits_.max_message_bytes))
        return false;
      if (hex.size() % 2 != 0)
        return r.fail("hex value has an odd number of digits");
      buf.reserve(hex.size() / 2);
      for (size_t i = 0; i < hex.size(); i += 2) {
        auto hi = hex_digit_value(hex[i]);
        auto lo = hex_digit_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
          return r.fail("hex value has a non-hex digit");
        buf.push_back(static_cast<char>(hi * 16 + lo));
      }
    } else if (type) {
      return r.fail("expected an array of bytes or a hex string");
    }
    if (r.failed())
      return false;
    out = bytes{buf};
    return true;
  }

  bool read_keys(json_reader& r, std::vector<std::string>& out) {
    if (r.peek() != json_type::array)
      return r.fail("expected an array of strings");
    r.begin_array();
    while (r.next_element()) {
      if (out.size() == limits_.max_bulk_keys)
        return r.fail("more than " + std::to_string(limits_.max_bulk_keys) + " keys");
      out.emplace_back();
      if (!read_string_field(r, out.back()))
        return false;
    }
    return !r.failed();
  }

  bool read_field(json_reader& r, field f, invalidation& x) {
    std::optional<uint64_t> n;
    switch (f) {
    case f_key:
    case f_tag:
      return read_string_field(r, x.key);
    case f_removed_us:
      if (!read_optional_uint(r, n, max_int64))
        return false;
      x.removed_us = static_cast<int64_t>(n.value_or(0));
      return true;
    case f_pattern:
      return read_string_field(r, x.pattern);
    case f_origin:
      return r.read_null() || (!r.failed() && read_string_field(r, x.origin));
    case f_value:
      return skip_values_ ? r.skip_value() : read_value(r, x.value);
    case f_keys:
      return read_keys(r, x.keys);
    case f_seq:
      if (!read_optional_uint(r, n, UINT64_MAX))
        return false;
      x.seq = n.value_or(0);
      return true;
    case f_ts:
      if (!read_optional_uint(r, n, max_int64))
        return false;
      x.ts_ms = static_cast<int64_t>(n.value_or(0));
      return true;
    case f_epoch:
      if (!read_optional_uint(r, n, UINT64_MAX))
        return false;
      x.epoch = n.value_or(0);
      return true;
    case f_reread:
      return r.read_null() || (!r.failed() && r.read_bool(x.reread));
    case f_from:
      if (!read_optional_uint(r, n, UINT64_MAX))
        return false;
      x.from_seq = n.value_or(0);
      return true;
    case f_ttl_ms:
      if (!read_optional_uint(r, n, max_int64))
        return false;
      ttl_ms_ = n ? static_cast<int64_t>(*n) : -1;
      return true;
    case f_ttl_secs:
      if (!read_optional_uint(r, n, UINT64_MAX))
        return false;
      // Saturate: u64::MAX seconds (Rust's Duration::MAX) means "practically forever".
      if (n)
        ttl_secs_ms_ = *n > max_int64 / 1000 ? static_cast<int64_t>(max_int64)
                                             : static_cast<int64_t>(*n * 1000);
      return true;
    }
    return false;
  }

  std::string_view json_;
  const invalidation_limits& limits_;
  // Header only: the value of an Update is skipped, and the message reads as a Remove.
  bool skip_values_;
  int64_t ttl_ms_ = -1;
  int64_t ttl_secs_ms_ = -1;
};

void write_value(std::string& out, const bytes& value, value_encoding encoding) {
  if (encoding == value_encoding::hex) {
    out.push_back('"');
    append_hex(out, value.view());
    out.push_back('"');
    return;
  }
  out.push_back('[');
  bool first = true;
  for (auto c : value.view()) {
    if (!first)
      out.push_back(',');
    first = false;
    write_json_uint(out, static_cast<unsigned char>(c));
  }
  out.push_back(']');
}

} // namespace

std::string encode_invalidation(const invalidation& x, value_encoding encoding) {
  std::string out = "{\"type\":\"";
  out += type_name(x.type);
  out += '"';
  switch (x.type) {
  case kind::remove:
  case kind::update:
    out += ",\"key\":";
    write_json_string(out, x.key);
    break;
  case kind::remove_pattern:
    out += ",\"pattern\":";
    write_json_string(out, x.pattern);
    break;
  case kind::remove_bulk:
    out += ",\"keys\":[";
    for (size_t i = 0; i < x.keys.size(); ++i) {
      if (i > 0)
        out.push_back(',');
      write_json_string(out, x.keys[i]);
    }
    out.push_back(']');
    break;
  case kind::remove_tag:
    out += ",\"tag\":";
    write_json_string(out, x.key);
    out += ",\"removed_us\":";
    write_json_uint(out, static_cast<uint64_t>(x.removed_us > 0 ? x.removed_us : 0));
    break;
  case kind::clear:
    break;
  }
  bool has_ttl = x.type == kind::update && x.ttl_ms >= 0;
  if (x.type == kind::update) {
    out += ",\"value\":";
    write_value(out, x.value, encoding);
    if (has_ttl) {
      out += ",\"ttl_secs\":";
      // Round up, so that a peer that only reads seconds never keeps a value too short.
      write_json_uint(out, static_cast<uint64_t>(x.ttl_ms) / 1000 + (x.ttl_ms % 1000 != 0 ? 1 : 0));
    }
  }
  if (!x.origin.empty()) {
    out += ",\"origin\":";
    write_json_string(out, x.origin);
  }
  if (x.seq != 0) {
    out += ",\"seq\":";
    write_json_uint(out, x.seq);
  }
  if (x.ts_ms > 0) {
    out += ",\"ts\":";
    write_json_uint(out, static_cast<uint64_t>(x.ts_ms));
  }
  if (x.epoch != 0) {
    out += ",\"epoch\":";
    write_json_uint(out, x.epoch);
  }
  if (x.reread)
    out += ",\"reread\":true";
  if (x.from_seq != 0 && x.from_seq != x.seq) {
    out += ",\"from\":";
    write_json_uint(out, x.from_seq);
  }
  if (has_ttl && x.ttl_ms % 1000 != 0) {
    out += ",\"ttl_ms\":";
    write_json_uint(out, static_cast<uint64_t>(x.ttl_ms));
  }
  out.push_back('}');
  return out;
}

std::optional<invalidation> decode_invalidation(std::string_view json, std::string* error,
                                                const invalidation_limits& limits) {
  std::string reason;
  auto result = decoder{json, limits, false}.run(reason);
  if (!result && error)
    *error = std::move(reason);
  return result;
}

std::optional<invalidation> decode_invalidation_header(std::string_view json, std::string* error,
                                                       const invalidation_limits& limits) {
  std::string reason;
  auto result = decoder{json, limits, true}.run(reason);
  if (!result && error)
    *error = std::move(reason);
  return result;
}

} // namespace mtcache::detail
