#include "kv/member_codec.h"

#include <string>
#include <vector>

namespace dengine::kv {
namespace {

Status check_urls(const std::vector<std::string>& urls, const char* what) {
  if (urls.size() > kMaxMemberUrls) {
    return Status::invalid_argument("kv: " + std::to_string(urls.size()) + " " + what +
                                    " exceed the bound of " + std::to_string(kMaxMemberUrls));
  }
  for (const std::string& url : urls) {
    if (url.size() > kMaxMemberUrlBytes) {
      return Status::invalid_argument("kv: a " + std::string(what) + " entry of " +
                                      std::to_string(url.size()) + " bytes exceeds the bound of " +
                                      std::to_string(kMaxMemberUrlBytes) + " bytes");
    }
  }
  return Status::ok();
}

}  // namespace

Status check_member_fields(const std::string& name, const std::vector<std::string>& peer_urls,
                           const std::vector<std::string>& client_urls) {
  if (name.size() > kMaxMemberNameBytes) {
    return Status::invalid_argument("kv: a member name of " + std::to_string(name.size()) +
                                    " bytes exceeds the bound of " +
                                    std::to_string(kMaxMemberNameBytes) + " bytes");
  }
  if (Status peers = check_urls(peer_urls, "peer URLs"); !peers) return peers;
  return check_urls(client_urls, "client URLs");
}

void write_urls(ByteWriter& out, const std::vector<std::string>& urls) {
  out.count(urls.size());
  for (const std::string& url : urls) out.bytes(url);
}

std::vector<std::string> read_urls(ByteReader& in, std::string_view field) {
  const size_t n = in.count(field, kMaxMemberUrls, 4);
  std::vector<std::string> urls;
  urls.reserve(n);
  for (size_t i = 0; i < n && in.ok(); ++i) urls.push_back(in.bytes(field, kMaxMemberUrlBytes));
  return urls;
}

void write_member_record(ByteWriter& out, const MemberRecord& record) {
  out.u64(record.id);
  out.bytes(record.name);
  write_urls(out, record.peer_urls);
  write_urls(out, record.client_urls);
}

MemberRecord read_member_record(ByteReader& in) {
  MemberRecord record;
  record.id = in.u64("member id");
  record.name = in.bytes("member name", kMaxMemberNameBytes);
  record.peer_urls = read_urls(in, "member peer URLs");
  record.client_urls = read_urls(in, "member client URLs");
  if (in.ok() && record.id == kNoNode) in.fail("member id", "is 0");
  return record;
}

}  // namespace dengine::kv
