#include "ctl/wal_inspect.h"

#include <iomanip>

#include "cluster/member_identity.h"
#include "ctl/ctl_flags.h"

namespace dengine::ctl {
namespace {

std::string range(uint64_t first, uint64_t last) {
  return std::to_string(first) + ".." + std::to_string(last);
}

std::string describe(const HardState& hard_state) {
  return "term " + std::to_string(hard_state.term) + ", vote " +
         (hard_state.vote == kNoNode ? std::string("none") : cluster::format_id(hard_state.vote)) +
         ", commit " + std::to_string(hard_state.commit);
}

void print_segments(const WalScan& scan, const log::WalReplay* replay, std::ostream& out) {
  out << std::left << std::setw(22) << "SEGMENT" << std::setw(6) << "SEQ" << std::setw(9)
      << "RECORDS" << std::setw(9) << "ENTRIES" << std::setw(20) << "INDEXES" << std::setw(12)
      << "TERMS" << std::setw(8) << "SEALED"
      << "USED/SIZE\n";
  for (const SegmentScan& segment : scan.segments) {
    out << std::setw(22) << segment.file_name;
    if (!segment.header) {
      out << "unreadable: " << segment.damage << "\n";
      continue;
    }
    out << std::setw(6) << segment.header->seq << std::setw(9) << segment.records << std::setw(9)
        << segment.entries << std::setw(20)
        << (segment.entries == 0 ? "-" : range(segment.first_index, segment.last_index))
        << std::setw(12)
        << (segment.entries == 0 ? "-" : range(segment.first_term, segment.last_term))
        << std::setw(8) << (segment.sealed ? "yes" : "no") << segment.end_offset << "/"
        << segment.file_bytes;
    if ((segment.header->flags & log::kSegmentResetsLog) != 0) out << "  (starts after a snapshot)";
    if (replay != nullptr) {
      for (const log::ReplayedSegment& replayed : replay->segments) {
        if (replayed.file_name == segment.file_name && replayed.skipped) {
          out << "  (superseded; deleted at the next start)";
        }
      }
    }
    out << "\n";
    if (!segment.damage.empty()) out << "  damaged at " << segment.damage << "\n";
  }
  for (const std::string& name : scan.temp_files) {
    out << std::setw(22) << name << "an interrupted segment creation; deleted at the next start\n";
  }
}

}  // namespace

void print_wal_scan(const WalScan& scan, std::ostream& out) {
  const log::WalReplay* replay = scan.replay ? &*scan.replay : nullptr;
  out << "wal: " << scan.wal_dir << " (" << scan.segments.size()
      << (scan.segments.size() == 1 ? " segment" : " segments") << ")\n";
  print_segments(scan, replay, out);
  if (replay == nullptr) {
    out << "recovery: refused: " << scan.replay.status().message() << "\n";
    return;
  }
  out << "hard state: " << describe(replay->hard_state) << "\n";
  if (replay->entries.empty()) {
    out << "log: no entries; it continues after index " << replay->first_index - 1 << " (term "
        << replay->prev_term << ")\n";
  } else {
    out << "log: entries " << range(replay->first_index, replay->last_index()) << " (terms "
        << range(replay->entries.front().entry.term, replay->entries.back().entry.term)
        << "), after index " << replay->first_index - 1 << " (term " << replay->prev_term << ")\n";
  }
  if (replay->torn_tail) {
    out << "recovery: ok, with a torn tail in " << replay->segments.back().file_name
        << " at offset " << replay->torn_tail->offset << " (" << replay->torn_tail->damaged_bytes
        << " bytes: " << replay->torn_tail->problem << "), cut at the next start\n";
  } else {
    out << "recovery: ok\n";
  }
}

std::string_view wal_inspect_usage() {
  return "usage: dengine-ctl wal inspect DIR\n"
         "\n"
         "Lists the WAL segments of a data dir (or of its wal/ directory): records, entries, the\n"
         "index and term ranges, the hard state, and where any damage sits (file and offset).\n"
         "Reads only: never truncates or repairs. Exit status 1 when the server would refuse to\n"
         "start on this WAL (corruption before its tail).\n";
}

int run_wal_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  Result<CommandLine> line = parse_command_line(args, {});
  if (line && line->help) {
    out << wal_inspect_usage();
    return 0;
  }
  Status usable = line ? expect_positional(*line, 1, "DIR") : line.status();
  if (!usable) {
    err << "dengine-ctl wal inspect: " << usable.message() << "\n" << wal_inspect_usage();
    return 2;
  }
  Result<WalScan> scan = scan_wal(line->positional[0]);
  if (!scan) {
    err << "dengine-ctl wal inspect: " << scan.status().message() << "\n";
    return 1;
  }
  print_wal_scan(*scan, out);
  if (!scan->replay) {
    err << "dengine-ctl wal inspect: " << scan->replay.status().message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace dengine::ctl
