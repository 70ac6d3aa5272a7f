#!/bin/sh
# Container entrypoint (Dockerfile): ECS injects secrets as environment variables, but the SFTP
# client takes its private key and pinned host key as files. Write them to a private temp folder,
# point FOODBANK_SFTP_KEY / FOODBANK_SFTP_KNOWN_HOSTS at them, drop the key from the environment,
# then run the given command (webserver, daemon, or the run worker EcsRunLauncher asks for).
set -eu
if [ -n "${FOODBANK_SFTP_PRIVATE_KEY:-}" ]; then
    umask 077
    secrets_dir="$(mktemp -d)"
    printf '%s\n' "$FOODBANK_SFTP_PRIVATE_KEY" > "$secrets_dir/sftp_key"
    printf '%s\n' "${FOODBANK_SFTP_KNOWN_HOSTS_LINE:?the pinned host key must come with the private key}" \
        > "$secrets_dir/known_hosts"
    export FOODBANK_SFTP_KEY="$secrets_dir/sftp_key" FOODBANK_SFTP_KNOWN_HOSTS="$secrets_dir/known_hosts"
    unset FOODBANK_SFTP_PRIVATE_KEY FOODBANK_SFTP_KNOWN_HOSTS_LINE
fi
exec "$@"
