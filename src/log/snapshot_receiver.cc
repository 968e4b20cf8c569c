#include "log/snapshot_receiver.h"

#include <algorithm>
#include <cstdio>

#include "common/check.h"
#include "log/crc32c.h"
#include "log/record.h"

namespace dengine::log {

struct SnapshotReceiver::Transfer {
  uint64_t snapshot_id = 0;
  std::string staging_dir;
  std::string final_dir;
  std::string metadata;
  uint32_t announced_files = 0;
  uint64_t announced_bytes = 0;

  uint64_t next_sequence = 1;
  uint32_t files_received = 0;
  uint64_t bytes_received = 0;
  uint32_t stream_crc = 0;
  std::string file_name;       // the file being written (empty before the first)
  uint64_t file_offset = 0;    // its bytes so far
  std::unique_ptr<File> file;  // open while it is being written
};

namespace {

std::string hex16(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

Status with_context(const std::string& context, const Status& cause) {
  return {cause.code(), "snapshot receiver: " + context + ": " + cause.message(), cause.detail()};
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Removes `dir` and the files in it (a staging directory holds nothing else).
Status remove_dir_and_files(FileSystem& fs, const std::string& dir) {
  Result<std::vector<std::string>> names = fs.list_dir(dir);
  if (!names) return names.status();
  for (const std::string& name : *names) {
    if (Status st = fs.remove(join_path(dir, name)); !st) return st;
  }
  return fs.remove_dir(dir);
}

}  // namespace

std::string snapshot_staging_dir_name(uint64_t snapshot_id) {
  return std::string(kSnapshotStagingPrefix) + hex16(snapshot_id);
}

std::string snapshot_dir_name(uint64_t snapshot_id) {
  return "snapshot-" + hex16(snapshot_id);
}

SnapshotReceiver::SnapshotReceiver(std::shared_ptr<FileSystem> fs, std::string root,
                                   SnapshotReceiverOptions options)
    : fs_(std::move(fs)), root_(std::move(root)), options_(std::move(options)) {}

SnapshotReceiver::SnapshotReceiver(SnapshotReceiver&&) noexcept = default;
SnapshotReceiver& SnapshotReceiver::operator=(SnapshotReceiver&&) noexcept = default;
SnapshotReceiver::~SnapshotReceiver() = default;

Result<SnapshotReceiver> SnapshotReceiver::open(std::shared_ptr<FileSystem> fs, std::string root,
                                                SnapshotReceiverOptions options) {
  if (!options.final_dir_name.empty()) {
    if (Status plain = check_snapshot_file_name(options.final_dir_name); !plain) {
      return with_context("final_dir_name", plain);
    }
    if (starts_with(options.final_dir_name, kSnapshotStagingPrefix)) {
      return Status::invalid_argument("snapshot receiver: final_dir_name " +
                                      options.final_dir_name + " starts with " +
                                      std::string(kSnapshotStagingPrefix) +
                                      ", which names staging directories (removed at startup)");
    }
  }
  SnapshotReceiver receiver(std::move(fs), std::move(root), std::move(options));
  FileSystem& file_system = *receiver.fs_;
  Result<bool> created = file_system.create_dir(receiver.root_);
  if (!created) return with_context("creating " + receiver.root_, created.status());
  if (*created) {
    if (Status st = file_system.sync_dir(parent_dir(receiver.root_)); !st) {
      return with_context("fsync of the parent of " + receiver.root_, st);
    }
  }
  // A staging directory left over is a transfer a crash interrupted: never installed, so
  // garbage. Removing it needs no sync: if a power cut brings it back, the next start removes
  // it again.
  Result<std::vector<std::string>> names = file_system.list_dir(receiver.root_);
  if (!names) return with_context("listing " + receiver.root_, names.status());
  for (const std::string& name : *names) {
    if (!starts_with(name, kSnapshotStagingPrefix)) continue;
    const std::string path = join_path(receiver.root_, name);
    if (Status st = remove_dir_and_files(file_system, path); !st) {
      return with_context("removing the interrupted transfer " + path, st);
    }
    receiver.removed_staging_dirs_.push_back(name);
  }
  return receiver;
}

uint64_t SnapshotReceiver::snapshot_id() const {
  DENGINE_CHECK(transfer_ != nullptr);
  return transfer_->snapshot_id;
}

uint64_t SnapshotReceiver::next_sequence() const {
  DENGINE_CHECK(transfer_ != nullptr);
  return transfer_->next_sequence;
}

Result<std::optional<InstalledSnapshot>> SnapshotReceiver::accept(std::string_view encoded_chunk) {
  Result<SnapshotChunk> decoded = decode_chunk(encoded_chunk);
  if (!decoded) return with_context("rejected a chunk", decoded.status());
  const SnapshotChunk& chunk = *decoded;

  if (!transfer_) {
    if (chunk.kind != SnapshotChunkKind::kBegin) {
      return Status::invalid_argument(
          "snapshot receiver: expected the begin chunk (sequence 0) of a new snapshot, got " +
          describe_chunk(chunk));
    }
    if (Status st = begin(chunk); !st) return st;
    return std::optional<InstalledSnapshot>();
  }

  Transfer& t = *transfer_;
  if (chunk.snapshot_id != t.snapshot_id) {
    return Status::invalid_argument(
        "snapshot receiver: expected chunk " + std::to_string(t.next_sequence) + " of snapshot " +
        snapshot_id_text(t.snapshot_id) + ", got " + describe_chunk(chunk) +
        " (another snapshot's chunk; abort() the transfer in progress to start another)");
  }
  if (chunk.sequence != t.next_sequence) {
    const std::string why = chunk.sequence < t.next_sequence
                                ? "a duplicate"
                                : "chunks " + std::to_string(t.next_sequence) + ".." +
                                      std::to_string(chunk.sequence - 1) + " are missing";
    return Status::invalid_argument(
        "snapshot receiver: expected chunk " + std::to_string(t.next_sequence) + " of snapshot " +
        snapshot_id_text(t.snapshot_id) + ", got " + describe_chunk(chunk) + " (" + why + ")");
  }
  // The decoder guarantees a begin chunk has sequence 0, which never matches here.
  DENGINE_CHECK(chunk.kind != SnapshotChunkKind::kBegin);
  if (chunk.kind == SnapshotChunkKind::kFileData) {
    if (Status st = take_file_data(chunk); !st) return st;
    return std::optional<InstalledSnapshot>();
  }
  Result<InstalledSnapshot> installed = finish(chunk);
  if (!installed) return installed.status();
  return std::optional<InstalledSnapshot>(std::move(*installed));
}

Status SnapshotReceiver::begin(const SnapshotChunk& chunk) {
  if (chunk.total_bytes > options_.max_snapshot_bytes) {
    return Status::resource_exhausted("snapshot receiver: " + describe_chunk(chunk) +
                                      " announces " + std::to_string(chunk.total_bytes) +
                                      " bytes, over max_snapshot_bytes " +
                                      std::to_string(options_.max_snapshot_bytes));
  }
  auto t = std::make_unique<Transfer>();
  t->snapshot_id = chunk.snapshot_id;
  t->staging_dir = join_path(root_, snapshot_staging_dir_name(chunk.snapshot_id));
  t->final_dir =
      join_path(root_, options_.final_dir_name.empty() ? snapshot_dir_name(chunk.snapshot_id)
                                                       : options_.final_dir_name);
  t->metadata.assign(chunk.metadata);
  t->announced_files = chunk.file_count;
  t->announced_bytes = chunk.total_bytes;

  Result<std::vector<std::string>> names = fs_->list_dir(root_);
  if (!names) return with_context("listing " + root_, names.status());
  const auto exists = [&](const std::string& path) {
    return std::binary_search(names->begin(), names->end(), std::string(base_name(path)));
  };
  if (exists(t->final_dir)) {
    return Status::failed_precondition("snapshot receiver: " + describe_chunk(chunk) + ": " +
                                       t->final_dir +
                                       " already exists (an installed snapshot is never "
                                       "replaced; remove it first)");
  }
  if (exists(t->staging_dir)) {  // left by an abort() whose cleanup failed
    if (Status st = remove_dir_and_files(*fs_, t->staging_dir); !st) {
      return with_context("removing the earlier staging dir " + t->staging_dir, st);
    }
  }
  Result<bool> created = fs_->create_dir(t->staging_dir);
  if (!created) return with_context("creating " + t->staging_dir, created.status());
  transfer_ = std::move(t);
  return Status::ok();
}

Status SnapshotReceiver::take_file_data(const SnapshotChunk& chunk) {
  Transfer& t = *transfer_;
  // Every check before any write: a rejected chunk changes nothing.
  const bool new_file = t.files_received == 0 || chunk.file_name != t.file_name;
  if (new_file) {
    if (t.files_received > 0 && chunk.file_name < t.file_name) {
      return Status::corruption("snapshot receiver: " + describe_chunk(chunk) +
                                " comes after file " + t.file_name +
                                " (files come in increasing name order, each once)");
    }
    if (chunk.offset != 0) {
      return Status::corruption("snapshot receiver: " + describe_chunk(chunk) +
                                " starts a file at offset " + std::to_string(chunk.offset) +
                                ", expected 0");
    }
    if (t.files_received == t.announced_files) {
      return Status::corruption("snapshot receiver: " + describe_chunk(chunk) +
                                " is one file more than the " + std::to_string(t.announced_files) +
                                " the begin chunk announced");
    }
  } else if (chunk.offset != t.file_offset) {
    return Status::corruption("snapshot receiver: " + describe_chunk(chunk) + ": expected offset " +
                              std::to_string(t.file_offset) + " of " + t.file_name);
  }
  if (chunk.data.size() > t.announced_bytes - t.bytes_received) {
    return Status::corruption("snapshot receiver: " + describe_chunk(chunk) + " goes past the " +
                              std::to_string(t.announced_bytes) +
                              " bytes the begin chunk announced");
  }

  if (new_file) {
    // A finished file is synced now rather than at the end: one file open at a time.
    if (t.file) {
      if (Status st = t.file->sync(); !st)
        return fail(with_context("fsync of a received file", st));
      t.file.reset();
    }
    const std::string path = join_path(t.staging_dir, chunk.file_name);
    Result<std::unique_ptr<File>> created = fs_->create(path);
    if (!created) return fail(with_context("creating " + path, created.status()));
    t.file = std::move(*created);
    t.file_name.assign(chunk.file_name);
    t.file_offset = 0;
    ++t.files_received;
  }
  if (!chunk.data.empty()) {
    if (Status st = t.file->append(chunk.data); !st) {
      return fail(with_context("writing " + t.file->path(), st));
    }
  }
  t.file_offset += chunk.data.size();
  t.bytes_received += chunk.data.size();
  t.stream_crc = crc32c_extend(t.stream_crc, chunk.data.data(), chunk.data.size());
  ++t.next_sequence;
  return Status::ok();
}

Result<InstalledSnapshot> SnapshotReceiver::finish(const SnapshotChunk& chunk) {
  Transfer& t = *transfer_;
  std::string problem;
  if (chunk.file_count != t.announced_files || chunk.total_bytes != t.announced_bytes) {
    problem = "it does not match the begin chunk (" + std::to_string(t.announced_files) +
              " files, " + std::to_string(t.announced_bytes) + " bytes)";
  } else if (t.files_received != t.announced_files || t.bytes_received != t.announced_bytes) {
    problem = "the stream ended early: " + std::to_string(t.files_received) + " files and " +
              std::to_string(t.bytes_received) + " bytes arrived";
  } else if (chunk.stream_crc != t.stream_crc) {
    problem = "stream checksum mismatch (expected " + hex32(chunk.stream_crc) + ", computed " +
              hex32(t.stream_crc) + " over the bytes received)";
  }
  if (!problem.empty()) {
    return fail(Status::corruption("snapshot receiver: " + describe_chunk(chunk) + ": " + problem +
                                   "; the transfer is dropped"));
  }
  if (Status st = install(); !st) return fail(st);
  InstalledSnapshot installed;
  installed.snapshot_id = t.snapshot_id;
  installed.path = t.final_dir;
  installed.metadata = std::move(t.metadata);
  installed.file_count = t.files_received;
  installed.total_bytes = t.bytes_received;
  transfer_.reset();
  return installed;
}

Status SnapshotReceiver::install() {
  Transfer& t = *transfer_;
  // Everything the final directory will hold is durable before the rename that makes it
  // visible: the last file's bytes (the others were synced as they finished), then the
  // staging directory's entries.
  if (t.file) {
    if (Status st = t.file->sync(); !st) return with_context("fsync of a received file", st);
    t.file.reset();
  }
  if (Status st = fs_->sync_dir(t.staging_dir); !st) {
    return with_context("fsync of " + t.staging_dir, st);
  }
  if (Status st = fs_->rename_dir(t.staging_dir, t.final_dir); !st) {
    return with_context("installing", st);
  }
  if (Status st = fs_->sync_dir(root_); !st) {
    // The rename may or may not survive a power cut; either way the snapshot is whole. Undo it
    // so the failure leaves nothing that looks installed; fail() then removes the staging dir.
    Status undone = fs_->rename_dir(t.final_dir, t.staging_dir);
    Status failed = with_context("fsync of " + root_ + " after the rename", st);
    if (!undone) {
      return {failed.code(),
              failed.message() + "; undoing the rename also failed: " + undone.message(),
              failed.detail()};
    }
    return failed;
  }
  return Status::ok();
}

Status SnapshotReceiver::fail(const Status& cause) {
  Status cleanup = abort();
  if (cleanup) return cause;
  return {cause.code(),
          cause.message() + "; removing the staging dir also failed (the next " +
              "start removes it): " + cleanup.message(),
          cause.detail()};
}

Status SnapshotReceiver::abort() {
  if (!transfer_) return Status::ok();
  std::unique_ptr<Transfer> t = std::move(transfer_);
  t->file.reset();
  if (Status st = remove_dir_and_files(*fs_, t->staging_dir); !st) {
    return with_context("removing " + t->staging_dir, st);
  }
  return Status::ok();
}

}  // namespace dengine::log
