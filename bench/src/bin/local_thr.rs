//! libzmq's `local_thr`: binds a PULL socket, receives `<message-count>` messages and prints the throughput.
//!
//! `local_thr [--stack ours|libzmq|zmqrs|raw|raw-batch] <endpoint> <message-size> <count>`

fn main() -> std::process::ExitCode {
    zmtp_bench::cli::main(zmtp_bench::cli::Tool::LocalThr)
}
