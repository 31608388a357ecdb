#!/usr/bin/busybox sh
# The entrypoint of dmc's mariadb image: checks the environment, initialises an
# empty data directory once (what mariadb-install-db does, then the accounts
# from MARIADB_*), and execs mariadbd. See the template for the variables.
set -eu

BB=/usr/bin/busybox
MARIADBD=/usr/sbin/mariadbd
SHARE=/usr/share/mariadb
DATADIR=/var/lib/mysql
RUNDIR=/run/mysqld
MYSQL_UID=@UID@
VERSION=@VERSION@
INCOMPLETE=.dmc-initialisation-incomplete
nl='
'

_log() {
	level=$1
	shift
	printf '%s [%s] [Entrypoint]: %s\n' "$("$BB" date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$level" "$*"
}
note() { _log Note "$@"; }
die() {
	_log ERROR "$@" >&2
	exit 1
}

# env_value NAME: $MARIADB_NAME, else $MYSQL_NAME, else the content of the file
# named by MARIADB_NAME_FILE or MYSQL_NAME_FILE. The result is in $value.
env_value() {
	value=
	for var in "MARIADB_$1" "MYSQL_$1"; do
		eval "v=\${$var-} f=\${${var}_FILE-}"
		if [ -n "$v" ] && [ -n "$f" ]; then
			die "both $var and ${var}_FILE are set; set only one of them"
		fi
		if [ -n "$v" ]; then
			value=$v
			return 0
		fi
		if [ -n "$f" ]; then
			[ -f "$f" ] && [ -r "$f" ] || die "${var}_FILE=$f: no such readable file"
			value=$("$BB" cat "$f") || die "${var}_FILE=$f cannot be read"
			return 0
		fi
	done
}

# flag NAME: whether the yes/no option MARIADB_NAME is on; a value that is
# neither stops the entrypoint.
flag() {
	env_value "$1"
	case "$value" in
	'' | 0 | [nN] | [nN][oO] | [fF][aA][lL][sS][eE] | [oO][fF][fF]) return 1 ;;
	1 | [yY] | [yY][eE][sS] | [tT][rR][uU][eE] | [oO][nN]) return 0 ;;
	*) die "MARIADB_$1='$value' is not a yes/no value: use 1, yes, true or on (0, no, false, off or empty for no)" ;;
	esac
}

# A quoted SQL string literal, and a quoted identifier.
sql_string() {
	s=${1//\\/\\\\}
	s=${s//\'/\\\'}
	s=${s//"$nl"/\\n}
	printf "'%s'" "$s"
}
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

# Options alone mean mariadbd with these options, as in the official image.
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- mariadbd "$@"
fi
case "$1" in
mariadbd | mysqld | "$MARIADBD")
	shift
	set -- "$MARIADBD" "$@"
	;;
*) exec "$@" ;;
esac
for arg; do
	case "$arg" in
	-'?' | --help | -V | --version | --print-defaults) exec "$@" ;;
	--datadir=*) DATADIR=${arg#--datadir=} ;;
	esac
done

# Started as root (--user 0), the entrypoint hands the directories to mysql, and
# mariadbd drops to mysql by itself (user = mysql in /etc/mysql/my.cnf).
as_root=
[ "$("$BB" id -u)" != 0 ] || as_root=1
give_to_mysql() {
	[ -z "$as_root" ] ||
		"$BB" find "$DATADIR" "$RUNDIR" \! -user "$MYSQL_UID" -exec "$BB" chown "$MYSQL_UID:$MYSQL_UID" {} +
}
if [ -n "$as_root" ]; then
	"$BB" mkdir -p "$DATADIR" "$RUNDIR"
	give_to_mysql
else
	[ -d "$DATADIR" ] || die "the data directory $DATADIR does not exist"
	[ -w "$DATADIR" ] || die "the data directory $DATADIR is not writable by uid $("$BB" id -u):" \
		"give the volume to uid $MYSQL_UID (chown -R $MYSQL_UID:$MYSQL_UID on the host) or start once with --user 0"
	[ -d "$RUNDIR" ] || "$BB" mkdir -p "$RUNDIR" 2>/dev/null || die "cannot create $RUNDIR"
	[ -w "$RUNDIR" ] || die "$RUNDIR is not writable by uid $("$BB" id -u)"
fi

if [ -e "$DATADIR/$INCOMPLETE" ]; then
	die "the initialisation of $DATADIR did not finish (see the log of the first start);" \
		"empty the volume and start again"
fi

if [ ! -d "$DATADIR/mysql" ]; then
	env_value ROOT_PASSWORD
	root_password=$value
	random=
	if flag RANDOM_ROOT_PASSWORD; then random=1; fi
	empty=
	if flag ALLOW_EMPTY_ROOT_PASSWORD; then empty=1; fi
	env_value ROOT_HOST
	root_host=${value:-%}
	env_value DATABASE
	database=$value
	env_value USER
	user=$value
	env_value PASSWORD
	password=$value

	case "${root_password:+p}${random:+r}${empty:+e}" in
	'') die "the database is uninitialised and no root password option is set:" \
		"set MARIADB_ROOT_PASSWORD (or MARIADB_ROOT_PASSWORD_FILE)," \
		"MARIADB_RANDOM_ROOT_PASSWORD=1 or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1" ;;
	p | r | e) ;;
	*) die "set only one of MARIADB_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD and MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ;;
	esac
	if [ -n "$user" ] && [ -z "$password" ]; then
		die "MARIADB_USER=$user is set without MARIADB_PASSWORD; set both or neither"
	fi
	if [ -z "$user" ] && [ -n "$password" ]; then
		die "MARIADB_PASSWORD is set without MARIADB_USER; set both or neither"
	fi
	if [ "$user" = root ]; then
		die "MARIADB_USER=root: MARIADB_USER and MARIADB_PASSWORD create an ordinary user;" \
			"set the root password with MARIADB_ROOT_PASSWORD"
	fi
	if [ ${#database} -gt 64 ]; then die "MARIADB_DATABASE is longer than 64 characters"; fi
	if [ ${#user} -gt 128 ]; then die "MARIADB_USER is longer than 128 characters"; fi
	if [ -n "$random" ]; then
		root_password=$("$BB" tr -dc 'A-Za-z0-9' </dev/urandom | "$BB" head -c 32) || true
		[ ${#root_password} -eq 32 ] || die "cannot read /dev/urandom for a random root password"
	fi

	# What the official image does through a temporary server, here in bootstrap
	# mode: only root@localhost and root@MARIADB_ROOT_HOST remain, with the password.
	# The bootstrap session may not GRANT PROXY, so that row goes into the table
	# before FLUSH PRIVILEGES turns the grant tables on for the statements after it.
	rp=$(sql_string "$root_password")
	rh=$(sql_string "$root_host")
	sql="DELETE FROM mysql.global_priv WHERE User='root' AND Host<>'localhost';
DELETE FROM mysql.proxies_priv WHERE User='root' AND Host<>'localhost';"
	if [ "$root_host" != localhost ]; then
		sql="$sql
REPLACE INTO mysql.proxies_priv VALUES ($rh, 'root', '', '', TRUE, '', NOW());"
	fi
	sql="$sql
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY $rp;"
	if [ "$root_host" != localhost ]; then
		sql="$sql
CREATE USER 'root'@$rh IDENTIFIED BY $rp;
GRANT ALL ON *.* TO 'root'@$rh WITH GRANT OPTION;"
	fi
	if [ -n "$database" ]; then
		sql="$sql
CREATE DATABASE IF NOT EXISTS $(sql_ident "$database");"
	fi
	if [ -n "$user" ]; then
		u=$(sql_string "$user")
		sql="$sql
CREATE USER $u@'%' IDENTIFIED BY $(sql_string "$password");"
		if [ -n "$database" ]; then
			sql="$sql
GRANT ALL ON $(sql_ident "$database").* TO $u@'%';"
		fi
	fi

	note "initialising $DATADIR for MariaDB $VERSION"
	: >"$DATADIR/$INCOMPLETE"
	if ! {
		printf '%s\n' 'create database if not exists mysql;' 'use mysql;' 'SET @auth_root_socket=NULL;'
		"$BB" cat "$SHARE/mariadb_system_tables.sql" "$SHARE/mariadb_performance_tables.sql" \
			"$SHARE/mariadb_system_tables_data.sql" "$SHARE/fill_help_tables.sql" \
			"$SHARE/maria_add_gis_sp_bootstrap.sql" "$SHARE/mariadb_sys_schema.sql"
		printf '%s\n' "$sql"
	} | "$@" --bootstrap --datadir="$DATADIR" --log-warnings=0 --enforce-storage-engine= \
		--max_allowed_packet=8M --net_buffer_length=16K >/dev/null; then
		die "mariadbd --bootstrap failed to initialise $DATADIR (its messages are above);" \
			"empty the volume before the next start"
	fi
	printf '%s' "$VERSION" >"$DATADIR/mariadb_upgrade_info"
	"$BB" rm -f "$DATADIR/$INCOMPLETE"
	give_to_mysql
	if [ -n "$random" ]; then note "GENERATED ROOT PASSWORD: $root_password"; fi
	[ -z "$database" ] || note "created the database $database"
	[ -z "$user" ] || note "created the user $user"
	note "initialisation done"
fi

# The secrets stay out of the server's environment.
unset MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD MARIADB_PASSWORD MYSQL_PASSWORD
unset root_password password rp sql value v
note "starting $*"
exec "$@"
