#include "kube/exec_credential.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/process.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::size_t i = static_cast<std::size_t>(consumed);
    if (i < text.size() && text[i] == '.')
        for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        }
    long offset = 0;
    if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
        ++i;
    } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        int h = 0, m = 0;
        if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &h, &m) != 2) return std::nullopt;
        offset = (text[i] == '+' ? 1 : -1) * (h * 3600L + m * 60L);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != text.size()) return std::nullopt;
    const std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    // system_clock counts nanoseconds: it holds 1678 to 2262, so later is "then" and
    // earlier (a year 1013, say) is 1970: long expired either way.
    return std::chrono::system_clock::from_time_t(
        std::clamp<std::time_t>(t - offset, 0, 9000000000));
}

ExecCredential parse_exec_credential(const std::string& text, const std::string& api_version) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception&) {
        throw Error("the exec credential plugin did not print an ExecCredential as JSON");
    }
    if (!j.is_object() || j.value("kind", "") != "ExecCredential")
        throw Error("the exec credential plugin printed no ExecCredential (kind)");
    if (j.value("apiVersion", "") != api_version)
        throw Error("the exec credential plugin answered with apiVersion '" +
                    j.value("apiVersion", "") + "', not the " + api_version + " it was asked for");
    const json status = j.value("status", json::object());
    if (!status.is_object()) throw Error("the exec credential plugin's status is not an object");
    ExecCredential c;
    try {
        c.token = status.value("token", "");
        c.client_certificate_data = status.value("clientCertificateData", "");
        c.client_key_data = status.value("clientKeyData", "");
    } catch (const json::exception&) {
        throw Error(
            "the exec credential plugin's status holds a token, certificate or key that "
            "is not a string");
    }
    if (c.token.empty() && c.client_certificate_data.empty())
        throw Error("the exec credential plugin gave neither a token nor a client certificate");
    if (c.client_certificate_data.empty() != c.client_key_data.empty())
        throw Error(
            "the exec credential plugin gave a client certificate without its key, or "
            "a key without its certificate");
    const json expiry = status.value("expirationTimestamp", json());
    if (!expiry.is_null() && !expiry.is_string())
        throw Error("the exec credential plugin's expirationTimestamp is not a string");
    if (const std::string when = expiry.is_string() ? expiry.get<std::string>() : "";
        !when.empty()) {
        c.expires = parse_rfc3339(when);
        if (!c.expires)
            throw Error("the exec credential plugin's expirationTimestamp '" + when +
                        "' is not an RFC 3339 time");
    }
    return c;
}

ExecPlugin::ExecPlugin(ExecConfig config, const ClusterAccess& cluster)
    : config_(std::move(config)),
      server_(cluster.server),
      ca_data_(cluster.ca_data),
      insecure_(cluster.insecure_skip_tls_verify) {}

const ExecCredential& ExecPlugin::credential() {
    if (cached_ && (!cached_->expires || std::chrono::system_clock::now() < *cached_->expires))
        return *cached_;
    // client-go's rule: interactive when the mode allows it and stdin is a terminal.
    const bool terminal = ::isatty(STDIN_FILENO) == 1;
    if (config_.interactive_mode == "Always" && !terminal)
        throw Error("the exec credential plugin " + config_.command +
                    " needs a terminal (interactiveMode Always) and standard input is not one");
    const bool interactive = config_.interactive_mode != "Never" && terminal;

    json request = {{"kind", "ExecCredential"},
                    {"apiVersion", config_.api_version},
                    {"spec", {{"interactive", interactive}}}};
    if (config_.provide_cluster_info) {
        json cluster = {{"server", server_}};
        if (!ca_data_.empty()) cluster["certificate-authority-data"] = base64_encode(ca_data_);
        if (insecure_) cluster["insecure-skip-tls-verify"] = true;
        request["spec"]["cluster"] = cluster;
    }
    const std::string program =
        find_executable(config_.command, std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
    if (program.empty())
        throw Error("the exec credential plugin '" + config_.command + "' was not found" +
                    (config_.install_hint.empty()
                         ? std::string("; install it or fix the kubeconfig")
                         : "; " + config_.install_hint));
    ProcessRequest run;
    run.argv.push_back(program);
    run.argv.insert(run.argv.end(), config_.args.begin(), config_.args.end());
    for (const auto& [name, value] : config_.env) run.env.push_back(name + "=" + value);
    run.env.push_back("KUBERNETES_EXEC_INFO=" + request.dump());
    if (!interactive) run.input = "";
    run.stderr_to_output = false;  // its prompts and messages are for the user
    run.timeout = std::chrono::seconds(interactive ? 600 : 60);
    const auto result = run_process(run);
    if (result.status != 0)
        throw Error("the exec credential plugin " + config_.command + " failed (exit " +
                    std::to_string(result.status) + "); see its message above");
    cached_ = parse_exec_credential(result.output, config_.api_version);
    return *cached_;
}

}  // namespace dmc::kube
