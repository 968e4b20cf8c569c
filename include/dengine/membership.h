#pragma once

// The membership stream of an EmbeddedEngine: who the members are and who leads, as this node
// has applied and observed it.

#include <chrono>
#include <optional>
#include <utility>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "dengine/unique_function.h"

namespace dengine {

struct MembershipEvent {
  ConfState members;  // as applied on this node (voters_outgoing set while joint)
  NodeId leader = kNoNode;
  Term term = 0;

  friend bool operator==(const MembershipEvent&, const MembershipEvent&) = default;
};

// Each next() returns the membership as soon as it differs from what the previous next()
// returned (the first returns it at once): a leader change, a term change, or a configuration
// change. Changes that follow each other quickly may be seen only in their final state. Must
// not outlive its engine.
class MembershipWatch {
 public:
  using Wait = UniqueFunction<Result<MembershipEvent>(const std::optional<MembershipEvent>& last,
                                                      std::chrono::milliseconds timeout)>;

  explicit MembershipWatch(Wait wait) : wait_(std::move(wait)) {}

  // kTimedOut when nothing changed within `timeout`; kUnavailable once the engine stopped.
  Result<MembershipEvent> next(std::chrono::milliseconds timeout) {
    Result<MembershipEvent> event = wait_(last_, timeout);
    if (event) last_ = *event;
    return event;
  }

 private:
  Wait wait_;
  std::optional<MembershipEvent> last_;
};

}  // namespace dengine
