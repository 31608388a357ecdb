#include "apt/resolver.hpp"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "apt/relation.hpp"
#include "apt/version.hpp"
#include "util/error.hpp"

// The walk below follows apt's pkgDepCache::MarkInstall (apt-pkg/depcache.cc, apt 2.6
// to 3.0) on an empty dpkg status, where every "installed version" test is false, and
// apt-get's install command around it (apt-private/private-install.cc): names on the
// command line are first marked without their dependencies and protected, then marked
// again with them, in command-line order; then what the walk marked but nothing needs
// any more is unmarked (DoAutomaticRemove). Where this file says "apt does X", that is
// the function to compare with.

namespace dmc::apt {

namespace {

enum class DepType : std::uint8_t { PreDepends, Depends, Conflicts, Breaks, Recommends, Suggests };

bool is_critical(DepType t) { return t != DepType::Recommends && t != DepType::Suggests; }
bool is_negative(DepType t) { return t == DepType::Conflicts || t == DepType::Breaks; }

struct Atom {
    std::string_view name;
    std::string_view qualifier;  // "", "any", "native" or an arch
    RelationOp op = RelationOp::None;
    std::string_view version;
    // apt's implicit Multi-Arch conflict with the same name in another architecture
    // (qualifier is that architecture).
    bool implicit = false;
};

struct Group {
    DepType type;
    std::vector<Atom> atoms;
};

using DepList = std::vector<Group>;

std::string atom_text(const Atom& a) {
    std::string out(a.name);
    if (!a.qualifier.empty()) {
        out += ':';
        out += a.qualifier;
    }
    if (a.op != RelationOp::None) {
        out += " (";
        out += to_string(a.op);
        out += ' ';
        out += a.version;
        out += ')';
    }
    return out;
}

std::string group_text(const Group& g) {
    std::string out;
    for (const Atom& a : g.atoms) {
        if (!out.empty()) out += " | ";
        out += atom_text(a);
    }
    return out;
}

// A versioned relation needs a versioned Provides; an unversioned one takes any.
bool provide_satisfies(std::string_view provided, RelationOp op, std::string_view wanted) {
    if (op == RelationOp::None) return true;
    if (provided.empty()) return false;
    return satisfies(provided, op, wanted);
}

// One binary package name in one architecture: apt's pkgCache::Package together with
// its pkgDepCache::StateCache.
struct Node {
    std::string_view name;
    std::string arch;
    std::vector<const Package*> versions;  // highest first
    const Package* original = nullptr;     // the candidate before any was discarded
    const Package* candidate = nullptr;
    const Package* install = nullptr;  // marked for installation (apt's ModeInstall)
    bool protect = false;              // apt's Protected flag
    bool manual = false;               // named on the command line
    bool essential = false;
    bool important = false;
    bool reached = false;  // by the autoremove sweep
    bool listed = false;   // in Solver::marked_order_
    Node* pulled_by = nullptr;
    const Group* pulled_via = nullptr;
    std::string failure;  // why marking it failed, for messages
    // `failure` is a sentence ("it conflicts with ...") rather than the dependency chain
    // that failed ("libfoo -> libbar: ...").
    bool failure_is_reason = false;
};

enum class Sel { Install, Candidate, Original };

class Solver {
  public:
    Solver(const PackageIndex& index, const ResolveRequest& request);
    Resolution run();

  private:
    Node* node(std::string_view name, std::string_view arch);
    Node* node_of(const Package* p) { return node(p->name(), arch_of(p)); }
    std::string_view arch_of(const Package* p) const {
        return p->architecture() == "all" ? std::string_view(native_) : p->architecture();
    }
    bool configured(std::string_view arch) const {
        return arch == "all" || std::find(archs_.begin(), archs_.end(), arch) != archs_.end();
    }
    bool excluded(std::string_view name) const { return excludes_.count(std::string(name)) != 0; }
    const Package* selected(const Node* n, Sel sel) const {
        switch (sel) {
            case Sel::Install:
                return n->install;
            case Sel::Candidate:
                return n->candidate;
            case Sel::Original:
                return n->original;
        }
        return nullptr;
    }

    const DepList& deps(const Package* p);
    void satisfiers(const Package* owner, const Atom& atom, Sel sel,
                    std::vector<const Package*>& out);
    void conflict_hits(const Package* owner, const Atom& atom, Sel sel,
                       std::vector<const Package*>& out);
    bool positive_satisfied(const Package* owner, const Group& g, Sel sel);
    bool negative_clear(const Package* owner, const Group& g);
    bool important(const Group& g) const {
        return is_critical(g.type) || (g.type == DepType::Recommends && with_recommends_) ||
               (g.type == DepType::Suggests && with_suggests_);
    }
    bool install_broken(const Node* n);
    std::vector<const Package*> sorted_solutions(const Package* owner, const Group& g);
    bool provider_before(const Package* a, const Package* b, std::string_view target_group);
    std::uint64_t rank(const Node* n);

    bool mark_install(Node* n, bool auto_inst, unsigned depth, bool from_user, Node* parent,
                      const Group* via);
    bool mark_keep(Node* n);
    void state_change(Node* n, Node* parent, const Group* via);
    void discard_install(Node* n);
    void repair();

    std::string explain_group(const Package* owner, const Group& g);
    std::string explain_atom(const Package* owner, const Atom& a);
    std::string chain_to(const Node* n);
    std::string chain_root(const Node* n);  // the requested package a chain started from
    Node* request_node(const std::string& spec);
    [[noreturn]] void unknown_package(std::string_view name);

    const PackageIndex& index_;
    std::string native_;
    std::vector<std::string> archs_;  // native first
    std::unordered_set<std::string> excludes_;
    const std::map<std::string, std::string>& pins_;
    bool with_recommends_;
    bool with_suggests_;
    const std::vector<std::string>& requested_;

    std::unordered_map<std::string, std::unique_ptr<Node>> nodes_;  // "name\0arch"
    std::vector<Node*> marked_order_;            // every node ever marked, first marking first
    static constexpr unsigned kMaxDepth = 3000;  // apt's own limit in MarkInstall
    std::string depth_limit_from_;               // set when a chain reached kMaxDepth
    std::unordered_map<const Package*, DepList> deps_;
    std::unordered_map<std::string, std::uint64_t> ranks_;  // "name\0arch" -> rank()
};

Solver::Solver(const PackageIndex& index, const ResolveRequest& request)
    : index_(index),
      native_(request.native_arch),
      pins_(request.pins),
      with_recommends_(request.with_recommends),
      with_suggests_(request.with_suggests),
      requested_(request.packages) {
    if (native_.empty()) throw Error("resolve: no native architecture given");
    archs_.push_back(native_);
    for (const std::string& a : request.foreign_archs)
        if (std::find(archs_.begin(), archs_.end(), a) == archs_.end()) archs_.push_back(a);
    excludes_.insert(request.excludes.begin(), request.excludes.end());
}

Node* Solver::node(std::string_view name, std::string_view arch) {
    if (arch == "all") arch = native_;
    std::string key(name);
    key += '\0';
    key += arch;
    auto it = nodes_.find(key);
    if (it != nodes_.end()) return it->second.get();
    std::unique_ptr<Node> created;
    if (configured(arch)) {
        for (const Package* p : index_.versions(name)) {
            if (arch_of(p) != arch) continue;
            if (!created) {
                created = std::make_unique<Node>();
                created->name = p->name();
                created->arch = std::string(arch);
            }
            created->versions.push_back(p);
            created->essential |= p->essential();
            created->important |= p->is_protected();
        }
    }
    if (created) {
        Node* n = created.get();
        // apt's cache generator forces these flags onto apt itself.
        if (n->name == "apt") n->essential = n->important = true;
        n->candidate = n->versions.front();
        if (auto pin = pins_.find(std::string(name)); pin != pins_.end()) {
            auto v = std::find_if(n->versions.begin(), n->versions.end(),
                                  [&](const Package* p) { return p->version() == pin->second; });
            if (v == n->versions.end()) {
                std::string available;
                for (const Package* p : n->versions)
                    available += (available.empty() ? "" : ", ") + std::string(p->version());
                throw Error("the lock file pins " + std::string(name) + " to " + pin->second +
                            ", which the index does not have (available: " + available + ")");
            }
            n->candidate = *v;
        }
        n->original = n->candidate;
    }
    Node* result = created.get();
    nodes_.emplace(std::move(key), std::move(created));
    return result;
}

const DepList& Solver::deps(const Package* p) {
    auto it = deps_.find(p);
    if (it != deps_.end()) return it->second;
    DepList list;
    auto add_field = [&](std::string_view text, DepType type) {
        if (text.empty()) return;
        bool ok = for_each_relation(text, [&](const RelationView& r, bool starts_group) {
            Atom a{r.name, r.arch_qualifier, r.op, r.version, false};
            // Negative relations have no alternatives in apt: each one stands alone.
            if (starts_group || is_negative(type))
                list.push_back(Group{type, {a}});
            else
                list.back().atoms.push_back(a);
        });
        if (!ok)
            throw Error("package " + p->display() + ": malformed relationship field \"" +
                        std::string(text) + "\"");
    };
    // The order of apt's debListParser::NewVersion, which is the order MarkInstall
    // walks them in.
    add_field(p->pre_depends(), DepType::PreDepends);
    add_field(p->depends(), DepType::Depends);
    add_field(p->conflicts(), DepType::Conflicts);
    add_field(p->breaks(), DepType::Breaks);
    add_field(p->recommends(), DepType::Recommends);
    add_field(p->suggests(), DepType::Suggests);
    // Only one architecture of a package may be installed, except Multi-Arch: same
    // ones in the same version (apt's AddImplicitDepends).
    if (archs_.size() > 1) {
        std::string_view own = arch_of(p);
        for (const std::string& other : archs_) {
            if (other == own || node(p->name(), other) == nullptr) continue;
            DepType type =
                p->multi_arch() == MultiArch::Same ? DepType::Breaks : DepType::Conflicts;
            list.push_back(Group{type, {Atom{p->name(), other, RelationOp::None, {}, true}}});
        }
    }
    return deps_.emplace(p, std::move(list)).first->second;
}

// apt's VersionContainerInterface::FromDependency for a positive dependency: the
// selected version of the target if it fits, then the fitting providers.
void Solver::satisfiers(const Package* owner, const Atom& atom, Sel sel,
                        std::vector<const Package*>& out) {
    std::string_view owner_arch = arch_of(owner);
    auto consider_real = [&](Node* t, bool need_foreign, bool need_allowed) {
        if (t == nullptr) return;
        const Package* v = selected(t, sel);
        if (v == nullptr || !satisfies(v->version(), atom.op, atom.version)) return;
        if (need_foreign && v->multi_arch() != MultiArch::Foreign) return;
        if (need_allowed && v->multi_arch() != MultiArch::Allowed) return;
        out.push_back(v);
    };
    auto consider_provider = [&](const Provider& prv) {
        const Package* p = prv.package;
        if (!configured(p->architecture())) return;
        Node* o = node_of(p);
        if (o == nullptr || selected(o, sel) != p) return;
        if (!provide_satisfies(prv.version, atom.op, atom.version)) return;
        out.push_back(p);
    };
    if (atom.qualifier.empty()) {
        consider_real(node(atom.name, owner_arch), false, false);
        // A Multi-Arch: foreign package satisfies its name in every architecture.
        for (const std::string& other : archs_)
            if (other != owner_arch) consider_real(node(atom.name, other), true, false);
        for (const Provider& prv : index_.providers(atom.name)) {
            if (!prv.arch_qualifier.empty()) {
                if (prv.arch_qualifier != owner_arch) continue;
            } else if (prv.package->multi_arch() != MultiArch::Foreign &&
                       arch_of(prv.package) != owner_arch) {
                continue;
            }
            consider_provider(prv);
        }
    } else if (atom.qualifier == "any") {
        // "name:any" is met by Multi-Arch: allowed packages (and their Provides) only.
        for (const std::string& a : archs_) consider_real(node(atom.name, a), false, true);
        for (const Provider& prv : index_.providers(atom.name)) {
            bool fits =
                prv.arch_qualifier == "any" ||
                (prv.arch_qualifier.empty() && prv.package->multi_arch() == MultiArch::Allowed);
            if (fits) consider_provider(prv);
        }
    } else {
        std::string_view arch =
            atom.qualifier == "native" ? std::string_view(native_) : atom.qualifier;
        consider_real(node(atom.name, arch), false, false);
        for (const Provider& prv : index_.providers(atom.name)) {
            if (arch_of(prv.package) != arch) continue;
            if (!prv.arch_qualifier.empty() && prv.arch_qualifier != arch) continue;
            consider_provider(prv);
        }
    }
}

// The selected versions that a Conflicts/Breaks relation of `owner` hits, leaving out
// what apt ignores: the owner itself, its own name in other architectures when it is
// Multi-Arch: same, and providers of the owner's own name.
void Solver::conflict_hits(const Package* owner, const Atom& atom, Sel sel,
                           std::vector<const Package*>& out) {
    Node* self = node_of(owner);
    if (atom.implicit) {
        Node* t = node(atom.name, atom.qualifier);
        const Package* v = t ? selected(t, sel) : nullptr;
        if (v == nullptr) return;
        if (owner->multi_arch() == MultiArch::Same && v->version() == owner->version()) return;
        out.push_back(v);
        return;
    }
    auto consider_real = [&](Node* t) {
        if (t == nullptr || t == self) return;
        const Package* v = selected(t, sel);
        if (v == nullptr || !satisfies(v->version(), atom.op, atom.version)) return;
        if (t->name == owner->name() && owner->multi_arch() == MultiArch::Same) return;
        out.push_back(v);
    };
    bool any_arch = atom.qualifier.empty() || atom.qualifier == "any";
    std::string_view arch = atom.qualifier == "native" ? std::string_view(native_) : atom.qualifier;
    if (any_arch) {
        for (const std::string& a : archs_) consider_real(node(atom.name, a));
    } else {
        consider_real(node(atom.name, arch));
    }
    for (const Provider& prv : index_.providers(atom.name)) {
        const Package* p = prv.package;
        if (!configured(p->architecture()) || p->name() == owner->name()) continue;
        if (!any_arch && arch_of(p) != arch) continue;
        Node* o = node_of(p);
        if (o == nullptr || selected(o, sel) != p) continue;
        if (!provide_satisfies(prv.version, atom.op, atom.version)) continue;
        out.push_back(p);
    }
}

bool Solver::positive_satisfied(const Package* owner, const Group& g, Sel sel) {
    std::vector<const Package*> found;
    for (const Atom& a : g.atoms) {
        if (excluded(a.name)) return true;
        satisfiers(owner, a, sel, found);
        if (!found.empty()) return true;
    }
    return false;
}

bool Solver::negative_clear(const Package* owner, const Group& g) {
    std::vector<const Package*> hits;
    conflict_hits(owner, g.atoms.front(), Sel::Install, hits);
    return hits.empty();
}

// apt's InstBroken() || InstPolicyBroken() for a marked package.
bool Solver::install_broken(const Node* n) {
    const Package* v = n->install;
    if (v == nullptr) return false;
    for (const Group& g : deps(v)) {
        if (!important(g)) continue;
        if (is_negative(g.type) ? !negative_clear(v, g) : !positive_satisfied(v, g, Sel::Install))
            return true;
    }
    return false;
}

// apt's package IDs: the order in which its cache generator first meets each package
// (name and architecture) while reading the indexes. Only apt's last tie-breaker
// between otherwise equal providers needs them, and only their order, so a package's
// rank is the place where the walk below first meets it: places are counted alike in
// every walk (each place where a package may be met, met or not), and a walk goes
// only as far as the package asked for. 0 when it is never met, as for the first.
std::uint64_t Solver::rank(const Node* n) {
    std::string key(n->name);
    key += '\0';
    key += n->arch;
    if (auto it = ranks_.find(key); it != ranks_.end()) return it->second;
    const std::string_view name = n->name;
    const std::string_view want = n->arch;
    std::uint64_t place = 0, found = 0;
    bool done = false;
    bool named = false;  // whether a package of that name was met (apt's group)
    // A place that meets the package named by `parts` put together, for `arch`;
    // `only_new`: only if no package of that name was met before (negative relations
    // create no package of a known name).
    auto meet = [&](std::initializer_list<std::string_view> parts, std::string_view arch,
                    bool only_new) {
        const std::uint64_t here = place++;
        if (done) return;
        std::string_view rest = name;
        for (std::string_view part : parts) {
            if (!rest.starts_with(part)) return;
            rest.remove_prefix(part.size());
        }
        if (!rest.empty() || (only_new && named)) return;
        named = true;
        if ((arch == "all" ? std::string_view(native_) : arch) != want) return;
        found = here;
        done = true;
    };
    auto qualified = [&](std::string_view pkg, std::string_view qualifier) {
        const std::string_view arch = qualifier == "native" ? std::string_view(native_) : qualifier;
        meet({pkg, ":", arch}, "any", false);
        meet({pkg}, arch, false);
    };
    index_.for_each_package([&](const Package& p) {
        if (done || !configured(p.architecture())) return;
        const std::string_view arch = arch_of(&p);
        meet({p.name()}, arch, false);
        auto relations = [&](std::string_view field, bool negative) {
            for_each_relation(field, [&](const RelationView& r, bool) {
                if (r.arch_qualifier.empty())
                    meet({r.name}, arch, negative);
                else if (r.arch_qualifier == "any")
                    meet({r.name, ":any"}, "any", negative);
                else
                    qualified(r.name, r.arch_qualifier);
            });
        };
        relations(p.pre_depends(), false);
        relations(p.depends(), false);
        relations(p.conflicts(), true);
        relations(p.breaks(), true);
        relations(p.recommends(), false);
        relations(p.suggests(), false);
        relations(p.replaces(), true);
        relations(p.enhances(), false);
        for_each_relation(p.provides(), [&](const RelationView& r, bool) {
            if (!r.arch_qualifier.empty()) {
                if (r.arch_qualifier != "any") meet({r.name}, r.arch_qualifier, false);
                meet({r.name, ":", r.arch_qualifier}, "any", false);
            } else if (p.multi_arch() == MultiArch::Foreign) {
                meet({r.name}, native_, true);
            } else {
                if (p.multi_arch() == MultiArch::Allowed) meet({r.name, ":any"}, "any", false);
                meet({r.name}, arch, false);
            }
        });
        if (p.multi_arch() == MultiArch::Allowed) meet({p.name(), ":any"}, "any", false);
    });
    ranks_.emplace(std::move(key), found);
    return found;
}

// apt's CompareProviders: whether a goes before b among the solutions of a dependency
// on `target_group` (the dependency's package name).
bool Solver::provider_before(const Package* a, const Package* b, std::string_view target_group) {
    Node* an = node_of(a);
    Node* bn = node_of(b);
    if (an->protect != bn->protect) return an->protect;
    // (apt next prefers installed packages and Multi-Arch: same siblings of installed
    // ones: nothing is installed here.)
    bool a_in_group = an->name == target_group;
    bool b_in_group = bn->name == target_group;
    if (a_in_group != b_in_group) return a_in_group;
    if (an->essential != bn->essential) return an->essential;
    if (an->important != bn->important) return an->important;
    if (an->arch != bn->arch) {
        if (an->arch == native_) return true;
        if (bn->arch == native_) return false;
        for (const std::string& arch : archs_) {
            if (arch == an->arch) return true;
            if (arch == bn->arch) return false;
        }
    }
    if (a->priority() != b->priority()) return a->priority() < b->priority();
    if (an == bn) return false;
    return rank(an) > rank(bn);
}

// apt's getAllPossibleSolutions(..., CANDIDATE, sorted=true).
std::vector<const Package*> Solver::sorted_solutions(const Package* owner, const Group& g) {
    std::vector<const Package*> out;
    std::vector<const Package*> found;
    for (const Atom& a : g.atoms) {
        found.clear();
        satisfiers(owner, a, Sel::Candidate, found);
        std::erase_if(found, [&](const Package* p) { return excluded(p->name()); });
        std::string_view target = a.qualifier.empty() ? a.name : std::string_view();
        std::sort(found.begin(), found.end(), [&](const Package* x, const Package* y) {
            return provider_before(x, y, target);
        });
        out.insert(out.end(), found.begin(), found.end());
    }
    out.erase(std::unique(out.begin(), out.end()), out.end());
    std::erase_if(out, [&](const Package* p) {
        Node* n = node_of(p);
        return n->protect && n->install == nullptr;
    });
    return out;
}

bool Solver::mark_keep(Node* n) {
    if (n->install == nullptr) return true;
    if (n->protect) return false;
    n->install = nullptr;
    return true;
}

void Solver::state_change(Node* n, Node* parent, const Group* via) {
    if (n->protect && n->install == n->candidate && n->install != nullptr) return;
    if (!n->listed) {
        n->listed = true;
        marked_order_.push_back(n);
    }
    n->install = n->candidate;
    if (n->pulled_by == nullptr && !n->manual) {
        n->pulled_by = parent;
        n->pulled_via = via;
    }
}

void Solver::discard_install(Node* n) {
    n->install = nullptr;
    n->candidate = nullptr;
}

// apt's pkgDepCache::MarkInstall with everything an installed package would change
// left out.
bool Solver::mark_install(Node* n, bool auto_inst, unsigned depth, bool from_user, Node* parent,
                          const Group* via) {
    // IsModeChangeOk. apt stops at the same depth; that is a limit, not a verdict on
    // the package, and is reported as one.
    if (depth > kMaxDepth) {
        if (depth_limit_from_.empty()) depth_limit_from_ = chain_root(parent);
        return false;
    }
    if (!from_user && n->install == nullptr && n->protect) return false;
    if (n->candidate == nullptr) return false;
    if (!n->protect && n->install != nullptr && !install_broken(n)) return true;

    // IsInstallOk: every critical dependency must be met by a marked package or by some
    // candidate (apt's DepState caches candidates from before any was discarded).
    if (auto_inst) {
        for (const Group& g : deps(n->candidate)) {
            if (!is_critical(g.type) || is_negative(g.type)) continue;
            if (positive_satisfied(n->candidate, g, Sel::Install) ||
                positive_satisfied(n->candidate, g, Sel::Original))
                continue;
            if (n->failure.empty()) n->failure = explain_group(n->candidate, g);
            if (!n->protect) {
                n->candidate = nullptr;
                n->install = nullptr;
            }
            return false;
        }
    }
    if (from_user) state_change(n, parent, via);
    if (!auto_inst) {
        if (!from_user) state_change(n, parent, via);
        return true;
    }

    const Package* version = n->candidate;
    const bool fail_early = !n->protect && !from_user;
    const bool propagate = n->protect;
    bool has_failed = false;

    // MarkInstall_CollectDependencies: what is already met is left alone, unless the
    // package is protected.
    std::vector<const Group*> to_install;
    std::vector<const Group*> to_remove;
    for (const Group& g : deps(version)) {
        bool met = is_negative(g.type) ? negative_clear(version, g)
                                       : positive_satisfied(version, g, Sel::Install);
        if (met && !propagate) continue;
        if (!important(g)) continue;
        (is_negative(g.type) ? to_remove : to_install).push_back(&g);
    }

    // MarkInstall_RemoveConflictsIfNotUpgradeable
    bool failed_remove = false;
    for (const Group* g : to_remove) {
        std::vector<const Package*> hits;
        conflict_hits(version, g->atoms.front(), Sel::Candidate, hits);
        std::sort(hits.begin(), hits.end(), [&](const Package* x, const Package* y) {
            return provider_before(x, y, g->atoms.front().name);
        });
        for (const Package* hit : hits) {
            Node* other = node_of(hit);
            if (other->candidate != hit) continue;
            if (other->install != nullptr && !mark_keep(other)) {
                failed_remove = true;
                if (n->failure.empty()) {
                    n->failure =
                        (g->type == DepType::Breaks ? "it breaks " : "it conflicts with ") +
                        hit->display();
                    n->failure_is_reason = true;
                }
                if (!propagate && !from_user) break;
            } else {
                if (other->failure.empty()) {
                    other->failure = "ruled out by " + version->display() + " (" +
                                     (g->type == DepType::Breaks ? "Breaks: " : "Conflicts: ") +
                                     atom_text(g->atoms.front()) + ")";
                    other->failure_is_reason = true;
                }
                if (propagate) {
                    // A protected package rules out what it conflicts with for good.
                    other->candidate = other->install;
                    other->protect = true;
                }
            }
        }
        if (failed_remove && !propagate && !from_user) break;
    }
    if (failed_remove) {
        if (fail_early) return false;
        has_failed = true;
    }

    if (!from_user) state_change(n, parent, via);

    // apt protects the package while its dependencies are marked (ScopedProtected), so
    // nothing below can unmark it and providers of it are preferred.
    struct ScopedProtect {
        Node* node;
        bool already;
        ~ScopedProtect() {
            if (!already) node->protect = false;
        }
    } scoped{n, n->protect};
    n->protect = true;

    // MarkInstall_InstallDependencies
    bool failed_install = false;
    for (const Group* g : to_install) {
        bool found = positive_satisfied(version, *g, Sel::Install);
        if (found && !propagate) continue;
        bool critical = is_critical(g->type);
        if (found) {
            // Protection spreads to the one package that can meet a critical dependency.
            if (!critical) continue;
            std::vector<const Package*> possible;
            for (const Atom& a : g->atoms) satisfiers(version, a, Sel::Candidate, possible);
            std::sort(possible.begin(), possible.end());
            possible.erase(std::unique(possible.begin(), possible.end()), possible.end());
            if (possible.size() != 1) continue;
            Node* only = node_of(possible.front());
            if (only->protect) continue;
            only->protect = true;
            if (!mark_install(only, true, depth + 1, false, n, g)) failed_install = true;
            continue;
        }
        std::vector<const Package*> solutions = sorted_solutions(version, *g);
        for (const Package* solution : solutions) {
            Node* target = node_of(solution);
            if (target->candidate != solution) continue;
            if (propagate && critical && solutions.size() == 1) {
                if (!mark_install(target, false, depth + 1, false, n, g)) continue;
                target->protect = true;
            }
            if (!mark_install(target, true, depth + 1, false, n, g)) continue;
            found = true;
            break;
        }
        if (!found && critical) {
            failed_install = true;
            if (n->failure.empty()) n->failure = explain_group(version, *g);
            if (!propagate && !from_user) break;
        }
    }
    if (failed_install) {
        if (fail_early) {
            discard_install(n);
            return false;
        }
        has_failed = true;
    }
    return !has_failed;
}

std::string Solver::explain_atom(const Package* owner, const Atom& a) {
    std::string text = atom_text(a);
    std::vector<const Package*> fitting;
    satisfiers(owner, a, Sel::Original, fitting);
    if (fitting.empty()) {
        auto versions = index_.versions(a.name);
        auto providers = index_.providers(a.name);
        if (versions.empty() && providers.empty()) return text + ": no such package";
        std::string available;
        std::set<std::string> seen;
        auto note = [&](const std::string& item) {
            if (seen.insert(item).second) available += (available.empty() ? "" : ", ") + item;
        };
        for (const Package* p : versions) {
            std::string item(p->version());
            if (arch_of(p) != arch_of(owner)) item += " " + std::string(p->architecture());
            note(item);
        }
        for (const Provider& prv : providers) {
            std::string item = "provided by " + std::string(prv.package->name());
            if (!prv.version.empty()) item += " as " + std::string(prv.version);
            note(item);
        }
        return text + ": no installable version (available: " + available + ")";
    }
    for (const Package* p : fitting) {
        Node* n = node_of(p);
        if (!n->failure.empty()) return text + (n->failure_is_reason ? ": " : " -> ") + n->failure;
    }
    return text + ": not installable";
}

std::string Solver::explain_group(const Package* owner, const Group& g) {
    std::string out;
    for (const Atom& a : g.atoms) {
        if (!out.empty()) out += " | ";
        out += explain_atom(owner, a);
    }
    return out;
}

std::string Solver::chain_root(const Node* n) {
    std::set<const Node*> seen;
    const Node* root = n;
    for (const Node* at = n; at != nullptr && seen.insert(at).second; at = at->pulled_by) root = at;
    return root ? std::string(root->name) : std::string("?");
}

std::string Solver::chain_to(const Node* n) {
    std::vector<const Node*> path;
    std::set<const Node*> seen;
    for (const Node* at = n; at != nullptr && seen.insert(at).second; at = at->pulled_by)
        path.push_back(at);
    std::string out(path.back()->name);
    for (auto it = path.rbegin() + 1; it != path.rend(); ++it) {
        const Node* child = *it;
        out += " -> ";
        out += child->pulled_via ? group_text(*child->pulled_via) : std::string(child->name);
    }
    return out;
}

[[noreturn]] void Solver::unknown_package(std::string_view name) {
    std::string message = "unknown package '" + std::string(name) + "'";
    auto versions = index_.versions(name);
    if (!versions.empty()) {
        std::string archs;
        for (const Package* p : versions)
            if (archs.find(p->architecture()) == std::string::npos)
                archs += (archs.empty() ? "" : ", ") + std::string(p->architecture());
        throw Error(message + ": only available for " + archs);
    }
    auto close = suggest_names(name, index_.names());
    if (!close.empty()) {
        message += "; did you mean ";
        for (std::size_t i = 0; i < close.size(); ++i) message += (i ? ", " : "") + close[i];
        message += "?";
    }
    throw Error(message);
}

Node* Solver::request_node(const std::string& spec) {
    std::string_view rest = spec;
    std::string_view version;
    if (auto eq = rest.find('='); eq != std::string_view::npos) {
        version = rest.substr(eq + 1);
        rest = rest.substr(0, eq);
    }
    std::string_view name = rest;
    std::string_view arch;
    if (auto colon = rest.find(':'); colon != std::string_view::npos) {
        name = rest.substr(0, colon);
        arch = rest.substr(colon + 1);
        if (arch == "native") arch = native_;
    }
    if (name.empty()) throw Error("empty package name in request '" + spec + "'");
    if (excluded(name))
        throw Error("package '" + std::string(name) + "' is both requested and excluded");

    Node* n = nullptr;
    if (!arch.empty()) {
        n = node(name, arch);
    } else {
        // apt takes the native package, else the first architecture that has one.
        for (const std::string& a : archs_)
            if ((n = node(name, a)) != nullptr) break;
    }
    if (n == nullptr) {
        // A purely virtual name is accepted when exactly one package provides it.
        std::vector<Node*> providing;
        for (const Provider& prv : index_.providers(name)) {
            if (!configured(prv.package->architecture())) continue;
            if (!arch.empty() && arch_of(prv.package) != arch) continue;
            Node* o = node_of(prv.package);
            if (o && o->candidate == prv.package &&
                std::find(providing.begin(), providing.end(), o) == providing.end())
                providing.push_back(o);
        }
        if (providing.empty()) unknown_package(name);
        // Several architectures of one package count once: the preferred one.
        std::vector<Node*> distinct;
        for (Node* o : providing) {
            auto same = std::find_if(distinct.begin(), distinct.end(),
                                     [&](Node* d) { return d->name == o->name; });
            if (same == distinct.end()) distinct.push_back(o);
        }
        if (distinct.size() > 1) {
            std::vector<std::string> names;
            for (Node* o : distinct) names.emplace_back(o->name);
            std::sort(names.begin(), names.end());
            std::string list;
            for (const std::string& s : names) list += (list.empty() ? "" : ", ") + s;
            throw Error("'" + std::string(name) + "' is a virtual package provided by: " + list +
                        "; request one of them");
        }
        n = distinct.front();
        for (Node* o : providing)
            if (o->name == n->name && o->arch == native_) n = o;
    }
    if (!version.empty()) {
        auto v = std::find_if(n->versions.begin(), n->versions.end(),
                              [&](const Package* p) { return p->version() == version; });
        if (v == n->versions.end()) {
            std::string available;
            for (const Package* p : n->versions)
                available += (available.empty() ? "" : ", ") + std::string(p->version());
            throw Error("version " + std::string(version) + " of " + std::string(n->name) +
                        " is not in the index (available: " + available + ")");
        }
        n->candidate = n->original = *v;
    }
    return n;
}

// What apt's pkgProblemResolver does first for a protected package left with an unmet
// dependency (typically an alternative that a later Conflicts of a requested package
// unmarked): install the next alternative that can be installed. The resolver's
// scoring and removals beyond that are not imitated; what this can't mend is reported.
void Solver::repair() {
    // Bounded: a mend may unmark something else (Conflicts) and so undo another.
    for (int round = 0, changed = 1; changed && round < 16; ++round) {
        changed = 0;
        for (std::size_t i = 0; i < marked_order_.size(); ++i) {
            Node* n = marked_order_[i];
            if (n->install == nullptr) continue;
            for (const Group& g : deps(n->install)) {
                if (!is_critical(g.type) || is_negative(g.type)) continue;
                if (positive_satisfied(n->install, g, Sel::Install)) continue;
                for (const Package* solution : sorted_solutions(n->install, g)) {
                    Node* target = node_of(solution);
                    if (target->candidate != solution) continue;
                    if (mark_install(target, true, 1, false, n, &g)) {
                        changed = 1;
                        break;
                    }
                }
            }
        }
    }
}

Resolution Solver::run() {
    std::vector<Node*> requested;
    for (const std::string& spec : requested_) {
        Node* n = request_node(spec);
        if (std::find(requested.begin(), requested.end(), n) == requested.end())
            requested.push_back(n);
    }
    // apt-get's TryToInstall: protect and mark each requested package alone ...
    for (Node* n : requested) {
        n->protect = true;
        n->manual = true;
        mark_install(n, false, 0, true, nullptr, nullptr);
    }
    // ... then doAutoInstall: mark them again, now with their dependencies.
    for (Node* n : requested) mark_install(n, true, 0, true, nullptr, nullptr);

    repair();

    // DoAutomaticRemove: what no requested package needs any more (left over from
    // alternatives that failed halfway) is not installed after all. Essential and
    // Protected packages are kept like requested ones.
    std::vector<Node*> stack;
    for (Node* n : marked_order_)
        if (n->install && (n->manual || n->essential || n->important)) stack.push_back(n);
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        if (n->reached) continue;
        n->reached = true;
        const Package* v = n->install;
        for (const Group& g : deps(v)) {
            if (is_negative(g.type)) continue;  // autoremove follows Recommends and Suggests too
            for (const Atom& a : g.atoms) {
                std::vector<const Package*> found;
                satisfiers(v, a, Sel::Install, found);
                for (const Package* p : found) {
                    Node* t = node_of(p);
                    if (!t->reached) stack.push_back(t);
                }
            }
        }
    }
    std::vector<Node*> chosen;
    for (Node* n : marked_order_)
        if (n->install && n->reached) chosen.push_back(n);
    for (Node* n : marked_order_)
        if (n->install && !n->reached) n->install = nullptr;

    if (!depth_limit_from_.empty())
        throw Error(
            "the dependencies of " + depth_limit_from_ + " form a chain deeper than " +
            std::to_string(kMaxDepth) +
            " packages, the resolver's limit; no verdict on them was reached. "
            "Check the archive's index for a runaway chain, or pin versions in a lock file");

    // What is still unmet is fatal, with the chain that led to it.
    std::vector<std::string> unmet;
    for (Node* n : chosen) {
        for (const Group& g : deps(n->install)) {
            if (!is_critical(g.type) || is_negative(g.type)) continue;
            if (positive_satisfied(n->install, g, Sel::Install)) continue;
            unmet.push_back(chain_to(n) + " -> " + explain_group(n->install, g));
        }
    }
    if (!unmet.empty()) {
        std::sort(unmet.begin(), unmet.end());
        std::string message = "unsatisfiable dependenc";
        message += unmet.size() == 1 ? "y: " : "ies:";
        if (unmet.size() == 1) {
            message += unmet.front();
        } else {
            for (const std::string& line : unmet) message += "\n  " + line;
        }
        throw Error(message);
    }

    Resolution result;
    for (Node* n : chosen) {
        for (const Group& g : deps(n->install)) {
            if (!is_negative(g.type)) continue;
            std::vector<const Package*> hits;
            conflict_hits(n->install, g.atoms.front(), Sel::Install, hits);
            for (const Package* hit : hits) {
                result.problems.push_back(
                    n->install->display() +
                    (g.type == DepType::Breaks ? " breaks " : " conflicts with ") + hit->display() +
                    " (" + (g.type == DepType::Breaks ? "Breaks: " : "Conflicts: ") +
                    atom_text(g.atoms.front()) + ")");
            }
        }
    }
    std::sort(result.problems.begin(), result.problems.end());
    for (Node* n : chosen) result.packages.push_back(n->install);
    std::sort(result.packages.begin(), result.packages.end(),
              [](const Package* a, const Package* b) {
                  if (a->name() != b->name()) return a->name() < b->name();
                  return a->architecture() < b->architecture();
              });
    return result;
}

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap) {
    if (a.size() > b.size() + cap || b.size() > a.size() + cap) return cap + 1;
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        std::size_t best = row[0];
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
            best = std::min(best, row[j]);
        }
        if (best > cap) return cap + 1;
    }
    return row[b.size()];
}

}  // namespace

std::vector<std::string> suggest_names(std::string_view wanted,
                                       const std::vector<std::string_view>& names,
                                       std::size_t limit) {
    // Typos are a couple of edits away; a prefix ("nginx" for "nginx-") counts too.
    const std::size_t cap = wanted.size() <= 4 ? 1 : 2;
    std::vector<std::pair<std::size_t, std::string_view>> scored;
    for (std::string_view name : names) {
        std::size_t d = edit_distance(wanted, name, cap);
        bool prefix = wanted.size() >= 3 && (name.starts_with(wanted) || wanted.starts_with(name));
        if (d <= cap)
            scored.emplace_back(d, name);
        else if (prefix)
            scored.emplace_back(cap + 1 +
                                    (name.size() > wanted.size() ? name.size() - wanted.size()
                                                                 : wanted.size() - name.size()),
                                name);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> out;
    for (std::size_t i = 0; i < scored.size() && out.size() < limit; ++i)
        out.emplace_back(scored[i].second);
    return out;
}

Resolution resolve(const PackageIndex& index, const ResolveRequest& request) {
    Solver solver(index, request);
    return solver.run();
}

}  // namespace dmc::apt
