#include "runtime/snapshot_shipper.h"

#include <filesystem>
#include <system_error>

#include "kv/durable_files.h"

namespace dengine::runtime {

SnapshotShipper::SnapshotShipper(std::string dir, Transport& transport, WriteImage write_image,
                                 Failed failed)
    : dir_(std::move(dir)),
      transport_(transport),
      write_image_(std::move(write_image)),
      failed_(std::move(failed)) {}

SnapshotShipper::~SnapshotShipper() {
  stop();
}

void SnapshotShipper::ship(Message message) {
  std::string image_dir;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !in_flight_.insert(message.to).second) return;
    image_dir = dir_ + "/out-" + std::to_string(++next_image_);
  }
  thread_.post([this, message = std::move(message), image_dir = std::move(image_dir)]() mutable {
    send(std::move(message), image_dir);
  });
}

Status SnapshotShipper::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

void SnapshotShipper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  thread_.stop();
}

void SnapshotShipper::send(Message message, const std::string& image_dir) {
  const NodeId to = message.to;
  Status sent = [&]() -> Status {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return Status::unavailable("snapshot shipper: stopping");
    }
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) {
      return Status::io_error("snapshot shipper: cannot create " + dir_ + ": " + error.message());
    }
    if (Status cleared = kv::remove_tree(image_dir); !cleared) return cleared;
    Result<SnapshotMeta> image = write_image_(image_dir);
    if (!image) return image.status();
    message.snapshot = *image;
    message.index = image->index;
    message.log_term = image->term;
    return transport_.send_snapshot(message, image_dir);
  }();
  (void)kv::remove_tree(image_dir);
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(to);
    if (!sent) {
      last_failure_ =
          Status(sent.code(), "snapshot to node " + std::to_string(to) + ": " + sent.message(),
                 sent.detail());
    }
  }
  if (!sent) return failed_(to, sent);
  images_sent_.fetch_add(1);
}

}  // namespace dengine::runtime
