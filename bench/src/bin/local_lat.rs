//! libzmq's `local_lat`: binds a REP socket and echoes `<roundtrip-count>` requests.
//!
//! `local_lat [--stack ours|libzmq|zmqrs|raw|raw-batch] <endpoint> <message-size> <count>`

fn main() -> std::process::ExitCode {
    zmtp_bench::cli::main(zmtp_bench::cli::Tool::LocalLat)
}
