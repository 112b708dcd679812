#include "mtcache/codec/tagged_value.hpp"

#include <cstring>

namespace mtcache {

namespace {

// A NUL first: text and JSON values never start with it.
constexpr std::string_view magic{"\0\xa7TG\x01", 5};

// created_us (8) and the tag count (2), big-endian.
constexpr size_t fixed_bytes = magic.size() + 8 + 2;

void put_u16(std::string& out, size_t x) {
  out.push_back(static_cast<char>((x >> 8) & 0xff));
  out.push_back(static_cast<char>(x & 0xff));
}

size_t get_u16(const char* p) {
  return (static_cast<size_t>(static_cast<unsigned char>(p[0])) << 8) |
         static_cast<unsigned char>(p[1]);
}

} // namespace

std::string check_tags(const std::vector<std::string>& tags) {
  if (tags.size() > max_tags)
    return std::to_string(tags.size()) + " tags, over the limit of " + std::to_string(max_tags);
  for (auto& tag : tags) {
    if (tag.empty())
      return "a tag is empty";
    if (tag.size() > max_tag_bytes)
      return "a tag of " + std::to_string(tag.size()) + " bytes, over the limit of " +
             std::to_string(max_tag_bytes);
  }
  return {};
}

bool has_tag_header(std::string_view stored) noexcept {
  return stored.size() >= magic.size() &&
         std::memcmp(stored.data(), magic.data(), magic.size()) == 0;
}

bytes encode_tagged(std::string_view payload, const std::vector<std::string>& tags,
                    int64_t created_us) {
  if (tags.empty() && !has_tag_header(payload))
    return bytes{payload};
  std::string out;
  size_t size = fixed_bytes + payload.size();
  for (auto& tag : tags)
    size += 2 + tag.size();
  out.reserve(size);
  out.append(magic);
  auto t = static_cast<uint64_t>(created_us);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((t >> shift) & 0xff));
  put_u16(out, tags.size());
  for (auto& tag : tags) {
    put_u16(out, tag.size());
    out.append(tag);
  }
  out.append(payload);
  return bytes{out};
}

std::optional<tagged_value> decode_tagged(std::string_view stored) {
  if (!has_tag_header(stored) || stored.size() < fixed_bytes)
    return std::nullopt;
  tagged_value out;
  const char* p = stored.data() + magic.size();
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i)
    t = (t << 8) | static_cast<unsigned char>(p[i]);
  out.created_us = static_cast<int64_t>(t);
  auto count = get_u16(p + 8);
  size_t pos = fixed_bytes;
  out.tags.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (stored.size() - pos < 2)
      return std::nullopt;
    auto len = get_u16(stored.data() + pos);
    pos += 2;
    if (len == 0 || stored.size() - pos < len)
      return std::nullopt;
    out.tags.push_back(stored.substr(pos, len));
    pos += len;
  }
  out.payload = stored.substr(pos);
  return out;
}

std::string tag_time_key(std::string_view tag) {
  // NULs around the marker, as for load leases: the coordinator refuses keys that start so.
  std::string key{"\0mtcache:tag\0", 13};
  key.append(tag);
  return key;
}

} // namespace mtcache
