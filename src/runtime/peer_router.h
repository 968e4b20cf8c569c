#pragma once

// How a node reaches the leader's engine for what only a leader serves: writes, lease
// keep-alives and time-to-live, membership changes. Engines in one process call each other's
// runtimes directly (InProcessNetwork); a server forwards over its client API instead.

#include <memory>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "runtime/core_input.h"
#include "runtime/lessor.h"

namespace dengine::runtime {

class RaftRuntime;

class PeerRouter {
 public:
  // Keeps the target runtime alive (not stopped, not destroyed) while held.
  class Lease {
   public:
    virtual ~Lease() = default;
    [[nodiscard]] virtual RaftRuntime& runtime() = 0;
  };

  virtual ~PeerRouter() = default;
  // The running runtime of node `id`, or null when it is not reachable.
  virtual std::unique_ptr<Lease> reach(NodeId id) = 0;
};

}  // namespace dengine::runtime
