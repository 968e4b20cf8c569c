#include "tools/snapshot_file.h"

#include "common/byte_codec.h"
#include "log/crc32c.h"
#include "log/record.h"
#include "log/snapshot_chunk.h"

namespace dengine::tools {
namespace {

constexpr size_t kMaxMembers = 1024;
// begin payload: file_count:u32 total_bytes:u64 metadata_length:u32 (snapshot_chunk.h)
constexpr uint64_t kBeginPayloadBytes = 4 + 8 + 4;
// file data payload: name_length:u16 name offset:u64 data_length:u32 data
constexpr uint64_t kFileDataPayloadBytes = 2 + 8 + 4;
// end payload: file_count:u32 total_bytes:u64 stream_crc:u32
constexpr uint64_t kEndPayloadBytes = 4 + 8 + 4;

void write_ids(ByteWriter& out, const std::vector<NodeId>& ids) {
  out.count(ids.size());
  for (const NodeId id : ids) out.u64(id);
}

std::vector<NodeId> read_ids(ByteReader& in, std::string_view field) {
  std::vector<NodeId> ids(in.count(field, kMaxMembers, 8));
  for (NodeId& id : ids) id = in.u64(field);
  return ids;
}

}  // namespace

std::string encode_snapshot_file_header() {
  std::string out(kSnapshotFileMagic);
  log::put_u32(out, kSnapshotFileFormatVersion);
  log::put_u32(out, log::crc32c(out.data(), out.size()));
  return out;
}

Status check_snapshot_file_header(std::string_view bytes) {
  if (bytes.size() < kSnapshotFileHeaderBytes) {
    return Status::corruption("the file is " + std::to_string(bytes.size()) +
                              " bytes long, shorter than the " +
                              std::to_string(kSnapshotFileHeaderBytes) + "-byte header");
  }
  if (bytes.substr(0, kSnapshotFileMagic.size()) != kSnapshotFileMagic) {
    return Status::corruption(
        "no \"DENGSNAP\" magic at offset 0: not a dengine snapshot file (corrupt, or saved from "
        "another server)");
  }
  const uint32_t stored_crc = log::get_u32(bytes.data() + 12);
  const uint32_t computed_crc = log::crc32c(bytes.data(), 12);
  if (stored_crc != computed_crc) {
    return Status::corruption("header checksum mismatch at offset 12 (expected " +
                              log::hex32(computed_crc) + ", found " + log::hex32(stored_crc) + ")");
  }
  const uint32_t version = log::get_u32(bytes.data() + 8);
  if (version != kSnapshotFileFormatVersion) {
    return Status::failed_precondition("format version " + std::to_string(version) +
                                       ", this build reads version " +
                                       std::to_string(kSnapshotFileFormatVersion));
  }
  return Status::ok();
}

std::string encode_description(const SnapshotDescription& description) {
  ByteWriter out;
  out.u8(kSnapshotDescriptionVersion);
  out.u8(static_cast<uint8_t>(description.image_kind));
  out.u64(description.member_id);
  out.u64(description.cluster_id);
  out.i64(description.taken_unix_ms);
  out.u64(description.image.index);
  out.u64(description.image.term);
  write_ids(out, description.image.conf.voters);
  write_ids(out, description.image.conf.voters_outgoing);
  write_ids(out, description.image.conf.learners);
  return out.take();
}

Result<SnapshotDescription> decode_description(std::string_view bytes) {
  ByteReader in(bytes, "snapshot description");
  const uint8_t version = in.u8("version");
  if (in.ok() && version != kSnapshotDescriptionVersion) {
    return Status::failed_precondition("snapshot description has version " +
                                       std::to_string(version) + ", this build reads version " +
                                       std::to_string(kSnapshotDescriptionVersion));
  }
  SnapshotDescription description;
  const uint8_t kind = in.u8("image kind");
  if (in.ok() && kind != static_cast<uint8_t>(ImageKind::kRocksDbCheckpoint)) {
    return Status::failed_precondition("snapshot holds an image of kind " + std::to_string(kind) +
                                       ", this build reads kind 1 (a RocksDB checkpoint)");
  }
  description.image_kind = static_cast<ImageKind>(kind);
  description.member_id = in.u64("member id");
  description.cluster_id = in.u64("cluster id");
  description.taken_unix_ms = in.i64("time taken");
  description.image.index = in.u64("applied index");
  description.image.term = in.u64("term");
  description.image.conf.voters = read_ids(in, "voters");
  description.image.conf.voters_outgoing = read_ids(in, "outgoing voters");
  description.image.conf.learners = read_ids(in, "learners");
  if (in.ok() && !in.at_end()) in.fail("learners", "are followed by unknown bytes");
  if (!in.ok()) return in.status();
  if (description.image.index == 0 || description.image.conf.voters.empty()) {
    return Status::corruption("snapshot description: an image at index " +
                              std::to_string(description.image.index) + " with " +
                              std::to_string(description.image.conf.voters.size()) +
                              " voters (expected an applied entry and at least one voter)");
  }
  return description;
}

uint64_t padding_after(uint64_t body_bytes) {
  const uint64_t partial = body_bytes % kSnapshotFileBlockBytes;
  return partial == 0 ? 0 : kSnapshotFileBlockBytes - partial;
}

uint64_t snapshot_file_body_bytes(std::span<const ImageFile> files, size_t description_bytes,
                                  size_t max_chunk_bytes) {
  uint64_t bytes = kSnapshotFileHeaderBytes;
  bytes += log::kSnapshotChunkHeaderBytes + kBeginPayloadBytes + description_bytes;
  for (const ImageFile& file : files) {
    // An empty file still travels as one (empty) chunk.
    const uint64_t chunks =
        file.bytes == 0 ? 1 : (file.bytes + max_chunk_bytes - 1) / max_chunk_bytes;
    bytes += file.bytes +
             chunks * (log::kSnapshotChunkHeaderBytes + kFileDataPayloadBytes + file.name.size());
  }
  bytes += log::kSnapshotChunkHeaderBytes + kEndPayloadBytes;
  return bytes + padding_after(bytes);
}

}  // namespace dengine::tools
