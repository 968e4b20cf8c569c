#pragma once

// The ResponseHeader etcd 3.4.23 puts on its responses (v3rpc/header.go): the cluster's and
// this member's ids and this member's Raft term always; the store's current revision when the
// response did not set a revision of its own.

#include <cstdint>

#include "etcd/etcdserverpb/rpc.pb.h"

namespace dengine {
class EmbeddedEngine;
}

namespace dengine::api {

struct MemberIds {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
};

class MemberHeader {
 public:
  MemberHeader(MemberIds ids, EmbeddedEngine& engine) : ids_(ids), engine_(engine) {}

  void fill(etcdserverpb::ResponseHeader* header) const;
  // etcd's cluster requests (MemberList and the like) carry no revision.
  void fill_without_revision(etcdserverpb::ResponseHeader* header) const;

  [[nodiscard]] const MemberIds& ids() const { return ids_; }
  [[nodiscard]] EmbeddedEngine& engine() const { return engine_; }

 private:
  MemberIds ids_;
  EmbeddedEngine& engine_;
};

}  // namespace dengine::api
