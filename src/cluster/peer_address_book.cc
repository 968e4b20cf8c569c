#include "cluster/peer_address_book.h"

namespace dengine::cluster {

std::string grpc_address(const Url& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

std::optional<std::string> grpc_address_of_url(const std::string& url) {
  Result<Url> parsed = parse_url(url, "");
  if (!parsed) return std::nullopt;
  return grpc_address(*parsed);
}

PeerAddressBook::PeerAddressBook(const ClusterIds& bootstrap) {
  for (const auto& [id, urls] : bootstrap.peer_urls) {
    admitted_.insert(id);
    if (!urls.empty()) addresses_.emplace(id, grpc_address(urls.front()));
  }
  admitted_.insert(bootstrap.member_ids.begin(), bootstrap.member_ids.end());
  bootstrap_ = admitted_;
}

std::optional<std::string> PeerAddressBook::address_of(NodeId id) const {
  std::lock_guard lock(mutex_);
  auto found = addresses_.find(id);
  if (found == addresses_.end()) return std::nullopt;
  return found->second;
}

bool PeerAddressBook::admits(NodeId id) const {
  std::lock_guard lock(mutex_);
  return admitted_.contains(id);
}

void PeerAddressBook::refresh(const std::vector<api::RosterMember>& members,
                              const std::vector<MemberRecord>& records) {
  std::map<NodeId, std::string> addresses;
  std::set<NodeId> admitted;
  auto place = [&](const MemberRecord& record) {
    admitted.insert(record.id);
    for (const std::string& url : record.peer_urls) {
      if (std::optional<std::string> address = grpc_address_of_url(url)) {
        addresses[record.id] = *address;
        return;
      }
    }
  };
  for (const MemberRecord& record : records) place(record);
  for (const api::RosterMember& member : members) place(member.record);
  std::lock_guard lock(mutex_);
  // A member placed before and not now (a bootstrap member whose record is still to come)
  // keeps its address: forgetting it would only cut it off.
  for (auto& [id, address] : addresses) addresses_[id] = std::move(address);
  // Only who is in the configuration or about to join may talk to this member, so a removed
  // member is refused from now on, a bootstrap member included. Until this member knows a
  // configuration, the members it started knowing: before it has one, only the bootstrap names
  // the leader that is to reach it.
  if (members.empty()) admitted.insert(bootstrap_.begin(), bootstrap_.end());
  admitted_ = std::move(admitted);
}

}  // namespace dengine::cluster
