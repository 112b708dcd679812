#include "mtcache/runtime/tls.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/openssl/manager.hpp>

namespace mtcache {

void enable_tls(caf::actor_system_config& cfg, const tls_files& files) {
  cfg.openssl_certificate = files.certificate;
  cfg.openssl_key = files.key;
  cfg.openssl_passphrase = files.passphrase;
  cfg.openssl_cafile = files.ca_file;
  cfg.load<caf::openssl::manager>();
}

} // namespace mtcache
