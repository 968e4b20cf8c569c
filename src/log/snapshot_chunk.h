#pragma once

// One chunk of a snapshot stream: how a state-machine snapshot (a directory of files) travels
// from a leader to a lagging follower in bounded pieces. A stream is one begin chunk, then the
// files' bytes in file-data chunks (files in increasing name order, each from offset 0 on
// without gaps, and at least one chunk per file, so an empty file travels too), then one end
// chunk. SnapshotSender writes streams, SnapshotReceiver checks and installs them.
//
// THIS IS A WIRE FORMAT: replicas of different versions read each other's streams during an
// upgrade. Never change the meaning of an existing byte; add a format version instead.
//
// Format version 1. Integers little-endian.
//
//   offset  size  field
//   0       4     magic "DSNP"
//   4       1     format version (1)
//   5       1     kind: 1 begin, 2 file data, 3 end
//   6       2     reserved, zero
//   8       8     snapshot id (chosen by the sender; every chunk of a stream carries it)
//   16      8     sequence: 0 for the begin chunk, then 1, 2, ... without gaps
//   24      4     payload length
//   28      4     crc: CRC32C of bytes 0 .. 27, then of the payload
//   32      ...   payload; the chunk ends exactly where the payload does
//
//   begin payload     := file_count:u32 total_bytes:u64 metadata_length:u32 metadata
//   file data payload := name_length:u16 name offset:u64 data_length:u32 data
//   end payload       := file_count:u32 total_bytes:u64 stream_crc:u32
//
// metadata: opaque bytes from the caller (the Raft snapshot metadata, encoded by its owner).
// stream_crc: CRC32C of every file's bytes, the files in stream order, concatenated.
// A file name is plain: 1 to 255 bytes, no '/', no NUL, not "." or "..".

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dengine/status.h"

namespace dengine::log {

inline constexpr uint8_t kSnapshotChunkFormatVersion = 1;
inline constexpr size_t kSnapshotChunkHeaderBytes = 32;
// Bounds, checked when encoding and when decoding.
inline constexpr size_t kMaxSnapshotChunkDataBytes = size_t{4} << 20;  // file bytes per chunk
inline constexpr size_t kMaxSnapshotMetadataBytes = size_t{1} << 20;   // begin chunk metadata
inline constexpr size_t kMaxSnapshotFileNameBytes = 255;               // as most file systems
inline constexpr uint32_t kMaxSnapshotFiles = uint32_t{1} << 20;       // files in a snapshot
inline constexpr size_t kMaxSnapshotChunkPayloadBytes =                // the largest: file data
    2 + kMaxSnapshotFileNameBytes + 8 + 4 + kMaxSnapshotChunkDataBytes;
inline constexpr size_t kMaxSnapshotChunkBytes =
    kSnapshotChunkHeaderBytes + kMaxSnapshotChunkPayloadBytes;

enum class SnapshotChunkKind : uint8_t {
  kBegin = 1,
  kFileData = 2,
  kEnd = 3,
};

// The fields of one chunk; which ones mean something depends on the kind. The string views
// point into the caller's bytes: into the encoded chunk after decode_chunk(), so it must
// outlive the SnapshotChunk.
struct SnapshotChunk {
  uint64_t snapshot_id = 0;
  uint64_t sequence = 0;
  SnapshotChunkKind kind = SnapshotChunkKind::kBegin;
  std::string_view metadata{};   // kBegin
  uint32_t file_count = 0;       // kBegin (announced) and kEnd (sent)
  uint64_t total_bytes = 0;      // kBegin (announced) and kEnd (sent)
  std::string_view file_name{};  // kFileData
  uint64_t offset = 0;           // kFileData: where `data` goes in the file
  std::string_view data{};       // kFileData
  uint32_t stream_crc = 0;       // kEnd
};

SnapshotChunk begin_chunk(uint64_t snapshot_id, std::string_view metadata, uint32_t file_count,
                          uint64_t total_bytes);
SnapshotChunk file_data_chunk(uint64_t snapshot_id, uint64_t sequence, std::string_view file_name,
                              uint64_t offset, std::string_view data);
SnapshotChunk end_chunk(uint64_t snapshot_id, uint64_t sequence, uint32_t file_count,
                        uint64_t total_bytes, uint32_t stream_crc);

// kInvalidArgument (and nothing encoded) when a field breaks a rule of the format: a bound, a
// file name that is not plain, a begin chunk whose sequence is not 0 or another chunk whose is.
Result<std::string> encode_chunk(const SnapshotChunk& chunk);

// Never reads outside `encoded` and never crashes: malformed bytes give kCorruption naming the
// field and the problem; an unknown format version gives kFailedPrecondition. decode_chunk of
// encode_chunk's output gives back the same fields, and encode_chunk of a decoded chunk the
// same bytes.
Result<SnapshotChunk> decode_chunk(std::string_view encoded);

// OK when `name` is a plain file name (see the format above); else kInvalidArgument saying why.
Status check_snapshot_file_name(std::string_view name);

// "file data chunk 3 of snapshot 0x2a (000012.sst, 1048576 bytes at offset 2097152)", for
// messages.
std::string describe_chunk(const SnapshotChunk& chunk);
// "0x2a"
std::string snapshot_id_text(uint64_t snapshot_id);

}  // namespace dengine::log
