#include "tools/snapshot_file_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "log/record.h"
#include "log/snapshot_receiver.h"
#include "tools/discarding_file_system.h"
#include "tools/sha256.h"

namespace dengine::tools {
namespace {

constexpr const char* kImageDirName = "image";
// Where a chunk's header holds its payload's length (log/snapshot_chunk.h).
constexpr size_t kChunkPayloadLengthOffset = 24;

// The file read front to back, every byte but the trailing digest hashed on the way.
class FileCursor {
 public:
  explicit FileCursor(const std::string& path) : in_(path, std::ios::binary) {}

  [[nodiscard]] bool is_open() const { return in_.is_open(); }
  [[nodiscard]] uint64_t offset() const { return offset_; }

  // Up to `n` bytes; fewer only at the end of the file.
  std::string read(size_t n, bool hashed = true) {
    std::string bytes(n, '\0');
    in_.read(bytes.data(), static_cast<std::streamsize>(n));
    bytes.resize(static_cast<size_t>(in_.gcount()));
    offset_ += bytes.size();
    if (hashed) sha_.add(bytes);
    return bytes;
  }
  [[nodiscard]] bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }
  [[nodiscard]] Sha256Digest digest() const { return sha_.digest(); }

 private:
  std::ifstream in_;
  uint64_t offset_ = 0;
  Sha256 sha_;
};

class Reader {
 public:
  Reader(const std::string& path, std::shared_ptr<log::FileSystem> fs, std::string root)
      : path_(path), fs_(std::move(fs)), root_(std::move(root)), cursor_(path) {}

  Result<SnapshotFileContents> read() {
    std::error_code error;
    contents_.file_bytes = std::filesystem::file_size(path_, error);
    if (error || !cursor_.is_open()) {
      return Status::not_found("snapshot file " + path_ + ": cannot open it" +
                               (error ? ": " + error.message() : std::string()));
    }
    if (Status header = check_snapshot_file_header(cursor_.read(kSnapshotFileHeaderBytes));
        !header) {
      return at(0, header);
    }
    contents_.format_version = kSnapshotFileFormatVersion;
    Result<log::InstalledSnapshot> image = read_stream();
    if (!image) return image.status();
    if (Status trailer = read_trailer(); !trailer) return trailer;
    Result<SnapshotDescription> description = decode_description(image->metadata);
    if (!description) return at(kSnapshotFileHeaderBytes, description.status());
    contents_.description = std::move(*description);
    contents_.image_files = image->file_count;
    contents_.image_bytes = image->total_bytes;
    contents_.image_dir = image->path;
    return contents_;
  }

 private:
  // The problem `cause` found at `offset` (`where`: "at offset", or "in the chunk at offset"
  // for a chunk that does not check out), in the terms docs/architecture.md §8 asks of damage
  // reports.
  [[nodiscard]] Status at(uint64_t offset, const Status& cause,
                          std::string_view where = "at offset") const {
    const bool damage =
        cause.code() == StatusCode::kCorruption || cause.code() == StatusCode::kInvalidArgument;
    return {damage ? StatusCode::kCorruption : cause.code(),
            "snapshot file " + path_ + (damage ? " is corrupt " : " ") + std::string(where) + " " +
                std::to_string(offset) + ": " + cause.message()};
  }

  [[nodiscard]] Status truncated(uint64_t offset, const std::string& what) const {
    return Status::corruption("snapshot file " + path_ + " is corrupt at offset " +
                              std::to_string(offset) + ": the file ends inside " + what + " (" +
                              std::to_string(contents_.file_bytes) + " bytes: truncated?)");
  }

  Result<log::InstalledSnapshot> read_stream() {
    Result<log::SnapshotReceiver> receiver = log::SnapshotReceiver::open(
        fs_, root_, log::SnapshotReceiverOptions{.final_dir_name = kImageDirName});
    if (!receiver) return receiver.status();
    const auto fail = [&](const Status& why) {
      (void)receiver->abort();  // its staging directory; the caller removes the rest
      return why;
    };
    while (true) {
      const uint64_t chunk_offset = cursor_.offset();
      std::string chunk = cursor_.read(log::kSnapshotChunkHeaderBytes);
      if (chunk.size() < log::kSnapshotChunkHeaderBytes) {
        return fail(truncated(chunk_offset, "a chunk"));
      }
      // Bounded before anything is allocated for it; the chunk's CRC covers the length too.
      const uint32_t payload_bytes = log::get_u32(chunk.data() + kChunkPayloadLengthOffset);
      if (payload_bytes > log::kMaxSnapshotChunkPayloadBytes) {
        return fail(at(chunk_offset,
                       Status::corruption("chunk payload length " + std::to_string(payload_bytes) +
                                          " is over the format's bound of " +
                                          std::to_string(log::kMaxSnapshotChunkPayloadBytes))));
      }
      chunk += cursor_.read(payload_bytes);
      if (chunk.size() < log::kSnapshotChunkHeaderBytes + payload_bytes) {
        return fail(truncated(chunk_offset, "a chunk"));
      }
      Result<std::optional<log::InstalledSnapshot>> accepted = receiver->accept(chunk);
      if (!accepted) return fail(at(chunk_offset, accepted.status(), "in the chunk at offset"));
      if (accepted->has_value()) return std::move(**accepted);
    }
  }

  // The padding after the stream, then the digest of everything before it, then nothing.
  Status read_trailer() {
    const uint64_t padding_offset = cursor_.offset();
    const uint64_t padding = padding_after(padding_offset);
    const std::string zeros = cursor_.read(padding);
    if (zeros.size() < padding) return truncated(padding_offset, "the padding");
    if (const size_t nonzero = zeros.find_first_not_of('\0'); nonzero != std::string::npos) {
      return at(padding_offset + nonzero,
                Status::corruption("a nonzero byte in the padding after the chunk stream"));
    }
    const uint64_t digest_offset = cursor_.offset();
    const Sha256Digest computed = cursor_.digest();
    const std::string stored = cursor_.read(kSha256Bytes, /*hashed=*/false);
    if (stored.size() < kSha256Bytes) return truncated(digest_offset, "the trailing sha256");
    if (!cursor_.at_end()) {
      return at(digest_offset + kSha256Bytes,
                Status::corruption("bytes follow the trailing sha256 (the file is " +
                                   std::to_string(contents_.file_bytes) + " bytes, expected " +
                                   std::to_string(digest_offset + kSha256Bytes) + ")"));
    }
    if (std::memcmp(stored.data(), computed.data(), kSha256Bytes) != 0) {
      Sha256Digest found{};
      std::memcpy(found.data(), stored.data(), kSha256Bytes);
      return Status::corruption("snapshot file " + path_ + ": sha256 checksum mismatch at offset " +
                                std::to_string(digest_offset) + " (computed " +
                                hex_digest(computed) +
                                " over the bytes before it, the file holds " + hex_digest(found) +
                                "): the file is corrupt");
    }
    contents_.sha256 = hex_digest(computed);
    return Status::ok();
  }

  const std::string path_;
  std::shared_ptr<log::FileSystem> fs_;
  const std::string root_;
  FileCursor cursor_;
  SnapshotFileContents contents_;
};

}  // namespace

Result<SnapshotFileContents> read_snapshot_file(const std::string& path,
                                                std::shared_ptr<log::FileSystem> fs,
                                                const std::string& root) {
  return Reader(path, std::move(fs), root).read();
}

Result<SnapshotFileContents> verify_snapshot_file(const std::string& path) {
  return read_snapshot_file(path, std::make_shared<DiscardingFileSystem>(), "verify");
}

}  // namespace dengine::tools
