#pragma once

// The encoding of kConfChange entries. It is in the log, so it is a file format: a leading
// format byte, then little-endian fields; new versions only ever add.

#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::raft {

struct ConfChangeEntry {
  // kEnterJoint and kLeaveJoint: joint consensus (thesis §4.3), for several changes at once.
  // kSimple: one change, in force as soon as it is applied (thesis §4.1; etcd-raft's
  // ConfChangeV1 and its automatic transition for a single change). Tags are on disk: append,
  // never renumber.
  enum class Kind : uint8_t { kEnterJoint = 0, kLeaveJoint = 1, kSimple = 2 };
  Kind kind = Kind::kEnterJoint;
  std::vector<ConfChange> changes;  // kEnterJoint and kSimple
};

std::string encode_conf_change(const ConfChangeEntry& entry);
Result<ConfChangeEntry> decode_conf_change(const std::string& data);

}  // namespace dengine::raft
