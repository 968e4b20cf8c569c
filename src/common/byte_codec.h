#pragma once

// Little-endian, length-prefixed primitives for dengine's own binary formats (the replicated
// command encoding, the state machine's snapshot and records, snapshot chunks, the compaction
// record). A reader never reads past its input and never trusts a length before checking it
// against the bytes that remain: malformed input is an error.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/check.h"
#include "dengine/status.h"

namespace dengine {

class ByteWriter {
 public:
  void u8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void u16(uint16_t value) { fixed(value, 2); }
  void u32(uint32_t value) { fixed(value, 4); }
  // A length or element count: formats store them as u32, so larger ones must never occur.
  void count(size_t value) {
    DENGINE_CHECK_MSG(value <= UINT32_MAX, "a length or count does not fit the format's u32");
    u32(static_cast<uint32_t>(value));
  }
  void u64(uint64_t value) { fixed(value, 8); }
  void i64(int64_t value) { u64(static_cast<uint64_t>(value)); }
  // u32 length, then the bytes. Callers bound the length well below 4 GiB.
  void bytes(std::string_view data) {
    count(data.size());
    out_.append(data);
  }
  // Bytes as they are, for a format that stores their length elsewhere.
  void raw(std::string_view data) { out_.append(data); }
  void reserve(size_t bytes) { out_.reserve(bytes); }
  [[nodiscard]] size_t size() const { return out_.size(); }
  std::string take() { return std::move(out_); }

 private:
  void fixed(uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  std::string out_;
};

// Reads the fields in order; the first failure sticks, later reads return zeros, and status()
// names what was being read and where.
class ByteReader {
 public:
  ByteReader(std::string_view input, std::string_view format_name)
      : input_(input), format_name_(format_name) {}

  uint8_t u8(std::string_view field) { return static_cast<uint8_t>(fixed(1, field)); }
  uint16_t u16(std::string_view field) { return static_cast<uint16_t>(fixed(2, field)); }
  uint32_t u32(std::string_view field) { return static_cast<uint32_t>(fixed(4, field)); }
  uint64_t u64(std::string_view field) { return fixed(8, field); }
  int64_t i64(std::string_view field) { return static_cast<int64_t>(fixed(8, field)); }
  bool boolean(std::string_view field) {
    const uint8_t value = u8(field);
    if (value > 1) fail(field, "is not 0 or 1");
    return value == 1;
  }
  // A length-prefixed byte string of at most max_bytes.
  std::string bytes(std::string_view field, size_t max_bytes) {
    const uint32_t length = u32(field);
    if (!ok()) return {};
    if (length > max_bytes) {
      fail(field, "is longer than its bound of " + std::to_string(max_bytes) + " bytes");
      return {};
    }
    if (length > remaining()) {
      fail(field, "runs past the end of the input");
      return {};
    }
    std::string value(input_.substr(position_, length));
    position_ += length;
    return value;
  }
  // `length` bytes as they are (a format that stored their length elsewhere), viewing the input.
  std::string_view view(uint64_t length, std::string_view field) {
    if (!ok()) return {};
    if (length > remaining()) {
      fail(field, "runs past the end of the input (" + std::to_string(length) + " bytes, " +
                      std::to_string(remaining()) + " left)");
      return {};
    }
    std::string_view value = input_.substr(position_, static_cast<size_t>(length));
    position_ += static_cast<size_t>(length);
    return value;
  }
  // A u32 element count of at most max_count, each element needing at least min_element_bytes
  // (so a forged count cannot make the caller allocate more than the input could describe).
  size_t count(std::string_view field, size_t max_count, size_t min_element_bytes) {
    const uint32_t n = u32(field);
    if (!ok()) return 0;
    if (n > max_count) {
      fail(field,
           "count " + std::to_string(n) + " exceeds its bound of " + std::to_string(max_count));
      return 0;
    }
    if (min_element_bytes > 0 && n > remaining() / min_element_bytes) {
      fail(field, "count " + std::to_string(n) + " needs more bytes than remain");
      return 0;
    }
    return n;
  }

  void fail(std::string_view field, const std::string& problem) {
    if (!status_.is_ok()) return;
    status_ = Status::corruption(std::string(format_name_) + ": " + std::string(field) + " " +
                                 problem + " (at byte " + std::to_string(position_) + " of " +
                                 std::to_string(input_.size()) + ")");
  }
  [[nodiscard]] bool ok() const { return status_.is_ok(); }
  [[nodiscard]] size_t remaining() const { return input_.size() - position_; }
  [[nodiscard]] bool at_end() const { return position_ == input_.size(); }
  [[nodiscard]] const Status& status() const { return status_; }

 private:
  uint64_t fixed(size_t width, std::string_view field) {
    if (!ok()) return 0;
    if (remaining() < width) {
      fail(field, "runs past the end of the input");
      return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(input_[position_ + i])) << (8 * i);
    }
    position_ += width;
    return value;
  }

  std::string_view input_;
  std::string_view format_name_;
  size_t position_ = 0;
  Status status_;
};

}  // namespace dengine
