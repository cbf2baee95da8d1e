//! # zmtp-firmware-qemu
//!
//! ZeroMQ firmware for QEMU's `mps2-an385` board (ARM Cortex-M3): `zmtp-core`
//! sockets over smoltcp through [`zmtp_smoltcp`], on the board's emulated
//! LAN9118 Ethernet controller, with QEMU user networking on the other
//! side (guest 10.0.2.15, host 10.0.2.2).
//!
//! - [`lan9118`]: the `smoltcp::phy::Device` driver (programmed I/O).
//! - [`board`]: SysTick millisecond clock, sleeping, the semihosting
//!   command line, exit codes, panic handlers.
//! - [`app`]: what the firmware binaries share: the network interface,
//!   message buffers, monitor logging, the end of a server run ([`app::RunEnd`]).
//!
//! Logs go through `defmt` over semihosting (decode them with
//! `defmt-print -e <elf>`); the run ends with a semihosting exit, whose
//! status becomes QEMU's exit status.
//!
//! The binaries: `fw-server` (REP echo, PUB stream, remote monitor),
//! `fw-client` (REQ connecting out to the host), `fw-baseline` (the same
//! board and network stack with a raw TCP echo instead of ZeroMQ, for the
//! size comparison). See `README.md`.
#![no_std]

use defmt_semihosting as _;

pub mod app;
pub mod board;
pub mod lan9118;
pub mod mmio;
