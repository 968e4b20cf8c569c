#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dengine::kv {

// The keys a request names, with etcd's conventions for `range_end`: empty means the single
// key, "\0" means every key >= key, anything else the half-open interval [key, range_end).
class KeySpan {
 public:
  static KeySpan of(std::string_view key, std::string_view range_end) {
    if (range_end.empty()) return KeySpan(Kind::kSingleKey, key, {});
    if (range_end == std::string_view("\0", 1)) return KeySpan(Kind::kFromKey, key, {});
    return KeySpan(Kind::kInterval, key, range_end);
  }

  [[nodiscard]] bool is_single_key() const { return kind_ == Kind::kSingleKey; }
  [[nodiscard]] const std::string& first() const { return first_; }

  [[nodiscard]] bool contains(std::string_view key) const {
    switch (kind_) {
      case Kind::kSingleKey: return key == first_;
      case Kind::kFromKey: return key >= first_;
      case Kind::kInterval: return key >= first_ && key < end_;
    }
    return false;
  }
  // Whether `key`, at or after first(), is past the span (ends an ordered scan).
  [[nodiscard]] bool is_past(std::string_view key) const {
    switch (kind_) {
      case Kind::kSingleKey: return key != first_;
      case Kind::kFromKey: return false;
      case Kind::kInterval: return key >= end_;
    }
    return true;
  }

 private:
  enum class Kind : uint8_t { kSingleKey, kFromKey, kInterval };
  KeySpan(Kind kind, std::string_view first, std::string_view end)
      : kind_(kind), first_(first), end_(end) {}

  Kind kind_;
  std::string first_;
  std::string end_;
};

}  // namespace dengine::kv
