#pragma once

// The replicated command encoding: what a Raft log entry's data holds for the state machine.
//
// THIS IS AN ON-DISK FORMAT. Encoded commands live in the WAL and in snapshots for as long as
// the data does, and replicas of different versions read each other's during an upgrade:
// never change the meaning of an existing byte. Add a new command kind or a new format
// version, keep decoding every old one, and test the old bytes.
//
// Format version 1, little-endian, every byte string a u32 length then its bytes:
//
//   command          := format:u8 (=1) kind:u8 body             (nothing may follow)
//   kind 1 put       := key value lease:i64 flags:u8            (1 prev_kv, 2 ignore_value,
//                                                                 4 ignore_lease)
//   kind 2 delete    := key range_end flags:u8                  (1 prev_kv)
//   kind 3 txn       := n:u32 compare*n  n:u32 op*n  n:u32 op*n (success, then failure)
//   kind 4 compact   := revision:i64
//   kind 5 grant     := id:i64 ttl_seconds:i64
//   kind 6 revoke    := id:i64
//   kind 7 checkpoint:= n:u32 (id:i64 remaining_ttl_seconds:i64)*n
//   kind 8 member peer URLs := id:u64 urls                    (kv/member_codec.h's layouts)
//   kind 9 member publish   := id:u64 name client_urls:urls peer_urls:urls
//   kind 10 member remove   := id:u64
//   kind 11 alarm           := activate:u8 (0|1) member:u64 type:u8 (etcd's AlarmType, 1|2)
//   compare          := result:u8 target:u8 key range_end version:i64 create:i64 mod:i64
//                       lease:i64 value
//   op               := tag:u8 (1 range, 2 put, 3 delete, 4 txn) then that body
//   range            := key range_end limit:i64 revision:i64 sort_order:u8 sort_target:u8
//                       flags:u8 (1 keys_only, 2 count_only) min_mod:i64 max_mod:i64
//                       min_create:i64 max_create:i64
//
// Enum bytes carry etcd's proto numbers. Unknown kinds, tags, enum values or flag bits are
// errors, as are lengths and counts beyond the bounds in dengine/kv_types.h.

#include <cstdint>
#include <string>
#include <string_view>

#include "dengine/status.h"
#include "kv/kv_command.h"

namespace dengine::kv {

inline constexpr uint8_t kCommandFormatVersion = 1;

// Fails (and encodes nothing) when a bound is exceeded: a key, value or range end over its
// size bound, an op or compare list over kMaxTxnOps, nesting deeper than kMaxTxnDepth, more
// than kMaxLeaseCheckpointsPerCommand checkpoints, or an encoding over kMaxCommandBytes
// (etcd's "request is too large").
Result<std::string> encode_command(const KvCommand& command);

// Never crashes on any input: malformed bytes give kCorruption naming the field and offset, an
// unknown format version kFailedPrecondition.
Result<KvCommand> decode_command(std::string_view encoded);

}  // namespace dengine::kv
