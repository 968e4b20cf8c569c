#include "ctl/snapshot_restore.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "cluster/member_identity.h"
#include "ctl/ctl_flags.h"
#include "ctl/data_dir_seed.h"
#include "dengine/member_config.h"
#include "kv/durable_files.h"
#include "log/posix_file_system.h"
#include "tools/snapshot_file_reader.h"

namespace dengine::ctl {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFlags[] = {"data-dir", "name", "initial-cluster",
                                       "initial-cluster-token", "initial-advertise-peer-urls"};

// DIR must not exist, or be an empty directory (etcd's restore refuses any existing one; an empty
// one made ahead is as good as none, since the final rename replaces it).
Status check_target(const std::string& dir) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    return Status::io_error("restore: cannot look at " + dir + ": " + error.message());
  }
  if (!fs::exists(status)) return Status::ok();
  if (!fs::is_directory(status)) {
    return Status::failed_precondition("restore: data dir " + dir +
                                       " exists and is not a directory");
  }
  if (!fs::is_empty(dir, error) || error) {
    return Status::failed_precondition("restore: data dir " + dir +
                                       " exists and is not empty (a restore never overwrites a "
                                       "data dir)");
  }
  return Status::ok();
}

// Beside DIR, so that the final rename stays on one file system.
std::string staging_dir_for(const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::string name = ".";
  name += target.filename().string();
  name += ".restoring-" + std::to_string(::getpid());
  return (target.parent_path() / name).string();
}

// Removes the staging directory unless the restore got through.
class StagingGuard {
 public:
  explicit StagingGuard(std::string path) : path_(std::move(path)) {}
  ~StagingGuard() {
    if (!kept_) (void)kv::remove_tree(path_);
  }
  StagingGuard(const StagingGuard&) = delete;
  StagingGuard& operator=(const StagingGuard&) = delete;
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

Result<ImageSummary> build_data_dir(const std::string& file, const std::string& staging,
                                    const cluster::ClusterIds& ids) {
  if (Status created = kv::create_new_dir(staging); !created) return created;
  // Read again, now for real: the file could have changed since it was verified.
  Result<tools::SnapshotFileContents> contents = tools::read_snapshot_file(
      file, std::make_shared<log::PosixFileSystem>(), staging + "/snapshots");
  if (!contents) return contents.status();
  Result<ImageSummary> image = install_image(file, *contents, staging + "/kv");
  if (!image) return image.status();
  if (Status cleared = kv::remove_tree(staging + "/snapshots"); !cleared) return cleared;
  if (Status seeded = seed_data_dir(staging, ids, contents->description.image); !seeded) {
    return seeded;
  }
  return image;
}

}  // namespace

Result<cluster::ClusterIds> restore_ids(const RestoreOptions& options) {
  // The server's own parsing and checks (etcd's VerifyBootstrap, which etcdctl's restore runs
  // too), so the ids are the ones `dengine-server` derives from the same flags.
  const std::vector<std::string> flags = {
      "--name=" + options.name, "--initial-cluster=" + options.initial_cluster,
      "--initial-cluster-token=" + options.initial_cluster_token,
      "--initial-advertise-peer-urls=" + options.initial_advertise_peer_urls};
  Result<MemberConfig> config = parse_member_config(flags, {});
  if (!config) return config.status();
  Result<cluster::ClusterIdentity> identity = cluster::derive_identity(*config);
  if (!identity) return identity.status();
  return cluster::bootstrap_ids(*identity);
}

Result<RestoredMember> restore_snapshot(const std::string& file, const RestoreOptions& options) {
  const std::string dir = options.data_dir.empty() ? options.name + ".dengine" : options.data_dir;
  Result<cluster::ClusterIds> ids = restore_ids(options);
  if (!ids) return ids.status();
  if (Status target = check_target(dir); !target) return target;
  // Every byte checked before the first one is written.
  if (Result<tools::SnapshotFileContents> verified = tools::verify_snapshot_file(file); !verified) {
    return verified.status();
  }
  const std::string staging = staging_dir_for(dir);
  std::error_code error;
  if (const fs::path parent = fs::path(staging).parent_path(); !parent.empty()) {
    fs::create_directories(parent, error);
    if (error) {
      return Status::io_error("restore: cannot create " + parent.string() + ": " + error.message());
    }
  }
  StagingGuard guard(staging);
  Result<ImageSummary> image = build_data_dir(file, staging, *ids);
  if (!image) return image.status();
  // rename(2) replaces an empty directory, and only an empty one.
  if (Status moved = kv::rename_durably(staging, dir); !moved) {
    return Status(moved.code(),
                  "restore: moving the restored data dir into place: " + moved.message(),
                  moved.detail());
  }
  guard.keep();
  return RestoredMember{.data_dir = dir, .ids = std::move(*ids), .image = *image};
}

std::string_view snapshot_restore_usage() {
  return "usage: dengine-ctl snapshot restore FILE [--data-dir DIR] [--name NAME]\n"
         "         [--initial-cluster NAME=URL,...] [--initial-cluster-token TOKEN]\n"
         "         [--initial-advertise-peer-urls URL,...]\n"
         "\n"
         "Makes a data dir from a snapshot saved with `etcdctl snapshot save`, from which\n"
         "`dengine-server --data-dir DIR --name NAME --initial-cluster ...` starts as a member of\n"
         "a new cluster holding every key of the snapshot. Restore each member from the same\n"
         "file with its own --name. The file is verified whole first; DIR must not exist or be\n"
         "empty, and on any failure nothing is left behind.\n"
         "\n"
         "  --data-dir DIR                      default: NAME.dengine\n"
         "  --name NAME                         default: default\n"
         "  --initial-cluster NAME=URL,...      default: default=http://localhost:2380\n"
         "  --initial-cluster-token TOKEN       default: etcd-cluster\n"
         "  --initial-advertise-peer-urls URL   default: http://localhost:2380\n";
}

int run_snapshot_restore(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  Result<CommandLine> line = parse_command_line(args, kFlags);
  if (line && line->help) {
    out << snapshot_restore_usage();
    return 0;
  }
  Status usable = line ? expect_positional(*line, 1, "FILE") : line.status();
  if (!usable) {
    err << "dengine-ctl snapshot restore: " << usable.message() << "\n" << snapshot_restore_usage();
    return 2;
  }
  RestoreOptions options;
  options.data_dir = line->flag_or("data-dir", options.data_dir);
  options.name = line->flag_or("name", options.name);
  options.initial_cluster = line->flag_or("initial-cluster", options.initial_cluster);
  options.initial_cluster_token =
      line->flag_or("initial-cluster-token", options.initial_cluster_token);
  options.initial_advertise_peer_urls =
      line->flag_or("initial-advertise-peer-urls", options.initial_advertise_peer_urls);
  Result<RestoredMember> restored = restore_snapshot(line->positional[0], options);
  if (!restored) {
    err << "dengine-ctl snapshot restore: " << restored.status().message() << "\n";
    return 1;
  }
  out << "restored " << line->positional[0] << " into " << restored->data_dir << ": member "
      << cluster::format_id(restored->ids.member_id) << " of new cluster "
      << cluster::format_id(restored->ids.cluster_id) << " (" << restored->ids.member_ids.size()
      << (restored->ids.member_ids.size() == 1 ? " member" : " members") << "), revision "
      << restored->image.revision << ", " << restored->image.keys << " keys, applied index "
      << restored->image.applied_index << "\n";
  return 0;
}

}  // namespace dengine::ctl
