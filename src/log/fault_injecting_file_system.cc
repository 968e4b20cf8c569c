#include "log/fault_injecting_file_system.h"

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "common/splitmix64.h"
#include "log/posix_file_system.h"

namespace dengine::log {
namespace {

// `path` is `root` or lies somewhere under it.
bool in_tree(const std::string& path, const std::string& root) {
  if (path == root) return true;
  const std::string prefix = !root.empty() && root.back() == '/' ? root : root + "/";
  return path.compare(0, prefix.size(), prefix) == 0;
}

// Re-keys `from` and everything under it to the same place under `to`.
template <typename Map>
void move_tree(Map& map, const std::string& from, const std::string& to) {
  std::vector<typename Map::node_type> moved;
  for (auto it = map.begin(); it != map.end();) {
    const auto next = std::next(it);
    if (in_tree(it->first, from)) moved.push_back(map.extract(it));
    it = next;
  }
  for (auto& node : moved) {
    node.key() = to + node.key().substr(from.size());
    map.insert(std::move(node));
  }
}

template <typename Map>
void erase_tree(Map& map, const std::string& root) {
  std::erase_if(map, [&](const auto& entry) { return in_tree(entry.first, root); });
}

}  // namespace

class FaultInjectingFileSystem::FaultFile final : public File {
 public:
  FaultFile(FaultInjectingFileSystem* fs, std::shared_ptr<Inode> inode, std::string path,
            uint64_t position, uint64_t generation)
      : fs_(fs),
        inode_(std::move(inode)),
        path_(std::move(path)),
        position_(position),
        generation_(generation) {}

  const std::string& path() const override { return path_; }
  uint64_t position() const override { return position_; }

  Status append(std::string_view data) override {
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    return fs_->file_append(*inode_, path_, position_, data);
  }

  Result<std::string> read_at(uint64_t offset, size_t length) const override {
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    const std::string& bytes = inode_->written;
    if (offset >= bytes.size()) return std::string();
    return bytes.substr(static_cast<size_t>(offset), length);
  }

  Status sync() override {
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard lock(fs_->mu_);
      hook = fs_->sync_hook_;
    }
    if (hook) hook(path_);
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    return fs_->file_sync(*inode_, path_);
  }

  Status preallocate(uint64_t length) override {
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    return fs_->file_preallocate(*inode_, path_, length);
  }

  Status truncate(uint64_t length) override {
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    if (Status counted = fs_->count_mutation("ftruncate", path_); !counted) return counted;
    if (length < inode_->written.size()) inode_->written.resize(static_cast<size_t>(length));
    if (length > inode_->written.size()) inode_->written.resize(static_cast<size_t>(length), '\0');
    position_ = std::min(position_, length);
    return Status::ok();
  }

  Result<uint64_t> size() const override {
    std::lock_guard lock(fs_->mu_);
    if (Status alive = fs_->check_alive(generation_); !alive) return alive;
    return static_cast<uint64_t>(inode_->written.size());
  }

 private:
  FaultInjectingFileSystem* fs_;
  std::shared_ptr<Inode> inode_;
  std::string path_;
  uint64_t position_;
  uint64_t generation_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(uint64_t seed)
    : rng_state_(seed ^ 0x6a09e667f3bcc908ULL) {}

FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

uint64_t FaultInjectingFileSystem::random(uint64_t bound) {
  const uint64_t z = splitmix64_next(rng_state_);
  return bound == 0 ? 0 : z % bound;
}

Status FaultInjectingFileSystem::check_alive(uint64_t generation) const {
  if (generation != generation_) {
    return Status::io_error("fault fs: file handle opened before a power cut");
  }
  return Status::ok();
}

Status FaultInjectingFileSystem::count_mutation(std::string_view call, const std::string& path) {
  ++mutations_;
  if (crash_at_op_ != 0 && mutations_ >= crash_at_op_) {
    return Status::io_error(std::string(call) + "(" + path + "): injected crash");
  }
  return Status::ok();
}

uint64_t FaultInjectingFileSystem::total_written_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, inode] : files_) total += inode->written.size();
  return total;
}

Status FaultInjectingFileSystem::file_append(Inode& inode, const std::string& path,
                                             uint64_t& position, std::string_view data) {
  if (Status counted = count_mutation("pwrite", path); !counted) return counted;
  size_t allowed = data.size();
  int error = 0;
  if (write_budget_set_ && write_budget_ < allowed) {
    allowed = static_cast<size_t>(write_budget_);
    error = write_error_;
  }
  if (capacity_set_) {
    const uint64_t end = position + allowed;
    const uint64_t growth = end > inode.written.size() ? end - inode.written.size() : 0;
    const uint64_t used = total_written_bytes();
    if (used + growth > capacity_) {
      const uint64_t room = capacity_ > used ? capacity_ - used : 0;
      const uint64_t fits =
          inode.written.size() + room > position ? inode.written.size() + room - position : 0;
      allowed = static_cast<size_t>(std::min<uint64_t>(allowed, fits));
      error = ENOSPC;
    }
  }
  if (write_budget_set_) write_budget_ -= allowed;
  const auto start = static_cast<size_t>(position);
  if (inode.written.size() < start + allowed) inode.written.resize(start + allowed, '\0');
  inode.written.replace(start, allowed, data.substr(0, allowed));
  position += allowed;
  if (allowed < data.size()) return errno_status("pwrite", path + " [injected]", error);
  return Status::ok();
}

Status FaultInjectingFileSystem::file_sync(Inode& inode, const std::string& path) {
  if (Status counted = count_mutation("fdatasync", path); !counted) return counted;
  ++syncs_;
  if (syncs_ == fail_sync_at_) {
    // Like Linux after a failed writeback: the data did not reach the disk.
    return errno_status("fdatasync", path + " [injected]", fail_sync_error_);
  }
  inode.durable = inode.written;
  return Status::ok();
}

Status FaultInjectingFileSystem::file_preallocate(Inode& inode, const std::string& path,
                                                  uint64_t length) {
  if (Status counted = count_mutation("fallocate", path); !counted) return counted;
  if (length <= inode.written.size()) return Status::ok();
  const uint64_t growth = length - inode.written.size();
  if (capacity_set_ && total_written_bytes() + growth > capacity_) {
    return errno_status("fallocate", path + " [injected]", ENOSPC);
  }
  inode.written.resize(static_cast<size_t>(length), '\0');
  return Status::ok();
}

Result<std::unique_ptr<File>> FaultInjectingFileSystem::create(const std::string& path) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("create", path); !counted) return counted;
  const auto parent = dirs_.find(parent_dir(path));
  if (parent == dirs_.end()) return errno_status("open", path, ENOENT);
  auto it = files_.find(path);
  std::shared_ptr<Inode> inode;
  if (it != files_.end()) {
    inode = it->second;
    inode->written.clear();  // O_TRUNC changes the data, not the directory
  } else {
    inode = std::make_shared<Inode>();
    files_[path] = inode;
    pending_dir_ops_.push_back(DirOp{DirOpKind::kLink, path, {}, inode, parent->second});
  }
  return std::unique_ptr<File>(std::make_unique<FaultFile>(this, inode, path, 0, generation_));
}

Result<std::unique_ptr<File>> FaultInjectingFileSystem::open(const std::string& path,
                                                             std::optional<uint64_t> position) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return errno_status("open", path, ENOENT);
  const uint64_t start = position.value_or(it->second->written.size());
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, it->second, path, start, generation_));
}

Result<std::string> FaultInjectingFileSystem::read_file(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return errno_status("open", path, ENOENT);
  return it->second->written;
}

Result<std::vector<std::string>> FaultInjectingFileSystem::list_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (dirs_.count(dir) == 0) return errno_status("opendir", dir, ENOENT);
  std::vector<std::string> names;
  for (const auto& [path, inode] : files_) {
    if (parent_dir(path) == dir) names.emplace_back(base_name(path));
  }
  for (const auto& [path, id] : dirs_) {
    if (path != dir && parent_dir(path) == dir) names.emplace_back(base_name(path));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> FaultInjectingFileSystem::create_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("mkdir", dir); !counted) return counted;
  if (dirs_.count(dir) != 0) return false;
  const DirId id = next_dir_id_++;
  dirs_[dir] = id;
  // Durable at once (see the header), wherever its parent durably is.
  durable_dirs_[durable_entry_path(dir_id(parent_dir(dir)), dir).value_or(dir)] = id;
  return true;
}

Status FaultInjectingFileSystem::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("fsync", dir); !counted) return counted;
  ++dir_syncs_;
  if (dir_syncs_ == fail_dir_sync_at_) {
    return errno_status("fsync", dir + " [injected]", fail_dir_sync_error_);
  }
  // A known directory by its identity, so operations done in it under an earlier name count;
  // a top-level one by its path.
  const DirId id = dir_id(dir);
  std::vector<DirOp> still_pending;
  for (DirOp& op : pending_dir_ops_) {
    const bool in_dir = id != 0 ? op.dir == id : op.dir == 0 && parent_dir(op.path) == dir;
    if (!in_dir) {
      still_pending.push_back(std::move(op));
    } else {
      apply_durably(op);
    }
  }
  pending_dir_ops_ = std::move(still_pending);
  return Status::ok();
}

Status FaultInjectingFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("rename", from); !counted) return counted;
  if (parent_dir(from) != parent_dir(to)) {
    return Status::invalid_argument("fault fs: rename across directories: " + from + " -> " + to);
  }
  auto it = files_.find(from);
  if (it == files_.end()) return errno_status("rename", from, ENOENT);
  std::shared_ptr<Inode> inode = it->second;
  files_.erase(it);
  files_[to] = inode;
  // One operation: a journal commits a rename whole, never half of it.
  pending_dir_ops_.push_back(DirOp{DirOpKind::kRename, from, to, inode, dir_id(parent_dir(from))});
  return Status::ok();
}

Status FaultInjectingFileSystem::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("unlink", path); !counted) return counted;
  if (files_.erase(path) == 0) return errno_status("unlink", path, ENOENT);
  pending_dir_ops_.push_back(
      DirOp{DirOpKind::kUnlink, path, {}, nullptr, dir_id(parent_dir(path))});
  return Status::ok();
}

Status FaultInjectingFileSystem::rename_dir(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("rename", from); !counted) return counted;
  if (parent_dir(from) != parent_dir(to)) {
    return Status::invalid_argument("fault fs: rename across directories: " + from + " -> " + to);
  }
  auto it = dirs_.find(from);
  if (it == dirs_.end()) {
    return errno_status("rename", from + " -> " + to, files_.count(from) != 0 ? ENOTDIR : ENOENT);
  }
  if (dirs_.count(to) != 0 || files_.count(to) != 0) {
    return errno_status("rename", from + " -> " + to, EEXIST);
  }
  const DirId child = it->second;
  move_tree(dirs_, from, to);
  move_tree(files_, from, to);
  pending_dir_ops_.push_back(
      DirOp{DirOpKind::kRenameDir, from, to, nullptr, dir_id(parent_dir(from)), child});
  return Status::ok();
}

Status FaultInjectingFileSystem::remove_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (Status counted = count_mutation("rmdir", dir); !counted) return counted;
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) {
    return errno_status("rmdir", dir, files_.count(dir) != 0 ? ENOTDIR : ENOENT);
  }
  const auto under = [&](const auto& entry) {
    return entry.first != dir && in_tree(entry.first, dir);
  };
  if (std::any_of(files_.begin(), files_.end(), under) ||
      std::any_of(dirs_.begin(), dirs_.end(), under)) {
    return errno_status("rmdir", dir, ENOTEMPTY);
  }
  const DirId child = it->second;
  dirs_.erase(it);
  pending_dir_ops_.push_back(
      DirOp{DirOpKind::kRemoveDir, dir, {}, nullptr, dir_id(parent_dir(dir)), child});
  return Status::ok();
}

FaultInjectingFileSystem::DirId FaultInjectingFileSystem::dir_id(const std::string& dir) const {
  auto it = dirs_.find(dir);
  return it == dirs_.end() ? 0 : it->second;
}

std::optional<std::string> FaultInjectingFileSystem::durable_dir_path(DirId dir) const {
  for (const auto& [path, id] : durable_dirs_) {
    if (id == dir) return path;
  }
  return std::nullopt;
}

std::optional<std::string> FaultInjectingFileSystem::durable_entry_path(
    DirId dir, const std::string& path) const {
  if (dir == 0) return path;  // top level: known by its path
  std::optional<std::string> parent = durable_dir_path(dir);
  if (!parent) return std::nullopt;
  if (*parent == parent_dir(path)) return path;  // the path as the caller spelled it
  return join_path(*parent, base_name(path));
}

void FaultInjectingFileSystem::apply_durably(const DirOp& op) {
  // Nothing happens for an entry of a directory that is durably gone: removing a directory
  // needs it empty, so its entries were unlinked before.
  switch (op.kind) {
    case DirOpKind::kLink:
      if (auto path = durable_entry_path(op.dir, op.path)) durable_files_[*path] = op.inode;
      break;
    case DirOpKind::kUnlink:
      if (auto path = durable_entry_path(op.dir, op.path)) durable_files_.erase(*path);
      break;
    case DirOpKind::kRename: {
      auto from = durable_entry_path(op.dir, op.path);
      auto to = durable_entry_path(op.dir, op.to);
      if (!from || !to) break;
      durable_files_.erase(*from);
      durable_files_[*to] = op.inode;
      break;
    }
    case DirOpKind::kRenameDir: {
      auto from = durable_dir_path(op.child);
      auto to = durable_entry_path(op.dir, op.to);
      if (!from || !to) break;
      erase_tree(durable_dirs_, *to);
      erase_tree(durable_files_, *to);
      move_tree(durable_dirs_, *from, *to);
      move_tree(durable_files_, *from, *to);
      break;
    }
    case DirOpKind::kRemoveDir:
      if (auto path = durable_dir_path(op.child)) {
        // Unlinks of its entries not yet durable come with it (rmdir needs an empty directory).
        erase_tree(durable_dirs_, *path);
        erase_tree(durable_files_, *path);
      }
      break;
  }
}

std::string FaultInjectingFileSystem::cut_contents(const Inode& inode,
                                                   const PowerCutOptions& options) {
  const std::string& written = inode.written;
  std::string result = inode.durable;
  const size_t common = static_cast<size_t>(
      std::mismatch(
          written.begin(),
          written.begin() + static_cast<ptrdiff_t>(std::min(written.size(), result.size())),
          result.begin())
          .first -
      written.begin());
  // Nothing unsynced, or only a shrink (an unsynced truncate is simply forgotten).
  if (common >= written.size()) return result;

  auto keep = [&](size_t from, size_t to) {  // copy written[from, to) over the durable bytes
    if (result.size() < to) result.resize(to, '\0');
    std::copy(written.begin() + static_cast<ptrdiff_t>(from),
              written.begin() + static_cast<ptrdiff_t>(to),
              result.begin() + static_cast<ptrdiff_t>(from));
  };
  auto tear = [&](size_t from) {  // keep a random prefix of the page at `from`, then garbage
    const size_t page_end = static_cast<size_t>((from / kPageBytes + 1) * kPageBytes);
    size_t pos = from;
    if (options.tear_page && pos < written.size()) {
      const size_t torn =
          pos + static_cast<size_t>(random(std::min(page_end, written.size()) - pos + 1));
      keep(pos, torn);
      pos = torn;
    }
    if (options.garbage && pos < page_end && random(2) == 0) {
      const size_t end = pos + static_cast<size_t>(random(page_end - pos + 1));
      if (result.size() < end) result.resize(end, '\0');
      for (size_t i = pos; i < end; ++i) result[i] = static_cast<char>(random(256));
    }
  };

  if (options.random_pages) {
    for (size_t page = common / kPageBytes * kPageBytes; page < written.size();
         page += kPageBytes) {
      const size_t from = std::max(page, common);
      const size_t to = std::min(page + kPageBytes, written.size());
      switch (random(4)) {
        case 0: keep(from, to); break;
        case 1: tear(from); break;
        default: break;  // this page never reached the disk
      }
    }
    return result;
  }

  size_t kept = common;
  if (options.keep_unsynced_prefix) {
    switch (random(3)) {
      case 0: break;
      case 1: kept = common + static_cast<size_t>(random(written.size() - common + 1)); break;
      default:
        kept = written.size() - static_cast<size_t>(random(
                                    std::min<uint64_t>(written.size() - common + 1, kPageBytes)));
        break;
    }
  }
  keep(common, kept);
  tear(kept);
  return result;
}

void FaultInjectingFileSystem::power_cut(const PowerCutOptions& options) {
  std::lock_guard lock(mu_);
  // Directory operations: a journal commits them in order, so a prefix survives.
  const size_t kept_ops =
      options.keep_dir_ops_prefix ? static_cast<size_t>(random(pending_dir_ops_.size() + 1)) : 0;
  for (size_t i = 0; i < kept_ops; ++i) apply_durably(pending_dir_ops_[i]);
  pending_dir_ops_.clear();

  std::map<const Inode*, std::string> contents;
  for (const auto& [path, inode] : durable_files_) {
    if (contents.count(inode.get()) == 0) contents[inode.get()] = cut_contents(*inode, options);
  }
  for (const auto& [path, inode] : durable_files_) {
    auto it = contents.find(inode.get());
    if (it == contents.end()) continue;
    inode->written = std::move(it->second);
    inode->durable = inode->written;
    contents.erase(it);
  }
  files_ = durable_files_;
  dirs_ = durable_dirs_;
  ++generation_;
}

void FaultInjectingFileSystem::fail_nth_sync(uint64_t n, int error) {
  std::lock_guard lock(mu_);
  fail_sync_at_ = n == 0 ? 0 : syncs_ + n;
  fail_sync_error_ = error;
}

void FaultInjectingFileSystem::fail_nth_dir_sync(uint64_t n, int error) {
  std::lock_guard lock(mu_);
  fail_dir_sync_at_ = n == 0 ? 0 : dir_syncs_ + n;
  fail_dir_sync_error_ = error;
}

void FaultInjectingFileSystem::fail_writes_after_bytes(uint64_t bytes, int error) {
  std::lock_guard lock(mu_);
  write_budget_set_ = true;
  write_budget_ = bytes;
  write_error_ = error;
}

void FaultInjectingFileSystem::set_capacity_bytes(uint64_t bytes) {
  std::lock_guard lock(mu_);
  capacity_set_ = true;
  capacity_ = bytes;
}

void FaultInjectingFileSystem::crash_after_ops(uint64_t n) {
  std::lock_guard lock(mu_);
  crash_at_op_ = mutations_ + n + 1;
}

void FaultInjectingFileSystem::clear_faults() {
  std::lock_guard lock(mu_);
  fail_sync_at_ = 0;
  fail_dir_sync_at_ = 0;
  write_budget_set_ = false;
  capacity_set_ = false;
  crash_at_op_ = 0;
}

void FaultInjectingFileSystem::set_sync_hook(std::function<void(const std::string&)> hook) {
  std::lock_guard lock(mu_);
  sync_hook_ = std::move(hook);
}

uint64_t FaultInjectingFileSystem::file_sync_count() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t FaultInjectingFileSystem::dir_sync_count() const {
  std::lock_guard lock(mu_);
  return dir_syncs_;
}

uint64_t FaultInjectingFileSystem::mutating_op_count() const {
  std::lock_guard lock(mu_);
  return mutations_;
}

Status FaultInjectingFileSystem::damage(const std::string& path,
                                        const std::function<void(std::string&)>& mutate) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return errno_status("open", path, ENOENT);
  mutate(it->second->written);
  mutate(it->second->durable);
  return Status::ok();
}

bool FaultInjectingFileSystem::exists(const std::string& path) const {
  std::lock_guard lock(mu_);
  return files_.count(path) != 0;
}

bool FaultInjectingFileSystem::dir_exists(const std::string& path) const {
  std::lock_guard lock(mu_);
  return dirs_.count(path) != 0;
}

}  // namespace dengine::log
