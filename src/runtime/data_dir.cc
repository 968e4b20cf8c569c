#include "runtime/data_dir.h"

#include <charconv>
#include <filesystem>
#include <system_error>

#include "kv/durable_files.h"

namespace dengine::runtime {
namespace {

constexpr const char* kMetaName = "member";

std::string encode_meta(NodeId member_id) {
  return "dengine data dir\nformat " + std::to_string(kDataDirFormatVersion) + "\nmember " +
         std::to_string(member_id) + "\n";
}

Result<NodeId> decode_meta(const std::string& text, const std::string& path) {
  const std::string header = "dengine data dir\nformat ";
  const auto corrupt = [&] {
    return Status::corruption("data dir: " + path +
                              " is corrupt (not a dengine member file of the form \"dengine data "
                              "dir / format N / member ID\")");
  };
  if (text.rfind(header, 0) != 0) return corrupt();
  int version = 0;
  const char* cursor = text.data() + header.size();
  const char* end = text.data() + text.size();
  auto [after_version, version_error] = std::from_chars(cursor, end, version);
  if (version_error != std::errc()) return corrupt();
  if (version != kDataDirFormatVersion) {
    return Status::failed_precondition("data dir: " + path + " has format " +
                                       std::to_string(version) + ", this build reads format " +
                                       std::to_string(kDataDirFormatVersion));
  }
  const std::string member = "\nmember ";
  if (std::string_view(after_version, static_cast<size_t>(end - after_version)).rfind(member, 0) !=
      0) {
    return corrupt();
  }
  NodeId id = kNoNode;
  auto [after_id, id_error] = std::from_chars(after_version + member.size(), end, id);
  if (id_error != std::errc() || id == kNoNode) return corrupt();
  return id;
}

}  // namespace

Result<DataDir> open_data_dir(const std::string& path, NodeId member_id) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return Status::io_error("data dir: cannot create " + path + ": " + error.message());
  }
  DataDir dir{.path = path, .member_id = member_id};
  const std::string meta_path = path + "/" + kMetaName;
  Result<std::string> meta = kv::read_whole_file(meta_path);
  if (meta) {
    Result<NodeId> stored = decode_meta(*meta, meta_path);
    if (!stored) return stored.status();
    if (*stored != member_id) {
      return Status::failed_precondition("data dir: " + path + " belongs to member " +
                                         std::to_string(*stored) + ", not member " +
                                         std::to_string(member_id));
    }
    return dir;
  }
  if (meta.status().code() != StatusCode::kNotFound) return meta.status();
  if (std::filesystem::exists(path + "/wal", error)) {
    return Status::corruption("data dir: " + path + " holds a WAL but no " + kMetaName +
                              " file: refusing to guess which member it belongs to");
  }
  if (Status written = kv::write_file_atomically(path, kMetaName, encode_meta(member_id));
      !written) {
    return written;
  }
  dir.created = true;
  return dir;
}

}  // namespace dengine::runtime
