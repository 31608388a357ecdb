// The keygen activity: a new ECDSA P-256 key pair for --sign, the private key in
// FILE (mode 0600) and the public key next to it (dmc.key, dmc.pub), both PEM. An existing key is
// never overwritten.
#include "log/log.hpp"
#include "sign/key.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void keygen(Context& context, const tasks::Task&) {
    const fs::path key = context.settings.key;
    const fs::path pub = sign::public_key_file(key);
    std::error_code ec;
    for (const auto& f : {key, pub})
        if (fs::exists(fs::symlink_status(f, ec)))
            throw Error(f.string() +
                        " exists already; dmc does not overwrite a key: remove it "
                        "or give another --key");
    const auto pair = sign::generate_key_pair();
    // The public key last: a pair is whole once FILE.pub is there.
    write_file_atomic(key, pair.private_pem, 0600);
    write_file_atomic(pub, pair.public_pem);
    log::notice("wrote the signing key " + key.string() + " and its public key " + pub.string());
    log::result(pub.string());
}

}  // namespace dmc::steps
