#include "ctl/snapshot_status.h"

#include <ctime>

#include "cluster/member_identity.h"
#include "ctl/ctl_flags.h"
#include "ctl/scratch_dir.h"
#include "log/posix_file_system.h"

namespace dengine::ctl {
namespace {

std::string utc_time(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  char text[32] = "?";
  if (gmtime_r(&seconds, &parts) != nullptr) {
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  }
  return text;
}

std::string id_list(const std::vector<NodeId>& ids) {
  std::string text;
  for (const NodeId id : ids) {
    if (!text.empty()) text += ',';
    text += cluster::format_id(id);
  }
  return text.empty() ? "none" : text;
}

}  // namespace

Result<SnapshotReport> inspect_snapshot_file(const std::string& path) {
  Result<ScratchDir> scratch = ScratchDir::create("dengine-ctl-status");
  if (!scratch) return scratch.status();
  Result<tools::SnapshotFileContents> file = tools::read_snapshot_file(
      path, std::make_shared<log::PosixFileSystem>(), scratch->path() + "/extracted");
  if (!file) return file.status();
  Result<ImageSummary> image = install_image(path, *file, scratch->path() + "/kv");
  if (!image) return image.status();
  return SnapshotReport{.path = path, .file = std::move(*file), .image = *image};
}

void print_snapshot_report(const SnapshotReport& report, std::ostream& out) {
  const tools::SnapshotDescription& taken = report.file.description;
  out << "file:             " << report.path << "\n"
      << "format version:   " << report.file.format_version << "\n"
      << "size:             " << report.file.file_bytes << " bytes\n"
      << "sha256:           " << report.file.sha256 << " (checksum ok)\n"
      << "taken:            " << utc_time(taken.taken_unix_ms) << " by member "
      << cluster::format_id(taken.member_id) << " of cluster "
      << cluster::format_id(taken.cluster_id) << "\n"
      << "applied index:    " << taken.image.index << "\n"
      << "term:             " << taken.image.term << "\n"
      << "voters:           " << id_list(taken.image.conf.voters) << "\n";
  if (!taken.image.conf.learners.empty()) {
    out << "learners:         " << id_list(taken.image.conf.learners) << "\n";
  }
  out << "image:            " << report.file.image_files << " files, " << report.file.image_bytes
      << " bytes (checksums ok)\n"
      << "revision:         " << report.image.revision << "\n"
      << "compact revision: " << report.image.compact_revision << "\n"
      << "keys:             " << report.image.keys << "\n"
      << "leases:           " << report.image.leases << "\n";
}

std::string_view snapshot_status_usage() {
  return "usage: dengine-ctl snapshot status FILE\n"
         "\n"
         "Checks a snapshot saved with `etcdctl snapshot save` from dengine-server: its header,\n"
         "every chunk's CRC32C, the image's CRC32C, the file's sha256, and the image opened as\n"
         "a store. Prints what it holds (revision, applied index, keys...). Writes nothing but a\n"
         "scratch directory under $TMPDIR, removed afterwards. Exit status 1 when the file is\n"
         "damaged, with a message naming the offset.\n";
}

int run_snapshot_status(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  Result<CommandLine> line = parse_command_line(args, {});
  if (line && line->help) {
    out << snapshot_status_usage();
    return 0;
  }
  Status usable = line ? expect_positional(*line, 1, "FILE") : line.status();
  if (!usable) {
    err << "dengine-ctl snapshot status: " << usable.message() << "\n" << snapshot_status_usage();
    return 2;
  }
  Result<SnapshotReport> report = inspect_snapshot_file(line->positional[0]);
  if (!report) {
    err << "dengine-ctl snapshot status: " << report.status().message() << "\n";
    return 1;
  }
  print_snapshot_report(*report, out);
  return 0;
}

}  // namespace dengine::ctl
