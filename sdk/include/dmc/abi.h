/* The binary boundary between the dmc host and its template plugins.
 *
 * Plain C so that a plugin built with another compiler or at another time still
 * talks to the host. Rules that keep it safe:
 *  - The host looks up DMC_PLUGIN_ENTRY_SYMBOL and refuses any plugin whose
 *    abi_version differs from its own. Incompatible changes bump the version.
 *  - Compatible changes append fields at the end of a struct. Every struct starts
 *    with struct_size, the size its writer knew. The sizes of ABI 1 as first
 *    released are frozen below (DMC_*_SIZE_V1): a reader accepts any struct at
 *    least that large, and reads an appended field only when DMC_HAS_FIELD says
 *    the writer knew it. A newer plugin in an older host, or an older plugin in a
 *    newer host, both work; each side ignores what the other does not know.
 *  - Strings handed to the host are copied before the call returns. Strings the
 *    host hands out stay valid until the hook returns. Nobody frees memory that
 *    the other side allocated.
 *  - A hook returns 0 on success. On failure it calls host->fail() with the reason
 *    and returns non-zero. No exception crosses the boundary.
 */
#ifndef DMC_ABI_H
#define DMC_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMC_PLUGIN_ABI_VERSION 1u
#define DMC_PLUGIN_ENTRY_SYMBOL "dmc_plugin_entry"

/* The size of TYPE up to and including FIELD, and whether the writer of *PTR knew FIELD. */
#define DMC_SIZE_UP_TO(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE*)0)->FIELD))
#define DMC_HAS_FIELD(PTR, TYPE, FIELD) \
    ((PTR) != NULL && (size_t)(PTR)->struct_size >= DMC_SIZE_UP_TO(TYPE, FIELD))

/* The levels of a plugin's log messages, least verbose first. The host maps them
 * onto its own levels (and any other number onto info). */
enum dmc_log_level {
    DMC_LOG_ERROR = 2,
    DMC_LOG_WARNING = 5,
    DMC_LOG_NOTICE = 7,
    DMC_LOG_INFO = 9,
    DMC_LOG_DETAIL = 11
};

/* Services available in every hook. */
typedef struct dmc_host {
    uint32_t struct_size;
    void* opaque;
    void (*log)(void* opaque, int level, const char* message);
    /* Records why the running hook fails; the hook then returns non-zero. */
    void (*fail)(void* opaque, const char* message);
    /* A build setting by key, NULL when unset. The keys:
     *   template        the template whose hook runs
     *   image_template  the template whose image is built: another one when that one
     *                   builds on this template (adminer's image runs php's hooks too)
     *   arch, dist      the Debian architecture and suite ("arm64", "trixie")
     *   multiarch       the arch's multiarch triplet ("aarch64-linux-gnu"), as in
     *                   library paths and alternative names
     *   tools           "1" when debugging tools go into the image (-T), else "0"
     *   mode            "micro", or "small" for whole packages with a dpkg database
     *   namespace       the Kubernetes namespace
     *   option.NAME     this template's option NAME: the config file's
     *                   templates.<template>.NAME, else the default it declared
     *   option.T.NAME   the same for the template T of the image being built (this
     *                   one, or one it builds on or that builds on it)
     *   dmc_executable  the running dmc program's path; dmc_plugins the plugin files
     *                   it loaded, and host_apt_sources the archive source files of
     *                   its machine, newline-separated: for a template packing dmc
     *   and in deploy the keys that dmc_deploy_ctx names. */
    const char* (*setting)(void* opaque, const char* key);
} dmc_host;
#define DMC_HOST_SIZE_V1 DMC_SIZE_UP_TO(dmc_host, setting)

/* prepare: what to take from the archive. */
typedef struct dmc_prepare_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*add_package)(void* opaque, const char* name);
    /* The package and whatever only it pulled in are left out of the closure. */
    void (*exclude_package)(void* opaque, const char* name);
    /* Optional content of the base image, what the packages' scripts would have made:
     * "ca-certificates" (the bundle, /etc/ssl/certs/NAME.pem and OpenSSL's hash
     * links), "mime-types" (/etc/mime.types), "tzdata" (the zones, /etc/localtime in
     * UTC), "small", and "system-users" (base-passwd, for Configure::system_user()). */
    void (*want)(void* opaque, const char* feature);
    /* Appended: software built from source, in a build environment the host makes
     * (a Debian rootfs of the dist with build-essential and the build dependencies).
     * The source is a Debian source package of the dist's signed Sources index
     * (version NULL or "": the newest there), or a tarball whose SHA256 is pinned
     * (a URL without a scheme is a path on the dist's archive mirror). Build
     * dependencies are Build-Depends relations; without any, the source package's
     * own. Steps run in order in the unpacked source, as `sh -e -c COMMAND` by an
     * unprivileged user without network, with DESTDIR, JOBS, DEB_HOST_ARCH,
     * DEB_HOST_GNU_TYPE, DEB_BUILD_GNU_TYPE and CROSS_COMPILE ("aarch64-linux-gnu-"
     * when cross-building, else "") set. What they install into DESTDIR joins the
     * rootfs, owned by the source, for collect. */
    void (*source_package)(void* opaque, const char* name, const char* version);
    void (*source_tarball)(void* opaque, const char* url, const char* sha256);
    void (*build_depends)(void* opaque, const char* relations);
    void (*build_step)(void* opaque, const char* name, const char* command);
    /* Appended: the alternative NAME (update-alternatives' name, such as
     * "libblas.so.3-x86_64-linux-gnu") resolved to PATH, one of the choices the
     * packages' scripts install, instead of the one of highest priority. */
    void (*alternative)(void* opaque, const char* name, const char* path);
} dmc_prepare_ctx;
#define DMC_PREPARE_CTX_SIZE_V1 DMC_SIZE_UP_TO(dmc_prepare_ctx, want)

/* collect: what to take from the unpacked packages (the rootfs). Paths are absolute
 * inside the rootfs. ELF files get their shared-library closure added by the host. */
typedef struct dmc_collect_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*add_path)(void* opaque, const char* path);    /* a file, or a whole tree */
    void (*add_glob)(void* opaque, const char* pattern); /* every match; none is fine */
    /* Modules the program dlopen()s (nginx modules, PHP extensions, NSS modules). */
    void (*add_dlopened)(void* opaque, const char* pattern);
    /* A soname that may stay unresolved without failing the build. */
    void (*allow_missing)(void* opaque, const char* soname);
    /* Everything the named package installed. */
    void (*add_package_files)(void* opaque, const char* package);
    /* Appended after ABI 1's first release: files matching the pattern keep their
     * setuid and setgid bits in the image; every other file loses them. */
    void (*allow_setid)(void* opaque, const char* pattern);
} dmc_collect_ctx;
#define DMC_COLLECT_CTX_SIZE_V1 DMC_SIZE_UP_TO(dmc_collect_ctx, add_package_files)

/* configure: the image's own files and settings. */
typedef struct dmc_configure_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*write_file)(void* opaque, const char* path, const char* data, size_t size, uint32_t mode,
                       uint32_t uid, uint32_t gid);
    /* A file of the rootfs, NULL when it does not exist; valid until the hook returns. */
    const char* (*read_file)(void* opaque, const char* path, size_t* size);
    void (*make_dir)(void* opaque, const char* path, uint32_t mode, uint32_t uid, uint32_t gid);
    void (*make_symlink)(void* opaque, const char* target, const char* path);
    void (*remove)(void* opaque, const char* path);
    void (*add_group)(void* opaque, const char* name, uint32_t gid);
    void (*add_user)(void* opaque, const char* name, uint32_t uid, uint32_t gid, const char* home,
                     const char* shell);
    void (*set_entrypoint)(void* opaque, const char* const* argv, size_t argc);
    void (*set_cmd)(void* opaque, const char* const* argv, size_t argc);
    void (*set_env)(void* opaque, const char* name, const char* value);
    void (*set_user)(void* opaque, const char* user);
    void (*set_workdir)(void* opaque, const char* dir);
    void (*expose)(void* opaque, const char* port); /* "80/tcp" */
    void (*add_volume)(void* opaque, const char* path);
    void (*set_label)(void* opaque, const char* name, const char* value);
    void (*set_stop_signal)(void* opaque, const char* signal);
    /* Appended: the rootfs paths matching a glob, newline-separated and sorted ("" when
     * none); valid until the hook returns. */
    const char* (*glob)(void* opaque, const char* pattern);
} dmc_configure_ctx;
#define DMC_CONFIGURE_CTX_SIZE_V1 DMC_SIZE_UP_TO(dmc_configure_ctx, set_stop_signal)

/* deploy: Kubernetes objects for the built image. Its settings add:
 *   image          the pushed image as registry/repo@sha256:... (never a tag)
 *   image_version  the version of the image's main package
 *   uid, gid       the numbers of the image's user, for runAsUser and runAsGroup
 * The host sets each object's namespace and applies them in the order given. */
typedef struct dmc_deploy_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    /* One object as JSON (or YAML) text, with apiVersion, kind and metadata.name. */
    void (*add_object)(void* opaque, const char* yaml);
    /* Appended: a Secret NAME holding a random value under each of KEYS, created only
     * when it does not exist yet: never overwritten, never printed, never logged. */
    void (*add_generated_secret)(void* opaque, const char* name, const char* const* keys,
                                 size_t count);
} dmc_deploy_ctx;
#define DMC_DEPLOY_CTX_SIZE_V1 DMC_SIZE_UP_TO(dmc_deploy_ctx, add_object)

/* An option a template takes from the config file (templates.<template>.<name>).
 * Frozen: a later ABI that needs more appends another array to dmc_plugin. */
typedef struct dmc_option {
    const char* name;          /* NULL ends the array */
    const char* default_value; /* what the hooks read when the config says nothing */
    const char* description;   /* one line */
} dmc_option;

typedef struct dmc_plugin {
    uint32_t abi_version;
    uint32_t struct_size;
    const char* name; /* the template name, unique among loaded plugins */
    const char* version;
    const char* description; /* one line */
    const char* group;
    const char* const* builds_on;               /* NULL-terminated template names, or NULL */
    int (*prepare)(const dmc_prepare_ctx*);     /* required */
    int (*collect)(const dmc_collect_ctx*);     /* required */
    int (*configure)(const dmc_configure_ctx*); /* required */
    int (*deploy)(const dmc_deploy_ctx*);       /* optional */
    /* Appended: the options it takes, or NULL to take any. With a list, an option of
     * the config file that is not in it stops dmc, naming the line. */
    const dmc_option* options;
} dmc_plugin;
#define DMC_PLUGIN_SIZE_V1 DMC_SIZE_UP_TO(dmc_plugin, deploy)

typedef const dmc_plugin* (*dmc_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* DMC_ABI_H */
