#include "cluster/ids_file.h"

#include <filesystem>
#include <sstream>
#include <system_error>

#include "kv/durable_files.h"

namespace dengine::cluster {
namespace {

constexpr const char* kFileName = "server-ids";
constexpr const char* kHeader = "dengine server ids";
// Format 1 knew a single member; format 2 lists every initial member with its peer URLs.
constexpr int kFormat = 2;

// "peer HEX URL,URL..." lines, after the member and cluster lines.
bool read_peers(std::istringstream& in, ClusterIds& ids) {
  std::string word;
  while (in >> word) {
    if (word != "peer") return false;
    uint64_t id = 0;
    std::string urls;
    in >> std::hex >> id >> urls;
    if (in.fail() || id == 0) return false;
    Result<std::vector<Url>> parsed = parse_url_list(urls, "");
    if (!parsed) return false;
    ids.member_ids.push_back(id);
    ids.peer_urls[id] = std::move(*parsed);
  }
  return true;
}

}  // namespace

Result<std::optional<ClusterIds>> read_cluster_ids(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kFileName;
  Result<std::string> text = kv::read_whole_file(path);
  if (!text) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<ClusterIds>();
    return text.status();
  }
  std::istringstream in(*text);
  std::string header;
  std::getline(in, header);
  std::string format_word, member_word, cluster_word;
  int format = 0;
  ClusterIds ids;
  in >> format_word >> format >> member_word >> std::hex >> ids.member_id >> cluster_word >>
      ids.cluster_id;
  bool well_formed = header == kHeader && format_word == "format" &&
                     (format == 1 || format == kFormat) && member_word == "member" &&
                     cluster_word == "cluster" && !in.fail() && ids.member_id != 0;
  if (well_formed && format == kFormat) {
    well_formed = read_peers(in, ids) && ids.peer_urls.contains(ids.member_id);
  } else if (well_formed) {
    ids.member_ids = {ids.member_id};  // format 1: a single member, peers unknown
  }
  if (!well_formed) {
    return Status::corruption("server: " + path +
                              " is corrupt (expected \"dengine server ids / format 2 / member "
                              "HEX / cluster HEX\" and a \"peer HEX URLS\" line per member, "
                              "this one included)");
  }
  return std::optional<ClusterIds>(ids);
}

Status write_cluster_ids(const std::string& data_dir, const ClusterIds& ids) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return Status::io_error("server: cannot create " + data_dir + ": " + error.message());
  std::ostringstream out;
  out << kHeader << "\nformat " << kFormat << "\nmember " << std::hex << ids.member_id
      << "\ncluster " << ids.cluster_id << "\n";
  for (uint64_t id : ids.member_ids) {
    out << "peer " << id << " ";
    auto urls = ids.peer_urls.find(id);
    if (urls == ids.peer_urls.end() || urls->second.empty()) {
      return Status::invalid_argument("server: member " + std::to_string(id) +
                                      " has no peer URL to record");
    }
    for (size_t i = 0; i < urls->second.size(); ++i) {
      out << (i == 0 ? "" : ",") << urls->second[i].text;
    }
    out << "\n";
  }
  return kv::write_file_atomically(data_dir, kFileName, out.str());
}

}  // namespace dengine::cluster
