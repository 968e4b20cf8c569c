// libFuzzer target: the snapshot chunk decoder, and a SnapshotReceiver fed a stream of chunks
// on the in-memory fault-injecting file system.
//
// Input: mode:u8, crash_after:u8, then the bytes. Mode bit 0: the bytes are one chunk, or a
// stream of chunks each prefixed by a u16 length. Mode bit 1: the harness recomputes each
// chunk's checksum first, so the fuzzer reaches the payload and the receiver's checks without
// having to guess CRCs. crash_after (stream mode; 0: never): the process dies at that file
// system call, then the power is cut and a fresh receiver starts.
//
// Checks beyond "no crash, no out-of-bounds read": a chunk that decodes re-encodes to the same
// bytes; an installed snapshot holds the files and bytes it announced; after an abort, or a
// power cut and a restart, no staging directory is left.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "log/crc32c.h"
#include "log/fault_injecting_file_system.h"
#include "log/record.h"
#include "log/snapshot_chunk.h"
#include "log/snapshot_receiver.h"

namespace {

using namespace dengine;       // NOLINT(google-build-using-namespace)
using namespace dengine::log;  // NOLINT(google-build-using-namespace)

constexpr char kRoot[] = "/snapshots";
constexpr size_t kCrcOffset = 28;

void reseal(std::string& chunk) {
  if (chunk.size() < kSnapshotChunkHeaderBytes) return;
  const uint32_t crc =
      crc32c_extend(crc32c(chunk.data(), kCrcOffset), chunk.data() + kSnapshotChunkHeaderBytes,
                    chunk.size() - kSnapshotChunkHeaderBytes);
  std::string bytes;
  put_u32(bytes, crc);
  chunk.replace(kCrcOffset, 4, bytes);
}

void check_decode(std::string_view chunk) {
  Result<SnapshotChunk> decoded = decode_chunk(chunk);
  if (!decoded) {
    const StatusCode code = decoded.status().code();
    DENGINE_CHECK(code == StatusCode::kCorruption || code == StatusCode::kFailedPrecondition);
    DENGINE_CHECK(!decoded.status().message().empty());
    return;
  }
  Result<std::string> encoded = encode_chunk(*decoded);
  DENGINE_CHECK_MSG(encoded.has_value(), encoded.status().to_string());
  DENGINE_CHECK(*encoded == chunk);
}

bool no_staging_dir(FileSystem& fs) {
  Result<std::vector<std::string>> names = fs.list_dir(kRoot);
  DENGINE_CHECK(names.has_value());
  for (const std::string& name : *names) {
    if (name.compare(0, kSnapshotStagingPrefix.size(), kSnapshotStagingPrefix) == 0) return false;
  }
  return true;
}

void check_installed(FileSystem& fs, const InstalledSnapshot& installed) {
  Result<std::vector<std::string>> names = fs.list_dir(installed.path);
  DENGINE_CHECK(names.has_value());
  DENGINE_CHECK(names->size() == installed.file_count);
  uint64_t bytes = 0;
  for (const std::string& name : *names) {
    DENGINE_CHECK(check_snapshot_file_name(name).is_ok());
    Result<std::string> contents = fs.read_file(join_path(installed.path, name));
    DENGINE_CHECK(contents.has_value());
    bytes += contents->size();
  }
  DENGINE_CHECK(bytes == installed.total_bytes);
}

void run_stream(std::string_view bytes, bool fix_crc, uint8_t crash_after) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(crash_after);
  Result<SnapshotReceiver> receiver = SnapshotReceiver::open(fs, kRoot);
  DENGINE_CHECK(receiver.has_value());
  if (crash_after != 0) fs->crash_after_ops(crash_after);
  while (bytes.size() >= 2) {
    const size_t length = static_cast<uint8_t>(bytes[0]) | static_cast<size_t>(bytes[1]) << 8;
    bytes.remove_prefix(2);
    std::string chunk(bytes.substr(0, length));
    bytes.remove_prefix(chunk.size());
    if (fix_crc) reseal(chunk);
    check_decode(chunk);
    Result<std::optional<InstalledSnapshot>> taken = receiver->accept(chunk);
    if (!taken) {
      DENGINE_CHECK(!taken.status().message().empty());
      continue;
    }
    if (taken->has_value()) {
      DENGINE_CHECK(!receiver->receiving());
      check_installed(*fs, **taken);
    }
  }
  if (crash_after == 0) {
    DENGINE_CHECK(receiver->abort().is_ok());
    DENGINE_CHECK(no_staging_dir(*fs));
    return;
  }
  fs->power_cut();
  fs->clear_faults();
  Result<SnapshotReceiver> restarted = SnapshotReceiver::open(fs, kRoot);
  DENGINE_CHECK_MSG(restarted.has_value(), restarted.status().to_string());
  DENGINE_CHECK(no_staging_dir(*fs));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const uint8_t crash_after = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const bool stream = (mode & 1) != 0;
  const bool fix_crc = (mode & 2) != 0;
  if (!stream) {
    std::string chunk(bytes);
    if (fix_crc) reseal(chunk);
    check_decode(chunk);
    return 0;
  }
  run_stream(bytes, fix_crc, crash_after);
  return 0;
}
