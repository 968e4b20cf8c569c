#pragma once

// What the cluster records about each member beside its place in the Raft configuration: the
// name and URLs that etcd's MemberList reports. Replicated through the log (so every member
// agrees) and kept in the state machine (so images carry it); the configuration itself says
// who votes and who learns.

#include <string>
#include <vector>

#include "dengine/types.h"

namespace dengine {

struct MemberRecord {
  NodeId id = kNoNode;
  std::string name;                      // empty until the member has started (etcd's)
  std::vector<std::string> peer_urls;    // where its peers reach it
  std::vector<std::string> client_urls;  // where clients reach it; empty until it started

  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

}  // namespace dengine
