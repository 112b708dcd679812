#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <cereal/archives/portable_binary.hpp>

#include "mtcache/messages/bytes.hpp"

namespace mtcache {

/// Typed values on the byte tiers: cereal's portable binary archive inside a small envelope
/// (magic, format version, payload length, FNV-1a checksum). The envelope is what lets a
/// reader tell corrupt or foreign bytes from a value: cereal alone would happily decode
/// garbage into garbage, or throw midway.
namespace typed_value {

constexpr char magic[2] = {'M', 'T'};
constexpr uint8_t version = 1;
constexpr size_t header_size = 2 + 1 + 4 + 8;

/// FNV-1a, 64 bit: cheap and enough to catch accidental corruption (not an authenticator).
inline uint64_t checksum(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

inline void put_le(std::string& out, uint64_t x, int n) {
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

inline uint64_t get_le(std::string_view in, size_t pos, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
  return x;
}

/// Serialises `value` (any type cereal can save) into an envelope.
template <class T>
bytes encode(const T& value) {
  std::ostringstream os;
  {
    cereal::PortableBinaryOutputArchive archive{os};
    archive(value);
  }
  auto payload = std::move(os).str();
  std::string out;
  out.reserve(header_size + payload.size());
  out.append(magic, 2);
  out.push_back(static_cast<char>(version));
  put_le(out, payload.size(), 4);
  put_le(out, checksum(payload), 8);
  out += payload;
  return bytes{out};
}

/// Decodes an envelope made by `encode<T>`; nothing (and the reason in `*error`) if the
/// bytes are not one, are corrupt, or do not decode as T with every byte consumed.
template <class T>
std::optional<T> decode(const bytes& data, std::string* error = nullptr) {
  auto fail = [&](const char* why) -> std::optional<T> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  auto in = data.view();
  if (in.size() < header_size || in[0] != magic[0] || in[1] != magic[1])
    return fail("not a typed value (no envelope)");
  if (static_cast<uint8_t>(in[2]) != version)
    return fail("unknown typed value version");
  auto size = get_le(in, 3, 4);
  auto payload = in.substr(header_size);
  if (payload.size() != size)
    return fail("typed value length does not match its envelope");
  if (checksum(payload) != get_le(in, 7, 8))
    return fail("typed value checksum mismatch");
  try {
    std::istringstream is{std::string{payload}};
    T value{};
    {
      cereal::PortableBinaryInputArchive archive{is};
      archive(value);
    }
    if (is.peek() != std::char_traits<char>::eof())
      return fail("typed value has trailing bytes (a different type?)");
    return value;
  } catch (const std::exception& ex) {
    if (error)
      *error = std::string{"cereal: "} + ex.what();
    return std::nullopt;
  }
}

} // namespace typed_value

} // namespace mtcache
