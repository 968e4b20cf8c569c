#pragma once

// The encoding of kConfChange entries. It is in the log, so it is a file format: a leading
// format byte, then little-endian fields; new versions only ever add.

#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::raft {

struct ConfChangeEntry {
  enum class Kind : uint8_t { kEnterJoint = 0, kLeaveJoint = 1 };
  Kind kind = Kind::kEnterJoint;
  std::vector<ConfChange> changes;  // kEnterJoint only
};

std::string encode_conf_change(const ConfChangeEntry& entry);
Result<ConfChangeEntry> decode_conf_change(const std::string& data);

}  // namespace dengine::raft
