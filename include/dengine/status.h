#pragma once

// Errors are values: every fallible call in dengine returns a Status or a Result<T>.
// No exception crosses the public API.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dengine {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kNotLeader,
  kResourceExhausted,  // a named bound was hit: queue, batch, request, uncommitted log
  kAborted,
  kTimedOut,
  kUnavailable,
  kFailedPrecondition,
  kCorruption,
  kIoError,
  kInternal,
  kCancelled,  // the caller ended it (a cancelled watch)
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message)};
  }
  static Status not_found(std::string message) {
    return {StatusCode::kNotFound, std::move(message)};
  }
  static Status not_leader(std::string message) {
    return {StatusCode::kNotLeader, std::move(message)};
  }
  static Status resource_exhausted(std::string message) {
    return {StatusCode::kResourceExhausted, std::move(message)};
  }
  static Status aborted(std::string message) { return {StatusCode::kAborted, std::move(message)}; }
  static Status timed_out(std::string message) {
    return {StatusCode::kTimedOut, std::move(message)};
  }
  static Status unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status failed_precondition(std::string message) {
    return {StatusCode::kFailedPrecondition, std::move(message)};
  }
  static Status corruption(std::string message) {
    return {StatusCode::kCorruption, std::move(message)};
  }
  static Status io_error(std::string message) { return {StatusCode::kIoError, std::move(message)}; }
  static Status internal(std::string message) {
    return {StatusCode::kInternal, std::move(message)};
  }
  static Status cancelled(std::string message) {
    return {StatusCode::kCancelled, std::move(message)};
  }

  [[nodiscard]] bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  [[nodiscard]] StatusCode code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }
  // "NotLeader: raft: node 2 is not the leader (leader is 3)"
  [[nodiscard]] std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains its absence. A Result never holds an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(state_).is_ok()) {
      state_ = Status::internal("Result constructed from an OK status without a value");
    }
  }

  [[nodiscard]] bool has_value() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return has_value(); }

  // Precondition: has_value().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when a value is held.
  [[nodiscard]] Status status() const {
    return has_value() ? Status::ok() : std::get<Status>(state_);
  }

 private:
  std::variant<T, Status> state_;
};

}  // namespace dengine
