// What a cluster and its credentials send: a kubeconfig (its own file, read as
// kubectl reads it), an exec plugin's ExecCredential, the API server's Status
// bodies, and the objects a deploy hook hands over. Each gives a value or a
// dmc::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz.hpp"
#include "kube/client.hpp"
#include "kube/exec_credential.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/manifest.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    static const fs::path dir = [] {
        const fs::path d =
            fs::temp_directory_path() / ("dmc-kube-fuzz-" + std::to_string(getpid()));
        fs::create_directories(d);
        return d;
    }();
    const std::string text(reinterpret_cast<const char*>(data), size);
    write_file_atomic(dir / "config", text);
    kube::KubeconfigRequest request;
    request.kubeconfig = dir / "config";
    request.home = dir;
    request.service_account_dir = dir / "no-pod";
    fuzz::accepted([&] {
        const kube::ClusterAccess access = kube::load_access(request);
        fuzz::touch(access.server + access.ns + access.context + access.user.token);
    });
    for (const char* version :
         {"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"})
        fuzz::accepted([&] { fuzz::touch(kube::parse_exec_credential(text, version).token); });
    kube::ApiResponse response;
    response.status = 409;
    response.body = text;
    fuzz::touch(kube::status_message(response));
    fuzz::touch(kube::status_reason(response));
    fuzz::accepted([&] { fuzz::touch(kube::parse_object(text, "the deploy hook").dump()); });
    return 0;
}
