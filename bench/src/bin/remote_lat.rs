//! libzmq's `remote_lat`: connects a REQ socket, makes `<roundtrip-count>` round trips and prints the one-way latency.
//!
//! `remote_lat [--stack ours|libzmq|zmqrs|raw|raw-batch] <endpoint> <message-size> <count>`

fn main() -> std::process::ExitCode {
    zmtp_bench::cli::main(zmtp_bench::cli::Tool::RemoteLat)
}
