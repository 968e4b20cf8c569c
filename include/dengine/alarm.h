#pragma once

// A cluster alarm (etcd's AlarmMember): raised by one member, replicated through the log, in
// force on every member until disarmed. While a NOSPACE alarm stands, the state machine
// refuses what would grow the store (puts, txns that put, lease grants) with etcd's
// "database space exceeded", and still serves reads, deletes and compaction. While a CORRUPT
// alarm stands it refuses every write to the keyspace and the leases (puts, deletes, txns,
// compaction, lease grants and revokes) with etcd's "corrupt cluster"; reads (read-only txns
// too) go on.

#include <cstdint>

#include "dengine/types.h"

namespace dengine {

enum class AlarmType : uint8_t {  // etcd's AlarmType numbers
  kNoSpace = 1,
  kCorrupt = 2,
};

struct Alarm {
  NodeId member = kNoNode;
  AlarmType type = AlarmType::kNoSpace;

  friend auto operator<=>(const Alarm&, const Alarm&) = default;
};

}  // namespace dengine
