#include "log/snapshot_chunk.h"

#include <cstdio>

#include "common/byte_codec.h"
#include "log/crc32c.h"
#include "log/record.h"

namespace dengine::log {
namespace {

constexpr std::string_view kMagic = "DSNP";
constexpr size_t kCrcOffset = 28;  // the crc covers the header bytes before it

// A name from the wire, fit for a message: at most 64 bytes, unprintable bytes as \xNN.
std::string printable(std::string_view bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    }
  }
  if (bytes.size() > 64) out += "...";
  out += "\"";
  return out;
}

std::string_view kind_name(SnapshotChunkKind kind) {
  switch (kind) {
    case SnapshotChunkKind::kBegin: return "begin";
    case SnapshotChunkKind::kFileData: return "file data";
    case SnapshotChunkKind::kEnd: return "end";
  }
  return "unknown";
}

uint32_t header_crc(std::string_view chunk, std::string_view payload) {
  return crc32c_extend(crc32c(chunk.data(), kCrcOffset), payload.data(), payload.size());
}

// The rules encode_chunk() and decode_chunk() share; empty when the fields keep them.
std::string broken_rule(const SnapshotChunk& chunk) {
  const bool begin = chunk.kind == SnapshotChunkKind::kBegin;
  if (begin && chunk.sequence != 0) {
    return "a begin chunk has sequence " + std::to_string(chunk.sequence) + ", not 0";
  }
  if (!begin && chunk.sequence == 0) {
    return std::string("a ") + std::string(kind_name(chunk.kind)) + " chunk has sequence 0";
  }
  switch (chunk.kind) {
    case SnapshotChunkKind::kBegin:
      if (chunk.metadata.size() > kMaxSnapshotMetadataBytes) {
        return "metadata of " + std::to_string(chunk.metadata.size()) +
               " bytes exceeds its bound of " + std::to_string(kMaxSnapshotMetadataBytes);
      }
      [[fallthrough]];
    case SnapshotChunkKind::kEnd:
      if (chunk.file_count > kMaxSnapshotFiles) {
        return "file count " + std::to_string(chunk.file_count) + " exceeds its bound of " +
               std::to_string(kMaxSnapshotFiles);
      }
      return {};
    case SnapshotChunkKind::kFileData: {
      if (Status name = check_snapshot_file_name(chunk.file_name); !name) return name.message();
      if (chunk.data.size() > kMaxSnapshotChunkDataBytes) {
        return "data of " + std::to_string(chunk.data.size()) + " bytes exceeds its bound of " +
               std::to_string(kMaxSnapshotChunkDataBytes);
      }
      if (chunk.offset > UINT64_MAX - chunk.data.size()) {
        return "offset " + std::to_string(chunk.offset) + " plus " +
               std::to_string(chunk.data.size()) + " bytes overflows";
      }
      return {};
    }
  }
  return "unknown chunk kind " + std::to_string(static_cast<unsigned>(chunk.kind));
}

}  // namespace

SnapshotChunk begin_chunk(uint64_t snapshot_id, std::string_view metadata, uint32_t file_count,
                          uint64_t total_bytes) {
  SnapshotChunk chunk;
  chunk.snapshot_id = snapshot_id;
  chunk.sequence = 0;
  chunk.kind = SnapshotChunkKind::kBegin;
  chunk.metadata = metadata;
  chunk.file_count = file_count;
  chunk.total_bytes = total_bytes;
  return chunk;
}

SnapshotChunk file_data_chunk(uint64_t snapshot_id, uint64_t sequence, std::string_view file_name,
                              uint64_t offset, std::string_view data) {
  SnapshotChunk chunk;
  chunk.snapshot_id = snapshot_id;
  chunk.sequence = sequence;
  chunk.kind = SnapshotChunkKind::kFileData;
  chunk.file_name = file_name;
  chunk.offset = offset;
  chunk.data = data;
  return chunk;
}

SnapshotChunk end_chunk(uint64_t snapshot_id, uint64_t sequence, uint32_t file_count,
                        uint64_t total_bytes, uint32_t stream_crc) {
  SnapshotChunk chunk;
  chunk.snapshot_id = snapshot_id;
  chunk.sequence = sequence;
  chunk.kind = SnapshotChunkKind::kEnd;
  chunk.file_count = file_count;
  chunk.total_bytes = total_bytes;
  chunk.stream_crc = stream_crc;
  return chunk;
}

Status check_snapshot_file_name(std::string_view name) {
  std::string problem;
  if (name.empty()) {
    problem = "is empty";
  } else if (name.size() > kMaxSnapshotFileNameBytes) {
    problem = "is " + std::to_string(name.size()) + " bytes long, over the bound of " +
              std::to_string(kMaxSnapshotFileNameBytes);
  } else if (name == "." || name == "..") {
    problem = "names a directory";
  } else if (name.find('/') != std::string_view::npos) {
    problem = "contains '/'";
  } else if (name.find('\0') != std::string_view::npos) {
    problem = "contains a NUL byte";
  }
  if (problem.empty()) return Status::ok();
  return Status::invalid_argument("snapshot file name " + printable(name) + " " + problem +
                                  " (a snapshot holds plain file names only)");
}

Result<std::string> encode_chunk(const SnapshotChunk& chunk) {
  if (std::string problem = broken_rule(chunk); !problem.empty()) {
    return Status::invalid_argument("snapshot chunk: cannot encode " + describe_chunk(chunk) +
                                    ": " + problem);
  }
  ByteWriter writer;
  switch (chunk.kind) {
    case SnapshotChunkKind::kBegin:
      writer.u32(chunk.file_count);
      writer.u64(chunk.total_bytes);
      writer.u32(static_cast<uint32_t>(chunk.metadata.size()));
      writer.raw(chunk.metadata);
      break;
    case SnapshotChunkKind::kFileData:
      writer.reserve(2 + chunk.file_name.size() + 12 + chunk.data.size());
      writer.u16(static_cast<uint16_t>(chunk.file_name.size()));
      writer.raw(chunk.file_name);
      writer.u64(chunk.offset);
      writer.u32(static_cast<uint32_t>(chunk.data.size()));
      writer.raw(chunk.data);
      break;
    case SnapshotChunkKind::kEnd:
      writer.u32(chunk.file_count);
      writer.u64(chunk.total_bytes);
      writer.u32(chunk.stream_crc);
      break;
  }
  const std::string payload = writer.take();
  std::string out;
  out.reserve(kSnapshotChunkHeaderBytes + payload.size());
  out.append(kMagic);
  out.push_back(static_cast<char>(kSnapshotChunkFormatVersion));
  out.push_back(static_cast<char>(chunk.kind));
  out.append(2, '\0');
  put_u64(out, chunk.snapshot_id);
  put_u64(out, chunk.sequence);
  put_u32(out, static_cast<uint32_t>(payload.size()));
  put_u32(out, header_crc(out, payload));
  out.append(payload);
  return out;
}

Result<SnapshotChunk> decode_chunk(std::string_view encoded) {
  // The header first, cheapest checks first; the payload only once its checksum holds.
  if (encoded.size() < kSnapshotChunkHeaderBytes) {
    return Status::corruption("snapshot chunk: " + std::to_string(encoded.size()) +
                              " bytes, shorter than the " +
                              std::to_string(kSnapshotChunkHeaderBytes) + "-byte header");
  }
  if (encoded.substr(0, kMagic.size()) != kMagic) {
    return Status::corruption("snapshot chunk: bad magic " + printable(encoded.substr(0, 4)) +
                              " (expected \"DSNP\"): not a snapshot chunk");
  }
  const auto version = static_cast<uint8_t>(encoded[4]);
  if (version != kSnapshotChunkFormatVersion) {
    return Status::failed_precondition("snapshot chunk: unsupported format version " +
                                       std::to_string(version) + " (this build reads version " +
                                       std::to_string(kSnapshotChunkFormatVersion) + ")");
  }
  const auto kind = static_cast<uint8_t>(encoded[5]);
  if (kind < static_cast<uint8_t>(SnapshotChunkKind::kBegin) ||
      kind > static_cast<uint8_t>(SnapshotChunkKind::kEnd)) {
    return Status::corruption("snapshot chunk: unknown kind " + std::to_string(kind));
  }
  if (encoded[6] != 0 || encoded[7] != 0) {
    return Status::corruption("snapshot chunk: reserved header bytes 6..7 are not zero");
  }
  const uint32_t payload_bytes = get_u32(encoded.data() + 24);
  if (payload_bytes > kMaxSnapshotChunkPayloadBytes) {
    return Status::corruption("snapshot chunk: payload length " + std::to_string(payload_bytes) +
                              " exceeds its bound of " +
                              std::to_string(kMaxSnapshotChunkPayloadBytes));
  }
  if (payload_bytes != encoded.size() - kSnapshotChunkHeaderBytes) {
    return Status::corruption("snapshot chunk: payload length " + std::to_string(payload_bytes) +
                              " but " + std::to_string(encoded.size() - kSnapshotChunkHeaderBytes) +
                              " bytes follow the header (truncated or padded)");
  }
  const std::string_view payload = encoded.substr(kSnapshotChunkHeaderBytes);
  const uint32_t stored_crc = get_u32(encoded.data() + kCrcOffset);
  const uint32_t computed_crc = header_crc(encoded, payload);
  if (stored_crc != computed_crc) {
    return Status::corruption("snapshot chunk: checksum mismatch (expected " + hex32(computed_crc) +
                              ", found " + hex32(stored_crc) + ")");
  }

  SnapshotChunk chunk;
  chunk.kind = static_cast<SnapshotChunkKind>(kind);
  chunk.snapshot_id = get_u64(encoded.data() + 8);
  chunk.sequence = get_u64(encoded.data() + 16);
  ByteReader reader(payload, "snapshot chunk payload");
  switch (chunk.kind) {
    case SnapshotChunkKind::kBegin: {
      chunk.file_count = reader.u32("file count");
      chunk.total_bytes = reader.u64("total bytes");
      const uint64_t metadata_bytes = reader.u32("metadata length");
      if (reader.ok() && metadata_bytes > kMaxSnapshotMetadataBytes) {
        reader.fail("metadata length", std::to_string(metadata_bytes) + " exceeds its bound of " +
                                           std::to_string(kMaxSnapshotMetadataBytes));
      }
      chunk.metadata = reader.view(metadata_bytes, "metadata");
      break;
    }
    case SnapshotChunkKind::kFileData: {
      const uint64_t name_bytes = reader.u16("file name length");
      chunk.file_name = reader.view(name_bytes, "file name");
      chunk.offset = reader.u64("offset");
      const uint64_t data_bytes = reader.u32("data length");
      if (reader.ok() && data_bytes > kMaxSnapshotChunkDataBytes) {
        reader.fail("data length", std::to_string(data_bytes) + " exceeds its bound of " +
                                       std::to_string(kMaxSnapshotChunkDataBytes));
      }
      chunk.data = reader.view(data_bytes, "data");
      break;
    }
    case SnapshotChunkKind::kEnd:
      chunk.file_count = reader.u32("file count");
      chunk.total_bytes = reader.u64("total bytes");
      chunk.stream_crc = reader.u32("stream crc");
      break;
  }
  if (reader.ok() && !reader.at_end()) reader.fail("payload", "has bytes after its last field");
  if (!reader.ok()) return reader.status();
  if (std::string problem = broken_rule(chunk); !problem.empty()) {
    return Status::corruption("snapshot chunk: " + describe_chunk(chunk) + ": " + problem);
  }
  return chunk;
}

std::string snapshot_id_text(uint64_t snapshot_id) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(snapshot_id));
  return text;
}

std::string describe_chunk(const SnapshotChunk& chunk) {
  std::string text = std::string(kind_name(chunk.kind)) + " chunk " +
                     std::to_string(chunk.sequence) + " of snapshot " +
                     snapshot_id_text(chunk.snapshot_id);
  switch (chunk.kind) {
    case SnapshotChunkKind::kBegin:
      text += " (" + std::to_string(chunk.file_count) + " files, " +
              std::to_string(chunk.total_bytes) + " bytes)";
      break;
    case SnapshotChunkKind::kFileData:
      text += " (" + printable(chunk.file_name) + ", " + std::to_string(chunk.data.size()) +
              " bytes at offset " + std::to_string(chunk.offset) + ")";
      break;
    case SnapshotChunkKind::kEnd:
      text += " (" + std::to_string(chunk.file_count) + " files, " +
              std::to_string(chunk.total_bytes) + " bytes, stream crc " + hex32(chunk.stream_crc) +
              ")";
      break;
  }
  return text;
}

}  // namespace dengine::log
