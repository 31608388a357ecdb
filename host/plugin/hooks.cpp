#include "plugin/hooks.hpp"

#include <deque>

#include "log/log.hpp"
#include "util/error.hpp"

namespace dmc::plugin {
namespace {

// The host side of one hook call: settings to read, a failure to record, and the
// result to fill. Every callback catches everything: no exception crosses the boundary.
template <class Result>
struct Call {
    const Template& tmpl;
    const HookSettings& settings;
    Result& result;
    std::string failure;
    // Every string handed to the plugin, kept until the hook returns (abi.h's promise).
    std::deque<std::string> handed_out;
};

// The SDK's levels onto the host's; anything else (an older plugin's number) is info.
log::Level level_of_plugin(int level) {
    switch (level) {
        case DMC_LOG_ERROR:
            return log::Level::error;
        case DMC_LOG_WARNING:
            return log::Level::warning;
        case DMC_LOG_NOTICE:
            return log::Level::notice;
        case DMC_LOG_DETAIL:
            return log::Level::detail;
        default:
            return log::Level::info;
    }
}

template <class Call>
dmc_host make_host(Call& call) {
    dmc_host host{};
    host.struct_size = sizeof(dmc_host);
    host.opaque = &call;
    host.log = [](void* opaque, int level, const char* message) {
        auto& c = *static_cast<Call*>(opaque);
        try {
            log::Logger::instance().write(level_of_plugin(level),
                                          "[" + c.tmpl.name + "] " + (message ? message : ""));
        } catch (...) {
        }
    };
    host.fail = [](void* opaque, const char* message) {
        auto& c = *static_cast<Call*>(opaque);
        try {
            c.failure = message ? message : "unknown failure";
        } catch (...) {
        }
    };
    host.setting = [](void* opaque, const char* key) noexcept -> const char* {
        auto& c = *static_cast<Call*>(opaque);
        try {
            if (key == nullptr) return nullptr;
            auto it = c.settings.find(key);
            return it == c.settings.end() ? nullptr : it->second.c_str();
        } catch (...) {
            return nullptr;
        }
    };
    return host;
}

// Wraps a callback body so that nothing escapes into plugin code.
template <class Call, class Body>
void guarded(void* opaque, Body body) noexcept {
    auto& c = *static_cast<Call*>(opaque);
    try {
        body(c);
    } catch (const std::exception& e) {
        if (c.failure.empty()) c.failure = e.what();
    } catch (...) {
        if (c.failure.empty()) c.failure = "host error";
    }
}

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::vector<std::string> argv_of(const char* const* argv, std::size_t argc) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < argc; ++i) out.push_back(str(argv[i]));
    return out;
}

// A hook's context: its size as this host writes it, the host's services, the call.
template <class Ctx, class Call>
Ctx context_for(Call& call, const dmc_host& host) {
    Ctx ctx{};
    ctx.struct_size = sizeof ctx;
    ctx.host = &host;
    ctx.opaque = &call;
    return ctx;
}

template <class Call>
void finish(const Call& call, int rc, const char* hook) {
    if (rc != 0 || !call.failure.empty()) {
        throw Error("template " + call.tmpl.name + ": " + hook + " failed: " +
                    (call.failure.empty() ? std::string("no reason given") : call.failure));
    }
}

// The image's build from source, declared by one template of its composition.
template <class C>
BuildSpec& build_of(C& c) {
    auto& b = c.result.build;
    if (!b.template_name.empty() && b.template_name != c.tmpl.name)
        throw Error("template " + b.template_name + " of this image builds from source already");
    b.template_name = c.tmpl.name;
    return b;
}

}  // namespace

void run_prepare(const Template& t, const HookSettings& settings, PrepareResult& into) {
    using C = Call<PrepareResult>;
    C call{t, settings, into, {}, {}};
    dmc_host host = make_host(call);
    auto ctx = context_for<dmc_prepare_ctx>(call, host);
    ctx.add_package = [](void* o, const char* name) {
        guarded<C>(o, [&](C& c) { c.result.packages.push_back(str(name)); });
    };
    ctx.exclude_package = [](void* o, const char* name) {
        guarded<C>(o, [&](C& c) { c.result.excludes.push_back(str(name)); });
    };
    ctx.want = [](void* o, const char* feature) {
        guarded<C>(o, [&](C& c) { c.result.features.push_back(str(feature)); });
    };
    ctx.source_package = [](void* o, const char* name, const char* version) {
        guarded<C>(o, [&](C& c) {
            auto& b = build_of(c);
            b.source_package = str(name);
            b.source_version = str(version);
            b.tarball_url.clear();
        });
    };
    ctx.source_tarball = [](void* o, const char* url, const char* sha256) {
        guarded<C>(o, [&](C& c) {
            auto& b = build_of(c);
            b.tarball_url = str(url);
            b.tarball_sha256 = str(sha256);
            b.source_package.clear();
        });
    };
    ctx.build_depends = [](void* o, const char* relations) {
        guarded<C>(o, [&](C& c) { build_of(c).build_depends.push_back(str(relations)); });
    };
    ctx.build_step = [](void* o, const char* name, const char* command) {
        guarded<C>(o, [&](C& c) { build_of(c).steps.emplace_back(str(name), str(command)); });
    };
    ctx.alternative = [](void* o, const char* name, const char* path) {
        guarded<C>(o, [&](C& c) {
            auto [it, fresh] = c.result.alternatives.emplace(str(name), str(path));
            if (!fresh && it->second != str(path))
                throw Error("the alternative " + it->first + " is pinned twice, to " + it->second +
                            " and " + str(path));
        });
    };
    finish(call, t.plugin.prepare(&ctx), "prepare");
}

void run_collect(const Template& t, const HookSettings& settings, CollectResult& into) {
    using C = Call<CollectResult>;
    C call{t, settings, into, {}, {}};
    dmc_host host = make_host(call);
    auto ctx = context_for<dmc_collect_ctx>(call, host);
    ctx.add_path = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.paths.push_back(str(p)); });
    };
    ctx.add_glob = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.globs.push_back(str(p)); });
    };
    ctx.add_dlopened = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.dlopened.push_back(str(p)); });
    };
    ctx.allow_missing = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.allow_missing.push_back(str(p)); });
    };
    ctx.add_package_files = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.package_files.push_back(str(p)); });
    };
    ctx.allow_setid = [](void* o, const char* p) {
        guarded<C>(o, [&](C& c) { c.result.allow_setid.push_back(str(p)); });
    };
    finish(call, t.plugin.collect(&ctx), "collect");
}

namespace {
struct ConfigureCall : Call<ConfigureResult> {
    const RootfsReader& reader;
    const RootfsLister& lister;
};
}  // namespace

void run_configure(const Template& t, const HookSettings& settings, const RootfsReader& reader,
                   ConfigureResult& into, const RootfsLister& lister) {
    using C = ConfigureCall;
    C call{{t, settings, into, {}, {}}, reader, lister};
    dmc_host host = make_host(call);
    auto ctx = context_for<dmc_configure_ctx>(call, host);
    ctx.write_file = [](void* o, const char* path, const char* data, size_t size, uint32_t mode,
                        uint32_t uid, uint32_t gid) {
        guarded<C>(o, [&](C& c) {
            c.result.files.push_back(
                {str(path), data ? std::string(data, size) : std::string(), mode, uid, gid});
        });
    };
    ctx.read_file = [](void* o, const char* path, size_t* size) -> const char* {
        const char* out = nullptr;
        guarded<C>(o, [&](C& c) {
            auto content = c.reader ? c.reader(str(path)) : std::nullopt;
            if (!content) return;
            const auto& kept = c.handed_out.emplace_back(std::move(*content));
            if (size) *size = kept.size();
            out = kept.c_str();
        });
        return out;
    };
    ctx.make_dir = [](void* o, const char* path, uint32_t mode, uint32_t uid, uint32_t gid) {
        guarded<C>(o, [&](C& c) { c.result.dirs.push_back({str(path), mode, uid, gid}); });
    };
    ctx.make_symlink = [](void* o, const char* target, const char* path) {
        guarded<C>(o, [&](C& c) { c.result.symlinks.push_back({str(target), str(path)}); });
    };
    ctx.remove = [](void* o, const char* path) {
        guarded<C>(o, [&](C& c) { c.result.removals.push_back(str(path)); });
    };
    ctx.add_group = [](void* o, const char* name, uint32_t gid) {
        guarded<C>(o, [&](C& c) { c.result.groups.push_back({str(name), gid}); });
    };
    ctx.add_user = [](void* o, const char* name, uint32_t uid, uint32_t gid, const char* home,
                      const char* shell) {
        guarded<C>(o, [&](C& c) {
            c.result.users.push_back({str(name), uid, gid, str(home), str(shell)});
        });
    };
    ctx.set_entrypoint = [](void* o, const char* const* argv, size_t argc) {
        guarded<C>(o, [&](C& c) { c.result.image.entrypoint = argv_of(argv, argc); });
    };
    ctx.set_cmd = [](void* o, const char* const* argv, size_t argc) {
        guarded<C>(o, [&](C& c) { c.result.image.cmd = argv_of(argv, argc); });
    };
    ctx.set_env = [](void* o, const char* name, const char* value) {
        guarded<C>(o, [&](C& c) {
            auto& env = c.result.image.env;
            for (auto& [k, v] : env) {
                if (k == str(name)) {
                    v = str(value);
                    return;
                }
            }
            env.emplace_back(str(name), str(value));
        });
    };
    ctx.set_user = [](void* o, const char* user) {
        guarded<C>(o, [&](C& c) { c.result.image.user = str(user); });
    };
    ctx.set_workdir = [](void* o, const char* dir) {
        guarded<C>(o, [&](C& c) { c.result.image.workdir = str(dir); });
    };
    ctx.expose = [](void* o, const char* port) {
        guarded<C>(o, [&](C& c) { c.result.image.ports.push_back(str(port)); });
    };
    ctx.add_volume = [](void* o, const char* path) {
        guarded<C>(o, [&](C& c) { c.result.image.volumes.push_back(str(path)); });
    };
    ctx.set_label = [](void* o, const char* name, const char* value) {
        guarded<C>(o, [&](C& c) { c.result.image.labels[str(name)] = str(value); });
    };
    ctx.set_stop_signal = [](void* o, const char* signal) {
        guarded<C>(o, [&](C& c) { c.result.image.stop_signal = str(signal); });
    };
    ctx.glob = [](void* o, const char* pattern) -> const char* {
        const char* out = "";
        guarded<C>(o, [&](C& c) {
            std::string list;
            if (c.lister)
                for (const auto& p : c.lister(str(pattern))) list += (list.empty() ? "" : "\n") + p;
            out = c.handed_out.emplace_back(std::move(list)).c_str();
        });
        return out;
    };
    finish(call, t.plugin.configure(&ctx), "configure");
}

void run_deploy(const Template& t, const HookSettings& settings, DeployResult& into) {
    if (t.plugin.deploy == nullptr) return;
    using C = Call<DeployResult>;
    C call{t, settings, into, {}, {}};
    dmc_host host = make_host(call);
    auto ctx = context_for<dmc_deploy_ctx>(call, host);
    ctx.add_object = [](void* o, const char* yaml) {
        guarded<C>(o, [&](C& c) { c.result.objects.push_back(str(yaml)); });
    };
    ctx.add_generated_secret = [](void* o, const char* name, const char* const* keys,
                                  std::size_t count) {
        guarded<C>(o, [&](C& c) {
            GeneratedSecret secret{str(name), {}};
            for (std::size_t i = 0; i < count; ++i) secret.keys.push_back(str(keys[i]));
            c.result.secrets.push_back(std::move(secret));
        });
    };
    finish(call, t.plugin.deploy(&ctx), "deploy");
}

}  // namespace dmc::plugin
