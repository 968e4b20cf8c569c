#include "log/snapshot_sender.h"

#include <algorithm>

#include "log/crc32c.h"

namespace dengine::log {
namespace {

Status with_context(const std::string& context, const Status& cause) {
  return {cause.code(), "snapshot sender: " + context + ": " + cause.message(), cause.detail()};
}

}  // namespace

SnapshotSender::SnapshotSender(std::shared_ptr<FileSystem> fs, std::string dir,
                               uint64_t snapshot_id, std::string metadata,
                               const SnapshotSenderOptions& options)
    : fs_(std::move(fs)),
      dir_(std::move(dir)),
      snapshot_id_(snapshot_id),
      metadata_(std::move(metadata)),
      options_(options) {}

Result<SnapshotSender> SnapshotSender::open(std::shared_ptr<FileSystem> fs, std::string dir,
                                            uint64_t snapshot_id, std::string metadata,
                                            const SnapshotSenderOptions& options) {
  if (options.max_chunk_bytes == 0 || options.max_chunk_bytes > kMaxSnapshotChunkDataBytes) {
    return Status::invalid_argument("snapshot sender: max_chunk_bytes must be between 1 and " +
                                    std::to_string(kMaxSnapshotChunkDataBytes) + ", not " +
                                    std::to_string(options.max_chunk_bytes));
  }
  if (metadata.size() > kMaxSnapshotMetadataBytes) {
    return Status::invalid_argument(
        "snapshot sender: metadata of " + std::to_string(metadata.size()) +
        " bytes exceeds its bound of " + std::to_string(kMaxSnapshotMetadataBytes));
  }
  SnapshotSender sender(std::move(fs), std::move(dir), snapshot_id, std::move(metadata), options);
  Result<std::vector<std::string>> names = sender.fs_->list_dir(sender.dir_);
  if (!names) return with_context("listing " + sender.dir_, names.status());
  if (names->size() > kMaxSnapshotFiles) {
    return Status::invalid_argument("snapshot sender: " + sender.dir_ + " holds " +
                                    std::to_string(names->size()) + " entries, over the bound of " +
                                    std::to_string(kMaxSnapshotFiles) + " files");
  }
  std::sort(names->begin(), names->end());  // the stream's order, whatever the listing's
  for (std::string& name : *names) {
    if (Status plain = check_snapshot_file_name(name); !plain) {
      return with_context("in " + sender.dir_, plain);
    }
    const std::string path = join_path(sender.dir_, name);
    Result<std::unique_ptr<File>> file = sender.fs_->open(path, 0);
    if (!file) return with_context("opening " + path, file.status());
    Result<uint64_t> size = (*file)->size();
    if (!size) return with_context("size of " + path, size.status());
    sender.total_bytes_ += *size;
    sender.files_.push_back(FileToSend{std::move(name), *size});
  }
  return sender;
}

Result<std::optional<std::string>> SnapshotSender::fail(Status status) {
  error_ = std::move(status);
  file_.reset();
  return error_;
}

Result<std::optional<std::string>> SnapshotSender::next_chunk() {
  if (!error_.is_ok()) return error_;
  Result<std::string> chunk = Status::internal("snapshot sender: no chunk made");
  switch (stage_) {
    case Stage::kBegin:
      chunk = encode_chunk(
          begin_chunk(snapshot_id_, metadata_, static_cast<uint32_t>(files_.size()), total_bytes_));
      stage_ = files_.empty() ? Stage::kEnd : Stage::kFiles;
      break;
    case Stage::kFiles:
      chunk = next_file_data_chunk();
      if (file_index_ == files_.size()) stage_ = Stage::kEnd;
      break;
    case Stage::kEnd:
      chunk =
          encode_chunk(end_chunk(snapshot_id_, next_sequence_, static_cast<uint32_t>(files_.size()),
                                 total_bytes_, stream_crc_));
      stage_ = Stage::kDone;
      break;
    case Stage::kDone: return std::optional<std::string>();
  }
  if (!chunk) return fail(chunk.status());
  ++next_sequence_;
  return std::optional<std::string>(std::move(*chunk));
}

Result<std::string> SnapshotSender::next_file_data_chunk() {
  const FileToSend& file = files_[file_index_];
  const std::string path = join_path(dir_, file.name);
  const auto length =
      static_cast<size_t>(std::min<uint64_t>(options_.max_chunk_bytes, file.size - file_offset_));
  std::string data;
  if (length > 0) {  // an empty file is one empty chunk, and needs no read
    if (!file_) {
      Result<std::unique_ptr<File>> opened = fs_->open(path, 0);
      if (!opened) return with_context("opening " + path, opened.status());
      file_ = std::move(*opened);
    }
    Result<std::string> read = file_->read_at(file_offset_, length);
    if (!read) return with_context("reading " + path, read.status());
    if (read->size() != length) {
      return Status::failed_precondition(
          "snapshot sender: " + path + " changed while being sent: it was " +
          std::to_string(file.size) + " bytes, but reading " + std::to_string(length) +
          " bytes at offset " + std::to_string(file_offset_) + " gave " +
          std::to_string(read->size()));
    }
    data = std::move(*read);
  }
  Result<std::string> chunk =
      encode_chunk(file_data_chunk(snapshot_id_, next_sequence_, file.name, file_offset_, data));
  if (!chunk) return chunk;
  stream_crc_ = crc32c_extend(stream_crc_, data.data(), data.size());
  file_offset_ += length;
  if (file_offset_ == file.size) {
    file_.reset();
    file_offset_ = 0;
    ++file_index_;
  }
  return chunk;
}

}  // namespace dengine::log
