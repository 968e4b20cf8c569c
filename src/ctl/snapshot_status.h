#pragma once

// `dengine-ctl snapshot status FILE`: checks a saved snapshot file through and through (every
// checksum of the file, then the image opened as a store, as a restore would) and says what it
// holds. Reads only: the image is opened in a scratch directory that goes afterwards.

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "ctl/image_store.h"
#include "dengine/status.h"
#include "tools/snapshot_file_reader.h"

namespace dengine::ctl {

struct SnapshotReport {
  std::string path;
  tools::SnapshotFileContents file;
  ImageSummary image;
};

Result<SnapshotReport> inspect_snapshot_file(const std::string& path);
// The report, one "field: value" line each.
void print_snapshot_report(const SnapshotReport& report, std::ostream& out);

std::string_view snapshot_status_usage();
// The exit code: 0 when the file is whole, 1 when it is not (one line on `err` naming the
// problem), 2 for a wrong command line.
int run_snapshot_status(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace dengine::ctl
