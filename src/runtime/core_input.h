#pragma once

// What arrives on the core thread's inbound queue (docs/architecture.md §2): callers' requests,
// peers' messages, the workers' completions and the clock. Nothing else reaches the Raft core.

#include <string>
#include <variant>
#include <vector>

#include "dengine/entry.h"
#include "dengine/state_machine.h"
#include "dengine/status.h"
#include "dengine/unique_function.h"
#include "raft/raft_message.h"

namespace dengine::raft {
class RaftNode;
}

namespace dengine::runtime {

// A caller's command for the log, answered once its entry is applied (or can never be).
using ProposalDone = UniqueFunction<void(Result<ApplyResult>)>;
// A read served by the apply worker once the state machine has applied far enough; it gets
// the state machine, or why the read cannot be served.
using ReadTask = UniqueFunction<void(Result<const StateMachine*>)>;

enum class ReadMode : uint8_t {
  kReadIndex,  // thesis §6.4: confirm leadership with a heartbeat round
  kLease,      // thesis §6.4.1: the leader's lease, else a ReadIndex round
  kConfirmed,  // confirmed already (RaftRuntime::confirm_read): served at ReadInput::at
};

struct ProposeInput {
  std::string command;
  ProposalDone done;
  int hops = 0;  // how many nodes forwarded it already (bounds forwarding loops)
};

// A read waiting for the index it may be served at. Either the apply worker serves `task` once
// the state machine applied that index, or `confirmed` gets the index on the core thread and
// the caller reads itself (so `confirmed` must only hand the index over).
struct PendingRead {
  ReadTask task;
  UniqueFunction<void(Result<Index>)> confirmed;

  void fail(Status why) {
    if (confirmed) return confirmed(std::move(why));
    task(std::move(why));
  }
};

struct ReadInput {
  ReadMode mode = ReadMode::kReadIndex;
  PendingRead read;
  Index at = 0;  // kConfirmed only
};

struct PeerMessageInput {
  Message message;
};

// The WAL worker made Ready::write_id `write_id` (and every earlier write) durable.
struct PersistedInput {
  uint64_t write_id = 0;
};

// The apply worker applied every committed entry up to `index`; the state machine holds a
// durable image up to `durable_index`.
struct AppliedInput {
  Index index = 0;
  Index durable_index = 0;
};

// A worker hit an error the node cannot continue after (a failed fdatasync, an entry the state
// machine cannot decode): the node stops and every waiting caller gets `status`.
struct FatalInput {
  Status status;
};

// Runs on the core thread with the Raft core: membership changes, leadership transfer and
// status queries, which are rare and need the core's own view. Once the node stopped, the
// task gets why instead.
struct CoreTaskInput {
  UniqueFunction<void(Result<raft::RaftNode*>)> task;
};

// The clock moved (a manual clock); the loop re-reads it.
struct WakeInput {};

struct StopInput {};

using CoreInput = std::variant<ProposeInput, ReadInput, PeerMessageInput, PersistedInput,
                               AppliedInput, FatalInput, CoreTaskInput, WakeInput, StopInput>;

}  // namespace dengine::runtime
