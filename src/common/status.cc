#include "dengine/status.h"

#include "common/check.h"

namespace dengine {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kNotLeader: return "NotLeader";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kTimedOut: return "TimedOut";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kIoError: return "IoError";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kUnknownOutcome: return "UnknownOutcome";
    case StatusCode::kUnimplemented: return "Unimplemented";
  }
  return "Unknown";
}

Status Status::of(ErrorDetail detail, std::string_view context) {
  const StatusCode code = error_detail_code(detail);
  // kNone (or a detail missing from the table) names no error: saying OK would lose one.
  DENGINE_CHECK_MSG(code != StatusCode::kOk, error_detail_name(detail));
  std::string message(error_detail_text(detail));
  if (!context.empty()) {
    message += " (";
    message += context;
    message += ')';
  }
  return {code, std::move(message), detail};
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  return {code_, message_ + " (" + std::string(context) + ")", detail_};
}

namespace detail {

void value_of_failed_result(const Status& status) {
  check_failed("has_value()", "dengine/status.h", 0,
               "Result::value() on an error: " + status.to_string());
}

}  // namespace detail

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string text(status_code_name(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace dengine
