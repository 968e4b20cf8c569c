// Writes the seed corpora under tests/fuzz/corpus/ (a few valid encodings per target), so the
// fuzzers start from inputs that reach deep into each format. Not a fuzzer; run it by hand
// after a format change:
//   ninja -C build-fuzz fuzz_make_seeds && build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <cstdio>
#include <string>
#include <vector>

#include "kv/command_codec.h"
#include "log/crc32c.h"
#include "log/record.h"
#include "log/snapshot_chunk.h"

namespace {

using namespace dengine;  // NOLINT(google-build-using-namespace)

bool write(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir + "/" + name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && ok;
}

std::string u32_u16(uint32_t salt, uint16_t base) {
  std::string out;
  log::put_u32(out, salt);
  out.push_back(static_cast<char>(base & 0xff));
  out.push_back(static_cast<char>(base >> 8));
  return out;
}

std::string chunk(const log::SnapshotChunk& fields) {
  Result<std::string> encoded = log::encode_chunk(fields);
  return encoded ? *encoded : std::string();
}

// A stream for fuzz_snapshot_chunk's stream mode: u16 length, chunk, ...
std::string framed(const std::vector<std::string>& chunks) {
  std::string out;
  for (const std::string& c : chunks) {
    out.push_back(static_cast<char>(c.size() & 0xff));
    out.push_back(static_cast<char>(c.size() >> 8));
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  bool ok = true;

  // fuzz_wal_record: salt, base, then records.
  {
    const std::string dir = root + "/fuzz_wal_record";
    constexpr uint32_t kSalt = 0x5eed;
    std::string segment;
    log::append_entry_record(segment, kSalt, 0, Entry{1, 1, EntryType::kNormal, "put x=1"});
    log::append_entry_record(segment, kSalt, 0, Entry{1, 2, EntryType::kNoOp, ""});
    log::append_hard_state_record(segment, kSalt, 40, HardState{1, 2, 2});
    ok = ok && write(dir, "entries_and_hard_state", u32_u16(kSalt, 0) + segment);
    std::string tail;
    log::append_index_record(tail, kSalt, 64, log::RecordType::kTruncate, 2);
    log::append_index_record(tail, kSalt, 64, log::RecordType::kSeal, 1);
    ok = ok && write(dir, "truncate_and_seal", u32_u16(kSalt, 8) + tail);
    ok = ok && write(dir, "torn_tail", u32_u16(kSalt, 0) + segment.substr(0, segment.size() - 5));
  }

  // fuzz_snapshot_chunk: mode, crash_after, then a chunk (mode 0/2) or a stream (mode 1/3).
  {
    const std::string dir = root + "/fuzz_snapshot_chunk";
    constexpr uint64_t kId = 7;
    const std::string begin = chunk(log::begin_chunk(kId, "meta", 2, 9));
    const std::string data_a = chunk(log::file_data_chunk(kId, 1, "CURRENT", 0, "MANIFEST"));
    const std::string data_b = chunk(log::file_data_chunk(kId, 2, "EMPTY", 0, ""));
    const std::string data_c = chunk(log::file_data_chunk(kId, 3, "CURRENT", 8, "\n"));
    const std::string data_ok = chunk(log::file_data_chunk(kId, 2, "CURRENT", 8, "\n"));
    const std::string data_empty = chunk(log::file_data_chunk(kId, 3, "EMPTY", 0, ""));
    const std::string end = chunk(log::end_chunk(kId, 4, 2, 9, log::crc32c("MANIFEST\n")));
    ok = ok && write(dir, "begin", std::string("\0\0", 2) + begin);
    ok = ok && write(dir, "file_data", std::string("\0\0", 2) + data_a);
    ok = ok && write(dir, "end", std::string("\0\0", 2) + end);
    ok = ok && write(dir, "stream",
                     std::string("\1\0", 2) + framed({begin, data_a, data_ok, data_empty, end}));
    ok = ok && write(dir, "stream_out_of_order",
                     std::string("\3\0", 2) + framed({begin, data_a, data_b, data_c, end}));
    ok = ok && write(dir, "stream_power_cut",
                     std::string("\1\x09", 2) + framed({begin, data_a, data_ok, data_empty, end}));
  }

  // fuzz_kv_command: encoded commands.
  {
    const std::string dir = root + "/fuzz_kv_command";
    PutRequest put;
    put.key = "key";
    put.value = "value";
    put.prev_kv = true;
    DeleteRangeRequest del;
    del.key = "a";
    del.range_end = "z";
    TxnRequest txn;
    Compare compare;
    compare.key = "key";
    compare.target = CompareTarget::kValue;
    compare.value = "value";
    txn.compare.push_back(compare);
    txn.success.push_back(RequestOp{put});
    RangeRequest range;
    range.key = "key";
    txn.failure.push_back(RequestOp{range});
    const std::vector<std::pair<std::string, kv::KvCommand>> commands = {
        {"put", put},
        {"delete_range", del},
        {"txn", txn},
        {"compact", CompactionRequest{5}},
        {"lease_grant", LeaseGrantRequest{42, 60}},
    };
    for (const auto& [name, command] : commands) {
      Result<std::string> encoded = kv::encode_command(command);
      ok = ok && encoded.has_value() && write(dir, name, *encoded);
    }
  }

  if (!ok) {
    std::fprintf(stderr, "fuzz_make_seeds: failed to encode or write a seed\n");
    return 1;
  }
  return 0;
}
