#include "runtime/compaction_record.h"

#include "common/byte_codec.h"
#include "kv/durable_files.h"
#include "log/crc32c.h"

namespace dengine::runtime {
namespace {

constexpr std::string_view kMagic = "DCMP";
constexpr uint8_t kVersion = 1;
constexpr size_t kMaxMembers = 1024;

void write_ids(ByteWriter& out, const std::vector<NodeId>& ids) {
  out.count(ids.size());
  for (NodeId id : ids) out.u64(id);
}

std::vector<NodeId> read_ids(ByteReader& in, std::string_view field) {
  std::vector<NodeId> ids(in.count(field, kMaxMembers, 8));
  for (NodeId& id : ids) id = in.u64(field);
  return ids;
}

}  // namespace

std::string encode_compaction_record(const SnapshotMeta& meta) {
  ByteWriter out;
  for (char c : kMagic) out.u8(static_cast<uint8_t>(c));
  out.u8(kVersion);
  out.u64(meta.index);
  out.u64(meta.term);
  write_ids(out, meta.conf.voters);
  write_ids(out, meta.conf.voters_outgoing);
  write_ids(out, meta.conf.learners);
  std::string bytes = out.take();
  ByteWriter crc;
  crc.u32(log::crc32c(bytes.data(), bytes.size()));
  return bytes + crc.take();
}

Result<SnapshotMeta> decode_compaction_record(std::string_view bytes, const std::string& path) {
  const std::string where = "compaction record " + path;
  if (bytes.size() < kMagic.size() + 1 + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
    return Status::corruption(where + " is corrupt: no DCMP header");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  ByteReader crc_reader(bytes.substr(bytes.size() - 4), "compaction record");
  const uint32_t stored_crc = crc_reader.u32("crc");
  if (stored_crc != log::crc32c(body.data(), body.size())) {
    return Status::corruption(where + ": checksum mismatch");
  }
  ByteReader in(body.substr(kMagic.size()), "compaction record");
  const uint8_t version = in.u8("version");
  if (in.ok() && version != kVersion) {
    return Status::failed_precondition(where + " has format version " + std::to_string(version) +
                                       ", this build reads version 1");
  }
  SnapshotMeta meta;
  meta.index = in.u64("index");
  meta.term = in.u64("term");
  meta.conf.voters = read_ids(in, "voters");
  meta.conf.voters_outgoing = read_ids(in, "voters_outgoing");
  meta.conf.learners = read_ids(in, "learners");
  if (!in.ok()) return Status::corruption(where + ": " + in.status().message());
  if (!in.at_end()) return Status::corruption(where + " is corrupt: bytes after the learners");
  return meta;
}

Status CompactionRecord::save(const SnapshotMeta& meta) const {
  return kv::write_file_atomically(dir_, name_, encode_compaction_record(meta));
}

Result<SnapshotMeta> CompactionRecord::load() const {
  const std::string path = dir_ + "/" + name_;
  Result<std::string> bytes = kv::read_whole_file(path);
  if (!bytes) {
    if (bytes.status().code() == StatusCode::kNotFound) return SnapshotMeta{};
    return bytes.status();
  }
  return decode_compaction_record(*bytes, path);
}

}  // namespace dengine::runtime
