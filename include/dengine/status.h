#pragma once

// Errors are values: every fallible call in dengine returns a Status or a Result<T>.
// No exception crosses the public API.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "dengine/error_detail.h"

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
  kPermissionDenied,
  kUnauthenticated,  // no credentials, or ones that are not valid
  // A write that may or may not have been applied: it reached a member (or may have), and no
  // answer came back (the connection broke, the deadline passed, the leader changed under it).
  // Never retried for you: read back what the write would have changed, then decide.
  kUnknownOutcome,
  kUnimplemented,  // the other side does not offer the call (e.g. a dengine extension on etcd)
};
// The highest code: a number above it from a peer or a file is no StatusCode.
inline constexpr StatusCode kLastStatusCode = StatusCode::kUnimplemented;

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, ErrorDetail detail = ErrorDetail::kNone)
      : code_(code), detail_(detail), message_(std::move(message)) {}

  static Status ok() { return {}; }
  // The known condition `detail` with its code and text, and `context` (what was asked, the
  // numbers involved) in parentheses after the text when not empty.
  static Status of(ErrorDetail detail, std::string_view context = {});
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
  static Status unknown_outcome(std::string message) {
    return {StatusCode::kUnknownOutcome, std::move(message)};
  }
  static Status unimplemented(std::string message) {
    return {StatusCode::kUnimplemented, std::move(message)};
  }

  [[nodiscard]] bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  [[nodiscard]] StatusCode code() const { return code_; }
  [[nodiscard]] ErrorDetail detail() const { return detail_; }
  [[nodiscard]] bool is(ErrorDetail detail) const { return detail_ == detail; }
  [[nodiscard]] const std::string& message() const { return message_; }
  // The same status with `context` appended in parentheses; the code and detail stay.
  [[nodiscard]] Status with_context(std::string_view context) const;
  // "NotLeader: raft: node 2 is not the leader (leader is 3)"
  [[nodiscard]] std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  ErrorDetail detail_ = ErrorDetail::kNone;
  std::string message_;
};

namespace detail {
// A Result's value was asked for while it holds an error: fails the process (DENGINE_CHECK's
// failure path) with the status in the message. No exception crosses the public API.
[[noreturn]] void value_of_failed_result(const Status& status);
}  // namespace detail

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

  // Precondition: has_value(); breaking it stops the process with the held status.
  [[nodiscard]] T& value() & { return *checked_value(); }
  [[nodiscard]] const T& value() const& { return *checked_value(); }
  [[nodiscard]] T&& value() && { return std::move(*checked_value()); }
  [[nodiscard]] T& operator*() & { return value(); }
  [[nodiscard]] const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when a value is held.
  [[nodiscard]] Status status() const {
    return has_value() ? Status::ok() : std::get<Status>(state_);
  }

 private:
  T* checked_value() {
    T* held = std::get_if<T>(&state_);
    if (held == nullptr) [[unlikely]]
      detail::value_of_failed_result(*std::get_if<Status>(&state_));
    return held;
  }
  const T* checked_value() const {
    const T* held = std::get_if<T>(&state_);
    if (held == nullptr) [[unlikely]]
      detail::value_of_failed_result(*std::get_if<Status>(&state_));
    return held;
  }

  std::variant<T, Status> state_;
};

}  // namespace dengine
