#include "cli/cli.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <sstream>

#include "util/error.hpp"

namespace po = boost::program_options;

namespace dmc::cli {
namespace {

struct OptionDoc {
    const char* flags;
    const char* text;
    const char* default_value;  // a setting's key in brackets, "[dist]", takes the table's default
};

// In the original bash dmc's order; the help and the parser both come from this table.
const OptionDoc kOptionDocs[] = {
    {"-A|--archs ARCHS", "Architectures to build for", "[archs]"},
    {"-D|--dist DIST", "Debian distribution", "[dist]"},
    {"-M|--mirror MIRROR", "Debian mirror", "from the host's apt sources"},
    {"-H|--host REGISTRY", "Registry to push to: host[:port][/namespace]", nullptr},
    {"-T|--tools", "Add some debugging tools to the image (not for production)", nullptr},
    {"-X|--delete", "Remove from kubernetes", nullptr},
    {"-N|--namespace NS", "Kubernetes namespace", "[namespace]"},
    {"-t|--templates TMPTS", "A comma-separated list of templates", nullptr},
    {"-g|--groups GROUP", "A comma-separated list of template groups", nullptr},
    {"-a|--activity ACT", "Select the activity to run", "create"},
    {"-l|--list", "List all available tasks", nullptr},
    {"-b|--begin MIN", "Begin at that task (number or name)", nullptr},
    {"-e|--end MAX", "End at that task (number or name)", nullptr},
    {"-o|--only ONLY", "Only run this step (number or name)", nullptr},
    {"--kubeconfig FILE", "Deploy with this kubeconfig", "KUBECONFIG, ~/.kube/config"},
    {"--context NAME", "Deploy to this kubeconfig context", "its current-context"},
    {"--print [DIR]", "Print the Kubernetes manifests (one file each in DIR) instead", nullptr},
    {"--force-conflicts", "Take over fields that other field managers own", nullptr},
    {"--no-wait", "Fail instead of waiting for another dmc on the same cache", nullptr},
    {"--no-lock", "Neither use nor write the lock file (dmc.lock) this run", nullptr},
    {"--snapshot DATE", "Read the mirrors from the snapshot service as of DATE", nullptr},
    {"--json", "update: report the changes as one JSON document", nullptr},
    {"--sign KEY", "Sign what is pushed, with its provenance and SBOM (a file, or env://VAR)",
     "[sign_key]"},
    {"--key FILE", "keygen: the private key to write (its .pub beside it); verify: the public key",
     nullptr},
    {"--config FILE", "Read this config file", "~/.config/dmc/dmc.yaml, /etc/dmc/dmc.yaml"},
    {"--plugin-dir DIR", "Load templates from DIR too (repeatable)", nullptr},
    {"--imagedir DIR", "Where the OCI layouts are written", "[imagedir]"},
    {"--small", "Build small images: whole packages, with a dpkg database", nullptr},
    {"--allow-unsigned", "Accept unsigned or expired archive indexes (dangerous)", nullptr},
    {"--version", "Print the version", nullptr},
    {"-h|--help", "Show this help text", nullptr},
};

po::options_description describe_options() {
    po::options_description desc;
    desc.add_options()("archs,A", po::value<std::string>())("dist,D", po::value<std::string>())(
        "mirror,M", po::value<std::string>())("host,H", po::value<std::string>())(
        "tools,T", po::bool_switch())("delete,X", po::bool_switch())(
        "namespace,N", po::value<std::string>())("templates,t", po::value<std::string>())(
        "groups,g", po::value<std::string>())("activity,a", po::value<std::string>())(
        "list,l", po::bool_switch())("begin,b", po::value<std::string>())(
        "end,e", po::value<std::string>())("only,o", po::value<std::string>())(
        "config", po::value<std::string>())("kubeconfig", po::value<std::string>())(
        "context", po::value<std::string>())("print",
                                             po::value<std::string>()->implicit_value("-"))(
        "force-conflicts", po::bool_switch())("no-wait", po::bool_switch())(
        "no-lock", po::bool_switch())("json", po::bool_switch())(
        "snapshot", po::value<std::string>())("sign", po::value<std::string>())(
        "key", po::value<std::string>())("plugin-dir",
                                         po::value<std::vector<std::string>>()->composing())(
        "imagedir", po::value<std::string>())("small", po::bool_switch())(
        "allow-unsigned", po::bool_switch())("version", po::bool_switch())(
        "help,h", po::bool_switch())("positional", po::value<std::vector<std::string>>());
    return desc;
}

std::vector<std::string> nonempty_list(const std::string& option, const std::string& value) {
    auto items = config::split_list(value);
    if (items.empty()) throw UsageError("option --" + option + " needs at least one value");
    return items;
}

}  // namespace

Options parse(const std::vector<std::string>& args) {
    po::positional_options_description positional;
    positional.add("positional", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args)
                      .options(describe_options())
                      .positional(positional)
                      .style(po::command_line_style::unix_style)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(std::string(e.what()) + "; see dmc --help");
    }
    Options o;
    auto text = [&](const char* name, std::optional<std::string>& field) {
        if (vm.count(name)) field = vm[name].as<std::string>();
    };
    auto list = [&](const char* name, std::optional<std::vector<std::string>>& field) {
        if (vm.count(name)) field = nonempty_list(name, vm[name].as<std::string>());
    };
    list("archs", o.archs);
    text("dist", o.dist);
    text("mirror", o.mirror);
    text("host", o.host);
    o.tools = vm["tools"].as<bool>();
    o.remove = vm["delete"].as<bool>();
    text("namespace", o.ns);
    list("templates", o.templates);
    list("groups", o.groups);
    text("activity", o.activity);
    o.list = vm["list"].as<bool>();
    text("begin", o.begin);
    text("end", o.end);
    text("only", o.only);
    text("config", o.config);
    text("kubeconfig", o.kubeconfig);
    text("context", o.context);
    text("print", o.print);
    o.force_conflicts = vm["force-conflicts"].as<bool>();
    o.no_wait = vm["no-wait"].as<bool>();
    o.no_lock = vm["no-lock"].as<bool>();
    o.json = vm["json"].as<bool>();
    text("snapshot", o.snapshot);
    text("sign", o.sign);
    text("key", o.key);
    if (vm.count("plugin-dir")) o.plugin_dirs = vm["plugin-dir"].as<std::vector<std::string>>();
    text("imagedir", o.imagedir);
    o.small = vm["small"].as<bool>();
    o.allow_unsigned = vm["allow-unsigned"].as<bool>();
    o.version = vm["version"].as<bool>();
    o.help = vm["help"].as<bool>();
    if (vm.count("positional")) {
        auto rest = vm["positional"].as<std::vector<std::string>>();
        // `dmc setup` is `dmc -a setup`; with -a, the words are the activity's arguments.
        if (!o.activity && !rest.empty()) {
            o.activity = rest.front();
            rest.erase(rest.begin());
        }
        o.arguments = rest;
    }
    if (o.only && (o.begin || o.end))
        throw UsageError("-o/--only cannot be combined with -b/--begin or -e/--end");
    return o;
}

Options parse(int argc, const char* const* argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return parse(args);
}

config::Settings effective_settings(const Options& o, config::Getenv getenv) {
    config::Settings s = config::defaults();
    if (o.config) {
        config::apply_file(s, *o.config);
    } else if (auto file = config::default_config_file(getenv)) {
        config::apply_file(s, *file);
    }
    config::apply_environment(s, getenv);
    // Options go through the settings table too: -D is checked as DMC_DIST and dist: are.
    if (o.archs) config::apply_option(s, "archs", config::join(*o.archs));
    if (o.dist) config::apply_option(s, "dist", *o.dist);
    if (o.mirror) config::apply_option(s, "mirrors", *o.mirror);
    if (o.host) config::apply_option(s, "registry", *o.host);
    if (o.ns) config::apply_option(s, "namespace", *o.ns);
    if (o.tools) s.tools = true;
    if (o.small) s.small = true;
    if (o.allow_unsigned) s.allow_unsigned = true;
    if (o.imagedir) config::apply_option(s, "imagedir", *o.imagedir);
    if (o.kubeconfig) config::apply_option(s, "kubeconfig", *o.kubeconfig);
    if (o.context) config::apply_option(s, "context", *o.context);
    if (o.force_conflicts) s.force_conflicts = true;
    if (o.snapshot) config::apply_option(s, "snapshot", *o.snapshot);
    if (o.sign) config::apply_option(s, "sign_key", *o.sign);
    if (o.key) config::apply_option(s, "key", *o.key);
    if (o.no_lock) s.use_lock = false;
    // Each --plugin-dir goes before the others, so the first given is searched first.
    for (auto it = o.plugin_dirs.rbegin(); it != o.plugin_dirs.rend(); ++it)
        config::apply_option(s, "plugin_dirs", *it);
    config::finalize(s);
    if (s.lock_file.empty()) s.lock_file = config::default_lock_file(s, getenv);
    return s;
}

std::string help_text(const std::vector<HelpEntry>& templates, const std::vector<HelpEntry>& groups,
                      const std::vector<HelpEntry>& activities) {
    std::ostringstream out;
    out << "dmc: Debian Micro Container images creator\n";
    out << "dmc";
    for (const auto& doc : kOptionDocs) out << " [" << doc.flags << "]";
    out << "\n./dmc [ACT]\n";
    char line[512];
    for (const auto& doc : kOptionDocs) {
        std::string text = doc.text;
        if (doc.default_value != nullptr) {
            std::string value = doc.default_value;
            if (value.front() == '[')
                value = config::default_text(value.substr(1, value.size() - 2));
            std::snprintf(line, sizeof line, "%-29s (DEFAULT: %s)", doc.text, value.c_str());
            text = line;
        }
        std::snprintf(line, sizeof line, "%-24s : %s\n", doc.flags, text.c_str());
        out << line;
    }
    auto section = [&](const char* title, const std::vector<HelpEntry>& entries) {
        out << "\n" << title << "\n";
        for (const auto& e : entries) {
            std::snprintf(line, sizeof line, "%-24s : %s\n", e.name.c_str(), e.description.c_str());
            out << line;
        }
    };
    section("Available values for TMPTS (A comma-separated list of templates):", templates);
    section("Available values for GROUP (A comma-separated list of template groups):", groups);
    section("Available values for ACT (Select the activity to run):", activities);
    return out.str();
}

}  // namespace dmc::cli
