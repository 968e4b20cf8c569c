#include "log/recovery.h"

#include <algorithm>

#include "log/record.h"

namespace dengine::log {
namespace {

std::string at(const std::string& file_name, uint64_t offset) {
  return "segment " + file_name + " at offset " + std::to_string(offset);
}

Status corrupt_record(const std::string& file_name, uint64_t offset, const ParsedRecord& parsed,
                      const std::string& why) {
  if (parsed.checksum_mismatch) {
    return Status::corruption("wal: checksum mismatch in " + at(file_name, offset) + " (expected " +
                              hex32(parsed.expected_crc) + ", found " + hex32(parsed.found_crc) +
                              "): " + why);
  }
  return Status::corruption("wal: corrupt record in " + at(file_name, offset) + ": " +
                            parsed.problem + "; " + why);
}

// A valid record at `offset` whose synced_offset lies past `damaged`: proof that the bytes at
// `damaged` had been made durable before it was written. Cheap checks first, since this runs
// at every 8-byte step of what may be megabytes of garbage.
bool proves_durable(std::string_view bytes, size_t offset, uint64_t damaged, uint32_t salt) {
  const char* header = bytes.data() + offset;
  const uint32_t length = get_u32(header + 4);
  const auto type = static_cast<uint8_t>(header[8]);
  const uint32_t synced_offset = get_u32(header + 12);
  if (synced_offset <= damaged || synced_offset > offset) return false;
  if (type < static_cast<uint8_t>(RecordType::kEntry) ||
      type > static_cast<uint8_t>(RecordType::kSeal)) {
    return false;
  }
  if (length > bytes.size() - offset - kRecordHeaderBytes) return false;
  return parse_record(bytes, offset, salt).kind == ParsedRecord::Kind::kRecord;
}

class Replayer {
 public:
  // `contents[i]` holds the bytes of out.segments[i], which are in seq order.
  Replayer(WalReplay& out, const std::vector<std::string>& contents)
      : out_(out), contents_(contents) {}

  Status replay() {
    mark_skipped();
    bool first = true;
    for (size_t i = 0; i < out_.segments.size(); ++i) {
      if (out_.segments[i].skipped) continue;
      const bool last = i + 1 == out_.segments.size();
      if (Status st = start_segment(out_.segments[i], first); !st) return st;
      first = false;
      if (Status st = scan(i, last); !st) return st;
    }
    return check_hard_state(out_.segments.empty() ? std::string() : out_.segments.back().file_name);
  }

 private:
  // A segment is superseded when a newer one (higher seq) starts at or below its name, or
  // resets the log.
  void mark_skipped() {
    Index lowest_newer = UINT64_MAX;
    bool newer_reset = false;
    for (size_t i = out_.segments.size(); i-- > 0;) {
      ReplayedSegment& info = out_.segments[i];
      info.skipped = newer_reset || lowest_newer <= info.header.first_index;
      lowest_newer = std::min(lowest_newer, info.header.first_index);
      newer_reset = newer_reset || (info.header.flags & kSegmentResetsLog) != 0;
    }
  }

  [[nodiscard]] Index last_index() const { return out_.last_index(); }

  [[nodiscard]] Term term_at(Index index) const {
    if (index + 1 == out_.first_index) return out_.prev_term;
    return out_.entries[index - out_.first_index].entry.term;
  }

  void truncate_after(Index index) {
    while (!out_.entries.empty() && last_index() > index) {
      --out_.segments[out_.entries.back().segment].surviving_entries;
      out_.entries.pop_back();
    }
  }

  Status start_segment(const ReplayedSegment& info, bool first) {
    const Index start = info.header.first_index;
    if (first) {
      out_.first_index = start;
      out_.prev_term = info.header.prev_term;
      return Status::ok();
    }
    if (start > last_index() + 1) {
      return Status::corruption("wal: corrupt log: segment " + info.file_name +
                                " starts at index " + std::to_string(start) +
                                " but the segments before it end at index " +
                                std::to_string(last_index()) + " (a segment is missing)");
    }
    if (start < out_.first_index) {
      return Status::corruption("wal: corrupt log: segment " + info.file_name +
                                " starts at index " + std::to_string(start) +
                                ", before the first index " + std::to_string(out_.first_index));
    }
    if (term_at(start - 1) != info.header.prev_term) {
      return Status::corruption(
          "wal: corrupt log: segment " + info.file_name + " says entry " +
          std::to_string(start - 1) + " has term " + std::to_string(info.header.prev_term) +
          " but the segments before it hold term " + std::to_string(term_at(start - 1)));
    }
    truncate_after(start - 1);
    return Status::ok();
  }

  Status scan(size_t segment_pos, bool last) {
    ReplayedSegment& info = out_.segments[segment_pos];
    const std::string_view bytes = contents_[segment_pos];
    const uint32_t salt = info.header.salt;
    size_t offset = kSegmentHeaderBytes;
    while (true) {
      const ParsedRecord parsed = parse_record(bytes, offset, salt);
      if (parsed.kind != ParsedRecord::Kind::kRecord && offset < kSegmentInitialBytes) {
        return Status::corruption("wal: corrupt " + at(info.file_name, offset) +
                                  ": the segment's first record (" +
                                  (parsed.problem.empty() ? "missing" : parsed.problem) +
                                  ") was synced when the segment was created");
      }
      if (parsed.kind == ParsedRecord::Kind::kEnd) {
        if (!last) {
          return Status::corruption("wal: corrupt " + at(info.file_name, offset) +
                                    ": the records end without a seal record, but a newer "
                                    "segment follows (the segment lost its end)");
        }
        info.end_offset = offset;
        const size_t nonzero = last_nonzero(bytes, offset);
        if (nonzero == offset) return Status::ok();
        return tail(info, bytes, offset, nonzero, parsed, "nonzero bytes after the last record");
      }
      if (parsed.kind == ParsedRecord::Kind::kInvalid) {
        info.end_offset = offset;
        if (!last) {
          return corrupt_record(info.file_name, offset, parsed,
                                "the segment was synced before a newer one was created");
        }
        return tail(info, bytes, offset, last_nonzero(bytes, offset), parsed, parsed.problem);
      }
      if (Status st = apply(segment_pos, info, offset, parsed.record); !st) return st;
      offset += parsed.record.framed_bytes;
      if (info.sealed) {
        info.end_offset = offset;
        // Nothing is ever written after a seal, but a torn write of the seal can leave garbage
        // behind it; have it zeroed like any torn tail, so no segment holds bytes past its end.
        const size_t nonzero = last_nonzero(bytes, offset);
        if (last && nonzero > offset) {
          out_.torn_tail = TornTail{offset, nonzero - offset, "nonzero bytes after the seal"};
        }
        return Status::ok();
      }
    }
  }

  // One past the last nonzero byte at or after `from` (`from` when there is none).
  static size_t last_nonzero(std::string_view bytes, size_t from) {
    size_t end = bytes.size();
    while (end > from && bytes[end - 1] == 0) --end;
    return end;
  }

  // The last segment's records stop at `offset`; bytes up to `end` are not valid records.
  Status tail(const ReplayedSegment& info, std::string_view bytes, size_t offset, size_t end,
              const ParsedRecord& parsed, const std::string& problem) {
    for (size_t probe = offset + kRecordAlignment; probe + kRecordHeaderBytes <= end;
         probe += kRecordAlignment) {
      if (proves_durable(bytes, probe, offset, info.header.salt)) {
        const std::string why = "the record at offset " + std::to_string(probe) +
                                " was written after this one was synced, so this is not a torn "
                                "write";
        if (parsed.kind == ParsedRecord::Kind::kInvalid) {
          return corrupt_record(info.file_name, offset, parsed, why);
        }
        return Status::corruption("wal: corrupt " + at(info.file_name, offset) +
                                  ": the records end early; " + why);
      }
    }
    out_.torn_tail = TornTail{offset, end - offset, problem};
    return Status::ok();
  }

  Status apply(size_t segment_pos, ReplayedSegment& info, size_t offset, const RecordView& record) {
    auto bad = [&](const std::string& what) {
      return Status::corruption("wal: corrupt record in " + at(info.file_name, offset) + ": " +
                                what);
    };
    if (offset == kSegmentHeaderBytes && record.type != RecordType::kHardState) {
      return bad("a segment must start with a hard state record");
    }
    switch (record.type) {
      case RecordType::kEntry: {
        std::optional<Entry> entry = decode_entry(record.payload);
        if (!entry) return bad("entry record too short");
        if (entry->index != last_index() + 1) {
          return bad("entry index " + std::to_string(entry->index) + " where " +
                     std::to_string(last_index() + 1) + " was expected");
        }
        ++info.surviving_entries;
        out_.entries.push_back(
            ReplayedEntry{std::move(*entry), segment_pos, static_cast<uint32_t>(offset)});
        return Status::ok();
      }
      case RecordType::kHardState: {
        std::optional<HardState> hard_state = decode_hard_state(record.payload);
        if (!hard_state) return bad("hard state record of the wrong size");
        out_.hard_state = *hard_state;
        return Status::ok();
      }
      case RecordType::kTruncate: {
        std::optional<Index> index = decode_index(record.payload);
        if (!index) return bad("truncate record of the wrong size");
        if (*index < info.header.first_index || *index > last_index() + 1) {
          return bad("truncation at index " + std::to_string(*index) + " outside [" +
                     std::to_string(info.header.first_index) + ", " +
                     std::to_string(last_index() + 1) + "]");
        }
        truncate_after(*index - 1);
        return Status::ok();
      }
      case RecordType::kSeal: {
        std::optional<Index> index = decode_index(record.payload);
        if (!index) return bad("seal record of the wrong size");
        if (*index != last_index()) {
          return bad("seal says the log ends at index " + std::to_string(*index) +
                     " but it ends at " + std::to_string(last_index()));
        }
        info.sealed = true;
        return Status::ok();
      }
    }
    return bad("unknown record type");
  }

  Status check_hard_state(const std::string& last_file) const {
    if (out_.hard_state.commit <= last_index()) return Status::ok();
    return Status::corruption("wal: corrupt log: the hard state commits index " +
                              std::to_string(out_.hard_state.commit) +
                              " but the log ends at index " + std::to_string(last_index()) +
                              " in segment " + last_file + " (committed entries are missing)");
  }

  WalReplay& out_;
  const std::vector<std::string>& contents_;
};

}  // namespace

Result<WalReplay> replay_wal(FileSystem& fs, const std::string& wal_dir) {
  Result<std::vector<std::string>> names = fs.list_dir(wal_dir);
  if (!names) return names.status();
  WalReplay replay;
  struct Loaded {
    ReplayedSegment info;
    std::string bytes;
  };
  std::vector<Loaded> loaded;
  for (const std::string& name : *names) {
    if (name.size() > kTempSuffix.size() &&
        name.compare(name.size() - kTempSuffix.size(), kTempSuffix.size(), kTempSuffix) == 0) {
      replay.temp_files.push_back(name);
      continue;
    }
    const bool wal_suffix = name.size() >= kSegmentSuffix.size() &&
                            name.compare(name.size() - kSegmentSuffix.size(), kSegmentSuffix.size(),
                                         kSegmentSuffix) == 0;
    if (!wal_suffix) continue;  // not ours (an editor's backup, a lock file)
    const std::optional<Index> named_index = parse_segment_file_name(name);
    if (!named_index) {
      return Status::corruption("wal: corrupt WAL directory " + wal_dir + ": " + name +
                                " is not a segment name (16 lower-case hex digits and .wal)");
    }
    Loaded segment;
    Result<std::string> bytes = fs.read_file(join_path(wal_dir, name));
    if (!bytes) return bytes.status();
    segment.bytes = std::move(*bytes);
    Result<SegmentHeader> header = decode_segment_header(segment.bytes, name);
    if (!header) return header.status();
    if (header->first_index != *named_index) {
      return Status::corruption("wal: corrupt segment header of " + name +
                                " at offset 0: it says first index " +
                                std::to_string(header->first_index));
    }
    segment.info.file_name = name;
    segment.info.header = *header;
    segment.info.file_bytes = segment.bytes.size();
    loaded.push_back(std::move(segment));
  }
  std::sort(loaded.begin(), loaded.end(),
            [](const Loaded& a, const Loaded& b) { return a.info.header.seq < b.info.header.seq; });
  std::vector<std::string> contents;
  for (size_t i = 0; i < loaded.size(); ++i) {
    if (i > 0 && loaded[i].info.header.seq == loaded[i - 1].info.header.seq) {
      return Status::corruption("wal: corrupt WAL directory: segments " +
                                loaded[i - 1].info.file_name + " and " + loaded[i].info.file_name +
                                " have the same sequence number");
    }
    replay.segments.push_back(std::move(loaded[i].info));
    contents.push_back(std::move(loaded[i].bytes));
  }
  if (Status st = Replayer(replay, contents).replay(); !st) return st;
  return replay;
}

}  // namespace dengine::log
