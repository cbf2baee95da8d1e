//! libzmq's `remote_thr`: connects a PUSH socket and sends `<message-count>` messages.
//!
//! `remote_thr [--stack ours|libzmq|zmqrs|raw|raw-batch] <endpoint> <message-size> <count>`

fn main() -> std::process::ExitCode {
    zmtp_bench::cli::main(zmtp_bench::cli::Tool::RemoteThr)
}
