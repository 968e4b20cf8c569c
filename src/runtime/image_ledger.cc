#include "runtime/image_ledger.h"

#include <utility>

namespace dengine::runtime {

ImageLedger::ImageLedger(const raft::RaftNode& core)
    : latest_image_{.index = core.log().snapshot_index(),
                    .term = core.log().snapshot_term(),
                    .conf = core.conf_state()},
      conf_base_(core.conf_state()),
      conf_(conf_base_),
      shared_conf_(std::make_shared<const ConfState>(conf_)) {}

void ImageLedger::record_batch(const std::vector<Entry>& batch, const raft::RaftNode& core) {
  for (const Entry& entry : batch) {
    if (entry.type != EntryType::kConfChange) continue;
    // The core acts on a configuration entry when it hands it out, so this is the
    // configuration after the whole batch.
    conf_ = core.conf_state();
    shared_conf_ = std::make_shared<const ConfState>(conf_);
    conf_history_.push_back(ConfRecord{entry.index, batch.back().index, conf_});
    return;
  }
}

std::optional<SnapshotMeta> ImageLedger::take_newer_image(Index durable, const raft::RaftLog& log) {
  if (durable <= latest_image_.index) return std::nullopt;
  std::optional<SnapshotMeta> image = image_meta_at(durable, log);
  if (image) latest_image_ = *image;
  return image;
}

void ImageLedger::restart_at(const SnapshotMeta& image) {
  conf_base_ = image.conf;
  conf_ = image.conf;
  conf_history_.clear();
  shared_conf_ = std::make_shared<const ConfState>(conf_);
}

// The metadata of a durable image holding every entry up to `durable`. Configurations are
// known after whole batches; when `durable` falls inside a batch that changed the
// configuration, the image is described as of just before that change (it holds more, which
// replaying the log over it tolerates: applying an entry twice is a no-op).
std::optional<SnapshotMeta> ImageLedger::image_meta_at(Index durable, const raft::RaftLog& log) {
  ConfState conf = conf_base_;
  Index at = durable;
  size_t passed = 0;
  for (const ConfRecord& record : conf_history_) {
    if (record.batch_last <= durable) {
      conf = record.conf;
      ++passed;
      continue;
    }
    if (record.first_change <= durable) at = record.first_change - 1;
    break;
  }
  if (passed > 0) {
    conf_base_ = conf_history_[passed - 1].conf;
    conf_history_.erase(conf_history_.begin(), conf_history_.begin() + static_cast<long>(passed));
  }
  if (at <= latest_image_.index) return std::nullopt;
  std::optional<Term> term = log.term_at(at);
  if (!term) return std::nullopt;
  return SnapshotMeta{.index = at, .term = *term, .conf = std::move(conf)};
}

}  // namespace dengine::runtime
