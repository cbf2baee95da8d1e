#!/usr/bin/env bash
# `cargo run` runner: boots the firmware ELF ($1) on QEMU's mps2-an385 with
# user networking and decodes its defmt log. Host ports (override with the
# environment): REP 15555, PUB 15556, monitor 15557; fw-client connects to
# 10.0.2.2:${ZMTP_FW_HOST_PORT:-5560}, that is 127.0.0.1 on the host.
set -euo pipefail
elf="$1"
rep="${ZMTP_FW_REP_PORT:-15555}"
pub="${ZMTP_FW_PUB_PORT:-15556}"
mon="${ZMTP_FW_MON_PORT:-15557}"
host="${ZMTP_FW_HOST_PORT:-5560}"
qemu-system-arm -machine mps2-an385 -cpu cortex-m3 -nographic -monitor none -serial null \
  -semihosting-config "enable=on,target=native,arg=$(basename "$elf"),arg=port=$host" \
  -nic "user,model=lan9118,hostfwd=tcp:127.0.0.1:$rep-:5555,hostfwd=tcp:127.0.0.1:$pub-:5556,hostfwd=tcp:127.0.0.1:$mon-:5557" \
  -kernel "$elf" | defmt-print -e "$elf"
