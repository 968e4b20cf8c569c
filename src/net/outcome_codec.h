#pragma once

// What a leader sends back to the follower that forwarded a write to it: the write's outcome
// as the client sees it (ApplyResult's status, response and revision). The events and changed
// leases stay with the leader: they feed its own watches and lease clock, and the follower
// gets its own from applying the same entry.
//
// A wire format between members running the same build, never stored:
//
//   outcome  := version:u8 (=2) applied:u8 code:u8 detail:u16 message revision:i64
//               log_index:u64 kind:u8 body
//               (applied 0: the write failed before it was applied; the code says why)
//   kind     := 0 none | 1 put | 2 delete | 3 txn | 4 compact | 5 grant | 6 revoke |
//               7 checkpoint
//   kv       := key value create:i64 mod:i64 version:i64 lease:i64
//   put      := revision:i64 has_prev:u8 [kv]
//   delete   := revision:i64 deleted:i64 n:u32 kv*n
//   range    := revision:i64 n:u32 kv*n more:u8 count:i64
//   txn      := revision:i64 succeeded:u8 n:u32 (tag:u8 (1 range | 2 put | 3 delete | 4 txn))*n
//   compact, revoke, checkpoint := revision:i64;  grant := revision:i64 id:i64 ttl:i64

#include <string>
#include <string_view>

#include "dengine/state_machine.h"
#include "dengine/status.h"

namespace dengine::net {

// `outcome` is what the leader's propose() completed with: a failure before the entry was
// applied (kNotLeader, kAborted...) or the applied result.
std::string encode_outcome(const Result<ApplyResult>& outcome);

// The same Result again (kOk with the response, or the failure), or kCorruption naming the
// field and offset when the bytes are malformed. Never crashes on any input.
Result<ApplyResult> decode_outcome(std::string_view encoded);

}  // namespace dengine::net
