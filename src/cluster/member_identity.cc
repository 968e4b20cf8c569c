#include "cluster/member_identity.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include <openssl/evp.h>

#include "common/check.h"

namespace dengine::cluster {
namespace {

// The first 8 bytes of SHA-1(bytes) read as a big-endian integer, as etcd does with
// binary.BigEndian.Uint64(sha1.Sum(b)[:8]).
uint64_t sha1_prefix(const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  const int ok =
      EVP_Digest(bytes.data(), bytes.size(), digest.data(), &digest_size, EVP_sha1(), nullptr);
  // SHA-1 over a memory buffer cannot fail short of a broken libcrypto; stop rather than hand
  // out an id every member would disagree on.
  DENGINE_CHECK_MSG(ok == 1 && digest_size == 20, "OpenSSL EVP_Digest(SHA-1) failed");
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[static_cast<size_t>(i)];
  return value;
}

}  // namespace

uint64_t compute_member_id(std::span<const Url> peer_urls, std::string_view cluster_token) {
  std::vector<std::string> texts;
  for (const Url& url : peer_urls) texts.push_back(url.text);
  std::sort(texts.begin(), texts.end());  // the order a user lists them in must not matter
  std::string bytes;
  for (const std::string& text : texts) bytes += text;
  bytes += cluster_token;
  return sha1_prefix(bytes);
}

uint64_t compute_cluster_id(std::span<const uint64_t> member_ids) {
  std::vector<uint64_t> ids(member_ids.begin(), member_ids.end());
  std::sort(ids.begin(), ids.end());
  std::string bytes;
  for (const uint64_t id : ids) {
    for (int shift = 56; shift >= 0; shift -= 8) bytes += static_cast<char>((id >> shift) & 0xff);
  }
  return sha1_prefix(bytes);
}

Result<ClusterIdentity> derive_identity(const MemberConfig& config) {
  ClusterIdentity identity;
  bool found_self = false;
  for (const InitialClusterMember& member : config.initial_cluster) {
    const uint64_t id = compute_member_id(member.peer_urls, config.initial_cluster_token);
    // membership.NewClusterFromURLsMap's two refusals.
    if (id == 0) {
      return Status::invalid_argument("member " + member.name +
                                      " hashes to id 0, which Raft reserves for \"no node\"");
    }
    for (const MemberIdentity& other : identity.members) {
      if (other.id == id) {
        return Status::invalid_argument("members " + other.name + " and " + member.name +
                                        " have the identical id " + format_id(id));
      }
    }
    identity.members.push_back({member.name, id, member.peer_urls});
    if (member.name == config.name) {
      identity.member_id = id;
      found_self = true;
    }
  }
  if (!found_self) {
    return Status::invalid_argument("couldn't find local name \"" + config.name +
                                    "\" in the initial cluster configuration");
  }
  std::sort(identity.members.begin(), identity.members.end(),
            [](const MemberIdentity& a, const MemberIdentity& b) { return a.id < b.id; });
  std::vector<uint64_t> ids;
  for (const MemberIdentity& member : identity.members) ids.push_back(member.id);
  identity.cluster_id = compute_cluster_id(ids);
  return identity;
}

std::string format_id(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(id));
  return text;
}

ClusterIds bootstrap_ids(const ClusterIdentity& identity) {
  ClusterIds ids{.cluster_id = identity.cluster_id,
                 .member_id = identity.member_id,
                 .member_ids = {},
                 .peer_urls = {}};
  for (const MemberIdentity& member : identity.members) {
    ids.member_ids.push_back(member.id);
    ids.peer_urls[member.id] = member.peer_urls;
  }
  return ids;
}

}  // namespace dengine::cluster
