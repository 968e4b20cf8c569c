#include "api/maintenance_service.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "api/etcd_status.h"
#include "api/log_command.h"
#include "common/byte_codec.h"
#include "dengine/embedded_engine.h"
#include "kv/durable_files.h"
#include "log/crc32c.h"
#include "runtime/engine_internals.h"
#include "tools/snapshot_file_writer.h"

namespace dengine::api {
namespace {

// The API version etcd's clients see: the etcd release whose wire behaviour dengine matches.
constexpr const char* kEtcdApiVersion = "3.4.23";

int64_t bytes_under(const std::string& dir) {
  std::error_code error;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += static_cast<int64_t>(it->file_size(error));
  }
  return total;
}

// Folds key-value records into a CRC-32C, each field length-prefixed so that no two different
// histories feed the same bytes.
class HistoryHash {
 public:
  void add(const KeyValue& kv, uint8_t kind) {
    ByteWriter out;
    out.u8(kind);
    out.bytes(kv.key);
    out.bytes(kv.value);
    out.i64(kv.create_revision);
    out.i64(kv.mod_revision);
    out.i64(kv.version);
    out.i64(kv.lease);
    const std::string bytes = out.take();
    crc_ = log::crc32c_extend(crc_, bytes.data(), bytes.size());
  }
  [[nodiscard]] uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = 0;
};

constexpr uint8_t kKeptVersion = 0;
constexpr uint8_t kPutEvent = 1;
constexpr uint8_t kDeleteEvent = 2;

// The whole keyspace, with etcd's range conventions.
constexpr char kEveryKey[] = "\0";

// The saved snapshot file describes its image as a RocksDB checkpoint (tools/snapshot_file.h).
#if DENGINE_WITH_ROCKSDB
constexpr bool kImagesAreCheckpoints = true;
#else
constexpr bool kImagesAreCheckpoints = false;
#endif

// Snapshot streams at once: each holds an image (hard links that keep compacted table files
// on disk) and a gRPC thread's attention per piece.
constexpr int kMaxSnapshotStreams = 4;

// One stream's place among kMaxSnapshotStreams, given back when it goes.
class SnapshotSlot {
 public:
  explicit SnapshotSlot(std::shared_ptr<std::atomic<int>> streams) {
    if (streams->fetch_add(1) < kMaxSnapshotStreams) {
      streams_ = std::move(streams);
    } else {
      streams->fetch_sub(1);
    }
  }
  ~SnapshotSlot() {
    if (streams_) streams_->fetch_sub(1);
  }
  SnapshotSlot(SnapshotSlot&&) noexcept = default;
  SnapshotSlot& operator=(SnapshotSlot&&) = delete;
  SnapshotSlot(const SnapshotSlot&) = delete;
  SnapshotSlot& operator=(const SnapshotSlot&) = delete;
  [[nodiscard]] bool taken() const { return streams_ != nullptr; }

 private:
  std::shared_ptr<std::atomic<int>> streams_;
};

// An image of this member's state in `image_dir`, opened as a saved snapshot file; nothing is
// left in `image_dir` when it fails.
Result<tools::SnapshotFileWriter> take_image(EmbeddedEngine& engine, const MemberIds& ids,
                                             const std::string& image_dir) {
  const auto failed = [&](const dengine::Status& why) -> Result<tools::SnapshotFileWriter> {
    (void)kv::remove_tree(image_dir);
    return why;
  };
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(image_dir).parent_path(), error);
  if (error) {
    return failed(dengine::Status::io_error("snapshot: cannot create the parent of " + image_dir +
                                            ": " + error.message()));
  }
  if (dengine::Status cleared = kv::remove_tree(image_dir); !cleared) return cleared;
  Result<SnapshotMeta> image = runtime::runtime_of(engine).write_image(image_dir);
  if (!image) return failed(image.status());
  const tools::SnapshotDescription description{
      .image_kind = tools::ImageKind::kRocksDbCheckpoint,
      .member_id = ids.member_id,
      .cluster_id = ids.cluster_id,
      .taken_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count(),
      .image = std::move(*image)};
  Result<tools::SnapshotFileWriter> writer =
      tools::SnapshotFileWriter::open(image_dir, description);
  if (!writer) return failed(writer.status());
  return writer;
}

// One Snapshot call: a saved snapshot file made from an image, one piece per response, each
// written once the one before has gone. A write is in flight from the start until Finish, so a
// client that goes away shows up as a failed write; the image goes when gRPC is done with the
// call, however it ended.
class SnapshotStream final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  SnapshotStream(std::string image_dir, tools::SnapshotFileWriter writer, SnapshotSlot slot)
      : image_dir_(std::move(image_dir)), writer_(std::move(writer)), slot_(std::move(slot)) {
    write_next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish({grpc::StatusCode::CANCELLED, "etcdserver: snapshot stream closed"});
    write_next();
  }
  void OnDone() override {
    (void)kv::remove_tree(image_dir_);
    delete this;
  }

 private:
  void write_next() {
    Result<std::optional<tools::SnapshotFileWriter::Piece>> piece = writer_.next();
    if (!piece) return Finish(to_grpc_status(piece.status()));
    if (!piece->has_value()) return Finish(grpc::Status::OK);
    // As etcd 3.4: no header; remaining_bytes counts the file before its digest.
    response_.set_remaining_bytes((*piece)->remaining_bytes);
    response_.set_blob(std::move((*piece)->bytes));
    StartWrite(&response_);
  }

  const std::string image_dir_;
  tools::SnapshotFileWriter writer_;
  SnapshotSlot slot_;
  etcdserverpb::SnapshotResponse response_;  // gRPC's until OnWriteDone
};

// A stream that ends before its first response.
grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* failed_stream(grpc::Status status) {
  class Failed final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
   public:
    explicit Failed(const grpc::Status& why) { Finish(why); }
    void OnDone() override { delete this; }
  };
  return new Failed(status);
}

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::StatusRequest* /*request*/,
                                                     etcdserverpb::StatusResponse* response) {
  const runtime::NodeStatus status = runtime::runtime_of(header_.engine()).status();
  header_.fill(response->mutable_header());
  response->set_version(kEtcdApiVersion);
  const int64_t size = bytes_under(data_dir_ + "/kv");  // the state machine, not the WAL
  response->set_dbsize(size);
  response->set_dbsizeinuse(size);
  // The engine's node ids are etcd's member ids.
  response->set_leader(status.leader);
  response->set_raftindex(status.commit);
  response->set_raftterm(status.term);
  response->set_raftappliedindex(status.applied);
  bool learner = false;
  for (const NodeId id : status.conf.learners) learner = learner || id == status.id;
  response->set_islearner(learner);
  if (!status.fatal.is_ok()) response->add_errors(status.fatal.message());
  if (status.leader == kNoNode) response->add_errors("etcdserver: no leader");
  const auto [alarms, in_use] =
      runtime::runtime_of(header_.engine()).read_local([](const StateMachine& machine) {
        return std::pair{machine.alarms(), machine.approximate_bytes()};
      });
  // etcd lists the alarms in force as their protobuf text.
  for (const dengine::Alarm& alarm : alarms) {
    response->add_errors("memberID:" + std::to_string(alarm.member) + " alarm:" +
                         etcdserverpb::AlarmType_Name(static_cast<int>(alarm.type)) + " ");
  }
  if (in_use > 0) response->set_dbsizeinuse(static_cast<int64_t>(in_use));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::AlarmRequest* request,
                                                    etcdserverpb::AlarmResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(alarm(*request, *response));
  return reactor;
}

// etcd's EtcdServer.Alarm: GET lists the alarms of a type (NONE: all, whichever member);
// ACTIVATE and DEACTIVATE go through the log for one member's alarm, and answer with it (a
// DEACTIVATE of an alarm not in force changes nothing and answers with none).
grpc::Status MaintenanceService::alarm(const etcdserverpb::AlarmRequest& request,
                                       etcdserverpb::AlarmResponse& response) const {
  EmbeddedEngine& engine = header_.engine();
  const std::vector<dengine::Alarm> alarms = runtime::runtime_of(engine).read_local(
      [](const StateMachine& machine) { return machine.alarms(); });
  const auto type = static_cast<uint8_t>(request.alarm());
  const auto add = [&](const dengine::Alarm& alarm) {
    etcdserverpb::AlarmMember* member = response.add_alarms();
    member->set_memberid(alarm.member);
    member->set_alarm(static_cast<etcdserverpb::AlarmType>(alarm.type));
  };
  if (request.action() == etcdserverpb::AlarmRequest::GET) {
    for (const dengine::Alarm& alarm : alarms) {
      if (type == 0 || static_cast<uint8_t>(alarm.type) == type) add(alarm);
    }
    return grpc::Status::OK;
  }
  if (type == 0) return grpc::Status::OK;  // etcd: no alarm named, nothing to do
  if (type > static_cast<uint8_t>(AlarmType::kCorrupt)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: unknown alarm type"};
  }
  const dengine::Alarm named{.member = request.memberid(), .type = static_cast<AlarmType>(type)};
  const bool activate = request.action() == etcdserverpb::AlarmRequest::ACTIVATE;
  if (!activate && std::find(alarms.begin(), alarms.end(), named) == alarms.end()) {
    return grpc::Status::OK;
  }
  if (named.member == kNoNode) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: an alarm names a member"};
  }
  if (dengine::Status changed =
          propose_and_wait(engine, kv::AlarmChangeRequest{activate, named}, move_leader_timeout_);
      !changed) {
    return to_grpc_status(changed);
  }
  add(named);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::HashKVRequest* request,
                                                     etcdserverpb::HashKVResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  runtime::RaftRuntime& runtime = runtime::runtime_of(header_.engine());
  const auto [current, compacted] = runtime.read_local([](const StateMachine& machine) {
    return std::pair{machine.current_revision(), machine.compact_revision()};
  });
  const int64_t revision = request->revision() > 0 ? request->revision() : current;
  if (revision > current) {
    reactor->Finish(to_grpc_status(Status::of(ErrorDetail::kFutureRevision)));
    return reactor;
  }
  if (compacted > 0 && revision < compacted) {
    reactor->Finish(to_grpc_status(Status::of(ErrorDetail::kCompacted)));
    return reactor;
  }
  HistoryHash hash;
  const std::string every_key(kEveryKey, 1);
  // One chunk of history per look, so that applies wait for none of it for long.
  Result<EventBatch> batch = EventBatch{.events = {}, .next_revision = 1};
  if (compacted > 0) {
    RangeRequest kept;
    kept.key = every_key;
    kept.range_end = every_key;
    kept.revision = compacted;
    Result<RangeResponse> versions =
        runtime.read_local([&](const StateMachine& machine) { return machine.range(kept); });
    if (!versions) {
      reactor->Finish(to_grpc_status(versions.status()));
      return reactor;
    }
    for (const KeyValue& kv : versions->kvs) hash.add(kv, kKeptVersion);
    batch->next_revision = compacted + 1;
  }
  while (batch->next_revision <= revision) {
    const EventQuery query{.key = every_key,
                           .range_end = every_key,
                           .start_revision = batch->next_revision,
                           .prev_kv = false,
                           .max_revisions = 1000};
    batch = runtime.read_local([&](const StateMachine& machine) { return machine.events(query); });
    // A compaction meanwhile fails the read as compacted, as etcd's hash would.
    if (!batch) {
      reactor->Finish(to_grpc_status(batch.status()));
      return reactor;
    }
    for (const Event& event : batch->events) {
      if (event.kv.mod_revision > revision) break;
      hash.add(event.kv, event.type == EventType::kPut ? kPutEvent : kDeleteEvent);
    }
    if (batch->events.empty() && batch->next_revision <= revision) break;  // nothing more
  }
  header_.fill(response->mutable_header());
  response->mutable_header()->set_revision(current);
  response->set_hash(hash.value());
  response->set_compact_revision(compacted);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(
    grpc::CallbackServerContext* context, const etcdserverpb::DefragmentRequest* /*request*/,
    etcdserverpb::DefragmentResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const dengine::Status defragmented =
      runtime::runtime_of(header_.engine()).read_local([](const StateMachine& machine) {
        return machine.defragment();
      });
  if (!defragmented) {
    reactor->Finish(to_grpc_status(defragmented));
    return reactor;
  }
  (void)response;  // etcd answers with an empty DefragmentResponse, header included
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(
    grpc::CallbackServerContext* context, const etcdserverpb::MoveLeaderRequest* request,
    etcdserverpb::MoveLeaderResponse* response) {  // NOLINT(misc-unused-parameters)
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  EmbeddedEngine& engine = header_.engine();
  const NodeId target = request->targetid();
  // etcd's errors (rpctypes): ErrGRPCNotLeader, ErrGRPCBadLeaderTransferee, and the timeout.
  if (!engine.is_leader()) {
    reactor->Finish({grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader"});
    return reactor;
  }
  const ConfState members = engine.members();
  const bool voter =
      std::find(members.voters.begin(), members.voters.end(), target) != members.voters.end();
  if (!voter) {
    reactor->Finish({grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: bad leader transferee"});
    return reactor;
  }
  if (target != engine.id()) {
    if (dengine::Status moved = engine.transfer_leadership(target, move_leader_timeout_); !moved) {
      reactor->Finish(moved.code() == StatusCode::kTimedOut
                          ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "etcdserver: request timed out, leader transfer took "
                                         "too long")
                          : to_grpc_status(moved));
      return reactor;
    }
  }
  (void)response;  // etcd answers with an empty MoveLeaderResponse, header included
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* MaintenanceService::Snapshot(
    grpc::CallbackServerContext* /*context*/, const etcdserverpb::SnapshotRequest* /*request*/) {
  if (!kImagesAreCheckpoints) {
    return failed_stream({grpc::StatusCode::UNIMPLEMENTED,
                          "dengine: snapshots need the RocksDB state machine (a build with it)"});
  }
  SnapshotSlot slot(snapshot_streams_);
  if (!slot.taken()) {
    return failed_stream({grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "dengine: " + std::to_string(kMaxSnapshotStreams) +
                              " snapshots are being sent already; try again later"});
  }
  // Under the data dir, so that the checkpoint hard-links the store's files rather than copying
  // them; a restart empties <data-dir>/snapshots/.
  const std::string image_dir = data_dir_ + "/snapshots/backup-" + std::to_string(++images_taken_);
  Result<tools::SnapshotFileWriter> writer = take_image(header_.engine(), header_.ids(), image_dir);
  if (!writer) return failed_stream(to_grpc_status(writer.status()));
  return new SnapshotStream(image_dir, std::move(*writer), std::move(slot));
}

}  // namespace dengine::api
