#include "ctl/wal_scan.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "log/posix_file_system.h"
#include "log/record.h"

namespace dengine::ctl {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

void count_record(SegmentScan& scan, const log::RecordView& record) {
  ++scan.records;
  switch (record.type) {
    case log::RecordType::kEntry: {
      const std::optional<Entry> entry = log::decode_entry(record.payload);
      if (!entry) return;
      ++scan.entries;
      if (scan.first_index == 0) {
        scan.first_index = entry->index;
        scan.first_term = entry->term;
      }
      scan.last_index = entry->index;
      scan.last_term = entry->term;
      return;
    }
    case log::RecordType::kHardState:
      ++scan.hard_states;
      scan.last_hard_state = log::decode_hard_state(record.payload);
      return;
    case log::RecordType::kTruncate: ++scan.truncations; return;
    case log::RecordType::kSeal: scan.sealed = true; return;
  }
}

SegmentScan scan_segment(log::FileSystem& fs, const std::string& wal_dir, const std::string& name) {
  SegmentScan scan;
  scan.file_name = name;
  Result<std::string> bytes = fs.read_file(log::join_path(wal_dir, name));
  if (!bytes) {
    scan.damage = "unreadable: " + bytes.status().message();
    return scan;
  }
  scan.file_bytes = bytes->size();
  Result<log::SegmentHeader> header = log::decode_segment_header(*bytes, name);
  if (!header) {
    scan.damage = "offset 0: " + header.status().message();
    return scan;
  }
  scan.header = *header;
  size_t offset = log::kSegmentHeaderBytes;
  while (!scan.sealed) {
    const log::ParsedRecord parsed = log::parse_record(*bytes, offset, header->salt);
    if (parsed.kind == log::ParsedRecord::Kind::kInvalid) {
      scan.damage = "offset " + std::to_string(offset) + ": " + parsed.problem;
      break;
    }
    if (parsed.kind == log::ParsedRecord::Kind::kEnd) break;
    count_record(scan, parsed.record);
    offset += parsed.record.framed_bytes;
  }
  scan.end_offset = offset;
  if (scan.damage.empty()) {
    const auto nonzero = std::find_if(bytes->begin() + static_cast<long>(offset), bytes->end(),
                                      [](char c) { return c != 0; });
    if (nonzero != bytes->end()) {
      scan.damage = "offset " + std::to_string(nonzero - bytes->begin()) +
                    ": nonzero bytes after the last record";
    }
  }
  return scan;
}

}  // namespace

Result<WalScan> scan_wal(const std::string& dir) {
  std::error_code error;
  WalScan scan;
  scan.wal_dir = std::filesystem::is_directory(dir + "/wal", error) ? dir + "/wal" : dir;
  log::PosixFileSystem fs;
  Result<std::vector<std::string>> names = fs.list_dir(scan.wal_dir);
  if (!names) return names.status();
  for (const std::string& name : *names) {
    if (ends_with(name, log::kTempSuffix)) scan.temp_files.push_back(name);
    if (!ends_with(name, log::kSegmentSuffix)) continue;
    scan.segments.push_back(scan_segment(fs, scan.wal_dir, name));
  }
  if (scan.segments.empty()) {
    return Status::not_found("wal: no segments (*" + std::string(log::kSegmentSuffix) + ") in " +
                             scan.wal_dir);
  }
  scan.replay = log::replay_wal(fs, scan.wal_dir);
  return scan;
}

}  // namespace dengine::ctl
