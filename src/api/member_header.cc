#include "api/member_header.h"

#include "dengine/state_machine.h"
#include "runtime/engine_internals.h"

namespace dengine::api {

void MemberHeader::fill(etcdserverpb::ResponseHeader* header) const {
  fill_without_revision(header);
  if (header->revision() == 0) {
    header->set_revision(runtime::runtime_of(engine_).read_local(
        [](const StateMachine& machine) { return machine.current_revision(); }));
  }
}

void MemberHeader::fill_without_revision(etcdserverpb::ResponseHeader* header) const {
  header->set_cluster_id(ids_.cluster_id);
  header->set_member_id(ids_.member_id);
  header->set_raft_term(runtime::runtime_of(engine_).status().term);
}

}  // namespace dengine::api
