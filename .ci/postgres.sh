# .ci/postgres.sh, sourced by .ci/run and .ci/bench: with
# SCOPEGATE_TEST_DATABASE_URL unset, start the local Debian cluster
# (pg_lsclusters) if it is down and use postgres@127.0.0.1:5432 (trust auth).
# Needs step and fail from the caller.
step "PostgreSQL"
if [[ -n "${SCOPEGATE_TEST_DATABASE_URL:-}" ]]; then
	echo "using SCOPEGATE_TEST_DATABASE_URL from the environment"
else
	export SCOPEGATE_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
	if ! command -v pg_isready >/dev/null || ! command -v pg_lsclusters >/dev/null; then
		fail "PostgreSQL client tools not found (pg_isready, pg_lsclusters): install PostgreSQL 15+, or set SCOPEGATE_TEST_DATABASE_URL"
	fi
	pg_lsclusters
	[[ -d /etc/postgresql ]] || fail "no PostgreSQL cluster in /etc/postgresql: install PostgreSQL 15+, or set SCOPEGATE_TEST_DATABASE_URL"
	version=$(ls /etc/postgresql | sort -V | tail -n 1)
	if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
		echo "starting PostgreSQL $version/main"
		pg_ctlcluster --skip-systemctl-redirect "$version" main start
	fi
	for _ in $(seq 1 60); do
		pg_isready -q -h 127.0.0.1 -p 5432 && break
		sleep 0.5
	done
	pg_isready -h 127.0.0.1 -p 5432 || fail "PostgreSQL is not accepting connections on 127.0.0.1:5432"
fi

