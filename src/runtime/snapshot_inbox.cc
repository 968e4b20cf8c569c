#include "runtime/snapshot_inbox.h"

#include <filesystem>
#include <system_error>

#include "kv/durable_files.h"
#include "log/posix_file_system.h"
#include "log/snapshot_chunk.h"
#include "runtime/compaction_record.h"

namespace dengine::runtime {

std::string SnapshotInbox::image_dir(const std::string& dir, Index index) {
  return dir + "/in/image-" + std::to_string(index);
}

Status SnapshotInbox::accept(std::string_view chunk) {
  std::lock_guard lock(mutex_);
  Status taken = accept_locked(chunk);
  if (taken || !receiver_ || !receiver_->receiving()) return taken;
  // A begin chunk while another stream is unfinished: that one will never finish (its sender
  // restarts a failed transfer from the beginning), so this one takes its place.
  Result<log::SnapshotChunk> decoded = log::decode_chunk(chunk);
  if (!decoded || decoded->kind != log::SnapshotChunkKind::kBegin ||
      decoded->snapshot_id == receiver_->snapshot_id()) {
    return taken;
  }
  if (Status aborted = receiver_->abort(); !aborted) return aborted;
  return accept_locked(chunk);
}

Status SnapshotInbox::accept_locked(std::string_view chunk) {
  if (!receiver_) {
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) {
      return Status::io_error("snapshot inbox: cannot create " + dir_ + ": " + error.message());
    }
    Result<log::SnapshotReceiver> opened =
        log::SnapshotReceiver::open(std::make_shared<log::PosixFileSystem>(), dir_ + "/in");
    if (!opened) return opened.status();
    receiver_.emplace(std::move(*opened));
  }
  Result<std::optional<log::InstalledSnapshot>> accepted = receiver_->accept(chunk);
  if (!accepted) return accepted.status();
  if (!accepted->has_value()) return Status::ok();
  return keep_locked(**accepted);
}

Status SnapshotInbox::keep_locked(const log::InstalledSnapshot& installed) {
  Result<SnapshotMeta> meta = decode_compaction_record(installed.metadata, installed.path);
  if (!meta) {
    (void)kv::remove_tree(installed.path);
    return meta.status();
  }
  if (held_) {
    (void)kv::remove_tree(held_->dir);
    held_.reset();
  }
  const std::string kept = image_dir(dir_, meta->index);
  if (Status cleared = kv::remove_tree(kept); !cleared) return cleared;
  if (Status renamed = kv::rename_durably(installed.path, kept); !renamed) {
    (void)kv::remove_tree(installed.path);
    return renamed;
  }
  held_ = ImageToInstall{.meta = *meta, .dir = kept};
  return Status::ok();
}

bool SnapshotInbox::holds_locked(const SnapshotMeta& meta) const {
  return held_ && held_->meta.index == meta.index && held_->meta.term == meta.term;
}

bool SnapshotInbox::holds(const SnapshotMeta& meta) {
  std::lock_guard lock(mutex_);
  return holds_locked(meta);
}

std::optional<ImageToInstall> SnapshotInbox::take(const SnapshotMeta& meta) {
  std::lock_guard lock(mutex_);
  if (!holds_locked(meta)) return std::nullopt;
  std::optional<ImageToInstall> taken = std::move(held_);
  held_.reset();
  return taken;
}

}  // namespace dengine::runtime
