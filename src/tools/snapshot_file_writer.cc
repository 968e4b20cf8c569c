#include "tools/snapshot_file_writer.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>
#include <vector>

#include "log/posix_file_system.h"

namespace dengine::tools {
namespace {

Result<std::vector<ImageFile>> list_image(const std::string& dir) {
  std::vector<ImageFile> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    const uint64_t bytes = it->file_size(error);
    if (error) break;
    files.push_back(ImageFile{it->path().filename().string(), bytes});
  }
  if (error) {
    return Status::io_error("snapshot file: cannot list the image " + dir + ": " + error.message());
  }
  return files;
}

bool is_end_chunk(std::string_view encoded) {
  Result<log::SnapshotChunk> chunk = log::decode_chunk(encoded);
  return chunk && chunk->kind == log::SnapshotChunkKind::kEnd;
}

}  // namespace

Result<SnapshotFileWriter> SnapshotFileWriter::open(const std::string& image_dir,
                                                    const SnapshotDescription& description,
                                                    size_t max_chunk_bytes) {
  const std::string metadata = encode_description(description);
  Result<std::vector<ImageFile>> files = list_image(image_dir);
  if (!files) return files.status();
  // The id only names the stream for a receiver's staging directory; any value will do.
  const uint64_t stream_id = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  Result<log::SnapshotSender> sender = log::SnapshotSender::open(
      std::make_shared<log::PosixFileSystem>(), image_dir, stream_id, metadata,
      log::SnapshotSenderOptions{.max_chunk_bytes = max_chunk_bytes});
  if (!sender) return sender.status();
  if (sender->file_count() != files->size()) {
    return Status::failed_precondition("snapshot file: the image " + image_dir +
                                       " changed while it was being opened");
  }
  return SnapshotFileWriter(std::move(*sender),
                            snapshot_file_body_bytes(*files, metadata.size(), max_chunk_bytes));
}

Result<std::optional<SnapshotFileWriter::Piece>> SnapshotFileWriter::fail(Status status) {
  error_ = std::move(status);
  return error_;
}

Result<std::optional<SnapshotFileWriter::Piece>> SnapshotFileWriter::next() {
  if (!error_.is_ok()) return error_;
  if (digest_sent_) return std::optional<Piece>();
  Piece piece;
  if (produced_ == body_bytes_) {
    const Sha256Digest digest = sha_.digest();
    piece.bytes.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    digest_sent_ = true;
    return std::optional<Piece>(std::move(piece));
  }
  if (produced_ == 0) piece.bytes = encode_snapshot_file_header();
  Result<std::optional<std::string>> chunk = sender_.next_chunk();
  if (!chunk) return fail(chunk.status());
  if (!chunk->has_value()) {
    return fail(Status::internal("snapshot file: the chunk stream ended before the body"));
  }
  const bool stream_ended = is_end_chunk(**chunk);
  piece.bytes += **chunk;
  if (stream_ended) piece.bytes.append(padding_after(produced_ + piece.bytes.size()), '\0');
  produced_ += piece.bytes.size();
  if (produced_ > body_bytes_ || stream_ended != (produced_ == body_bytes_)) {
    // The size announced up front does not match what the chunks hold: a format drift.
    return fail(Status::internal("snapshot file: the body came to " + std::to_string(produced_) +
                                 " bytes, not the " + std::to_string(body_bytes_) + " announced"));
  }
  sha_.add(piece.bytes);
  piece.remaining_bytes = body_bytes_ - produced_;
  return std::optional<Piece>(std::move(piece));
}

Status write_snapshot_file(const std::string& image_dir, const SnapshotDescription& description,
                           const std::string& path, size_t max_chunk_bytes) {
  Result<SnapshotFileWriter> writer =
      SnapshotFileWriter::open(image_dir, description, max_chunk_bytes);
  if (!writer) return writer.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::io_error("snapshot file: cannot create " + path);
  while (true) {
    Result<std::optional<SnapshotFileWriter::Piece>> piece = writer->next();
    if (!piece) return piece.status();
    if (!piece->has_value()) break;
    out.write((*piece)->bytes.data(), static_cast<std::streamsize>((*piece)->bytes.size()));
  }
  out.close();
  if (!out) return Status::io_error("snapshot file: cannot write " + path);
  return Status::ok();
}

}  // namespace dengine::tools
