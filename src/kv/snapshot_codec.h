#pragma once

// The in-memory store's snapshot: the whole KvState as bytes.
//
// THIS IS AN ON-DISK FORMAT (snapshots are stored and sent to other members): change it only
// by adding a format version and keeping the old one readable.
//
// Format version 2, little-endian, byte strings as a u32 length then the bytes:
//
//   snapshot   := format:u8 (=2) applied_index:u64 current_revision:i64 compact_revision:i64
//                 n:u32 lease*n  n:u32 key_index*n  n:u32 record*n  n:u32 member*n
//                 n:u32 alarm*n  checksum:u64
//   lease      := id:i64 ttl_seconds:i64 remaining_ttl_seconds:i64
//   key_index  := key modified_main:i64 modified_sub:i64 n:u32 generation*n
//   generation := version:i64 created_main:i64 created_sub:i64 n:u32 (main:i64 sub:i64)*n
//   record     := main:i64 sub:i64 tombstone:u8 key
//                 [unless tombstone: create:i64 mod:i64 version:i64 lease:i64 value]
//   member     := kv/member_codec.h's record
//   alarm      := member:u64 type:u8 (etcd's AlarmType)
//   checksum   := FNV-1a (64-bit) of every byte before it
//
// Version 1 is version 2 without the members and alarms (written before they were kept); it is
// still read.
//
// Lease attachments are not stored: they follow from the live keys' lease fields.

#include <string>
#include <string_view>

#include "dengine/status.h"
#include "kv/kv_applier.h"

namespace dengine::kv {

inline constexpr uint8_t kSnapshotFormatVersion = 2;
inline constexpr uint8_t kOldestSnapshotFormatVersion = 1;

std::string encode_snapshot(const KvState& state);
// Malformed, inconsistent or damaged input gives kCorruption; never crashes.
Result<KvState> decode_snapshot(std::string_view encoded);

}  // namespace dengine::kv
