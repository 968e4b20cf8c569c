#include "server/server_ids_file.h"

#include <filesystem>
#include <sstream>
#include <system_error>

#include "kv/durable_files.h"

namespace dengine::server {
namespace {

constexpr const char* kFileName = "server-ids";
constexpr const char* kHeader = "dengine server ids";
constexpr int kFormat = 1;

}  // namespace

Result<std::optional<ServerIds>> read_server_ids(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kFileName;
  Result<std::string> text = kv::read_whole_file(path);
  if (!text) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<ServerIds>();
    return text.status();
  }
  std::istringstream in(*text);
  std::string header;
  std::getline(in, header);
  std::string format_word, member_word, cluster_word;
  int format = 0;
  ServerIds ids;
  in >> format_word >> format >> member_word >> std::hex >> ids.member_id >> cluster_word >>
      ids.cluster_id;
  const bool well_formed = header == kHeader && format_word == "format" && format == kFormat &&
                           member_word == "member" && cluster_word == "cluster" && !in.fail() &&
                           ids.member_id != 0;
  if (!well_formed) {
    return Status::corruption("server: " + path +
                              " is corrupt (expected \"dengine server ids / format 1 / member "
                              "HEX / cluster HEX\")");
  }
  ids.member_ids = {ids.member_id};
  return std::optional<ServerIds>(ids);
}

Status write_server_ids(const std::string& data_dir, const ServerIds& ids) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return Status::io_error("server: cannot create " + data_dir + ": " + error.message());
  std::ostringstream out;
  out << kHeader << "\nformat " << kFormat << "\nmember " << std::hex << ids.member_id
      << "\ncluster " << ids.cluster_id << "\n";
  return kv::write_file_atomically(data_dir, kFileName, out.str());
}

}  // namespace dengine::server
