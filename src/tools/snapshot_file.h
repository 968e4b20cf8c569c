#pragma once

// The saved snapshot file: what `etcdctl snapshot save` writes from Maintenance.Snapshot and
// `dengine-ctl snapshot status|restore` reads. One member's whole state machine image (a
// directory of files, StateMachine::write_snapshot), as the chunk stream members send each other
// (log/snapshot_chunk.h), with a header in front and etcd's trailer behind.
//
// THIS IS A FILE FORMAT: operators keep these files for years. Never change the meaning of a
// byte; add a format version instead, and keep reading the old ones.
//
// Format version 1. Integers little-endian.
//
//   file        := header stream padding digest
//   header      := magic "DENGSNAP" (8 bytes) format_version:u32 (=1) header_crc:u32
//                  header_crc: CRC32C of the 12 bytes before it
//   stream      := one snapshot chunk stream, chunk format 1: the begin chunk (its metadata is
//                  the description below), the image's files in file data chunks, the end chunk
//                  with the CRC32C of every file byte. Each chunk carries its own CRC32C and
//                  its payload length (at its byte 24), so the stream needs no framing.
//   padding     := zero bytes up to the next multiple of 512 bytes from the start of the file
//   digest      := SHA-256 of every byte before it (32 bytes)
//
//   description := version:u8 (=1) image_kind:u8 member_id:u64 cluster_id:u64
//                  taken_unix_ms:i64 applied_index:u64 term:u64
//                  voters voters_outgoing learners, each n:u32 then id:u64 * n
//   image_kind  := 1: a checkpoint of the RocksDB state machine (kv/rocksdb_kv_store.h)
//
// A file is thus 512·k + 32 bytes long. That is etcd's convention (its database padded to whole
// pages, then the database's sha256), and etcdctl 3.4's `snapshot save` checks the size for it
// before it keeps what it received; etcd's own restore checks the digest the same way.
//
// The description says where the image sits in its cluster's log (applied index and term, the
// configuration then) and which member took it; the image's files hold the keys, their history
// and the leases.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::tools {

inline constexpr std::string_view kSnapshotFileMagic = "DENGSNAP";
inline constexpr uint32_t kSnapshotFileFormatVersion = 1;
inline constexpr size_t kSnapshotFileHeaderBytes = 16;
inline constexpr uint64_t kSnapshotFileBlockBytes = 512;
inline constexpr uint8_t kSnapshotDescriptionVersion = 1;
// File bytes per data chunk when saving: large enough for few gRPC messages, small enough that
// a stream holds little memory.
inline constexpr size_t kSnapshotFileChunkDataBytes = size_t{1} << 20;

enum class ImageKind : uint8_t {
  kRocksDbCheckpoint = 1,
};

struct SnapshotDescription {
  ImageKind image_kind = ImageKind::kRocksDbCheckpoint;
  uint64_t member_id = 0;   // the member that took it
  uint64_t cluster_id = 0;  // its cluster
  int64_t taken_unix_ms = 0;
  SnapshotMeta image;  // the applied index it holds, that entry's term, the configuration then

  friend bool operator==(const SnapshotDescription&, const SnapshotDescription&) = default;
};

std::string encode_snapshot_file_header();
// `bytes`: the first kSnapshotFileHeaderBytes of a file. kCorruption naming the problem, or
// kFailedPrecondition for a format version this build does not read.
Status check_snapshot_file_header(std::string_view bytes);

std::string encode_description(const SnapshotDescription& description);
Result<SnapshotDescription> decode_description(std::string_view bytes);

// Zero bytes that follow `body_bytes` so that the body fills whole 512-byte blocks.
uint64_t padding_after(uint64_t body_bytes);

// One file of an image, as the stream carries it.
struct ImageFile {
  std::string name;
  uint64_t bytes = 0;
};
// Bytes before the digest of a file holding `files` (in any order) cut into data chunks of at
// most `max_chunk_bytes`, with a description of `description_bytes`. Known before anything is
// read, for etcd's remaining_bytes.
uint64_t snapshot_file_body_bytes(std::span<const ImageFile> files, size_t description_bytes,
                                  size_t max_chunk_bytes);

}  // namespace dengine::tools
