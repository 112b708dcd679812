#pragma once

#include <string>

#include <caf/fwd.hpp>

namespace mtcache {

/// Files for TLS on peer links (PEM).
struct tls_files {
  /// This node's certificate and private key.
  std::string certificate;
  std::string key;
  /// Passphrase of the key, if it has one.
  std::string passphrase;
  /// CA certificate that signed the peers' certificates. With it, peers must present a
  /// certificate it signed (mutual authentication); without it, links are encrypted only.
  std::string ca_file;
};

/// Loads CAF's OpenSSL module into `cfg` with these files. Call it after
/// `cfg.load<caf::io::middleman>()` (the module runs on the middleman) and before the actor
/// system is constructed; then set `invalidation_config::tls` so that peer links use it.
void enable_tls(caf::actor_system_config& cfg, const tls_files& files);

} // namespace mtcache
