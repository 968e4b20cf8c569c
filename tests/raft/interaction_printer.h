#pragma once

// Stable one-line texts for the Raft core's messages, entries and Readies, in the spirit of
// etcd-io/raft's DescribeMessage: golden files compare them, so they print values only (no
// pointers, no addresses) and only the fields that mean something for the message's type.

#include <string>
#include <vector>

#include "dengine/entry.h"
#include "raft/progress.h"
#include "raft/raft_message.h"
#include "raft/ready.h"

namespace dengine::raft::test {

// "MsgApp", "MsgVoteResp", ... (etcd's names, familiar to readers of its testdata).
std::string describe_message_type(MessageType type);
std::string describe_role(RaftRole role);
// "1/4 EntryNormal \"data\"", "2/5 EntryConfChange v4 l5 r2", "2/6 EntryConfChange leave-joint".
std::string describe_entry(const Entry& entry);
// "1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal \"x\"]".
std::string describe_message(const Message& message);
// "voters=(1 2 3)&&(1 2) learners=(4)".
std::string describe_conf(const ConfState& conf);
std::string describe_snapshot(const SnapshotMeta& snapshot);
std::string describe_progress_state(Progress::State state);
// Every non-empty part of `ready`, one item a line.
std::vector<std::string> describe_ready(const Ready& ready);

}  // namespace dengine::raft::test
