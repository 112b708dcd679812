#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace mtcache {

/// Immutable value bytes, shared between actors without copying: copies bump a reference
/// count. One allocation holds the count, an optional key and the value, so the memory tier
/// can keep a key and its value in a single block (see `memory_store`).
class bytes {
public:
  bytes() noexcept = default;

  explicit bytes(std::string_view value) : bytes(std::string_view{}, value) {}

  /// A block that also carries `key` in front of the value. The value is what `data()` sees.
  bytes(std::string_view key, std::string_view value) {
    if (key.size() > UINT32_MAX || value.size() > UINT32_MAX - key.size())
      throw std::length_error("mtcache::bytes: key or value exceeds 4 GiB");
    if (key.empty() && value.empty())
      return;
    auto* mem = ::operator new(sizeof(block) + key.size() + value.size());
    ptr_ = new (mem)
        block{{1}, static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())};
    auto* out = reinterpret_cast<char*>(ptr_ + 1);
    if (!key.empty())
      std::memcpy(out, key.data(), key.size());
    if (!value.empty())
      std::memcpy(out + key.size(), value.data(), value.size());
  }

  bytes(const bytes& other) noexcept : ptr_(other.ptr_) {
    if (ptr_)
      ptr_->refs.fetch_add(1, std::memory_order_relaxed);
  }

  bytes(bytes&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}

  bytes& operator=(const bytes& other) noexcept {
    bytes tmp{other};
    std::swap(ptr_, tmp.ptr_);
    return *this;
  }

  bytes& operator=(bytes&& other) noexcept {
    bytes tmp{std::move(other)};
    std::swap(ptr_, tmp.ptr_);
    return *this;
  }

  ~bytes() {
    if (ptr_ && ptr_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      ptr_->~block();
      ::operator delete(ptr_);
    }
  }

  const char* data() const noexcept {
    return ptr_ ? reinterpret_cast<const char*>(ptr_ + 1) + ptr_->key_size : "";
  }

  size_t size() const noexcept { return ptr_ ? ptr_->size : 0; }

  bool empty() const noexcept { return size() == 0; }

  std::string_view view() const noexcept { return {data(), size()}; }

  std::string str() const { return std::string{view()}; }

  /// The key stored in front of the value, empty if the block carries none.
  std::string_view key() const noexcept {
    return ptr_ ? std::string_view{reinterpret_cast<const char*>(ptr_ + 1), ptr_->key_size}
                : std::string_view{};
  }

  /// Bytes allocated for the block, header included (0 for an empty value).
  size_t allocated() const noexcept {
    return ptr_ ? sizeof(block) + ptr_->key_size + ptr_->size : 0;
  }

  /// Whether two handles share one block (not a content comparison).
  bool same_block(const bytes& other) const noexcept { return ptr_ == other.ptr_; }

  friend bool operator==(const bytes& x, const bytes& y) noexcept { return x.view() == y.view(); }
  friend bool operator!=(const bytes& x, const bytes& y) noexcept { return !(x == y); }

private:
  struct block {
    std::atomic<uint32_t> refs;
    uint32_t key_size;
    uint32_t size;
  };

  block* ptr_ = nullptr;
};

/// Serialised as the value only: the embedded key is a local storage detail.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bytes& x) {
  std::string tmp;
  if constexpr (Inspector::reads_state)
    tmp = x.str();
  return f(caf::meta::type_name("mtcache::bytes"), tmp,
           caf::meta::load_callback([&]() -> caf::error {
             x = bytes{tmp};
             return caf::none;
           }));
}

} // namespace mtcache
