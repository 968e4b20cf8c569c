#include "ctl/image_store.h"

#include <filesystem>
#include <system_error>

#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"
#endif

namespace dengine::ctl {
namespace {

Result<ImageSummary> open_image(const std::string& image_dir, const std::string& kv_dir) {
#if DENGINE_WITH_ROCKSDB
  std::error_code error;
  if (std::filesystem::exists(kv_dir, error)) {
    return Status::failed_precondition(kv_dir + " exists already");
  }
  Result<std::unique_ptr<kv::RocksKvStore>> store = kv::RocksKvStore::open(kv_dir);
  if (!store) return store.status();
  if (Status installed = (*store)->install_snapshot(image_dir); !installed) return installed;
  if (Status forgotten = (*store)->forget_cluster(); !forgotten) return forgotten;
  RangeRequest every_key;
  every_key.key = std::string(1, '\0');  // etcd's "from the first key to the end"
  every_key.range_end = std::string(1, '\0');
  every_key.count_only = true;
  Result<RangeResponse> counted = (*store)->range(every_key);
  if (!counted) return counted.status();
  ImageSummary summary;
  summary.applied_index = (*store)->applied_index();
  summary.revision = (*store)->current_revision();
  summary.compact_revision = (*store)->compact_revision();
  summary.keys = counted->count;
  summary.leases = (*store)->leases().size();
  // What install_snapshot() took over is durable, and forget_cluster() flushed its change.
  return summary;
#else
  (void)image_dir;
  (void)kv_dir;
  return Status::failed_precondition("images are RocksDB stores: this build has no RocksDB");
#endif
}

}  // namespace

Result<ImageSummary> install_image(const std::string& file,
                                   const tools::SnapshotFileContents& contents,
                                   const std::string& kv_dir) {
  Result<ImageSummary> image = open_image(contents.image_dir, kv_dir);
  if (!image) {
    return Status(image.status().code(),
                  "snapshot file " + file + ": its image does not open as a store (corrupt?): " +
                      image.status().message(),
                  image.status().detail());
  }
  if (image->applied_index != contents.description.image.index) {
    return Status::corruption("snapshot file " + file + " is corrupt: its image holds index " +
                              std::to_string(image->applied_index) +
                              " but its description says index " +
                              std::to_string(contents.description.image.index));
  }
  return image;
}

}  // namespace dengine::ctl
